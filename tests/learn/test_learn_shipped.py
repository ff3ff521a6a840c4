"""Every shipped checkpoint in models/ loads and reproduces its card's held-out numbers.

The card's JSON block records the held-out summary (500 instances) and the same numbers on the
first 64; the default suite recomputes the 64 (decisions are deterministic, so they agree to
rounding), a slow test the whole 500.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from optkit.learn.evaluate import heldout_report, torch_decide
from optkit.learn.policy import load_checkpoint, models_dir

SHIPPED = sorted(models_dir().glob("*.pt"))


def card_meta(ckpt: Path) -> dict:
    text = ckpt.with_suffix(".md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert block, f"{ckpt.with_suffix('.md')} has no JSON block"
    return json.loads(block.group(1))


def test_the_edmsac_solver_checkpoint_is_shipped():
    assert (models_dir() / "contract-edmsac-v1.pt").is_file()
    assert (models_dir() / "contract-edmsac-v1.md").is_file()


def _reproduce(ckpt: Path, n: int) -> tuple[dict, dict]:
    loaded = load_checkpoint(ckpt)
    meta, env = card_meta(ckpt), loaded.meta["env"]
    assert loaded.meta["config_hash"] == meta["config_hash"]
    h = meta["heldout"]
    report = heldout_report(
        torch_decide(loaded.policy), env["id"], env["kwargs"], env["family"], env["preset"],
        n, h["seed0"],
    )  # fmt: skip
    return h, report


@pytest.mark.parametrize("ckpt", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_card_subset_numbers_reproduce(ckpt: Path):
    h, report = _reproduce(ckpt, card_meta(ckpt)["heldout"]["subset"]["n"])
    assert report["mean_gap"] == pytest.approx(h["subset"]["mean_gap"], abs=1e-6)
    feasible_share = 1.0 - float(np.mean(report["max_violation"] > 1e-6))
    assert 1.0 - feasible_share == pytest.approx(h["subset"]["infeasible_share"], abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("ckpt", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_card_full_heldout_numbers_reproduce(ckpt: Path):
    h, report = _reproduce(ckpt, card_meta(ckpt)["heldout"]["n"])
    assert report["mean_gap"] == pytest.approx(h["mean_gap"], abs=1e-6)
    assert report["infeasible_share"] == pytest.approx(h["infeasible_share"], abs=1e-9)


def test_cli_solve_with_the_shipped_policy(run_cli, contract_file):
    """`optkit solve FILE --solver edmsac`: the shipped projected-map policy, feasible by
    construction, re-scored by evaluate() and never above the certified optimum."""
    res = run_cli("solve", contract_file, "--solver", "edmsac", "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["status"] == "feasible" and doc["solver"]["guarantee"] == "learned"
    assert doc["evaluation"]["feasible"] and doc["bound"] is None
    exact = json.loads(run_cli("solve", contract_file, "--format", "json").out)
    assert doc["evaluation"]["objective"] <= exact["objective"] * (1 + 1e-6)
