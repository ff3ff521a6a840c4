"""Training end to end on tiny budgets: determinism, resume, temperature, NaN stop, baselines."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from learn_testkit import tiny_config

from optkit.families.contract.env import ContractEnv
from optkit.learn.config import EnvConfig
from optkit.learn.train import TrainingDiverged, train


def _curve(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "wall_s"} for row in rows]


def _weights(run) -> list[torch.Tensor]:
    return [p.detach().clone() for p in run.agent.actor.parameters()]


def test_same_seed_same_curve(tmp_path: Path, gt_data: Path):
    cfg = tiny_config("edmsac", gt_data, prune_rate=0.3)
    a = train("edmsac", cfg, tmp_path / "a")
    b = train("edmsac", cfg, tmp_path / "b")
    assert len(a.rows) >= 4 and _curve(a.rows) == _curve(b.rows)
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))
    c = train("edmsac", tiny_config("edmsac", gt_data, prune_rate=0.3, seed=1), tmp_path / "c")
    assert _curve(c.rows) != _curve(a.rows)
    # the pruning ramp reached its target, and the target actor carries the same masks
    assert a.agent.prune_rate_now == pytest.approx(0.3)
    assert torch.equal(a.agent.actor.denoiser.masks, a.agent.actor_target.denoiser.masks)
    assert float((a.agent.actor.denoiser.masks == 0).float().mean()) == pytest.approx(
        int(0.3 * 16) / 16
    )


def test_resume_continues_the_same_curve(tmp_path: Path, gt_data: Path):
    cfg = tiny_config("edmsac", gt_data, total_env_steps=32, eval_every=1)
    whole = train("edmsac", cfg, tmp_path / "whole")
    first = train("edmsac", cfg, tmp_path / "split", stop_at_iteration=3)
    assert not first.complete
    with pytest.raises(Exception, match="--resume"):
        train("edmsac", cfg, tmp_path / "split")
    rest = train("edmsac", cfg, tmp_path / "split", resume=True)
    assert rest.complete and _curve(rest.rows) == _curve(whole.rows)
    assert all(torch.equal(x, y) for x, y in zip(_weights(rest), _weights(whole), strict=True))
    other = tiny_config("edmsac", gt_data, total_env_steps=32, eval_every=1, actor_lr=1e-3)
    with pytest.raises(Exception, match="actor_lr"):
        train("edmsac", other, tmp_path / "split", resume=True)


@pytest.mark.parametrize(("log_std_init", "direction"), [(-1.0, -1), (-5.0, 1)])
def test_temperature_moves_toward_the_target_entropy(
    tmp_path: Path, log_std_init: float, direction: int
):
    """Target entropy is -2 per dimension. σ = e^-1 gives about +0.42 per dimension (above the
    target: α must fall); σ = e^-5 about -3.6 (below: α must rise)."""
    cfg = tiny_config("edmsac", None, log_std_init=log_std_init, alpha_lr=0.05, total_env_steps=40)
    run = train("edmsac", cfg, tmp_path / "run")
    alpha = run.agent.log_alpha.exp().item()
    assert direction * (alpha - cfg.alpha_init) > 1e-3, alpha


def test_nan_loss_stops_with_a_message(tmp_path: Path):
    env_id = "optkit-test/NanRewardContract-v0"
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=NanRewardContract)
    cfg = tiny_config("sac", None, env=EnvConfig(id=env_id, kwargs={}))
    with pytest.raises(TrainingDiverged, match=r"critic_loss is nan at RL update 1"):
        train("sac", cfg, tmp_path / "run")


class NanRewardContract(ContractEnv):
    """The contract env with a broken reward (what a bad reward scale or a bug would produce)."""

    def step(self, action):
        obs, _, term, trunc, info = super().step(action)
        return obs, math.nan, term, trunc, info


@pytest.mark.parametrize("algo", ["dmsac", "sac", "bc"])
def test_baselines_train_and_clone_the_oracle(tmp_path: Path, gt_data: Path, algo: str):
    run = train(algo, tiny_config(algo, gt_data), tmp_path / algo)
    assert run.complete and np.isfinite(run.rows[-1]["val_gap"])
    if algo == "bc":
        assert run.env_steps == 0 and run.agent.actor_updates == 6
    else:
        assert run.env_steps == 24


def test_bc_learns_the_oracle_actions(tmp_path: Path, gt_data: Path):
    """Behaviour cloning must reduce its own loss on the oracle data (a learner that cannot fit
    24 pairs is broken, whatever the env's map)."""
    cfg = tiny_config(
        "bc", gt_data, bc_pretrain_updates=600, actor_lr=3e-3, width=32, denoise_steps=5
    )
    run = train("bc", cfg, tmp_path / "bc")
    from optkit.learn.data import read_bc_data

    data = read_bc_data(gt_data, "contract", "projected")
    s, a = torch.as_tensor(data.obs), torch.as_tensor(data.act)
    fresh = tiny_config("bc", gt_data, bc_pretrain_updates=1, width=32, denoise_steps=5)
    start = train("bc", fresh, tmp_path / "start")
    err_trained = float((run.agent.actor.decide(s) - a).abs().mean())
    err_start = float((start.agent.actor.decide(s) - a).abs().mean())
    assert err_trained < 0.6 * err_start, (err_trained, err_start)


def test_several_actions_per_instance_share_the_state(tmp_path: Path):
    cfg = tiny_config("edmsac", None, samples_per_instance=2)
    train("edmsac", cfg, tmp_path / "run")
    replay = torch.load(tmp_path / "run" / "state.pt", weights_only=True)["replay"]
    obs, act = replay["obs"].numpy(), replay["act"].numpy()
    assert np.array_equal(obs[0::2], obs[1::2])  # pairs: one drawn instance, two episodes
    assert not np.array_equal(obs[0], obs[2]) and not np.array_equal(act[0::2], act[1::2])
    with pytest.raises(Exception, match="samples_per_instance"):
        tiny_config("edmsac", None, samples_per_instance=3)  # must divide n_envs = 4


def test_greedy_baseline_stores_advantages_over_the_greedy_episode(tmp_path: Path):
    """With greedy_baseline the first env of each group takes the deterministic action, and
    every stored reward is the episode's normalised reward minus that one's. One iteration and
    no update, so the trained actor is the one that collected; the instances are redrawn from
    the env seeds train() uses."""
    from optkit.core.seeding import spawn_seeds
    from optkit.learn.data import contract_reward_reference

    cfg = tiny_config(
        "edmsac", None, samples_per_instance=2, greedy_baseline=True, total_env_steps=4,
        learning_starts=100,
    )  # fmt: skip
    run = train("edmsac", cfg, tmp_path / "run")
    replay = torch.load(tmp_path / "run" / "state.pt", weights_only=True)["replay"]
    obs, act, rew = (replay[k].numpy()[:4] for k in ("obs", "act", "rew"))
    assert np.array_equal(act[0::2], run.agent.act(obs[0::2], stochastic=False))
    env_seed = spawn_seeds(cfg.seed, 6)[2]
    for lead in (0, 2):
        env = ContractEnv()
        env.reset(seed=env_seed + lead)
        inst = env.instance
        scale = contract_reward_reference(inst)

        def reward(a, env=env, inst=inst, scale=scale):
            env.reset(options={"instance": inst})
            return env.step(a)[1] / scale

        assert rew[lead] == 0.0
        expected = reward(act[lead + 1]) - reward(act[lead])
        assert rew[lead + 1] == pytest.approx(expected, rel=1e-5, abs=1e-7)
        assert expected != 0.0
    with pytest.raises(Exception, match="greedy_baseline"):
        tiny_config("edmsac", None, greedy_baseline=True)  # samples_per_instance = 1


def test_delayed_actor_updates(tmp_path: Path):
    """actor_every = k: after the critic warm-up the actor moves on every k-th RL update only
    (TD3's policy delay); the critics on all of them."""
    counts = {}
    for k in (1, 3):
        cfg = tiny_config("sac", None, total_env_steps=40, critic_warmup=2, actor_every=k)
        run = train("sac", cfg, tmp_path / f"k{k}")
        counts[k] = run.agent.actor_updates  # no data set: no cloning updates
    # 40 steps / 4 envs = 10 iterations, the first 1 before learning_starts = 8: 9 x 2 updates
    assert counts[1] == 18 - 2
    assert counts[3] == 6  # updates 2, 5, 8, 11, 14, 17 of 0..17
    with pytest.raises(Exception, match="actor_every"):
        tiny_config("sac", None, actor_every=0)
