"""The raw map's closed-form reward in torch (exact_reward.py) and the exact fine-tuning phase."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from learn_testkit import tiny_config

import optkit
from optkit.core.errors import InvalidInputError
from optkit.families.contract.env import ContractEnv, observe, raw_menu
from optkit.families.contract.evaluate import evaluate
from optkit.learn.config import EnvConfig
from optkit.learn.exact_reward import contract_raw_reward, exact_objective, shaped_loss

CASES = [  # (preset, limited_liability, n_types override)
    ("default", False, None),
    ("default", True, None),
    ("interim", False, None),
    ("interim", True, None),
    ("power", False, None),
    ("static", False, 4),
]


def _rows_of(ev, inst) -> np.ndarray:
    """evaluate()'s slacks in exact_reward's row order (ic1, ic2, ir1, ir2, liability)."""
    off = ~np.eye(inst.n_types, dtype=bool)
    rows = [ev.slacks["ic1"][off]]
    if inst.dynamic:
        rows.append(ev.slacks["ic2"][:, off].ravel())
    rows.append(ev.slacks["ir1"])
    if inst.dynamic:
        rows.append(ev.slacks["ir2"].ravel())
    if inst.limited_liability:
        rows.append(ev.slacks["liability1"])
        if inst.dynamic:
            rows.append(ev.slacks["liability2"].ravel())
    return np.concatenate(rows)


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 10_000), a_seed=st.integers(0, 2**32 - 1))
def test_reward_from_the_observation_is_evaluates(case, seed, a_seed):
    """Profit and every IC/IR row, computed from the float32 observation alone in units of
    M = φ_1 e_max, agree with evaluate() on the env's raw menu to float32's resolution."""
    preset, ll, n = case
    inst = optkit.generate("contract", preset=preset, seed=seed, limited_liability=ll, n_types=n)
    d = 2 * inst.n_types + (2 * inst.n_types**2 if inst.dynamic else 0)
    action = np.random.default_rng(a_seed).uniform(-1, 1, d).astype(np.float32)
    ev = evaluate(inst, raw_menu(inst, action))
    money = inst.phi[0] * inst.effort_max
    profit, slacks = contract_raw_reward(
        torch.as_tensor(observe(inst))[None], torch.as_tensor(action)[None],
        inst.n_types, inst.dynamic,
    )  # fmt: skip
    assert profit.dtype == torch.float64
    assert profit.item() == pytest.approx(ev.profit_per_server / money, rel=2e-6, abs=2e-6)
    got = slacks[0].numpy()
    got = got[np.isfinite(got)]  # rows that do not exist here (no liability) are +inf
    np.testing.assert_allclose(got, _rows_of(ev, inst) / money, atol=2e-6)


def test_the_shaped_loss_counts_rows_below_the_margin():
    profit = torch.tensor([0.5, 1.0], dtype=torch.float64)
    ref = torch.tensor([1.0, 2.0], dtype=torch.float64)
    slacks = torch.tensor([[0.0, 0.01, torch.inf], [-0.002, 0.003, 0.5]], dtype=torch.float64)
    # row 1: 0.5 share lost nothing else: -0.5 + 10·(0.002 - 0);  row 2: -0.5 + 10·(0.004)
    loss = shaped_loss(profit, slacks, ref, margin=0.002, penalty=10.0)
    assert loss.item() == pytest.approx(((-0.5 + 0.02) + (-0.5 + 0.04)) / 2)


def test_the_gradient_reaches_every_action_entry():
    inst = optkit.generate("contract", preset="default", seed=3)
    s = torch.as_tensor(observe(inst))[None]
    a = torch.zeros(1, 24, requires_grad=True)
    profit, slacks = contract_raw_reward(s, a, 3, True)
    shaped_loss(profit, slacks, torch.ones(1, dtype=torch.float64), 0.5, 1.0).backward()
    assert bool((a.grad != 0).all())


def test_exact_objective_needs_the_raw_map():
    env = ContractEnv(action_map="projected")
    with pytest.raises(InvalidInputError, match="exact_updates"):
        exact_objective(env, np.zeros((1, 21), np.float32), np.zeros((1, 3)), 0.0, 1.0)


def test_exact_updates_need_bc_data(tmp_path: Path):
    from optkit.learn.train import train

    cfg = tiny_config("edmsac", None, env=EnvConfig(kwargs={"action_map": "raw"}), exact_updates=5)
    with pytest.raises(InvalidInputError, match="bc_data"):
        train("edmsac", cfg, tmp_path / "run")
    with pytest.raises(InvalidInputError, match="safety_margin"):
        tiny_config("edmsac", Path("gt"), safety_margin=-0.1)


def _raw_exact(gt: Path, **kw):
    fields = {"exact_updates": 8, "exact_batch_size": 8, "total_env_steps": 0, **kw}
    return tiny_config("edmsac", gt, env=EnvConfig(kwargs={"action_map": "raw"}), **fields)


def test_exact_phase_lowers_the_shaped_loss(tmp_path: Path, gt_data: Path):
    """The same seed with and without the phase: the cloned actor is the same, and the phase
    lowers the shaped loss of its decisions on the warm-start states. Deterministic."""
    from optkit.learn.data import read_bc_data
    from optkit.learn.train import train

    cfg = _raw_exact(gt_data, exact_updates=40, exact_lr=1e-3, margin_penalty=10.0)
    tuned = train("edmsac", cfg, tmp_path / "tuned")
    cloned = train("edmsac", dataclasses.replace(cfg, exact_updates=0), tmp_path / "cloned")
    assert [r["phase"] for r in tuned.rows] == ["start", "bc", "exact"] and tuned.complete
    assert tuned.agent.actor_updates == cfg.bc_pretrain_updates + 40
    bc = read_bc_data(gt_data, "contract", "raw")
    rows = exact_objective(ContractEnv(action_map="raw"), bc.obs, bc.act, 0.002, 10.0)
    idx = np.arange(len(bc))
    s = torch.as_tensor(bc.obs)

    def loss(run) -> float:
        with torch.no_grad():
            return rows(idx)(s, run.agent.actor.decide(s)).item()

    assert loss(tuned) < loss(cloned)
    again = train("edmsac", cfg, tmp_path / "again")
    assert [r["val_gap"] for r in again.rows] == [r["val_gap"] for r in tuned.rows]


def test_time_to_gap_skips_points_whose_menus_are_infeasible():
    """A raw-map curve's early points promise more than any feasible menu (gap near 0, 100%
    infeasible); the card's "reached 1%" must not count them."""
    from optkit.learn.train import time_to_gap

    rows = [
        {"val_gap": 0.005, "val_infeasible": 1.0, "wall_s": 1.0},
        {"val_gap": 0.02, "val_infeasible": 0.0, "wall_s": 2.0},
        {"val_gap": 0.009, "val_infeasible": 0.005, "wall_s": 3.0},
    ]
    assert time_to_gap(rows, 0.01) == 3.0
    assert time_to_gap(rows[:2], 0.01) is None


