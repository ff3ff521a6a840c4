"""Validation against the oracle (spec/edmsac.md): gap to the certified optimum, infeasible share,
time per decision, FLOPs per decision.

Instance seeds (preset `default` unless the config says otherwise), disjoint by construction:
    held-out     HELDOUT_SEED0 + k, k < 500   (never seen in training)
    validation   VAL_SEED0 + k                (the learning curves)
    warm start   the `optkit baseline` data set's seeds (the shipped runs use 1_000_000 + k)
    RL episodes  the env's own 62-bit draws
A failed item (the env raised, or the oracle found no optimum) is counted in `failed`, kept out
of the gap statistics and counted infeasible; the card lists the env's messages.
Gap of a decision: (optimum - objective) / max(|optimum|, 1), the env's `oracle_gap` convention
(equal to the spec's (oracle - policy)/|oracle| whenever |oracle| >= 1, which holds for every
`default` instance). The optimum is the `fast` batch solver's certified objective (cvxpy for
anything it does not certify, and for other families their default exact solver). Infeasible:
max violation > 1e-6 in float64 (the env's `feasible` flag, evaluate()'s count).

Re-runnable benchmark (prints a markdown table; the numbers in docs/edmsac.md come from it):
    .venv/bin/python -m optkit.learn.evaluate models/contract-edmsac-v1.pt [more.pt] [--n 500]
and a registered solver on the same held-out instances of a family (for other families' envs,
whose values may be below 1: the gap is then the absolute shortfall, as every optkit gap):
    .venv/bin/python -m optkit.learn.evaluate --family knapsack --preset single_agent \
        --solver zcl --solver greedy_density [checkpoints of that family]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.core import api
from optkit.core.tolerances import INFEASIBLE_VIOLATION

HELDOUT_SEED0, HELDOUT_N = 0, 500
VAL_SEED0 = 500_000

Decide = Callable[[np.ndarray], np.ndarray]


def make_env(env_id: str, kwargs: dict[str, Any], family: str):
    """The unwrapped Gymnasium env (the learner calls reset/step itself, one step at a time).
    A family's env id is registered when its env module is imported (optkit.families.F.env)."""
    import importlib

    import gymnasium as gym

    if env_id not in gym.registry:
        try:
            importlib.import_module(f"optkit.families.{family}.env")
        except ModuleNotFoundError:
            pass  # not an optkit family env: gym.make names the missing id below
    return gym.make(env_id, disable_env_checker=True, **kwargs).unwrapped


def make_instances(family: str, preset: str, n: int, seed0: int) -> list[Any]:
    return [api.generate(family, preset=preset, seed=seed0 + k) for k in range(n)]


def oracle_objectives(family: str, instances: Sequence[Any]) -> np.ndarray:
    """The certified optimum of every instance (NaN where the oracle found none)."""
    from optkit.core.status import Status

    if family == "contract":
        try:
            from optkit.families.contract.fast import solve_batch
        except ImportError:  # the batched solver is optional; cvxpy below is the reference
            solve_batch = None
        if solve_batch is not None:
            outs, _ = solve_batch(list(instances))
            return np.array(
                [o.objective if o.status is Status.OPTIMAL else math.nan for o in outs], float
            )
    values = []
    for inst in instances:
        res = api.solve(inst)
        values.append(float(res.objective) if res.status is Status.OPTIMAL else math.nan)
    return np.array(values, float)


@dataclass(frozen=True)
class Rollout:
    objective: np.ndarray
    max_violation: np.ndarray
    feasible: np.ndarray
    errors: tuple[str, ...] = ()
    """One message per instance whose env step raised (its objective is NaN, counted infeasible)."""


MAX_EPISODE_STEPS = 1_000_000
"""A guard against an env that never terminates (the families' episodes are 1 to n steps)."""


