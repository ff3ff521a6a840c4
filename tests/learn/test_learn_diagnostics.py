"""The learner diagnostics: the map ceiling (the oracle through the env's map) and the critic's
alignment with the reward's finite-difference gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from learn_testkit import tiny_config, train_tiny_local

import optkit
from optkit.families.contract.constraints import build_system, stack_decision
from optkit.families.contract.evaluate import evaluate
from optkit.learn.diagnostics import alignment, map_ceiling, margin_menu, refinement
from optkit.learn.train import train


def test_the_oracle_loses_nothing_through_the_projected_map():
    gaps = map_ceiling(n=4)
    assert gaps.shape == (4,) and np.all(np.abs(gaps) < 1e-6)


def test_critic_alignment_is_a_cosine_per_instance(tmp_path: Path, capsys):
    train("edmsac", tiny_config("edmsac", None), tmp_path / "run")
    cos = alignment(str(tmp_path / "run" / "state.pt"), n=2, slope_sigma=0.02)
    assert len(cos) == 2 and all(-1.0 <= c <= 1.0 for c in cos)
    # a smooth reward at σ = 0.02: the least-squares slope agrees with finite differences
    lines = [x for x in capsys.readouterr().out.splitlines() if "slope" in x]
    assert len(lines) == 2 and all(float(x.rsplit(" ", 1)[1]) > 0.9 for x in lines)


def test_margin_menu_pays_for_its_slack():
    """margin 0 is the optimum (cross-check with fast); margin m keeps every IC/IR row >= m in
    units of φ_1 e_max, at a lower profit."""
    inst = optkit.generate("contract", preset="default", seed=3)
    optimum = optkit.solve(inst, "fast").objective
    exact = margin_menu(inst, 0.0)
    assert evaluate(inst, exact).objective == pytest.approx(optimum, rel=1e-6)
    safe = margin_menu(inst, 0.003)
    system = build_system(inst)
    z = stack_decision(system.layout, safe.effort1, safe.reward1, safe.effort2, safe.reward2)
    slack = (system.A @ z) / (inst.phi[0] * inst.effort_max)
    assert slack.min() >= 0.003 - 1e-7
    assert evaluate(inst, safe).objective < optimum * (1 - 1e-4)


def test_refinement_scores_the_critic_step_against_the_actor(tmp_path: Path):
    train_tiny_local(tmp_path / "run")
    res = refinement(str(tmp_path / "run" / "state.pt"), n=2, steps=((0.5, 0.1),))
    assert list(res) == ["actor", "eta=0.5, cap=0.1"]
    assert all(g.shape == (2,) and np.isfinite(g).all() for g in res.values())
    with pytest.raises(SystemExit, match="not 'local'"):
        train("edmsac", tiny_config("edmsac", None), tmp_path / "mlp")
        refinement(str(tmp_path / "mlp" / "state.pt"), n=1)


def test_fit_errors_are_the_distance_to_the_oracles_action(tiny_checkpoint: Path):
    """`fit` compares the actor with the canonical optimum through the map's inverse: recomputed
    here for one instance, and in the projected layout's blocks."""
    import torch

    from optkit.families.contract.env import effort_action, observe
    from optkit.learn.diagnostics import fit_errors
    from optkit.learn.policy import load_checkpoint

    err = fit_errors(str(tiny_checkpoint), n=3)
    assert list(err) == ["e1", "e2 steps"]
    assert err["e1"].shape == (3, 3) and err["e2 steps"].shape == (3, 9)
    inst = optkit.generate("contract", preset="default", seed=2)
    oracle = effort_action(inst, optkit.solve(inst, "fast", params={"canonical": True}).decision)
    with torch.inference_mode():
        actor = load_checkpoint(tiny_checkpoint).policy(torch.as_tensor(observe(inst)[None]))[0]
    want = np.abs(actor.numpy() - oracle)
    got = np.concatenate([err["e1"][2], err["e2 steps"][2]])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_regression_study_is_seeded_and_reports_the_raw_maps_figures(gt_data: Path):
    """`regress` (the raw map's precision study): same seed, same figures; quantiles ordered;
    an untrained-scale regressor on 24 rows leaves every held-out menu infeasible."""
    from optkit.learn.diagnostics import regression_study

    lines: list[str] = []
    a = regression_study(
        str(gt_data), width=16, depth=2, epochs=2, n=4, seed=3, report=lines.append
    )
    b = regression_study(str(gt_data), width=16, depth=2, epochs=2, n=4, seed=3, report=print)
    assert a == b
    assert a["err p50"] <= a["err p90"] <= a["err p99"] <= 2.0
    assert 0.0 < a["viol p50"] <= a["viol p90"] <= a["viol p99"]
    assert a["infeasible"] == 1.0
    assert lines[0].startswith("24 rows") and lines[-1].startswith("epoch 2/2")


def test_regression_study_with_exact_fine_tuning(gt_data: Path):
    """`regress --exact-updates K`: seeded like the rest, reports K's points and the mean gap;
    a huge margin penalty on 24 rows pushes the menus toward slack (fewer violated rows)."""
    from optkit.learn.diagnostics import regression_study

    kw = {"width": 16, "depth": 2, "epochs": 2, "n": 4, "seed": 3}
    lines: list[str] = []
    plain = regression_study(str(gt_data), report=print, **kw)
    a = regression_study(
        str(gt_data), report=lines.append, exact_updates=50, margin=0.01, penalty=1e3, **kw
    )
    assert a == regression_study(
        str(gt_data), report=print, exact_updates=50, margin=0.01, penalty=1e3, **kw
    )
    assert lines[-1].startswith("exact 50/50") and "gap" in a
    assert a["viol p50"] < plain["viol p50"]
    featured = regression_study(str(gt_data), report=print, features=True, **kw)
    assert featured == regression_study(str(gt_data), report=print, features=True, **kw)
    assert featured != plain  # another network: reads 40 inputs, not 21
