"""The exact `highs` knapsack solver: the MIP of model.py through highspy, mip_rel_gap = 0.

The chosen set x is read off the solution and re-scored by evaluate.py; that value is the
reported objective and HiGHS's MIP dual bound the reported bound, so the gap core computes is the
proved one. z stays continuous (model.py says why that is exact).
"""

from __future__ import annotations

import time
from typing import Any

import highspy
import numpy as np

from optkit.core.fields import Fields, as_choice, as_float, as_int
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import EXACT_FEASIBILITY
from optkit.families.knapsack.evaluate import overspend, set_value
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance
from optkit.families.knapsack.model import MipModel, build, value_upper_bound

BACKEND = "highspy"

_MS = highspy.HighsModelStatus
# Explicit map of every HiGHS model status (spec: never pass a backend string through).
_STATUS = {
    _MS.kOptimal: Status.OPTIMAL,
    _MS.kInfeasible: Status.INFEASIBLE,
    _MS.kUnbounded: Status.ERROR,  # x, z are bounded: an unbounded claim is a failure
    _MS.kUnboundedOrInfeasible: Status.ERROR,
    _MS.kTimeLimit: Status.TIME_LIMIT,
    _MS.kInterrupt: Status.TIME_LIMIT,
    _MS.kIterationLimit: Status.TIME_LIMIT,
    _MS.kSolutionLimit: Status.TIME_LIMIT,
    _MS.kObjectiveBound: Status.ERROR,
    _MS.kObjectiveTarget: Status.ERROR,
    _MS.kMemoryLimit: Status.ERROR,
    _MS.kModelEmpty: Status.ERROR,
    _MS.kNotset: Status.ERROR,
    _MS.kLoadError: Status.ERROR,
    _MS.kModelError: Status.ERROR,
    _MS.kPresolveError: Status.ERROR,
    _MS.kSolveError: Status.ERROR,
    _MS.kPostsolveError: Status.ERROR,
    _MS.kUnknown: Status.ERROR,
}


def backend_version() -> str:
    h = highspy.Highs
    return f"{h().versionMajor()}.{h().versionMinor()}.{h().versionPatch()}"


def to_highs_lp(model: MipModel) -> highspy.HighsLp:
    """The MIP as a column-wise HighsLp: x binary, z continuous in [0, 1], maximise."""
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_vars
    lp.num_row_ = model.A.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = model.cost
    lp.col_lower_ = np.zeros(model.n_vars)
    lp.col_upper_ = np.concatenate([model.x_upper, np.ones(model.n_vars - model.n_x)])
    lp.row_lower_ = np.where(np.isfinite(model.row_lower), model.row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(model.row_upper), model.row_upper, inf)
    csc = model.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    kinds = [highspy.HighsVarType.kInteger] * model.n_x
    kinds += [highspy.HighsVarType.kContinuous] * (model.n_vars - model.n_x)
    lp.integrality_ = kinds
    return lp


def _stop_at(h: highspy.Highs, deadline: Deadline) -> None:
    """Interrupt HiGHS once `deadline` has passed, at every check HiGHS offers a callback for.

    HiGHS's own time_limit starts when run() does; the Deadline started with the call, so it is
    the authority (set-up counts). The MIP interrupt fires about every 0.1 s in the root loop
    and the tree; it was the only one to fire on n = 5,000 (HiGHS's MIP LPs do not call the
    simplex one; it and the IPM one are subscribed for LP work that does). None reaches inside
    presolve, hence root_reduced_cost off in solve(). An interrupted MIP reports kInterrupt,
    mapped to TIME_LIMIT with its incumbent and bound like kTimeLimit.
    """

    def check(event: highspy.highs.HighsCallbackEvent) -> None:
        if deadline.expired():
            event.interrupt()

    h.cbMipInterrupt.subscribe(check)
    h.cbSimplexInterrupt.subscribe(check)
    h.cbIpmInterrupt.subscribe(check)


