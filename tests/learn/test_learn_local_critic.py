"""The `local` critic: twin first-order advantage models around the greedy action.

A synthetic advantage with a known, state-dependent slope w(s) stands in for the env: the critic
must recover the slope's direction, and the actor step must move the greedy action along it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from learn_testkit import train_tiny_local

from optkit.core.errors import InvalidInputError
from optkit.learn.config import SACConfig
from optkit.learn.evaluate import (
    VAL_SEED0,
    gaps,
    make_env,
    make_instances,
    oracle_objectives,
    rollout,
    torch_decide,
)
from optkit.learn.networks import LocalTwinQ
from optkit.learn.sac import SAC

OBS, ACT = 4, 3


def slope(s: np.ndarray) -> np.ndarray:
    """w(s): the advantage's gradient, varying with the state."""
    return np.stack([1.0 + s[:, 0], -2.0 * s[:, 1], np.sin(3.0 * s[:, 2])], axis=1)


def batch(rng: np.random.Generator, n: int, sigma: float = 0.05) -> dict[str, np.ndarray]:
    s = rng.uniform(0.0, 1.0, (n, OBS)).astype(np.float32)
    ref = rng.uniform(-0.5, 0.5, (n, ACT)).astype(np.float32)
    a = (ref + sigma * rng.standard_normal((n, ACT))).astype(np.float32)
    rew = (1e-3 * (slope(s) * (a - ref)).sum(1)).astype(np.float32)  # tiny, as advantages are
    zeros = np.zeros(n, np.float32)
    return {"obs": s, "act": a, "rew": rew, "next_obs": s, "done": zeros + 1.0, "ref": ref}


def local_agent(**overrides) -> SAC:
    fields = dict(greedy_baseline=True, samples_per_instance=2, critic="local", critic_width=64)
    fields.update(overrides)
    return SAC(OBS, ACT, SACConfig(**fields), noise_seed=0)


def test_the_model_is_zero_at_the_reference_and_its_gradient_is_the_slope():
    torch.manual_seed(0)
    q = LocalTwinQ(OBS, ACT, 8)
    s, ref = torch.rand(5, OBS), torch.rand(5, ACT)
    assert all(torch.equal(x, torch.zeros(5)) for x in q(s, ref, ref))
    a = ref.clone().requires_grad_(True)
    (sum(q(s, a, ref)) / 2).sum().backward()
    assert torch.allclose(a.grad, q.gradient(s, ref), atol=1e-6)
    # the Newton step maximises the twins' mean model
    step = q.newton_step(s, ref)
    best = sum(q(s, ref + step, ref))
    for k in range(ACT):
        for eps in (-1e-3, 1e-3):
            moved = step.clone()
            moved[:, k] += eps
            assert (sum(q(s, ref + moved, ref)) <= best + 1e-9).all()


def test_the_critic_recovers_the_slope_direction():
    rng = np.random.default_rng(0)
    agent = local_agent()
    for _ in range(1500):
        agent.rl_step(batch(rng, 128), update_actor=False)
    test = batch(np.random.default_rng(1), 200)
    g = agent.critic_gradient(torch.as_tensor(test["obs"]), torch.as_tensor(test["ref"])).numpy()
    w = slope(test["obs"])
    cos = (g * w).sum(1) / np.linalg.norm(g, axis=1) / np.linalg.norm(w, axis=1)
    assert np.median(cos) > 0.95


def test_actor_steps_follow_the_fitted_slope():
    rng = np.random.default_rng(0)
    agent = local_agent(rl_actor_lr=1e-3)
    for _ in range(1000):
        agent.rl_step(batch(rng, 128), update_actor=False)
    agent.set_actor_lr(1e-3)
    probe = rng.uniform(0.0, 1.0, (256, OBS)).astype(np.float32)

    def ascent() -> float:  # the advantage of the greedy actions along w
        return float((slope(probe) * agent.act(probe, stochastic=False)).sum(1).mean())

    before = ascent()
    for _ in range(100):
        agent.rl_step(batch(rng, 128))
    assert ascent() > before + 0.1


