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
NONZERO_BLOCK = 8192
"""Columns scanned for nonzeros between two deadline checks in columns_model."""
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


@dataclass(frozen=True)
class ColumnModel:
    """The arrays of columns_model's LP/MIP, passed to HiGHS as numpy buffers by `pass_to`.

    Assigning arrays of 7.5·10^6 nonzeros (T = 10^4, m = 100, d = 10) to HighsLp's a_matrix_
    fields converts them element by element (~0.9 s here); passModel's array overload takes the
    same buffers in ~0.05 s, and that set-up counts against the caller's deadline."""

    cost: np.ndarray
    start: np.ndarray
    """(k + 1,) int32 column starts (CSC)."""
    index: np.ndarray
    value: np.ndarray
    row_upper: np.ndarray
    integral: bool

    @property
    def num_col(self) -> int:
        return self.cost.shape[0]

    @property
    def num_row(self) -> int:
        return self.row_upper.shape[0]

    def pass_to(self, h) -> None:
        import highspy

        k, rows = self.num_col, self.num_row
        status = h.passModel(
            k,
            rows,
            int(self.index.shape[0]),
            int(highspy.MatrixFormat.kColwise.value),
            int(highspy.ObjSense.kMaximize.value),
            0.0,
            self.cost,
            np.zeros(k),
            np.ones(k),
            np.full(rows, -highspy.kHighsInf),
            self.row_upper,
            np.ascontiguousarray(self.start[:-1]),
            self.index,
            self.value,
            np.full(k, int(self.integral), dtype=np.int32),  # 1: kInteger, 0: kContinuous
        )
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the hindsight model (passModel)")


def columns_model(
    cost: np.ndarray,
    use: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    budgets: np.ndarray,
    integral: bool = False,
    deadline: Deadline | None = None,
) -> ColumnModel | None:
    """k columns: max costᵀx, use (k, m) in the m budget rows, column c in choice row
    m + group[c] (<= 1) unless group[c] < 0, 0 <= x <= 1. CSC built in numpy. None when
    `deadline` passes between its steps (~0.1 s each at 7.5·10^6 nonzeros)."""
    k, m = use.shape
    # np.nonzero lists a (column, resource) matrix's entries sorted by column, then row. With a
    # choice-row entry appended to each grouped column, entry e lands at e + (number of grouped
    # columns before its column).
    parts = []
    for lo in range(0, k, NONZERO_BLOCK):  # in blocks: a deadline check every ~10 ms
        if deadline is not None and deadline.expired():
            return None
        c, r = np.nonzero(use[lo : lo + NONZERO_BLOCK])
        parts.append((c + lo, r))
    nz_col = np.concatenate([c for c, _ in parts]) if parts else np.zeros(0, np.int64)
    nz_row = np.concatenate([r for _, r in parts]) if parts else np.zeros(0, np.int64)
    del parts
    grouped = group >= 0
    counts = np.bincount(nz_col, minlength=k) + grouped
    start = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    before = np.concatenate([[0], np.cumsum(grouped)[:-1]])
    index = np.empty(int(start[-1]), dtype=np.int32)
    value = np.empty(int(start[-1]), dtype=np.float64)
    pos = np.arange(nz_col.size) + before[nz_col]
    index[pos] = nz_row
    if deadline is not None and deadline.expired():
        return None
    value[pos] = use[nz_col, nz_row]
    del nz_col, nz_row, pos
    if deadline is not None and deadline.expired():
        return None
    last = start[1:][grouped] - 1
    index[last] = m + group[grouped]
    value[last] = 1.0
    return ColumnModel(
        cost=np.ascontiguousarray(cost, dtype=np.float64),
        start=start.astype(np.int32),
        index=index,
        value=value,
        row_upper=np.concatenate([np.asarray(budgets, dtype=np.float64), np.ones(n_groups)]),
        integral=integral,
    )


def build_highs_model(
    rewards: np.ndarray,
    consumption: np.ndarray,
    budgets: np.ndarray,
    integral: bool = False,
    deadline: Deadline | None = None,
) -> ColumnModel | None:
    """The hindsight model's arrays: column t·d + i is option i of request t (None when
    `deadline` passes while building)."""
    n, d = rewards.shape
    m = budgets.shape[0]
    use = np.transpose(consumption, (0, 2, 1)).reshape(n * d, m)
    group = np.repeat(np.arange(n), d)
    return columns_model(rewards.ravel(), use, group, n, budgets, integral, deadline)


