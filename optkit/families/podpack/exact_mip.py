"""The exact `mip` solver: the tiered model of tiered.py as a Pyomo MIP solved by HiGHS.

For small instances and as an independent cross-check of `cpsat` (another model writer, another
search): the same variables, rows and stages, solved stage by stage on one persistent Pyomo
model (appsi HiGHS), each stage's value locked before the next (== when HiGHS proves it
optimal with mip_rel_gap 0, >= / <= the incumbent otherwise). Requests and allocatable are
divided by the gcd of the pods' requests per resource (tiered.py: exact, and it turns byte
counts into MiB-sized coefficients on generated instances, so rows stay well conditioned);
HiGHS's integer tolerance is tightened and the rounded plan is re-checked by evaluate(): a plan
with any violation is an error, never an answer.

Status per stage (explicit map of appsi's TerminationCondition): optimal -> "optimal";
maxTimeLimit / interrupted with a solution -> "feasible", without -> "unknown"; anything else
(infeasible cannot happen: the incumbent meets every lock) is raised. Status OPTIMAL when every
stage is optimal, else TIME_LIMIT with the best plan.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.podpack.evaluate import evaluate_indices
from optkit.families.podpack.exact_cpsat import (
    StageResult,
    TieredRun,
    plan_certificate,
    plan_output,
    read_params,
    unsolved_run,
)
from optkit.families.podpack.instance import PodpackInstance
from optkit.families.podpack.tiered import (
    PLACED,
    StageClock,
    TieredModel,
    build,
    infeasible_verdict,
    lex_bound,
    repaired_current,
)

BACKEND = "pyomo+highs"
MIP_FEASIBILITY_TOLERANCE = 1e-9
"""HiGHS's integrality / row tolerance: far below 1 / (largest scaled request)."""


def pyomo_model(model: TieredModel, stage: int | None = 0, deadline: Deadline | None = None):
    """The Pyomo ConcreteModel: x binary, at most one node per pod, capacity rows; with `stage`,
    that stage's objective (what `optkit export` writes for stage 0, the first stage). None
    when `deadline` passes during the build (checked per pod and per node: Pyomo spends
    ~0.1 s on the 8,192 variables of the 32-node, 8-pods-per-node cells)."""
    import pyomo.environ as pyo

    def late() -> bool:
        return deadline is not None and deadline.expired()

    m = pyo.ConcreteModel(name="podpack")
    m.V = pyo.RangeSet(0, model.n_vars - 1) if model.n_vars else pyo.Set(initialize=[])
    m.x = pyo.Var(m.V, domain=pyo.Binary)
    for v in np.flatnonzero(model.fixed).tolist():
        m.x[v].fix(1)
    m.one_node = pyo.ConstraintList()
    for vs in model.pod_vars:
        if late():
            return None
        if len(vs) > 1:
            m.one_node.add(sum(m.x[v] for v in vs) <= 1)
    m.capacity = pyo.ConstraintList()
    for j, vs in enumerate(model.node_vars):
        if late():
            return None
        for req, cap in ((model.cpu, model.cpu_capacity), (model.memory, model.memory_capacity)):
            coefs = req[list(vs)].tolist()
            if sum(coefs) > cap[j]:
                m.capacity.add(
                    sum(c * m.x[v] for v, c in zip(vs, coefs, strict=True)) <= int(cap[j])
                )
    m.locks = pyo.ConstraintList()
    if stage is not None:
        s = model.stages[stage]
        m.obj = pyo.Objective(
            expr=_expr(m, s), sense=pyo.maximize if s.kind == PLACED else pyo.minimize
        )
    return m


def _expr(m, stage) -> Any:
    return stage.constant + sum(c * m.x[v] for v, c in stage.terms)


