"""The exact `cpsat` knapsack solver: the MIP of model.py in CP-SAT, integer-scaled and re-scored.

CP-SAT needs integer data, so (both scales recorded in the certificate):
  objective  v_int = round(v · K / v_max), K = params["objective_scale"] (default 10^8);
             each served skill's term is off by at most v_max / (2K), so for every set X
             |f(X) − g(X)·v_max/K| <= S·v_max/(2K), and the CP-SAT optimum is within the
             scaling bound S·v_max/K of the true optimum (the spec's #z · max w·q / scale).
  prices     P = params["price_scale"] (10^6), B_int = floor(B · P). First with prices rounded
             down, c_int = floor(c · P): every truly affordable set stays affordable, so this
             is a relaxation and its verdicts (INFEASIBLE) and bounds hold for the true problem.
             If its optimum overspends the true budget (by less than n/P), the model is solved
             again with prices rounded up (every answer affordable), keeping the relaxation's
             bound. When every price is a multiple of 1/P (`budget_exact`) both coincide.
The chosen set is re-scored in floating point by evaluate.py (the reported objective) and
verified against CP-SAT's proved bound converted back: bound = best_bound·v_max/K + S·v_max/(2K)
is a valid upper bound on the true optimum, and an OPTIMAL answer must lie within the scaling
bound of it (else it is reported FEASIBLE with the flag `scaling_bound_exceeded`).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from ortools import __version__ as ortools_version
from ortools.sat.python import cp_model

from optkit.core.fields import Fields, as_float
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.knapsack.evaluate import set_value
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance
from optkit.families.knapsack.model import MipModel, build, value_upper_bound

BACKEND = "ortools-cpsat"
DEFAULT_OBJECTIVE_SCALE = 1e8
DEFAULT_PRICE_SCALE = 1e6
SUBSOLVERS = ("max_lp", "default_lp", "core", "no_lp", "quick_restart", "reduced_costs")


def _scaled_prices(prices: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """(⌊c·scale⌋, ⌈c·scale⌉) as int64, and whether every c·scale was integral (to 1e-9),
    in which case both are that integer."""
    y = np.asarray(prices, dtype=float) * scale
    near = np.round(y)
    exact = np.abs(y - near) <= 1e-9 * np.maximum(1.0, np.abs(y))
    low = np.where(exact, near, np.floor(y)).astype(np.int64)
    high = np.where(exact, near, np.ceil(y)).astype(np.int64)
    return low, high, bool(exact.all())


def _add_skill_levels(
    m: cp_model.CpModel,
    x: list,
    mip: MipModel,
    v_int: np.ndarray,
    cover: bool,
    deadline: Deadline | None = None,
) -> int | None:
    """Each skill's served value as a sum of levels; returns the objective's constant term.

    This is model.py's MIP with z_is replaced by its cumulative form (an exact reformulation,
    the strong formulation of facility location): sort skill s's servers by value
    V_1 >= ... >= V_m (integer-scaled) and let y_k = "one of the top k servers is chosen",
        y_1 <= x_(1),   y_k <= y_(k-1) + x_(k),   value_s = Σ_k (V_k - V_(k+1)) y_k
    with V_(m+1) = 0 (weighted). all_skills needs the skill covered: y_m = 1, and the value
    V_m + Σ_(k<m) (V_k - V_(k+1)) y_k. The rows are three-term linear, so CP-SAT keeps them in
    its LP, and the LP is the z-relaxation's (y_k = Σ_(j<=k) z_(j)). Rounding the levels, not
    the increments, keeps each skill's error at half a unit, as with z.
    None when `deadline` passes (checked once per skill, ~5 ms each on `large`).
    """
    y_vars, y_coefs, offset = [], [], 0
    for s in range(len(mip.serve_lists)):
        if deadline is not None and deadline.expired():
            return None
        pairs = mip.serve_lists[s]
        if not len(pairs):
            if cover:
                m.add_bool_or([])  # an uncoverable skill: CP-SAT proves the model infeasible
            continue
        levels = v_int[pairs]
        order = np.argsort(-levels, kind="stable")
        pairs, levels = pairs[order], levels[order]
        floor = int(levels[-1]) if cover else 0
        offset += floor
        steps = levels - np.append(levels[1:], floor)  # V_k - V_(k+1) >= 0
        prev = None
        for p, step in zip(pairs.tolist(), steps.tolist(), strict=True):
            i = int(mip.pair_component[p])
            y = m.new_bool_var(f"y[{i},{s}]")
            # y - prev - x <= 0, written into the proto (the expression wrappers are slow)
            row = m.proto.constraints.add().linear
            row.vars.extend([y.index, x[i].index] + ([] if prev is None else [prev.index]))
            row.coeffs.extend([1, -1] + ([] if prev is None else [-1]))
            row.domain.extend([cp_model.INT_MIN, 0])
            if step:
                y_vars.append(y)
                y_coefs.append(step)
            prev = y
        if cover:
            m.add(prev == 1)
    m.maximize(cp_model.LinearExpr.weighted_sum(y_vars, y_coefs))
    return offset


def _ceil_scaled(a: np.ndarray, scale: float) -> tuple[np.ndarray, bool]:
    """ceil(a·scale) as int64, and whether a·scale was integral (to 1e-9) everywhere."""
    y = np.asarray(a, dtype=float) * scale
    near = np.round(y)
    exact = np.abs(y - near) <= 1e-9 * np.maximum(1.0, np.abs(y))
    return np.where(exact, near, np.ceil(y)).astype(np.int64), bool(exact.all())


CONFLICT_BLOCK = 4000
"""_build checks the deadline every this many conflict rows (~10 ms)."""


def _build(instance, mip, v_int, c_int, b_int, deadline: Deadline | None = None):
    """The CP-SAT model for integer prices c_int and budget b_int; (model, x, objective offset),
    or None when `deadline` passes during the build (~0.15 s on `large`)."""
    m = cp_model.CpModel()
    x = [m.new_bool_var(f"x[{i}]") for i in range(mip.n_x)]
    for i in np.flatnonzero(mip.x_upper == 0):
        m.add(x[i] == 0)
    m.add(cp_model.LinearExpr.weighted_sum(x, c_int.tolist()) <= b_int)
    offset = _add_skill_levels(m, x, mip, v_int, instance.objective == "all_skills", deadline)
    if offset is None:
        return None
    # not x_a or not x_b, written straight into the proto (a negated literal is -index - 1):
    # add_bool_or's Python wrapper costs ~50 µs a row, 2 s of set-up on `large`.
    index = np.array([xi.index for xi in x])
    pairs = (-index[instance.conflicts[mip.conflict_rows]] - 1).tolist()
    for k, (a, b) in enumerate(pairs):
        if deadline is not None and k % CONFLICT_BLOCK == 0 and deadline.expired():
            return None
        m.proto.constraints.add().bool_or.literals.extend((a, b))
    for a, b in instance.requires:
        m.add_implication(x[a], x[b])
    return m, x, offset


def _run(m, threads: int, seed: int, remaining: float | None) -> tuple[cp_model.CpSolver, int]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = int(threads)
    # CP-SAT's default 2-worker portfolio keeps two-literal rows out of its LP and never moves
    # the bound on `large` (stuck at Σ_s max_i v_is after 60 s); the `max_lp` worker (full
    # linearisation) proves seed 0 in ~4 s. One worker: the same through linearization_level.
    if threads >= 2:
        solver.parameters.subsolvers.extend(SUBSOLVERS[: int(threads)])
    else:
        solver.parameters.linearization_level = 2
    solver.parameters.random_seed = int(seed % 2**31)
    if remaining is not None:
        solver.parameters.max_time_in_seconds = max(remaining, 1e-3)
    return solver, solver.solve(m)


def solve(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    f = Fields(dict(params or {}), "params")
    K = as_float(
        f.get("objective_scale", DEFAULT_OBJECTIVE_SCALE),
        "params.objective_scale",
        ge=1,
        le=1e12,
    )
    P = as_float(f.get("price_scale", DEFAULT_PRICE_SCALE), "params.price_scale", ge=1, le=1e9)
    f.finish()  # refuses unknown keys, naming them and the valid ones
    t0 = time.perf_counter()
    out: dict[str, Any] = dict(backend=BACKEND, backend_version=ortools_version)
    mip = build(instance)
    S = instance.n_skills
    v = mip.cost[mip.n_x :]
    v_max = float(np.abs(v).max()) if len(v) and np.abs(v).max() > 0 else 1.0
    v_int = np.round(v * (K / v_max)).astype(np.int64)
    c_low, c_high, prices_exact = _scaled_prices(instance.prices, P)
    b_scaled = instance.budget * P
    b_int = int(math.floor(b_scaled + 1e-9 * max(1.0, b_scaled)))
    # Relaxation first: with prices rounded down every truly affordable set stays affordable,
    # so CP-SAT's verdicts and bounds hold for the true problem.
    built = None if deadline.expired() else _build(instance, mip, v_int, c_low, b_int, deadline)
    build_s = time.perf_counter() - t0
    remaining = deadline.remaining_s()
    if built is None or (remaining is not None and remaining <= 0):
        return SolverOutput(
            Status.TIME_LIMIT,
            bound=value_upper_bound(instance),
            build_s=build_s,
            message="time limit reached while building",
            **out,
        )
    m, x, offset = built
    t1 = time.perf_counter()
    solver, code = _run(m, threads, seed, remaining)
    name = solver.status_name(code)
    if code == cp_model.INFEASIBLE:
        return SolverOutput(
            Status.INFEASIBLE, build_s=build_s, solve_s=time.perf_counter() - t1, **out
        )
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # UNKNOWN: no solution before the limit; MODEL_INVALID: a bug in the model above.
        status = Status.TIME_LIMIT if code == cp_model.UNKNOWN else Status.ERROR
        return SolverOutput(
            status,
            bound=value_upper_bound(instance) if status is Status.TIME_LIMIT else None,
            build_s=build_s,
            solve_s=time.perf_counter() - t1,
            message=f"cp-sat status {name}",
            **out,
        )
    unit = v_max / K
    scaling_bound = S * unit
    bound = (solver.best_objective_bound + offset) * unit + S * unit / 2
    cp_objective, cp_bound = solver.objective_value + offset, solver.best_objective_bound + offset
    proved = code == cp_model.OPTIMAL
    mask = np.array([solver.boolean_value(xi) for xi in x], dtype=bool)
    rounding = "exact" if prices_exact else "relaxed"
    if float(instance.prices @ mask) > instance.budget:
        # The relaxed optimum overspends by less than n/P: solve again with prices rounded up
        # (every answer affordable); the relaxation's bound still bounds the true optimum.
        rounding = "relaxed, then conservative"
        t2 = time.perf_counter()
        built = _build(instance, mip, v_int, c_high, b_int, deadline)
        build_s += time.perf_counter() - t2
        code, name = cp_model.UNKNOWN, "not run (deadline)"
        if built is not None and not deadline.expired():
            m, x, _ = built
            solver, code = _run(m, threads, seed, deadline.remaining_s())
            name = solver.status_name(code)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return SolverOutput(
                Status.TIME_LIMIT,
                build_s=build_s,
                solve_s=time.perf_counter() - t1,
                bound=bound,
                message=f"cp-sat status {name} after rounding prices up",
                **out,
            )
        proved = proved and code == cp_model.OPTIMAL
        mask = np.array([solver.boolean_value(xi) for xi in x], dtype=bool)
    objective = set_value(instance, mask)
    status, flags = (Status.OPTIMAL, ()) if proved else (Status.TIME_LIMIT, ())
    if status is Status.OPTIMAL and objective < bound - scaling_bound - 1e-12 * max(1, abs(bound)):
        # Not proved: the gap comes from rounding prices up (the relaxation's optimum did not
        # fit) or, should it ever happen, from the objective scaling.
        conservative = rounding.endswith("conservative")
        status = Status.FEASIBLE
        flags = ("price_rounding_gap",) if conservative else ("scaling_bound_exceeded",)
    certificate = {
        "objective_scale": K,
        "value_unit": unit,
        "price_scale": P,
        "budget_exact": prices_exact,
        "price_rounding": rounding,
        "scaling_bound": scaling_bound,
        "cpsat_objective": cp_objective,
        "cpsat_bound": cp_bound,
        "branches": int(solver.num_branches),
        "conflicts": int(solver.num_conflicts),
    }
    return SolverOutput(
        status,
        objective=objective,
        bound=bound,
        decision=KnapsackDecision.from_mask(instance, mask),
        certificate=certificate,
        build_s=build_s,
        solve_s=time.perf_counter() - t1,
        flags=flags,
        message="" if status is Status.OPTIMAL else f"cp-sat status {name}",
        **out,
    )
