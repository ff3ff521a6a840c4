"""The `dp` knapsack solver (test oracle, exact where applicable): a 0-1 knapsack DP over prices.

Applicable when the value is additive: no skill is offered by two components (so each
component's value is its own Σ_s v_is), no conflicts and no requirements, and every price is a
multiple of 1/scale for a scale of 1, 10, ..., 10^6 (integer-scaled prices: the DP
indexes money exactly, never rounded), with a table of at most 5·10^7 cells. Elsewhere it returns
NOT_APPLICABLE, never a number. all_skills in this case has no choice to make: every skill's only
server must be bought, so the answer is that set if it fits (INFEASIBLE if not).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.knapsack.common import check_params
from optkit.families.knapsack.evaluate import set_value
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance
from optkit.families.knapsack.model import value_upper_bound

SCALES = (1, 10, 100, 1000, 10**4, 10**5, 10**6)
MAX_CELLS = 5 * 10**7


def integer_scale(values: np.ndarray) -> int | None:
    """The smallest scale of SCALES turning every value into an integer (to 1e-9), else None."""
    for scale in SCALES:
        y = values * scale
        if np.all(np.abs(y - np.round(y)) <= 1e-9 * np.maximum(1.0, np.abs(y))):
            return scale
    return None


def why_not_applicable(instance: KnapsackInstance) -> str | None:
    shared = (instance.offers.sum(axis=0) > 1).nonzero()[0]
    if len(shared):
        return f"skill {instance.skill_names[shared[0]]!r} is offered by two components"
    if len(instance.conflicts) or len(instance.requires):
        return "conflicts or requirements make the value non-additive in the knapsack sense"
    return None


def solve(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    check_params(params, (), "dp")
    out: dict[str, Any] = dict(backend="numpy", backend_version=np.__version__)
    reason = why_not_applicable(instance)
    if reason:
        return SolverOutput(Status.NOT_APPLICABLE, message=f"dp: {reason}", **out)
    t0 = time.perf_counter()
    if instance.objective == "all_skills":
        mask = instance.servable.any(axis=1)
        if not instance.servable.any(axis=0).all() or instance.prices @ mask > instance.budget:
            return SolverOutput(Status.INFEASIBLE, solve_s=time.perf_counter() - t0, **out)
        value = set_value(instance, mask)
        return SolverOutput(
            Status.OPTIMAL,
            objective=value,
            bound=value,
            decision=KnapsackDecision.from_mask(instance, mask),
            solve_s=time.perf_counter() - t0,
            **out,
        )
    # Only prices need to be integral once scaled: with integer costs a set fits B exactly
    # when it fits floor(B·scale).
    scale = integer_scale(instance.prices)
    if scale is None:
        return SolverOutput(
            Status.NOT_APPLICABLE, message="dp: prices are not multiples of 1e-6", **out
        )
    cost = np.round(instance.prices * scale).astype(np.int64)
    cap = int(np.floor(instance.budget * scale * (1 + 1e-12)))
    n = instance.n_components
    if n * (cap + 1) > MAX_CELLS:
        return SolverOutput(
            Status.NOT_APPLICABLE, message=f"dp: table of {n}x{cap + 1} cells is too large", **out
        )
    value = instance.value_matrix.sum(axis=1)  # additive: each skill has one server at most
    best = np.zeros(cap + 1)  # best[b]: max value with total cost <= b
    take = np.zeros((n, cap + 1), dtype=bool)
    for i in range(n):
        if deadline.expired():
            return SolverOutput(
                Status.TIME_LIMIT,
                bound=value_upper_bound(instance),
                solve_s=time.perf_counter() - t0,
                **out,
            )
        ci = cost[i]
        if ci > cap or value[i] <= 0:
            continue
        cand = best[: cap + 1 - ci] + value[i]
        better = cand > best[ci:]
        take[i, ci:] = better
        best[ci:] = np.where(better, cand, best[ci:])
    mask = np.zeros(n, dtype=bool)
    b = cap
    for i in range(n - 1, -1, -1):
        if take[i, b]:
            mask[i] = True
            b -= cost[i]
    objective = set_value(instance, mask)
    return SolverOutput(
        Status.OPTIMAL,
        objective=objective,
        bound=float(best[cap]),
        decision=KnapsackDecision.from_mask(instance, mask),
        solve_s=time.perf_counter() - t0,
        certificate={"price_scale": scale, "table_cells": int(n * (cap + 1))},
        **out,
    )