def run_highs(
    lp: ColumnModel,
    *,
    integral: bool = False,
    threads: int = 1,
    time_limit_s=None,
    mip_rel_gap=1e-9,
    deadline: Deadline | None = None,
):
    """Solve a ColumnModel with the oracle options; returns (status, objective, x,
    row duals, msg, version). x is None when HiGHS has no feasible point (a time-limited dual
    simplex stops at a primal-infeasible basis: its values are no incumbent), duals None when
    it has no dual values. With a `deadline`, HiGHS gets what remains of it once the model is
    passed (set-up counted) and is interrupted when it passes (kInterrupt -> TIME_LIMIT)."""
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
    lp.pass_to(h)
    version = h.version() if hasattr(h, "version") else highspy.__version__
    if deadline is not None and deadline.remaining_s() is not None:
        remaining = deadline.remaining_s()
        if remaining <= 0:
            return Status.TIME_LIMIT, None, None, None, "time limit reached while building", version
        time_limit_s = remaining if time_limit_s is None else min(time_limit_s, remaining)

        def check(event) -> None:
            if deadline.expired():
                event.interrupt()

        h.cbMipInterrupt.subscribe(check)
        h.cbSimplexInterrupt.subscribe(check)
        h.cbIpmInterrupt.subscribe(check)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    # HiGHS keeps one process-wide thread pool sized by the first run; a later run asking for
    # another `threads` ends with model status "Not Set" (status ERROR here) unless the pool is
    # rebuilt (as knapsack/exact_highs.py does): hindsight_lp with threads=2 after any threads=1
    # HiGHS run in the process failed that way.
    highspy.Highs.resetGlobalScheduler(True)
    h.run()
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
    info = h.getInfo()
    duals = np.asarray(sol.row_dual) if (not integral and sol.dual_valid) else None
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if not sol.value_valid or (status is not Status.OPTIMAL and not feasible):
        return status, None, None, duals, "no incumbent", version
    x = np.clip(np.asarray(sol.col_value), 0.0, 1.0)
    return status, float(info.objective_function_value), x, duals, "", version


def reward_upper_bound(rewards: np.ndarray) -> float:
    """D(0) = Σ_t max(0, max_i r_ti): every request's best reward, budgets ignored. A valid
    (loose) upper bound on the hindsight LP and MIP, O(T·d) to compute, for TIME_LIMIT answers
    whose backend stopped before proving one."""
    return float(np.maximum(np.asarray(rewards).max(axis=1), 0.0).sum())


def solve_lp(
    rewards: np.ndarray,
    consumption: np.ndarray,
    budgets: np.ndarray,
    *,
    integral: bool = False,
    threads: int = 1,
    time_limit_s: float | None = None,
    deadline: Deadline | None = None,
) -> LPSolution:
    """Solve the hindsight LP (or MIP) of the given requests with the given budgets; with a
    `deadline`, building the model counts against it (see run_highs)."""
    n, d = rewards.shape
    m = budgets.shape[0]
    if deadline is not None and deadline.expired():
        return LPSolution(Status.TIME_LIMIT, None, None, None, "time limit reached", "")
    model = build_highs_model(rewards, consumption, budgets, integral, deadline)
    if model is None:
        return LPSolution(
            Status.TIME_LIMIT, None, None, None, "time limit reached while building", ""
        )
    status, obj, x, row_dual, msg, version = run_highs(
        model, integral=integral, threads=threads, time_limit_s=time_limit_s, deadline=deadline
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


def _no_solution(sol, solve_s: float, instance: OnlineAllocInstance) -> SolverOutput:
    """HiGHS returned no point (infeasible, time limit without incumbent, error): its status,
    with D(0) as the bound of a TIME_LIMIT answer."""
    return SolverOutput(
        status=sol.status,
        bound=reward_upper_bound(instance.rewards) if sol.status is Status.TIME_LIMIT else None,
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
        deadline=deadline,
    )
    solve_s = time.perf_counter() - t0
    if sol.x is None:
        return _no_solution(sol, solve_s, instance)
    decision = decision_from_x(sol.x, duals=sol.duals)
    # not optimal: D(0), valid for the LP whatever HiGHS reached (its dual values are not
    # trusted as a bound without a full pass over the stream)
    bound = sol.objective if sol.status is Status.OPTIMAL else reward_upper_bound(instance.rewards)
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
        deadline=deadline,
    )
    solve_s = time.perf_counter() - t0
    if sol.x is None:
        return _no_solution(sol, solve_s, instance)
    x = np.round(sol.x)  # integral up to HiGHS's 1e-9 integrality tolerance
    decision = decision_from_x(x)
    objective = float((instance.rewards * x).sum())
    return SolverOutput(
        status=sol.status,
        objective=objective,
        bound=objective if sol.status is Status.OPTIMAL else reward_upper_bound(instance.rewards),
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
