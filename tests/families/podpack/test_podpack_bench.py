"""podpack's bench hook (`optkit bench podpack`) and the resumable grid driver
(`python -m optkit.bench.podpack_grid`)."""

from __future__ import annotations

import pytest

import optkit.families  # noqa: F401
from optkit.bench import podpack_grid
from optkit.core.benchmark import load_scenarios
from optkit.core.registry import get_family
from optkit.families.podpack.benchmark import lex_gap
from optkit.families.podpack.generate import failing


def test_lex_gap_reads_the_first_differing_component():
    assert lex_gap([3, 0, 5, 0], [3, 0, 5, 0]) == 0.0
    assert lex_gap([3, 0, 4, 0], [3, 0, 5, 0]) == pytest.approx(1 / 5)
    assert lex_gap([3, -2, 5, 0], [3, 0, 4, 0]) == pytest.approx(2 / 1)  # disruption first
    assert lex_gap([4, 0], [3, 0]) < 0  # beyond the reference: negative, visible
    assert lex_gap(3.0, [3, 0]) is None


def test_scenarios_use_failing_seeds_of_their_cells():
    scenarios = {s.name: s for s in load_scenarios(get_family("podpack"))}
    assert set(scenarios) == {"windows", "cross-check"}
    items = scenarios["windows"].instances((0,), True)
    assert len(items) == 1
    for item in items:
        cell = item.instance_id.rsplit("-s", 1)[0]
        assert item.seed == failing(cell, 1).seeds[0]
        assert item.instance.name == item.instance_id


def test_cell_selection_keeps_the_pattern_order():
    cells = podpack_grid.cell_names(["n8-ppn4-l4", "u090"])
    assert cells[:4] == [f"n8-ppn4-l4-u{u}" for u in ("090", "095", "100", "105")]
    assert len(cells) == 4 + 24 - 1  # n8-ppn4-l4-u090 is not listed twice
    with pytest.raises(SystemExit):
        podpack_grid.cell_names(["n5-"])


def test_grid_runs_resumes_and_reports(tmp_path, capsys):
    """One small cell, two failing seeds, a short window: every scenario gets exactly one
    outcome, every plan passes evaluate(), and a rerun solves nothing again."""
    argv = ["--window", "0.5", "--seeds", "2", "--cells", "n4-ppn4-l2-u100", "--out", str(tmp_path)]
    assert podpack_grid.main(argv) == 0
    first = capsys.readouterr()
    assert "2 instances" in first.err
    assert "| overall | 2 |" in first.out and "violations" in first.out
    rows = podpack_grid.read_cell(tmp_path, "n4-ppn4-l2-u100")
    tally = podpack_grid.tally_rows(rows)
    assert tally.n == 2 and sum(tally.outcomes.values()) == 2 and not tally.violating
    assert podpack_grid.main(argv) == 0
    assert "0 instances in" in capsys.readouterr().err
    assert len(podpack_grid.read_cell(tmp_path, "n4-ppn4-l2-u100")) == 2
