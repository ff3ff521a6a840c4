"""Diagnostics of the contract learner: how far the action map lets a policy get, and whether the
critic points the actor the right way.

    .venv/bin/python -m optkit.learn.diagnostics ceiling [--n 25]
    .venv/bin/python -m optkit.learn.diagnostics critic runs/<run>/state.pt [--n 30] [--slope 0.02]

`ceiling`: on held-out instances (seeds 0..n-1), the gap of the oracle's own menu sent through
the env's `projected` map: its exact inverse action (`effort_action`), clipped to the box, which
is what behaviour cloning can at best imitate. The map is onto, so the figure measures float
rounding in the inverse and the projection LP (Contract-v0's capped map scored 5.11% here).

`critic`: for n validation-distribution instances (seeds 700_000 + k, seen by neither training
nor the held-out set), at the deterministic action a of the run's actor, compare the critic's action
gradient ∇_a min(Q1, Q2)(s, a) with the true gradient of the (normalised) reward, by central
differences through the env (step 0.02 per coordinate). Prints the cosine per instance and the
mean. A mean near +1 means RL steps improve the policy; near 0 they are noise; negative, they
undo it. docs/edmsac.md reports the numbers for the shipped runs' settings.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from optkit.core import api
from optkit.learn.config import config_from_dict
from optkit.learn.data import ADAPTERS, adapter
from optkit.learn.edmsac import DiffusionSAC
from optkit.learn.evaluate import make_env
from optkit.learn.sac import SAC

SEED0, STEP = 700_000, 0.02


def alignment(state_path: str, n: int = 30, slope_sigma: float | None = None) -> list[float]:
    """Per instance, cos(∇_a critic, finite-difference gradient of the reward) at the run's
    deterministic action. With slope_sigma, also print per instance the cosine between that
    finite-difference gradient and the least-squares slope of the reward over 200 Gaussian
    perturbations of scale slope_sigma (seeded): near 1 means the reward is smooth at that scale,
    so a critic fitted to such samples could point the right way."""
    state = torch.load(state_path, map_location="cpu", weights_only=True)
    algo, cfg = state["algo"], config_from_dict(state["algo"], state["config"])
    env = make_env(cfg.env.id, cfg.env.kwargs, cfg.env.family)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    agent = (
        SAC(obs_dim, act_dim, cfg, 0)
        if algo == "sac"
        else DiffusionSAC(obs_dim, act_dim, cfg, 0, 1)
    )
    agent.load_state_dict(state["agent"])
    reference = None
    if cfg.normalize_reward and cfg.env.family in ADAPTERS:
        reference = adapter(cfg.env.family).reward_reference
    cosines = []
    for k in range(n):
        inst = api.generate(cfg.env.family, preset=cfg.env.preset, seed=SEED0 + k)
        obs, _ = env.reset(options={"instance": inst})
        scale = reference(inst) if reference is not None else 1.0
        a = agent.act(obs[None, :], stochastic=False)[0].astype(float)

        def reward(x: np.ndarray, inst=inst, scale=scale) -> float:
            env.reset(options={"instance": inst})
            return env.step(np.clip(x, -1.0, 1.0))[1] / scale

        eye = np.eye(act_dim)
        true = np.array([(reward(a + STEP * e) - reward(a - STEP * e)) / (2 * STEP) for e in eye])
        at = torch.tensor(a[None, :], dtype=torch.float32, requires_grad=True)
        torch.min(*agent.critic(torch.as_tensor(obs[None, :]), at)).sum().backward()
        grad = at.grad[0].numpy()
        cosines.append(_cos(true, grad))
        if slope_sigma is not None:
            x = np.random.default_rng(k).normal(0.0, slope_sigma, (200, act_dim))
            y = np.array([reward(a + d) for d in x])
            fit = np.linalg.lstsq(np.c_[np.ones(len(x)), x], y, rcond=None)[0][1:]
            print(f"instance {k}: cos(finite differences, slope at σ={slope_sigma}) "
                  f"{_cos(true, fit):+.3f}")  # fmt: skip
    return cosines


def _cos(u: np.ndarray, v: np.ndarray) -> float:
    denom = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(u @ v) / denom if denom > 0 else 0.0


def map_ceiling(n: int = 25) -> np.ndarray:
    """Per held-out instance: gap of the oracle's clipped inverse action under the env's map."""
    from optkit.families.contract.env import ContractEnv
    from optkit.learn.data import contract_action

    env = ContractEnv(action_map="projected")
    out = []
    for k in range(n):
        inst = api.generate("contract", preset="default", seed=k)
        res = api.solve(inst, "fast")
        opt = float(res.objective)
        a = np.clip(contract_action(inst, res.decision, "projected"), -1.0, 1.0)
        env.reset(options={"instance": inst})
        out.append((opt - env.step(a)[1]) / max(abs(opt), 1.0))
    return np.array(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    crit = sub.add_parser("critic")
    crit.add_argument("state")
    crit.add_argument("--n", type=int, default=30)
    crit.add_argument("--slope", type=float, default=None, metavar="SIGMA")
    ceil = sub.add_parser("ceiling")
    ceil.add_argument("--n", type=int, default=25)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.what == "critic":
        cos = alignment(args.state, args.n, args.slope)
        print(f"{args.state}: mean cosine {np.mean(cos):+.3f} over {len(cos)} instances")
        print("per instance: " + " ".join(f"{c:+.2f}" for c in cos))
        return
    g = map_ceiling(args.n)
    print("| oracle menu through the env's `projected` map | instances | mean gap | max gap |")
    print("|---|---|---|---|")
    print(f"| exact inverse, clipped to the box | {len(g)} | {100 * g.mean():.2e}% "
          f"| {100 * g.max():.2e}% |")  # fmt: skip


if __name__ == "__main__":
    main()