def test_local_needs_the_greedy_reference_and_a_known_name():
    with pytest.raises(InvalidInputError) as info:
        SACConfig(critic="local")
    assert info.value.field == "critic" and "greedy_baseline" in str(info.value)
    with pytest.raises(InvalidInputError, match="mlp"):
        SACConfig(critic="quadratic")


def test_training_stores_the_greedy_action_as_reference(tmp_path: Path):
    train_tiny_local(tmp_path / "run")
    replay = torch.load(tmp_path / "run" / "state.pt", weights_only=True)["replay"]
    act, ref = replay["act"].numpy(), replay["ref"].numpy()
    assert np.array_equal(ref[0::2], act[0::2]) and np.array_equal(ref[1::2], act[0::2])


def test_a_local_run_publishes_decisions_with_the_critic_step(tmp_path: Path):
    """The checkpoint carries the final critic; the loaded policy is the actor's decision plus
    eta times the critic's Newton step, capped in length, and the card says so."""
    from optkit.learn.policy import RefinedPolicy, load_checkpoint
    from optkit.learn.sac import IMPROVE_MAX_NORM
    from optkit.learn.train import publish

    run = train_tiny_local(tmp_path / "run")
    cfg = run.cfg
    ckpt, card = publish(run, tmp_path / "models", "local", heldout_n=4, latency=False)
    loaded = load_checkpoint(ckpt)
    policy = loaded.policy
    assert isinstance(policy, RefinedPolicy)
    assert (policy.eta, policy.cap) == (cfg.improve_step, IMPROVE_MAX_NORM)
    s = torch.rand(6, loaded.actor.obs_dim)
    a0 = policy.base(s)
    step = policy.eta * run.published_critic().newton_step(s, a0)
    step = step * (IMPROVE_MAX_NORM / step.norm(dim=-1, keepdim=True)).clamp(max=1.0)
    assert torch.allclose(policy(s), (a0 + step).clamp(-1, 1), atol=1e-6)
    assert policy.flops() > policy.base.flops()
    assert "Newton step" in card.read_text()
    from optkit.learn.diagnostics import refinement

    res = refinement(str(tmp_path / "run" / "state.pt"), 2, ((0.25, 0.1),), checkpoint=str(ckpt))
    assert all(g.shape == (2,) and np.isfinite(g).all() for g in res.values())
    bad = torch.load(ckpt, weights_only=True)
    bad["critic"] = {k: v * float("nan") for k, v in bad["critic"].items()}
    torch.save(bad, tmp_path / "bad.pt")
    with pytest.raises(InvalidInputError, match="critic tensor"):
        load_checkpoint(tmp_path / "bad.pt")


def test_a_fixed_actor_is_not_updated_by_rl_and_needs_the_local_critic(gt_data: Path):
    """actor_every = 0: RL fits only the critic, so the actor is exactly the cloned one (the
    same run stopped after its first RL iteration has the same weights)."""
    from learn_testkit import tiny_config

    from optkit.learn.train import train

    cfg = tiny_config(
        "edmsac", gt_data, samples_per_instance=2, greedy_baseline=True, critic="local",
        actor_every=0, total_env_steps=16, learning_starts=4,
    )  # fmt: skip
    with pytest.raises(InvalidInputError, match="actor_every"):
        tiny_config("edmsac", gt_data, actor_every=0)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        full = train("edmsac", cfg, Path(tmp) / "full")
        cloned = train("edmsac", cfg, Path(tmp) / "cloned", stop_at_iteration=1)
    assert full.agent.actor_updates == cfg.bc_pretrain_updates
    assert {r["actor_updates"] for r in full.rows} >= {cfg.bc_pretrain_updates}
    for name, tensor in cloned.agent.actor.state_dict().items():
        assert torch.equal(tensor, full.agent.actor.state_dict()[name]), name
    # the critic did learn in the meantime
    critic = [r["critic_loss"] for r in full.rows if r["phase"] == "rl"]
    assert critic and all(np.isfinite(critic))


