"""The `pyomo` knapsack solver and the Pyomo model behind `optkit export` (LP / MPS files).

The Pyomo model is model.py's MIP written out constraint by constraint with readable names
(x[c017], z[c017,search], budget, serve[search], link[...], conflict[...], requires[...]), so an
exported file can be read and solved by any MIP solver. It is solved with
SolverFactory("appsi_highs") (HiGHS through highspy, the one MIP backend installed here) or any
solver named in params["solver"] that Pyomo finds.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import EXACT_FEASIBILITY
from optkit.families.knapsack.common import check_params
from optkit.families.knapsack.evaluate import overspend, set_value
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance
from optkit.families.knapsack.model import build, value_upper_bound

BACKEND = "pyomo"
DEFAULT_SOLVER = "appsi_highs"


BUILD_CHECK_ROWS = 500
"""The deadline is checked every this many conflict rows, built (~6 ms of Pyomo) or handed to
HiGHS (~12 ms)."""


def pyomo_model(instance: KnapsackInstance, deadline: Deadline | None = None):
    """A ConcreteModel of the MIP (x binary, z in [0, 1]; model.py says why z may be real).

    With a `deadline`, None once it has passed during the build: Pyomo spends ~0.9 s on the
    34,000 conflict rows of `large`, so the rows are added in blocks with a check between."""
    import pyomo.environ as pe

    def late() -> bool:
        return deadline is not None and deadline.expired()

    if late():
        return None
    mip = build(instance)
    comps, skills = instance.component_names, instance.skill_names
    pairs = [(comps[i], skills[s]) for i, s in zip(mip.pair_component, mip.pair_skill, strict=True)]
    m = pe.ConcreteModel(name=instance.name or "knapsack")
    m.x = pe.Var(list(comps), domain=pe.Binary)
    for i in np.flatnonzero(mip.x_upper == 0):
        m.x[comps[i]].fix(0)
    m.z = pe.Var(pairs, bounds=(0.0, 1.0))
    if late():
        return None
    value = dict(zip(pairs, mip.cost[mip.n_x :].tolist(), strict=True))
    m.value = pe.Objective(expr=sum(value[p] * m.z[p] for p in pairs), sense=pe.maximize)
    price = dict(zip(comps, instance.prices.tolist(), strict=True))
    m.budget = pe.Constraint(expr=sum(price[c] * m.x[c] for c in comps) <= instance.budget)
    servers: dict[str, list[tuple[str, str]]] = {s: [] for s in skills}
    for p in pairs:
        servers[p[1]].append(p)
    cover = instance.objective == "all_skills"

    def serve(m, s):
        total = sum(m.z[p] for p in servers[s])
        if not servers[s]:  # 0 = 1 under all_skills: infeasible, as in model.py
            return pe.Constraint.Infeasible if cover else pe.Constraint.Skip
        return total == 1 if cover else total <= 1

    m.serve = pe.Constraint(list(skills), rule=serve)
    if late():
        return None
    m.link = pe.Constraint(pairs, rule=lambda m, c, s: m.z[c, s] <= m.x[c])
    if late():
        return None
    # Rows are set one by one into an indexed Constraint (same names and order as a rule would
    # give), so the build can stop between blocks when the deadline passes.
    conflicts = instance.conflicts[mip.conflict_rows].tolist()
    m.conflict = pe.Constraint(range(len(conflicts)))
    for k, (a, b) in enumerate(conflicts):
        if k % BUILD_CHECK_ROWS == 0 and late():
            return None
        m.conflict[k] = m.x[comps[a]] + m.x[comps[b]] <= 1
    requires = instance.requires.tolist()
    m.requires = pe.Constraint(range(len(requires)))
    for k, (a, b) in enumerate(requires):
        if k % BUILD_CHECK_ROWS == 0 and late():
            return None
        m.requires[k] = m.x[comps[a]] <= m.x[comps[b]]
    if late():
        return None
    return m


def solve(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    import pyomo
    import pyomo.environ as pe

    params = check_params(params, ("solver",), "pyomo")
    name = params.get("solver", DEFAULT_SOLVER)
    if not isinstance(name, str):
        raise InvalidInputError("params.solver", "must be a Pyomo solver name")
    out: dict[str, Any] = dict(backend=f"{BACKEND}+{name}", backend_version=pyomo.__version__)
    t0 = time.perf_counter()
    if name != DEFAULT_SOLVER:
        opt = pe.SolverFactory(name)
        if not opt.available(exception_flag=False):
            raise InvalidInputError("params.solver", f"Pyomo solver {name!r} is not available")
    m = pyomo_model(instance, deadline)
    if m is None:
        return _out_of_time(instance, time.perf_counter() - t0, out)
    if name == DEFAULT_SOLVER:
        return _solve_appsi_highs(instance, m, deadline, seed, threads, t0, out)
    return _solve_legacy(instance, m, opt, deadline, threads, t0, out)


def _out_of_time(instance: KnapsackInstance, build_s: float, out: dict[str, Any]) -> SolverOutput:
    """TIME_LIMIT before the solver ran: no incumbent, the model-free bound of model.py."""
    return SolverOutput(
        Status.TIME_LIMIT,
        bound=value_upper_bound(instance),
        message="time limit reached while building",
        **{**out, "build_s": build_s},
    )


def _solve_appsi_highs(instance, m, deadline, seed, threads, t0, out) -> SolverOutput:
    """HiGHS through Pyomo's persistent appsi interface, with the settings of exact_highs.py
    (it says why): presolve off, pseudo-costs trusted, feasibility tolerances 1e-9, the root
    reduced-cost heuristic off (its sub-MIP's presolve ignores every limit).

    The legacy SolverFactory("appsi_highs").solve(timelimit=...) set HiGHS's limit before
    Pyomo translated the model (~0.9 s on `large`), so the translation came on top of the
    limit. Here the translation comes first, in blocks checked against the deadline, and HiGHS
    gets what remains of it."""
    import highspy
    from pyomo.contrib.appsi.base import TerminationCondition as TC
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.config.load_solution = False
    opt.config.stream_solver = False
    opt.highs_options = {
        "mip_rel_gap": 0.0,
        "mip_abs_gap": 0.0,
        "threads": int(threads),
        "random_seed": int(seed % 2**31),
        "presolve": "off",
        "mip_pscost_minreliable": 0,
        "mip_feasibility_tolerance": 1e-9,
        "primal_feasibility_tolerance": 1e-9,
        "mip_heuristic_run_root_reduced_cost": False,
    }
    highspy.Highs.resetGlobalScheduler(True)  # as exact_highs.py: the pool's size is fixed
    # Translating to HiGHS costs ~25 µs a row (~1 s for the conflict rows of `large`), so the
    # conflict rows go in blocks with a deadline check between; the rest first, in one call.
    m.conflict.deactivate()
    opt.set_instance(m)
    rows = list(m.conflict.values())
    for lo in range(0, len(rows), BUILD_CHECK_ROWS):
        if deadline.expired():
            return _out_of_time(instance, time.perf_counter() - t0, out)
        opt.add_constraints(rows[lo : lo + BUILD_CHECK_ROWS])
    m.conflict.activate()
    for flag in (
        "check_for_new_or_removed_constraints",
        "check_for_new_or_removed_vars",
        "check_for_new_or_removed_params",
        "check_for_new_objective",
        "update_constraints",
        "update_vars",
        "update_params",
        "update_named_expressions",
        "update_objective",
    ):
        setattr(opt.update_config, flag, False)  # the model is final: no re-scan on solve
    build_s = time.perf_counter() - t0
    out["build_s"] = build_s
    remaining = deadline.remaining_s()
    if remaining is not None:
        if remaining <= 0:
            return _out_of_time(instance, build_s, out)
        # HiGHS's own limit, started now; exact_highs.py's interrupt callback is not used:
        # appsi maps HiGHS's kInterrupt to "unknown" and drops the incumbent with it.
        opt.config.time_limit = max(remaining, 1e-3)
    t1 = time.perf_counter()
    res = opt.solve(m)
    solve_s = time.perf_counter() - t1
    tc = res.termination_condition
    # Explicit map (spec: never pass a backend string through).
    status = {
        TC.optimal: Status.OPTIMAL,
        TC.infeasible: Status.INFEASIBLE,
        TC.maxTimeLimit: Status.TIME_LIMIT,
        TC.interrupted: Status.TIME_LIMIT,
        TC.maxIterations: Status.TIME_LIMIT,
    }.get(tc, Status.ERROR)
    message = f"pyomo termination {tc.name}"
    bound = res.best_objective_bound
    bound = float(bound) if bound is not None and np.isfinite(bound) else None
    if status is Status.TIME_LIMIT and bound is None:
        bound = value_upper_bound(instance)
    if status in (Status.INFEASIBLE, Status.ERROR) or res.best_feasible_objective is None:
        if status is Status.OPTIMAL:
            status = Status.ERROR
        return SolverOutput(
            status,
            bound=bound if status is Status.TIME_LIMIT else None,
            solve_s=solve_s,
            message=message,
            **out,
        )
    res.solution_loader.load_vars()
    return _answer(instance, m, status, bound, solve_s, message, out)


def _answer(instance, m, status, bound, solve_s, message, out) -> SolverOutput:
    """The chosen set read off m.x, re-scored by evaluate.py's set_value."""
    mask = np.array([(m.x[c].value or 0.0) > 0.5 for c in instance.component_names])
    objective = set_value(instance, mask)
    flags: tuple[str, ...] = ()
    if status is Status.OPTIMAL and overspend(instance, mask) > EXACT_FEASIBILITY:
        status, flags = Status.FEASIBLE, ("violation_above_tolerance",)
    return SolverOutput(
        status,
        objective=objective,
        bound=bound,
        decision=KnapsackDecision.from_mask(instance, mask),
        solve_s=solve_s,
        flags=flags,
        message="" if status is Status.OPTIMAL else message,
        **out,
    )


def _solve_legacy(instance, m, opt, deadline, threads, t0, out) -> SolverOutput:
    """Any other Pyomo solver by name, given HiGHS-style option names (as before: a solver
    that names them otherwise ignores or refuses them; the lead's call, see the audit)."""
    from pyomo.opt import TerminationCondition as TC

    build_s = time.perf_counter() - t0
    out["build_s"] = build_s
    remaining = deadline.remaining_s()
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "mip_abs_gap": 0.0, "threads": int(threads)}
    if remaining is not None:
        if remaining <= 0:
            return _out_of_time(instance, build_s, out)
        options["time_limit"] = remaining
    t1 = time.perf_counter()
    res = opt.solve(m, options=options, load_solutions=False)
    solve_s = time.perf_counter() - t1
    tc = res.solver.termination_condition
    # Explicit map (spec: never pass a backend string through).
    status = {
        TC.optimal: Status.OPTIMAL,
        TC.infeasible: Status.INFEASIBLE,
        TC.maxTimeLimit: Status.TIME_LIMIT,
        TC.maxIterations: Status.TIME_LIMIT,
        TC.unbounded: Status.ERROR,
        TC.infeasibleOrUnbounded: Status.ERROR,
    }.get(tc, Status.ERROR)
    message = f"pyomo termination {tc}"
    if status in (Status.INFEASIBLE, Status.ERROR):
        return SolverOutput(status, solve_s=solve_s, message=message, **out)
    bound = res.problem.upper_bound
    bound = float(bound) if bound is not None and np.isfinite(bound) else None
    try:
        m.solutions.load_from(res)
    except Exception:  # noqa: BLE001  (no incumbent: Pyomo raises on loading nothing)
        return SolverOutput(Status.TIME_LIMIT, bound=bound, solve_s=solve_s, message=message, **out)
    return _answer(instance, m, status, bound, solve_s, message, out)
