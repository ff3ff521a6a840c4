"""The exact `brute_force` knapsack solver (test oracle): every subset of n <= 20 components.

Subsets are scored in blocks of 2^12 with numpy, straight from the definitions of evaluate.py
(coverage value, budget, conflicts, requirements, all_skills cover); ties keep the first subset
in binary order, so the answer is deterministic.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.knapsack.common import check_params
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance
from optkit.families.knapsack.model import value_upper_bound

MAX_N = 20
BLOCK_BITS = 12


def solve(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    check_params(params, (), "brute_force")
    n = instance.n_components
    out: dict[str, Any] = dict(backend="numpy", backend_version=np.__version__)
    if n > MAX_N:
        return SolverOutput(
            Status.NOT_APPLICABLE,
            message=f"brute_force enumerates n <= {MAX_N}, got n = {n}",
            **out,
        )
    t0 = time.perf_counter()
    q, c = instance.quality, instance.prices
    servable = instance.servable
    all_skills = instance.objective == "all_skills"
    low = min(n, BLOCK_BITS)
    low_bits = ((np.arange(2**low)[:, None] >> np.arange(low)) & 1).astype(bool)  # (2^low, low)
    best_value, best_mask = -math.inf, None
    high, stopped = 0, False
    for high in range(2 ** (n - low)):  # noqa: B007 (read after the loop)
        if deadline.expired():
            stopped = True
            break
        high_bits = ((high >> np.arange(n - low)) & 1).astype(bool)
        X = np.concatenate([low_bits, np.broadcast_to(high_bits, (len(low_bits), n - low))], axis=1)
        ok = X.astype(float) @ c <= instance.budget
        if len(instance.conflicts):
            ok &= ~(X[:, instance.conflicts[:, 0]] & X[:, instance.conflicts[:, 1]]).any(axis=1)
        if len(instance.requires):
            ok &= ~(X[:, instance.requires[:, 0]] & ~X[:, instance.requires[:, 1]]).any(axis=1)
        coverage = (X[:, :, None] * q[None, :, :]).max(axis=1)  # (block, S)
        if all_skills:
            ok &= (X.astype(np.int64) @ servable.astype(np.int64) > 0).all(axis=1)
            with np.errstate(divide="ignore"):
                value = np.log(coverage).sum(axis=1)
        else:
            value = coverage @ instance.weights
        value = np.where(ok, value, -math.inf)
        k = int(np.argmax(value))
        if value[k] > best_value:
            best_value, best_mask = float(value[k]), X[k].copy()
    solve_s = time.perf_counter() - t0
    # finished: every block scored (a deadline passing after the last block changes nothing)
    finished = high == 2 ** (n - low) - 1 and not stopped
    if best_mask is None:
        status = Status.INFEASIBLE if finished else Status.TIME_LIMIT
        bound = None if finished else value_upper_bound(instance)
        return SolverOutput(status, bound=bound, solve_s=solve_s, **out)
    status = Status.OPTIMAL if finished else Status.TIME_LIMIT
    return SolverOutput(
        status,
        objective=best_value,
        bound=best_value if status is Status.OPTIMAL else value_upper_bound(instance),
        decision=KnapsackDecision.from_mask(instance, best_mask),
        solve_s=solve_s,
        **out,
    )
