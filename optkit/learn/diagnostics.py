"""Diagnostics of the contract learner: how far the action map lets a policy get, and whether the
critic points the actor the right way.

    .venv/bin/python -m optkit.learn.diagnostics ceiling [--n 25] [--search]
    .venv/bin/python -m optkit.learn.diagnostics critic runs/<run>/state.pt [--n 30]

`ceiling`: on held-out instances (seeds 0..n-1), the gap of the oracle's own menu sent through
each map: the exact inverse action, clipped to the box (what behaviour cloning can at best
imitate), for the env's `projected` map and for the experimental `headroom` map
(optkit/learn/headroom.py); with --search also the best action a local search finds under
`projected` (Powell from the clipped inverse, 1500 evaluations per instance, slow): an estimate
of the best gap any policy can reach through that map.

For n validation-distribution instances (seeds 700_000 + k, seen by neither training nor the
held-out set), at the deterministic action a of the run's actor, compare the critic's action
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


def alignment(state_path: str, n: int = 30) -> list[float]:
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
        denom = np.linalg.norm(true) * np.linalg.norm(grad)
        cosines.append(float(true @ grad / denom) if denom > 0 else 0.0)
    return cosines


def map_ceiling(n: int = 25, search: bool = False) -> dict[str, np.ndarray]:
    """Per held-out instance: gap of the oracle's clipped inverse action under each map."""
    from optkit.families.contract.env import ContractEnv
    from optkit.learn.data import contract_action
    from optkit.learn.headroom import HeadroomContractEnv

    envs = {"projected": ContractEnv(action_map="projected"), "headroom": HeadroomContractEnv()}
    out: dict[str, list[float]] = {name: [] for name in (*envs, "projected_search")}
    for k in range(n):
        inst = api.generate("contract", preset="default", seed=k)
        res = api.solve(inst, "cvxpy")
        opt = float(res.objective)
        for name, env in envs.items():
            a = np.clip(contract_action(inst, res.decision, name), -1.0, 1.0)
            env.reset(options={"instance": inst})
            try:
                out[name].append((opt - env.step(a)[1]) / max(abs(opt), 1.0))
            except RuntimeError as exc:  # an env fault, reported (not hidden) by main()
                print(f"seed {k}, {name}: {exc}; action {np.round(a, 6).tolist()}")
                out[name].append(np.nan)
        if search:
            import scipy.optimize

            env = envs["projected"]

            def loss(x: np.ndarray, inst=inst, env=env) -> float:
                env.reset(options={"instance": inst})
                try:
                    return -env.step(np.clip(x, -1.0, 1.0))[1]
                except RuntimeError:
                    return np.inf

            a0 = np.clip(contract_action(inst, res.decision, "projected"), -1.0, 1.0)
            best = scipy.optimize.minimize(
                loss, a0, method="Powell", bounds=[(-1.0, 1.0)] * len(a0),
                options={"maxfev": 1500, "xtol": 1e-4, "ftol": 1e-9},
            )  # fmt: skip
            out["projected_search"].append((opt + best.fun) / max(abs(opt), 1.0))
    return {name: np.array(v) for name, v in out.items() if v}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    crit = sub.add_parser("critic")
    crit.add_argument("state")
    crit.add_argument("--n", type=int, default=30)
    ceil = sub.add_parser("ceiling")
    ceil.add_argument("--n", type=int, default=25)
    ceil.add_argument("--search", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.what == "critic":
        cos = alignment(args.state, args.n)
        print(f"{args.state}: mean cosine {np.mean(cos):+.3f} over {len(cos)} instances")
        print("per instance: " + " ".join(f"{c:+.2f}" for c in cos))
        return
    gaps = map_ceiling(args.n, args.search)
    print("| oracle menu through the map | mean gap | max gap | share > 1% | env errors |")
    print("|---|---|---|---|---|")
    labels = {
        "projected": "env `projected`, exact inverse clipped to the box",
        "headroom": "`headroom` (learn/headroom.py), exact inverse",
        "projected_search": "env `projected`, best action found by Powell search",
    }
    for name, g in gaps.items():
        ok = g[np.isfinite(g)]
        print(
            f"| {labels[name]} | {100 * ok.mean():.2f}% | {100 * ok.max():.2f}% "
            f"| {100 * np.mean(ok > 0.01):.0f}% | {len(g) - len(ok)} |"
        )


if __name__ == "__main__":
    main()