def test_a_fixed_actor_is_the_best_cloning_point(tmp_path: Path, gt_data: Path):
    """With actor_every = 0, RL starts from the best validated cloning point, not the last one:
    a large constant cloning step makes the 1,000th update worse than the 500th here, and the
    fixed actor's own decisions score the 500th's validation gap."""
    from learn_testkit import tiny_config

    from optkit.learn.train import train

    cfg = tiny_config(
        "edmsac", gt_data, samples_per_instance=2, greedy_baseline=True, critic="local",
        actor_every=0, total_env_steps=8, learning_starts=4, bc_pretrain_updates=1000,
        actor_lr=0.3, bc_lr_end=0.3,
    )  # fmt: skip
    run = train("edmsac", cfg, tmp_path / "run")
    cloning = [r["val_gap"] for r in run.rows if r["phase"] in ("start", "bc")]
    assert len(cloning) == 3 and min(cloning) < cloning[-1]  # the case this test is about
    insts = make_instances("contract", "default", cfg.val_instances, VAL_SEED0)
    env = make_env(cfg.env.id, cfg.env.kwargs, cfg.env.family)
    gap = gaps(
        oracle_objectives("contract", insts), rollout(env, run.agent.decision, insts).objective
    )
    assert gap.mean() == pytest.approx(min(cloning), rel=1e-5, abs=1e-9)
    # the run (and so the card) names that point, not the 1,000 updates the counter shows
    assert run.rows[run.fixed_actor_row]["val_gap"] == min(cloning)
    assert run.rows[run.fixed_actor_row]["actor_updates"] == 500


def test_the_published_decision_scores_what_its_validation_point_scored(tmp_path: Path, gt_data):
    """A local run validates (and selects) the actor's decision plus the critic's step; the
    checkpoint carries that point's critic, so its policy reproduces the point's validation gap.
    A behaviour-cloning point has no critic step: published from there, the policy is the
    actor alone."""
    from learn_testkit import tiny_config

    from optkit.learn.policy import RefinedPolicy, load_checkpoint
    from optkit.learn.train import publish, train

    cfg = tiny_config(
        "edmsac", gt_data, samples_per_instance=2, greedy_baseline=True, critic="local",
        actor_every=0, total_env_steps=24, learning_starts=4, eval_every=1, val_instances=6,
    )  # fmt: skip
    run = train("edmsac", cfg, tmp_path / "run")
    insts = make_instances("contract", "default", cfg.val_instances, VAL_SEED0)
    env = make_env(cfg.env.id, cfg.env.kwargs, cfg.env.family)
    optimum = oracle_objectives("contract", insts)
    for best_row, where in ((run.best_row, "best"), (0, "start")):
        run.best_row = best_row
        if where == "start":  # as if the cloning point had validated best
            run.best_critic = None
        ckpt, _ = publish(run, tmp_path / where, "local", heldout_n=2, latency=False)
        policy = load_checkpoint(ckpt).policy
        assert isinstance(policy, RefinedPolicy) == (run.best_critic is not None), where
        if where == "best":
            assert run.rows[best_row]["phase"] == "rl" and run.best_critic is not None
            card = ckpt.with_suffix(".md").read_text(encoding="utf-8")
            point = run.rows[run.fixed_actor_row]
            assert point["phase"] in ("start", "bc")
            assert f"after {point['actor_updates']:,} cloning updates" in card
            roll = rollout(env, torch_decide(policy), insts)
            assert gaps(optimum, roll.objective).mean() == pytest.approx(
                run.rows[best_row]["val_gap"], rel=1e-4, abs=1e-7
            )
            # the report's table pairs the actor alone with the decision, on held-out seeds
            from optkit.learn.report import collect, heldout_gaps, step_table

            held = make_instances("contract", "default", 3, 0)
            alone = rollout(env, torch_decide(policy.base), held).objective
            runs = collect(tmp_path / where)
            row = step_table(runs, heldout_gaps(runs, n=3)).splitlines()[-1].split("|")
            assert row[1].strip() == "local"
            want = 100 * gaps(oracle_objectives("contract", held), alone).mean()
            assert float(row[2].strip(" %")) == pytest.approx(want, abs=1e-3)