def rollout(env: Any, decide: Decide, instances: Sequence[Any]) -> Rollout:
    """Play each instance's episode through the env with deterministic decisions: one step for
    the contract env, one per arriving component for knapsack's. The objective is the final
    step's info["objective"] (the family's own score), else the episode's return. An env step
    that raises is recorded (objective NaN, infeasible, message kept) and the batch goes on."""
    objective, violation, feasible, errors = [], [], [], []
    for k, inst in enumerate(instances):
        obs, _ = env.reset(options={"instance": inst})
        total, info, done, steps = 0.0, {}, False, 0
        try:
            while not done:
                action = decide(np.asarray(obs, np.float32)[None, :])[0]
                obs, reward, terminated, truncated, info = env.step(action)
                total, done, steps = total + float(reward), terminated or truncated, steps + 1
                if steps >= MAX_EPISODE_STEPS:
                    raise RuntimeError(f"no termination after {steps} steps")
        except RuntimeError as exc:  # e.g. the projection LP's "cannot happen" status
            errors.append(f"instance {k}: {exc}")
            objective.append(math.nan)
            violation.append(math.inf)
            feasible.append(False)
            continue
        objective.append(float(info.get("objective", total)))
        viol = float(info.get("max_violation", 0.0))
        violation.append(viol)
        feasible.append(bool(info.get("feasible", viol <= INFEASIBLE_VIOLATION)))
    return Rollout(np.array(objective), np.array(violation), np.array(feasible), tuple(errors))


def gaps(optimum: np.ndarray, objective: np.ndarray) -> np.ndarray:
    return (optimum - objective) / np.maximum(np.abs(optimum), 1.0)