def test_prune_exact_false_holds_the_masks_cloning_left(tmp_path: Path, gt_data: Path):
    """prune_exact = false: the exact phase never re-scores, so the tuned actor carries exactly
    the cloned actor's masks (same seed); re-scoring (the default) runs at every prune_every."""
    from optkit.learn.train import train

    cfg = _raw_exact(gt_data, exact_updates=30, exact_lr=1e-2, prune_rate=0.5, prune_ramp=0.0)
    cfg = dataclasses.replace(cfg, prune_every=1, prune_exact=False)
    held = train("edmsac", cfg, tmp_path / "held")
    cloned = train("edmsac", dataclasses.replace(cfg, exact_updates=0), tmp_path / "cloned")
    masks = held.agent.actor.denoiser.masks
    assert torch.equal(masks, cloned.agent.actor.denoiser.masks)
    assert 0 < int((masks == 0).sum()) < masks.numel()  # pruned at ϱ = 0.5 during cloning
    assert torch.equal(held.agent.actor_target.denoiser.masks, masks)


def test_prune_exact_false_needs_the_ramp_to_end_within_cloning(tmp_path: Path, gt_data: Path):
    from optkit.learn.train import train

    cfg = _raw_exact(gt_data, exact_updates=30, prune_rate=0.3, prune_ramp=1.0)
    with pytest.raises(
        InvalidInputError, match="ramp must end by the last re-scoring within cloning"
    ) as info:
        train("edmsac", dataclasses.replace(cfg, prune_exact=False), tmp_path / "run")
    assert info.value.field == "prune_exact"
    with pytest.raises(InvalidInputError, match="prune_exact"):
        dataclasses.replace(cfg, prune_exact="no")