def test_sac_explores_near_its_decision_when_sigma_starts_small():
    """Squared-error cloning never trains SAC's σ head; with a fixed actor and the local critic
    (fitted about 0.03 from a0) exploration must start narrow: log_std_init sets the head's bias.
    None keeps PyTorch's init, whose σ ≈ 1 spreads samples across the box."""
    s = torch.rand(256, OBS, generator=torch.Generator().manual_seed(0))
    spread = {}
    for init in (None, -2.5):
        agent = local_agent(log_std_init=init)
        a0 = agent.actor.decide(s)
        with torch.no_grad():
            spread[init] = (agent.actor.explore(s, agent.generator) - a0).abs().mean().item()
    assert spread[-2.5] < 0.1 and spread[None] > 0.3  # σ = e^-2.5 ≈ 0.08 before tanh
    with pytest.raises(InvalidInputError, match="log_std_init"):
        SACConfig(log_std_init=5.0)


def test_without_rl_a_local_run_publishes_the_actor_alone(tmp_path: Path, gt_data: Path):
    """select_best = false publishes the last point's decision: stopped inside the cloning, that
    is the actor's alone (no critic has been fitted), whatever the critic setting."""
    from learn_testkit import tiny_config

    from optkit.learn.policy import RefinedPolicy, load_checkpoint
    from optkit.learn.train import publish, train

    cfg = tiny_config(
        "edmsac", gt_data, samples_per_instance=2, greedy_baseline=True, critic="local",
        actor_every=0, total_env_steps=8, learning_starts=4, select_best=False,
    )  # fmt: skip
    stopped = train("edmsac", cfg, tmp_path / "stopped", stop_at_iteration=0)
    assert stopped.rl_updates == 0 and stopped.published_critic() is None
    ckpt, _ = publish(stopped, tmp_path / "a", "local", heldout_n=2, latency=False)
    assert not isinstance(load_checkpoint(ckpt).policy, RefinedPolicy)
    full = train("edmsac", cfg, tmp_path / "full")
    assert full.rl_updates > 0 and full.published_critic() is full.agent.critic


def test_a_pruning_run_is_published_at_its_target_rate(tmp_path: Path, gt_data: Path):
    """Model selection skips points inside the pruning ramp: with the ramp spanning all 1,000
    cloning updates and a step size that makes later updates worse, the unpruned start and the
    half-pruned 500th update validate better, yet the fixed actor is the 1,000th, as pruned as
    ϱ = 0.3 says (floor(0.3 · 16) = 4 of 16 neurons masked in every hidden layer)."""
    from learn_testkit import tiny_config

    from optkit.learn.train import train

    cfg = tiny_config(
        "edmsac", gt_data, samples_per_instance=2, greedy_baseline=True, critic="local",
        actor_every=0, total_env_steps=8, learning_starts=4, bc_pretrain_updates=1000,
        actor_lr=0.3, bc_lr_end=0.3, prune_rate=0.3, prune_ramp=1.0,
    )  # fmt: skip
    run = train("edmsac", cfg, tmp_path / "run")
    cloning = [r for r in run.rows if r["phase"] in ("start", "bc")]
    assert [r["actor_updates"] for r in cloning] == [0, 500, 1000]
    assert min(r["val_gap"] for r in cloning[:2]) < cloning[-1]["val_gap"]  # the case at issue
    assert run.rows[run.fixed_actor_row]["actor_updates"] == 1000
    masks = run.published_actor().denoiser.masks
    assert (masks == 0).sum(dim=1).tolist() == [4] * cfg.depth
