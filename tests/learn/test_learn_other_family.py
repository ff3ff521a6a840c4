"""The learner's env interface takes another family's env unchanged: knapsack's multi-step
accept/reject composer (optkit/Compose-v0), trained by SAC from the shipped TOML config, scored
against the hindsight optimum by the same rollout, card and checkpoint code as contract."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from learn_testkit import TINY

import optkit
from optkit.learn.config import load_config
from optkit.learn.evaluate import gaps, make_env, oracle_objectives, rollout
from optkit.learn.policy import load_checkpoint
from optkit.learn.train import publish, train

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "models" / "configs" / "knapsack-sac.toml"


def _env():
    return make_env("optkit/Compose-v0", {"preset": "single_agent"}, "knapsack")


@pytest.mark.parametrize("accept", [1.0, -1.0])
def test_rollout_plays_whole_episodes(accept):
    """Many steps per instance: the objective is the family's score of the final selection,
    which for `weighted` is the episode's return (0 when everything is rejected)."""
    insts = [optkit.generate("knapsack", "single_agent", seed=k) for k in range(3)]
    out = rollout(_env(), lambda obs: np.full((len(obs), 1), accept, np.float32), insts)
    env = _env()
    for inst, got in zip(insts, out.objective, strict=True):
        env.reset(options={"instance": inst})
        total, done, steps = 0.0, False, 0
        while not done:
            _, r, done, _, info = env.step(np.array([accept], np.float32))
            total, steps = total + r, steps + 1
        assert steps > 1 and got == pytest.approx(total, abs=1e-12)
        assert got == pytest.approx(info["objective"], abs=1e-12)
        assert (got == 0.0) == (accept < 0)
    assert out.feasible.all() and not out.errors


def test_a_given_instance_meets_zcls_test_outcomes():
    """reset(options={"instance": x}) tests components as optkit.solve(x, "zcl") does (tester
    seed 0): accepting what zcl accepted reproduces its value."""
    inst = optkit.generate("knapsack", "single_agent", seed=5)
    chosen = set(optkit.solve(inst, "zcl").decision.chosen)
    env = _env()
    obs, _ = env.reset(options={"instance": inst})
    done = False
    while not done:
        name = inst.component_names[env._order[env._pos]]
        _, _, done, _, info = env.step(np.array([1.0 if name in chosen else -1.0]))
    assert info["objective"] == pytest.approx(optkit.solve(inst, "zcl").objective, abs=1e-12)


def test_sac_trains_on_the_knapsack_env_from_the_shipped_config(tmp_path):
    """The shipped config, cut to a tiny budget: train, publish, reload, and the card's held-out
    gap is the rollout's gap to the hindsight optimum (highs) on the same seeds."""
    cfg = load_config("sac", CONFIG)
    assert cfg.env.family == "knapsack" and cfg.env.id == "optkit/Compose-v0"
    small = {k: v for k, v in TINY.items() if k not in ("bc_pretrain_updates", "total_env_steps")}
    cfg = dataclasses.replace(cfg, **small, width=16, total_env_steps=64)
    run = train("sac", cfg, tmp_path / "run")
    ckpt, card = publish(run, tmp_path / "models", "knapsack-sac-tiny", heldout_n=6, latency=False)
    loaded = load_checkpoint(ckpt)
    insts = [optkit.generate("knapsack", "single_agent", seed=k) for k in range(6)]
    with torch_inference():
        out = rollout(_env(), lambda o: loaded.policy(torch_tensor(o)).numpy(), insts)
    expected = float(np.mean(gaps(oracle_objectives("knapsack", insts), out.objective)))
    meta = json.loads(card.read_text().split("```json")[1].split("```")[0])
    assert meta["heldout"]["mean_gap"] == pytest.approx(expected, abs=1e-9)
    assert meta["heldout"]["infeasible_share"] == 0.0


def torch_inference():
    import torch

    return torch.inference_mode()


def torch_tensor(obs):
    import torch

    return torch.as_tensor(obs, dtype=torch.float32)


def test_solver_rows_use_the_learners_gap():
    """`evaluate --solver`: a registered rule scored on the held-out seeds with the same gap and
    oracle as a checkpoint; the exact solver itself scores 0."""
    from optkit.learn.evaluate import solver_report

    exact = solver_report("knapsack", "single_agent", "highs", 4, 0)
    assert exact["mean_gap"] == pytest.approx(0.0, abs=1e-9) and exact["infeasible_share"] == 0.0
    zcl = solver_report("knapsack", "single_agent", "zcl", 4, 0)
    insts = [optkit.generate("knapsack", "single_agent", seed=k) for k in range(4)]
    by_hand = [optkit.solve(i, "highs").objective - optkit.solve(i, "zcl").objective for i in insts]
    assert zcl["mean_gap"] == pytest.approx(float(np.mean(by_hand)), abs=1e-12)  # values < 1


def test_oracle_episodes_accept_the_hindsight_optimum():
    """knapsack_steps replays the env accepting exactly the optimal components as they arrive:
    one (observation, ±0.5) pair per offer, and the episode reaches the optimum whenever every
    optimal component was admissible when offered."""
    from optkit.families.knapsack.env import ComposeEnv
    from optkit.learn.data import ORACLE_ACCEPT, knapsack_steps

    reached = 0
    for seed in range(6):
        inst = optkit.generate("knapsack", "single_agent", seed=seed)
        res = optkit.solve(inst, "highs")
        obs, act = knapsack_steps(inst, res.decision, "accept")
        assert obs.shape == (len(act), 4) and set(np.abs(act.ravel())) == {ORACLE_ACCEPT}
        env = ComposeEnv(instance=inst)
        env.reset(options={"instance": inst})
        for a in act:
            _, _, done, _, info = env.step(a)
        assert done and info["objective"] <= res.objective + 1e-12
        if int((act > 0).sum()) == len(res.decision.chosen):
            assert info["objective"] == pytest.approx(res.objective, abs=1e-12)
            reached += 1
    assert reached >= 3


def test_knapsack_ground_truth_reads_as_episodes(run_cli, tmp_path):
    """An `optkit baseline` knapsack data set becomes per-step cloning pairs."""
    from optkit.learn.data import read_bc_data

    args = ["-q", "baseline", "--family", "knapsack", "--preset", "single_agent", "--n", 3]
    assert run_cli(*args, "--solver", "highs", "--out", tmp_path / "gt").code == 0
    bc = read_bc_data(tmp_path / "gt", "knapsack")
    assert bc.obs.shape[1] == 4 and bc.act.shape == (len(bc), 1) and len(bc) > 3
    assert {i.split("#")[0] for i in bc.ids} == {f"knapsack-single_agent-s{k}" for k in range(3)}
