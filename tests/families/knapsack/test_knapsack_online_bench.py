"""The online benchmark CLI: tables on a few seeds, the zcl ablation flag, its input check."""

from __future__ import annotations

import pytest

from optkit.bench import knapsack_online


def _margins(out: str) -> dict[str, str]:
    """preset -> the margin cell of the `retrieval_topk` row of the paired-margin table."""
    rows = [r.split("|") for r in out.splitlines() if r.startswith("| ") and "± " in r]
    return {r[1].strip(): r[3].strip() for r in rows if r[2].strip() == "retrieval_topk"}


def test_ratio_tables_and_the_static_u_ablation(capsys):
    """Two seeds each way: the default and the static-U zcl differ (the cap changes what zcl
    buys), the header names the seeds and the ablation's params."""
    knapsack_online.main(["--seeds", "2", "--first-seed", "5", "--skip", "sweep"])
    default = capsys.readouterr().out
    assert "seeds 5–6" in default and "| zcl better on | zcl worse on |" in default
    knapsack_online.main(
        [
            "--seeds",
            "2",
            "--first-seed",
            "5",
            "--skip",
            "sweep",
            "--zcl-params",
            '{"headroom_cap": false}',
        ]
    )
    static = capsys.readouterr().out
    assert 'zcl params: {"headroom_cap": false}' in static
    assert set(_margins(default)) == {"single_agent", "multi_agent"}
    assert _margins(default) != _margins(static)


def test_zcl_params_must_be_a_json_object(capsys):
    with pytest.raises(SystemExit):
        knapsack_online.main(["--seeds", "2", "--skip", "sweep,ratio", "--zcl-params", "[1]"])
    assert "expected a JSON object" in capsys.readouterr().err