def solve_tiered_mip(
    inst: PodpackInstance, start: np.ndarray, deadline: Deadline, seed: int = 0, threads: int = 1
) -> TieredRun:
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.base import TerminationCondition as TC
    from pyomo.contrib.appsi.solvers import Highs

    t0 = time.perf_counter()
    model = build(inst)
    m = None if deadline.expired() else pyomo_model(model, stage=None, deadline=deadline)
    if m is None:  # the deadline passed while building: the start, no stage run
        return unsolved_run(model, model.to_x(start), inst.n_pods, time.perf_counter() - t0)
    opt = Highs()
    opt.config.load_solution = False
    opt.config.stream_solver = False
    opt.highs_options = {
        "mip_rel_gap": 0.0,
        "mip_abs_gap": 0.0,
        "mip_feasibility_tolerance": MIP_FEASIBILITY_TOLERANCE,
        "threads": threads,
        "random_seed": seed,
    }
    incumbent = model.to_x(start)
    # HiGHS keeps one process-wide thread pool sized by the first run; a run asking for another
    # `threads` ends "unknown" (raised below as a model bug) unless the pool is rebuilt, as
    # knapsack/exact_highs.py does: mip with threads=2 after a threads=1 HiGHS run failed so.
    import highspy

    highspy.Highs.resetGlobalScheduler(True)
    build_s = time.perf_counter() - t0
    clock = StageClock(deadline, len(model.stages))
    results: list[StageResult] = []
    t_solve = time.perf_counter()
    for k, stage in enumerate(model.stages):
        value = stage.value(incumbent)
        maximise = stage.kind == PLACED
        status, bound, spent = "optimal", None, 0.0
        budget = clock.budget(len(model.stages) - k - 1)
        if not stage.terms or value == stage.best_possible:
            pass
        elif budget is not None and budget <= 0.0:
            status = "not_run"
        else:
            if m.component("obj") is not None:
                m.del_component(m.obj)
            m.obj = pyo.Objective(
                expr=_expr(m, stage), sense=pyo.maximize if maximise else pyo.minimize
            )
            opt.config.time_limit = budget
            t_stage = time.perf_counter()
            res = opt.solve(m)
            spent = time.perf_counter() - t_stage
            tc = res.termination_condition
            if tc == TC.optimal:
                status = "optimal"
            elif tc in (TC.maxTimeLimit, TC.interrupted):
                status = "feasible" if res.best_feasible_objective is not None else "unknown"
            else:
                raise RuntimeError(f"HiGHS ended stage {stage.name} with {tc}: a model bug")
            if res.best_feasible_objective is not None:
                res.solution_loader.load_vars()
                # a variable in no row and no objective (a pod with one candidate node whose
                # capacity row was dropped as slack) is not sent to HiGHS: it has no value, and
                # 0 or 1 are both feasible for it; read it as 0
                found = np.array([round(m.x[v].value or 0) for v in range(model.n_vars)])
                new = stage.value(found)
                if (new > value) if maximise else (new < value):
                    incumbent, value = found.astype(np.int64), new
                elif new != value:
                    status = "feasible" if status == "optimal" else status
            if res.best_objective_bound is not None and np.isfinite(res.best_objective_bound):
                bound = int(round(res.best_objective_bound))
        if stage.terms:  # a constant stage needs no lock
            lock = _expr(m, stage)
            m.locks.add(
                lock == value
                if status == "optimal"
                else (lock >= value if maximise else lock <= value)
            )
        results.append(StageResult(stage.name, status, value, bound, spent))
    return TieredRun(
        nodes=model.to_nodes(incumbent, inst.n_pods),
        stages=tuple(results),
        first_improvement_s=None,
        build_s=build_s,
        solve_s=time.perf_counter() - t_solve,
        cpu_scale=model.cpu_scale,
        memory_scale=model.memory_scale,
        bound=tuple(lex_bound(model.stages, results)),
    )


def backend_version() -> str:
    import highspy
    import pyomo

    return f"pyomo {pyomo.__version__}, highspy {getattr(highspy, '__version__', '?')}"


def solve(
    instance: PodpackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: Mapping[str, Any] | None = None,
) -> SolverOutput:
    """mip: the lexicographic optimum from the current state, Pyomo + HiGHS (small instances)."""
    read_params(params or {})
    verdict = infeasible_verdict(instance, BACKEND)
    if verdict is not None:
        return verdict
    run = solve_tiered_mip(instance, repaired_current(instance), deadline, seed, threads)
    report = evaluate_indices(instance, run.nodes)
    if not report.feasible:
        return SolverOutput(
            status=Status.ERROR,
            message=f"HiGHS plan violates {report.worst} by {report.max_violation:g} after "
            "rounding (numerical trouble)",
            backend=BACKEND,
        )
    certificate = plan_certificate(run, report)
    certificate.pop("first_improvement_s")
    return plan_output(instance, run, report, certificate, BACKEND, backend_version())
