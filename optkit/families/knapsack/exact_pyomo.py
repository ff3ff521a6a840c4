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
from optkit.families.knapsack.model import build

BACKEND = "pyomo"
DEFAULT_SOLVER = "appsi_highs"


def pyomo_model(instance: KnapsackInstance):
    """A ConcreteModel of the MIP (x binary, z in [0, 1]; model.py says why z may be real)."""
    import pyomo.environ as pe

    mip = build(instance)
    comps, skills = instance.component_names, instance.skill_names
    pairs = [(comps[i], skills[s]) for i, s in zip(mip.pair_component, mip.pair_skill, strict=True)]
    m = pe.ConcreteModel(name=instance.name or "knapsack")
    m.x = pe.Var(list(comps), domain=pe.Binary)
    for i in np.flatnonzero(mip.x_upper == 0):
        m.x[comps[i]].fix(0)
    m.z = pe.Var(pairs, bounds=(0.0, 1.0))
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
    m.link = pe.Constraint(pairs, rule=lambda m, c, s: m.z[c, s] <= m.x[c])
    conflicts = [(comps[a], comps[b]) for a, b in instance.conflicts[mip.conflict_rows]]
    m.conflict = pe.Constraint(
        range(len(conflicts)), rule=lambda m, k: m.x[conflicts[k][0]] + m.x[conflicts[k][1]] <= 1
    )
    requires = [(comps[a], comps[b]) for a, b in instance.requires]
    m.requires = pe.Constraint(
        range(len(requires)), rule=lambda m, k: m.x[requires[k][0]] <= m.x[requires[k][1]]
    )
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
    from pyomo.opt import TerminationCondition as TC

    params = check_params(params, ("solver",), "pyomo")
    name = params.get("solver", DEFAULT_SOLVER)
    if not isinstance(name, str):
        raise InvalidInputError("params.solver", "must be a Pyomo solver name")
    out: dict[str, Any] = dict(backend=f"{BACKEND}+{name}", backend_version=pyomo.__version__)
    t0 = time.perf_counter()
    m = pyomo_model(instance)
    opt = pe.SolverFactory(name)
    if not opt.available(exception_flag=False):
        raise InvalidInputError("params.solver", f"Pyomo solver {name!r} is not available here")
    build_s = time.perf_counter() - t0
    out["build_s"] = build_s
    remaining = deadline.remaining_s()
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "mip_abs_gap": 0.0, "threads": int(threads)}
    if remaining is not None:
        if remaining <= 0:
            return SolverOutput(
                Status.TIME_LIMIT, message="time limit reached while building", **out
            )
        options["time_limit"] = remaining
    t1 = time.perf_counter()
    if name == DEFAULT_SOLVER:
        # The settings of exact_highs.py (it says why): presolve off, pseudo-costs trusted,
        # feasibility tolerances 1e-9, the root reduced-cost heuristic off (its sub-MIP's
        # presolve ignores every limit).
        import highspy

        limit = options.pop("time_limit", None)
        highspy.Highs.resetGlobalScheduler(True)  # as exact_highs.py: the pool's size is fixed
        res = opt.solve(
            m,
            load_solutions=False,
            timelimit=limit,
            options={
                **options,
                "presolve": "off",
                "mip_pscost_minreliable": 0,
                "mip_feasibility_tolerance": 1e-9,
                "primal_feasibility_tolerance": 1e-9,
                "mip_heuristic_run_root_reduced_cost": False,
            },
        )
    else:
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
    try:
        m.solutions.load_from(res)
    except Exception:  # noqa: BLE001  (no incumbent: Pyomo raises on loading nothing)
        return SolverOutput(Status.TIME_LIMIT, solve_s=solve_s, message=message, **out)
    mask = np.array([(m.x[c].value or 0.0) > 0.5 for c in instance.component_names])
    objective = set_value(instance, mask)
    flags: tuple[str, ...] = ()
    if status is Status.OPTIMAL and overspend(instance, mask) > EXACT_FEASIBILITY:
        status, flags = Status.FEASIBLE, ("violation_above_tolerance",)
    bound = res.problem.upper_bound
    return SolverOutput(
        status,
        objective=objective,
        bound=float(bound) if bound is not None and np.isfinite(bound) else None,
        decision=KnapsackDecision.from_mask(instance, mask),
        solve_s=solve_s,
        flags=flags,
        message="" if status is Status.OPTIMAL else message,
        **out,
    )