def solve(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    f = Fields(dict(params or {}), "params")
    gap = as_float(f.get("mip_rel_gap", 0.0), "params.mip_rel_gap", ge=0)
    # HiGHS 1.11's presolve spends minutes merging the conflict rows of `large` into cliques
    # (55 s before the first node on seed 0, against 3.5 s for the whole solve without it), so it
    # is off by default; params {"presolve": "on"} restores it.
    presolve = as_choice(f.get("presolve", "off"), "params.presolve", ("off", "on", "choose"))
    min_reliable = as_int(f.get("mip_pscost_minreliable", 0), "params.mip_pscost_minreliable", ge=0)
    # The root reduced-cost heuristic solves a sub-MIP that fixes few variables, and the sub-MIP
    # runs presolve whatever `presolve` says: its clique merging
    # (HighsCliqueTable::runCliqueMerging under HPresolve::runProbing) checks neither time limit
    # nor callback. At n = 5,000 (250,000 conflict rows) a 20 s solve of seed 1 sat in it from
    # ~3 s and returned after 82-169 s (gdb stacks); without it the same solve proved optimality
    # in 4.8 s (RENS, whose sub-MIP is small, found the optimum). `large`: no slower without it.
    root_rc = as_choice(
        f.get("root_reduced_cost", "off"), "params.root_reduced_cost", ("off", "on")
    )
    f.finish()  # refuses unknown keys, naming them and the valid ones
    t0 = time.perf_counter()
    model = build(instance)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("mip_abs_gap", 0.0)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("presolve", presolve)
    # HiGHS's default feasibility tolerance (1e-6) accepts a set overspending B by 3e-7, above
    # the 1e-7 an exact answer may violate (architecture.md); 1e-9 cost nothing measurable.
    h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    h.setOptionValue("primal_feasibility_tolerance", 1e-9)
    # Reliability branching strong-branches every candidate 8 times by default, each an LP over
    # ~40,000 conflict rows on `large`: 14 s CPU for 10 nodes on seed 3. Trusting pseudo-costs
    # at once (0) solved seeds 0, 3, 11 in 1.3, 4.0, 1.7 s CPU (against 1.1, >14, 9.6).
    h.setOptionValue(
        "mip_pscost_minreliable",
        min_reliable,
    )
    h.setOptionValue("mip_heuristic_run_root_reduced_cost", root_rc == "on")
    h.setOptionValue("random_seed", int(seed % 2**31))
    h.passModel(to_highs_lp(model))
    build_s = time.perf_counter() - t0
    out: dict[str, Any] = dict(build_s=build_s, backend=BACKEND, backend_version=backend_version())
    remaining = deadline.remaining_s()
    if remaining is not None:
        if remaining <= 0:
            return SolverOutput(
                Status.TIME_LIMIT,
                bound=value_upper_bound(instance),
                message="time limit reached while building",
                **out,
            )
        h.setOptionValue("time_limit", remaining)
        _stop_at(h, deadline)
    t1 = time.perf_counter()
    # HiGHS keeps one process-wide thread pool sized by the first run; a later run asking for
    # another size fails with model status "Not Set" unless the pool is rebuilt.
    highspy.Highs.resetGlobalScheduler(True)
    h.run()
    solve_s = time.perf_counter() - t1
    ms = h.getModelStatus()
    status = _STATUS.get(ms, Status.ERROR)
    info = h.getInfo()
    has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    message = f"highs status {h.modelStatusToString(ms)}"
    if ms == _MS.kInterrupt:
        message = f"time limit reached (deadline callback; {message})"
    if status in (Status.INFEASIBLE, Status.ERROR) or not has_solution:
        if status is Status.OPTIMAL:  # optimal without a primal solution: not usable
            status = Status.ERROR
        bound = None
        if status is Status.TIME_LIMIT:  # HiGHS's dual bound if it has one, else model.py's
            dual_bound = float(info.mip_dual_bound)
            bound = value_upper_bound(instance)
            if bound is not None and np.isfinite(dual_bound):
                bound = min(bound, dual_bound)
        return SolverOutput(status, bound=bound, solve_s=solve_s, message=message, **out)
    mask = model.chosen_mask(np.asarray(h.getSolution().col_value))
    objective = set_value(instance, mask)
    flags: tuple[str, ...] = ()
    if status is Status.OPTIMAL and overspend(instance, mask) > EXACT_FEASIBILITY:
        status, flags = Status.FEASIBLE, ("violation_above_tolerance",)
    bound = float(info.mip_dual_bound)
    certificate = {
        "mip_objective": float(info.objective_function_value),
        "mip_dual_bound": bound,
        "mip_gap": float(info.mip_gap),
        "mip_nodes": int(info.mip_node_count),
        "rows": int(model.A.shape[0]),
        "columns": int(model.n_vars),
    }
    return SolverOutput(
        status,
        objective=objective,
        bound=bound,
        decision=KnapsackDecision.from_mask(instance, mask),
        certificate=certificate,
        solve_s=solve_s,
        flags=flags,
        message=message if status is not Status.OPTIMAL else "",
        **out,
    )