def summarize(gap: np.ndarray, feasible: np.ndarray) -> dict[str, float]:
    """Mean gap with a 95% normal-approximation CI (n >= 30 here), quantiles, infeasible share."""
    finite = np.isfinite(gap)
    g = gap[finite]
    n = len(g)
    half = 1.96 * float(np.std(g, ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return {
        "n": n,
        "mean_gap": float(np.mean(g)),
        "ci95": half,
        "median_gap": float(np.median(g)),
        "p95_gap": float(np.quantile(g, 0.95)),
        "max_gap": float(np.max(g)),
        "infeasible_share": float(1.0 - np.mean(feasible)),
        "failed": int(np.sum(~finite)),
    }


def torch_decide(policy: Any) -> Decide:
    import torch

    def decide(obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return policy(torch.as_tensor(obs, dtype=torch.float32)).numpy()

    return decide


class RandomPolicy:
    """The `random` baseline: uniform actions on the box from a seeded Generator."""

    def __init__(self, act_dim: int, seed: int):
        self.act_dim, self.rng = act_dim, np.random.default_rng(seed)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.uniform(-1.0, 1.0, (obs.shape[0], self.act_dim)).astype(np.float32)


def decision_latency(policy: Any, obs: np.ndarray, batch: int, reps: int = 50) -> float:
    """Median wall seconds per decision of `policy` on a batch of `batch` observations."""
    import torch

    rows = np.resize(obs, (batch, obs.shape[1])).astype(np.float32)
    s = torch.as_tensor(rows)
    times = []
    with torch.inference_mode():
        for _ in range(5):
            policy(s)
        for _ in range(reps):
            t0 = time.perf_counter()
            policy(s)
            times.append(time.perf_counter() - t0)
    return float(np.median(times)) / batch


def projected_latency(policy: Any, instances: Sequence[Any], reps: int = 3) -> float:
    """Median seconds of actor + projection LP per decision at batch 1, the LP pre-built
    (contract `projected` map): observe, decide, map to targets, project."""
    import torch

    from optkit.families.contract.env import observe, target_efforts
    from optkit.families.contract.projection import ProjectedMap

    maps = [ProjectedMap(inst) for inst in instances]
    times = []
    with torch.inference_mode():
        for _ in range(reps):
            for inst, pm in zip(instances, maps, strict=True):
                t0 = time.perf_counter()
                a = policy(torch.as_tensor(observe(inst)[None, :]))[0].numpy()
                pm(target_efforts(inst, a))
                times.append(time.perf_counter() - t0)
    return float(np.median(times))


def heldout_report(
    decide: Decide,
    env_id: str,
    env_kwargs: dict[str, Any],
    family: str,
    preset: str,
    n: int = HELDOUT_N,
    seed0: int = HELDOUT_SEED0,
) -> dict[str, Any]:
    """Gap and feasibility of `decide` on n held-out instances, with the per-instance arrays."""
    insts = make_instances(family, preset, n, seed0)
    optimum = oracle_objectives(family, insts)
    roll = rollout(make_env(env_id, env_kwargs, family), decide, insts)
    gap = gaps(optimum, roll.objective)
    return {
        **summarize(gap, roll.feasible),
        "seed0": seed0,
        "preset": preset,
        "gap": gap,
        "objective": roll.objective,
        "max_violation": roll.max_violation,
        "errors": list(roll.errors),
    }


def checkpoint_report(path: str, n: int = HELDOUT_N, seed0: int = HELDOUT_SEED0) -> dict[str, Any]:
    """Held-out gap, infeasible share, FLOPs and latency of a checkpoint (the card's numbers)."""
    from optkit.learn.policy import load_checkpoint

    ckpt = load_checkpoint(path)
    env = ckpt.meta["env"]
    report = heldout_report(
        torch_decide(ckpt.policy), env["id"], env["kwargs"], env["family"], env["preset"], n, seed0
    )
    insts = make_instances(env["family"], env["preset"], 32, seed0)
    obs = np.stack(
        [
            make_env(env["id"], env["kwargs"], env["family"]).reset(options={"instance": i})[0]
            for i in insts
        ]
    )
    report["latency_batch1_s"] = decision_latency(ckpt.policy, obs, 1, reps=200)
    report["latency_batch1024_s"] = decision_latency(ckpt.policy, obs, 1024, reps=20)
    report["flops"] = int(ckpt.policy.flops())
    if env["family"] == "contract" and env["kwargs"].get("action_map", "projected") == "projected":
        report["projected_latency_s"] = projected_latency(ckpt.policy, insts)
    return report


def solver_report(family: str, preset: str, solver: str, n: int, seed0: int) -> dict[str, Any]:
    """A registered solver (an online rule, a heuristic) on the held-out instances, scored with
    the learners' gap against the same oracle: the row a learned policy is compared with."""
    insts = make_instances(family, preset, n, seed0)
    optimum = oracle_objectives(family, insts)
    results = [api.solve(inst, solver) for inst in insts]
    objective = np.array(
        [math.nan if r.objective is None else float(r.objective) for r in results], float
    )
    feasible = np.array([r.evaluation is not None and r.evaluation.feasible for r in results])
    return summarize(gaps(optimum, objective), feasible)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="*")
    parser.add_argument(
        "--random",
        choices=("projected", "raw"),
        action="append",
        default=[],
        help="also score the `random` baseline (uniform actions, seed 0) under this contract map",
    )
    parser.add_argument(
        "--solver",
        action="append",
        default=[],
        help="also score this registered solver of --family on the same held-out instances",
    )
    parser.add_argument("--family", default="contract", help="family of --solver's instances")
    parser.add_argument("--preset", default=None, help="preset of --solver's instances")
    parser.add_argument("--n", type=int, default=HELDOUT_N, help="held-out instances")
    parser.add_argument("--seed0", type=int, default=HELDOUT_SEED0)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    print(
        "| checkpoint | n | mean gap | 95% CI | infeasible | FLOPs/decision | batch-1 ms "
        "| batch-1024 µs/decision | actor+projection ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    from optkit.families.contract.env import ENV_ID

    for action_map in args.random:
        env_kwargs = {"action_map": action_map}
        act_dim = make_env(ENV_ID, env_kwargs, "contract").action_space.shape[0]
        r = heldout_report(
            RandomPolicy(act_dim, 0),
            ENV_ID,
            env_kwargs,
            "contract",
            "default",
            args.n,
            args.seed0,
        )
        print(
            f"| random ({action_map}) | {r['n']} | {100 * r['mean_gap']:.3f}% "
            f"| ±{100 * r['ci95']:.3f} | {100 * r['infeasible_share']:.1f}% | - | - | - | - |"
        )
    for name in args.solver:
        from optkit.core import registry

        preset = args.preset or registry.get_family(args.family).default_preset
        r = solver_report(args.family, preset, name, args.n, args.seed0)
        print(
            f"| {name} ({args.family} {preset}) | {r['n']} | {100 * r['mean_gap']:.3f}% "
            f"| ±{100 * r['ci95']:.3f} | {100 * r['infeasible_share']:.1f}% | - | - | - | - |"
        )
    for path in args.checkpoints:
        r = checkpoint_report(path, args.n, args.seed0)
        proj = r.get("projected_latency_s")
        print(
            f"| {path} | {r['n']} | {100 * r['mean_gap']:.3f}% | ±{100 * r['ci95']:.3f} "
            f"| {100 * r['infeasible_share']:.1f}% | {r['flops']:,} "
            f"| {1e3 * r['latency_batch1_s']:.3f} | {1e6 * r['latency_batch1024_s']:.2f} "
            f"| {'-' if proj is None else f'{1e3 * proj:.3f}'} |"
        )


if __name__ == "__main__":
    main()
