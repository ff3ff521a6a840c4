"""Hindsight oracles with HiGHS (highspy): the LP relaxation and the integral single-choice MIP.

Hindsight problem over the whole stream (variables x_ti = amount of option i for request t):
    max  Σ_t Σ_i r_ti x_ti
    s.t. Σ_t Σ_i C_t[j, i] x_ti <= ρ_j T      (m budget rows)
         Σ_i x_ti <= 1                        (T choice rows)
         x >= 0                               (MIP: x binary)
Columns are t-major (column t·d + i); the matrix goes to HiGHS in CSC form built with numpy
(no modelling layer: Pyomo is too slow at 10^7 nonzeros). HiGHS runs with one thread unless
`threads` says otherwise, dual simplex for the LP (a basic solution: at most m requests are
fractional), and tightened feasibility tolerances (1e-9) so the re-scored budgets hold to 1e-7.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.online_alloc.instance import (
    NO_ACTION,
    OnlineAllocDecision,
    OnlineAllocInstance,
)

FEASIBILITY_TOL = 1e-9
MIP_MAX_VARIABLES = 200_000
"""hindsight_mip is for small T: above T·d binaries it answers NOT_APPLICABLE (use the LP)."""


@dataclass(frozen=True)
class LPSolution:
    status: Status
    objective: float | None
    x: np.ndarray | None
    """(n, d) primal values."""
    duals: np.ndarray | None
    """(m,) budget prices μ >= 0 (shadow price of one unit of resource j)."""
    message: str
    backend_version: str


def columns_lp(
    cost: np.ndarray,
    use: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    budgets: np.ndarray,
    integral: bool = False,
):
    """A HighsLp with k columns: max costᵀx, use (k, m) in the m budget rows, column c in
    choice row m + group[c] (<= 1) unless group[c] < 0, 0 <= x <= 1. CSC built in numpy."""
    import highspy

    k, m = use.shape
    # np.nonzero lists a (column, resource) matrix's entries sorted by column, then row. With a
    # choice-row entry appended to each grouped column, entry e lands at e + (number of grouped
    # columns before its column).
    nz_col, nz_row = np.nonzero(use)
    grouped = group >= 0
    counts = np.bincount(nz_col, minlength=k) + grouped
    start = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    before = np.concatenate([[0], np.cumsum(grouped)[:-1]])
    index = np.empty(int(start[-1]), dtype=np.int32)
    value = np.empty(int(start[-1]), dtype=np.float64)
    pos = np.arange(nz_col.size) + before[nz_col]
    index[pos] = nz_row
    value[pos] = use[nz_col, nz_row]
    last = start[1:][grouped] - 1
    index[last] = m + group[grouped]
    value[last] = 1.0

    lp = highspy.HighsLp()
    lp.num_col_ = k
    lp.num_row_ = m + n_groups
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.ascontiguousarray(cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.ones(k)
    lp.row_lower_ = np.full(m + n_groups, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.asarray(budgets, dtype=np.float64), np.ones(n_groups)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start.astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    if integral:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * k
    return lp


def build_highs_lp(
    rewards: np.ndarray,
    consumption: np.ndarray,
    budgets: np.ndarray,
    integral: bool = False,
):
    """The hindsight model as a highspy HighsLp: column t·d + i is option i of request t."""
    n, d = rewards.shape
    m = budgets.shape[0]
    use = np.transpose(consumption, (0, 2, 1)).reshape(n * d, m)
    group = np.repeat(np.arange(n), d)
    return columns_lp(rewards.ravel(), use, group, n, budgets, integral)


def run_highs(lp, *, integral: bool = False, threads: int = 1, time_limit_s=None, mip_rel_gap=1e-9):
    """Solve a HighsLp with the oracle options; returns (status, objective, x, row duals, msg,
    version). x and duals are None when HiGHS has none."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("primal_feasibility_tolerance", FEASIBILITY_TOL)
    h.setOptionValue("dual_feasibility_tolerance", FEASIBILITY_TOL)
    if integral:
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
        h.setOptionValue("mip_feasibility_tolerance", FEASIBILITY_TOL)
    else:
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)  # dual simplex: a basic, vertex solution
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    h.passModel(lp)
    h.run()
    version = h.version() if hasattr(h, "version") else highspy.__version__
    ms = h.getModelStatus()
    S = highspy.HighsModelStatus
    if ms == S.kOptimal:
        status = Status.OPTIMAL
    elif ms == S.kInfeasible:  # cannot happen (x = 0 is feasible); mapped for completeness
        return Status.INFEASIBLE, None, None, None, "infeasible", version
    elif ms in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt):
        status = Status.TIME_LIMIT
    else:
        return Status.ERROR, None, None, None, h.modelStatusToString(ms), version
    sol = h.getSolution()
    if not sol.value_valid:
        return status, None, None, None, "no incumbent", version
    x = np.clip(np.asarray(sol.col_value), 0.0, 1.0)
    duals = np.asarray(sol.row_dual) if (not integral and sol.dual_valid) else None
    return status, float(h.getInfo().objective_function_value), x, duals, "", version


def solve_lp(
    rewards: np.ndarray,
    consumption: np.ndarray,
    budgets: np.ndarray,
    *,
    integral: bool = False,
    threads: int = 1,
    time_limit_s: float | None = None,
) -> LPSolution:
    """Solve the hindsight LP (or MIP) of the given requests with the given budgets."""
    n, d = rewards.shape
    m = budgets.shape[0]
    lp = build_highs_lp(rewards, consumption, budgets, integral)
    status, obj, x, row_dual, msg, version = run_highs(
        lp, integral=integral, threads=threads, time_limit_s=time_limit_s
    )
    if x is None:
        return LPSolution(status, None, None, None, msg, version)
    return LPSolution(status, obj, x.reshape(n, d), budget_prices(row_dual, m), msg, version)


def budget_prices(row_dual: np.ndarray | None, m: int) -> np.ndarray | None:
    """μ >= 0 from HiGHS's row duals: for a maximisation HiGHS reports a binding <= row's dual
    as its (>= 0) shadow price; rounding can leave -1e-17 on a slack row, hence the clip."""
    return None if row_dual is None else np.maximum(row_dual[:m], 0.0)


def decision_from_x(
    x: np.ndarray, tol: float = 1e-9, duals: np.ndarray | None = None
) -> OnlineAllocDecision:
    """Integral rows become actions, the rest fractional entries (amounts below tol dropped)."""
    n, d = x.shape
    x = np.where(x > tol, x, 0.0)
    ones = x >= 1.0 - tol
    actions = np.full(n, NO_ACTION, dtype=np.int64)
    rows_int = ones.any(axis=1) & ((x > 0).sum(axis=1) == 1)
    actions[rows_int] = np.argmax(ones[rows_int], axis=1)
    frac = (x > 0) & ~rows_int[:, None]
    ft, fo = np.nonzero(frac)
    return OnlineAllocDecision(
        actions=actions, duals=duals, frac_t=ft, frac_option=fo, frac_x=x[ft, fo]
    )


def _no_solution(sol, solve_s: float) -> SolverOutput:
    """HiGHS returned no point (infeasible, time limit without incumbent, error): its status."""
    return SolverOutput(
        status=sol.status,
        message=sol.message,
        solve_s=solve_s,
        backend="highspy",
        backend_version=sol.backend_version,
    )


def hindsight_lp(
    instance: OnlineAllocInstance, deadline: Deadline, seed: int, threads: int, params: dict
) -> SolverOutput:
    """The LP relaxation of the hindsight problem (an upper bound on any policy's reward)."""
    if params:
        raise_unknown(params)
    if (na := not_linear(instance)) is not None:
        return na
    t0 = time.perf_counter()
    sol = solve_lp(
        instance.rewards,
        instance.consumption,
        instance.budgets,
        threads=threads,
        time_limit_s=deadline.remaining_s(),
    )
    solve_s = time.perf_counter() - t0
    if sol.x is None:
        return _no_solution(sol, solve_s)
    decision = decision_from_x(sol.x, duals=sol.duals)
    bound = sol.objective if sol.status is Status.OPTIMAL else None
    return SolverOutput(
        status=sol.status,
        objective=sol.objective,
        bound=bound,
        decision=_for_variant(instance, decision),
        certificate={"duals": None if sol.duals is None else sol.duals.tolist()},
        solve_s=solve_s,
        backend="highspy",
        backend_version=sol.backend_version,
    )


def hindsight_mip(
    instance: OnlineAllocInstance, deadline: Deadline, seed: int, threads: int, params: dict
) -> SolverOutput:
    """The integral hindsight optimum (one option or none per request), for small T."""
    if params:
        raise_unknown(params)
    if (na := not_linear(instance)) is not None:
        return na
    if instance.T * instance.d > MIP_MAX_VARIABLES:
        return SolverOutput(
            status=Status.NOT_APPLICABLE,
            message=f"T·d = {instance.T * instance.d} binaries > {MIP_MAX_VARIABLES}: use "
            "hindsight_lp or dual_bound (an upper bound within m/T of the integral optimum)",
        )
    t0 = time.perf_counter()
    sol = solve_lp(
        instance.rewards,
        instance.consumption,
        instance.budgets,
        integral=True,
        threads=threads,
        time_limit_s=deadline.remaining_s(),
    )
    solve_s = time.perf_counter() - t0
    if sol.x is None:
        return _no_solution(sol, solve_s)
    x = np.round(sol.x)  # integral up to HiGHS's 1e-9 integrality tolerance
    decision = decision_from_x(x)
    objective = float((instance.rewards * x).sum())
    return SolverOutput(
        status=sol.status,
        objective=objective,
        bound=objective if sol.status is Status.OPTIMAL else None,
        decision=_for_variant(instance, decision),
        solve_s=solve_s,
        backend="highspy",
        backend_version=sol.backend_version,
    )


def _for_variant(instance: OnlineAllocInstance, dec: OnlineAllocDecision) -> OnlineAllocDecision:
    """bidding decisions carry bids: a won auction bids its value (>= price), a lost one 0."""
    if instance.variant != "bidding":
        return dec
    won = dec.actions == 0
    bids = np.where(won, np.maximum(instance.values, instance.prices), 0.0)
    bids = np.where(won | (instance.prices > 0), bids, 0.0)
    return OnlineAllocDecision(
        actions=dec.actions,
        duals=dec.duals,
        frac_t=dec.frac_t,
        frac_option=dec.frac_option,
        frac_x=dec.frac_x,
        bids=bids,
    )


def not_linear(instance: OnlineAllocInstance) -> SolverOutput | None:
    """NOT_APPLICABLE for matching, whose hindsight problem is entropic (hindsight_cvxpy)."""
    if instance.variant != "matching":
        return None
    return SolverOutput(
        status=Status.NOT_APPLICABLE,
        message="matching's hindsight problem has an entropy term: use hindsight_cvxpy",
    )


def raise_unknown(params: dict) -> None:
    key = sorted(params)[0]
    raise InvalidInputError(f"params.{key}", "unknown parameter (this solver takes none)")
