"""The exact `cpsat` solver: the tiered model of tiered.py with OR-Tools CP-SAT.

One CP-SAT model holds the variables and constraints; the stages are solved in order on it,
each with its own objective, the previous plan as the complete solution hint (the first stage:
the current placement) and the previous stages locked by added constraints (== the value when
the stage finished OPTIMAL, >= / <= the incumbent's value otherwise). The incumbent is kept by
this code, not trusted to the hint: a stage that ends without a better solution leaves it as it
was, so every stage's lock holds for it and the plan never gets worse than the start.

Time: the model is built inside the caller's Deadline (set-up counted); then StageClock splits
what remains: half evenly as a guaranteed minimum per stage, half shared first come. Threads
(`num_workers`) and the seed (`random_seed`) are passed explicitly; with one thread and no time
limit a solve is deterministic.

Status per stage (explicit map of CP-SAT's statuses): OPTIMAL -> "optimal", FEASIBLE ->
"feasible" (a solution, not proved), UNKNOWN -> "unknown" (no better solution within its time;
the incumbent kept); a stage the clock leaves no time for is "not_run"; one decided by its
unconditional bound (every pod of the tier placed, or nothing disrupted) without a solver call
is "optimal". INFEASIBLE or MODEL_INVALID cannot happen (the incumbent satisfies every lock) and
is raised as a bug. The plan is "proved optimal" (status OPTIMAL) when every stage is optimal;
otherwise the status is TIME_LIMIT with the best plan found.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from optkit.core.fields import Fields
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.podpack.evaluate import (
    Arrays,
    PodpackEvaluation,
    evaluate_indices,
)
from optkit.families.podpack.instance import PodpackDecision, PodpackInstance
from optkit.families.podpack.tiered import (
    PLACED,
    StageClock,
    TieredModel,
    build,
    infeasible_verdict,
    lex_bound,
    lex_gap,
    repaired_current,
)

BACKEND = "ortools-cpsat"

_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.UNKNOWN: "unknown",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "model_invalid",
}


@dataclass(frozen=True)
class StageResult:
    name: str
    status: str
    """optimal / feasible / unknown / not_run (see module docstring)."""
    value: int
    """The stage's value in the plan kept after the stage."""
    bound: int | None
    """CP-SAT's best bound on the stage (given the locks before it); None if not solved."""
    solve_s: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TieredRun:
    nodes: np.ndarray
    """(pods,) the plan, node index per pod (-1: none)."""
    stages: tuple[StageResult, ...]
    first_improvement_s: float | None
    """Seconds since the deadline started when a solution better than the start was first
    found; None if none was."""
    build_s: float
    solve_s: float
    cpu_scale: int
    memory_scale: int
    bound: tuple[int, ...] = ()
    """tiered.lex_bound of the run: a lexicographic upper bound on every plan's vector."""

    @property
    def proved_optimal(self) -> bool:
        return all(s.status == "optimal" for s in self.stages)


class _FirstImprovement(cp_model.CpSolverSolutionCallback):
    """Records when a stage first finds a solution strictly better than the incumbent: with the
    earlier stages locked at or beyond their values, that is a lexicographically better plan."""

    def __init__(self, deadline: Deadline, maximise: bool, incumbent: int):
        super().__init__()
        self.deadline, self.maximise, self.incumbent = deadline, maximise, incumbent
        self.at_s: float | None = None

    def on_solution_callback(self) -> None:
        if self.at_s is None:
            v = self.ObjectiveValue()
            if (v > self.incumbent + 0.5) if self.maximise else (v < self.incumbent - 0.5):
                self.at_s = self.deadline.elapsed_s()


def _expr(x: list, stage) -> Any:
    if not stage.terms:
        return stage.constant
    vs, cs = zip(*stage.terms, strict=True)
    return cp_model.LinearExpr.WeightedSum([x[v] for v in vs], list(cs)) + stage.constant


BUILD_CHECK_VARS = 1024
"""_build_cp checks the deadline every this many variables (~15 ms of the Python wrapper)."""


def _build_cp(model: TieredModel, deadline: Deadline | None = None):
    """(CP-SAT model, x), or None when `deadline` passes during the build: the wrapper costs
    ~14 µs a variable, 0.1-0.3 s on the 32-node, 8-pods-per-node cells."""
    cp = cp_model.CpModel()
    x = []
    for v in range(model.n_vars):
        if deadline is not None and v % BUILD_CHECK_VARS == 0 and deadline.expired():
            return None
        x.append(cp.NewBoolVar(f"x{v}"))
    if deadline is not None and deadline.expired():
        return None
    for v in np.flatnonzero(model.fixed).tolist():
        cp.Add(x[v] == 1)
    for i, vs in enumerate(model.pod_vars):
        if deadline is not None and i % 64 == 0 and deadline.expired():
            return None
        if len(vs) > 1:
            cp.AddAtMostOne(x[v] for v in vs)
    for j, vs in enumerate(model.node_vars):
        if deadline is not None and deadline.expired():
            return None
        for req, cap in ((model.cpu, model.cpu_capacity), (model.memory, model.memory_capacity)):
            coefs = req[list(vs)].tolist()
            if sum(coefs) > cap[j]:  # a node that holds every candidate needs no row
                cp.Add(cp_model.LinearExpr.WeightedSum([x[v] for v in vs], coefs) <= int(cap[j]))
    return cp, x


def solve_tiered(
    inst: PodpackInstance,
    start: np.ndarray,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
) -> TieredRun:
    """Lexicographically optimise from the feasible plan `start` (node index per pod) within the
    deadline. Public so `cpsat_fallback` can start from kube_default's plan."""
    t0 = time.perf_counter()
    model = build(inst)
    incumbent = model.to_x(start)
    built = None if deadline.expired() else _build_cp(model, deadline)
    build_s = time.perf_counter() - t0
    if built is None:  # the deadline passed while building: the start, no stage run
        return unsolved_run(model, incumbent, inst.n_pods, build_s)
    cp, x = built
    clock = StageClock(deadline, len(model.stages))
    first_improvement: float | None = None
    results: list[StageResult] = []
    t_solve = time.perf_counter()
    for k, stage in enumerate(model.stages):
        value = stage.value(incumbent)
        expr = _expr(x, stage)
        maximise = stage.kind == PLACED
        status, bound, spent = "optimal", None, 0.0
        budget = clock.budget(len(model.stages) - k - 1)
        if not stage.terms or value == stage.best_possible:
            pass  # decided by the unconditional bound, no solver call
        elif budget is not None and budget <= 0.0:
            status = "not_run"
        else:
            cp.ClearHints()
            for v, xv in enumerate(incumbent.tolist()):
                cp.AddHint(x[v], xv)
            (cp.Maximize if maximise else cp.Minimize)(expr)
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = threads
            solver.parameters.random_seed = seed
            if budget is not None:
                solver.parameters.max_time_in_seconds = budget
            callback = _FirstImprovement(deadline, maximise, value)
            code = solver.Solve(cp, callback)
            spent = solver.WallTime()
            status = _STATUS[code]
            if status in ("infeasible", "model_invalid"):
                raise RuntimeError(
                    f"CP-SAT says stage {stage.name} is {status}, but the incumbent satisfies "
                    "every lock: a model bug"
                )
            if status in ("optimal", "feasible"):
                found = np.array(solver.BooleanValues(x).to_numpy(), dtype=np.int64)
                new = stage.value(found)
                if (new > value) if maximise else (new < value):
                    incumbent, value = found, new
                elif new != value:  # CP-SAT left the hint for a worse solution: keep ours
                    status = "feasible" if status == "optimal" else status
                bound = int(round(solver.BestObjectiveBound()))
            if first_improvement is None and callback.at_s is not None:
                first_improvement = callback.at_s
        if stage.terms:  # a constant stage needs no lock
            if status == "optimal":
                cp.Add(expr == value)
            else:
                cp.Add(expr >= value if maximise else expr <= value)
        results.append(StageResult(stage.name, status, value, bound, spent))
    return TieredRun(
        nodes=model.to_nodes(incumbent, inst.n_pods),
        stages=tuple(results),
        first_improvement_s=first_improvement,
        build_s=build_s,
        solve_s=time.perf_counter() - t_solve,
        cpu_scale=model.cpu_scale,
        memory_scale=model.memory_scale,
        bound=tuple(lex_bound(model.stages, results)),
    )


def unsolved_run(model: TieredModel, incumbent: np.ndarray, n_pods: int, build_s: float):
    """The run of a model the deadline left no time to solve: the start plan, each stage
    "not_run" unless its unconditional bound decides it (as in the stage loop)."""
    results = []
    for stage in model.stages:
        value = stage.value(incumbent)
        decided = not stage.terms or value == stage.best_possible
        results.append(StageResult(stage.name, "optimal" if decided else "not_run", value, None, 0))
    return TieredRun(
        nodes=model.to_nodes(incumbent, n_pods),
        stages=tuple(results),
        first_improvement_s=None,
        build_s=build_s,
        solve_s=0.0,
        cpu_scale=model.cpu_scale,
        memory_scale=model.memory_scale,
        bound=tuple(lex_bound(model.stages, results)),
    )


def read_params(params: Mapping[str, Any]) -> None:
    Fields(dict(params), "params").finish()  # no params yet: refuse unknown keys


def plan_certificate(run: TieredRun, report: PodpackEvaluation) -> dict[str, Any]:
    """What a tiered run proves and changes: per-stage status, value, bound and time, the
    integer scaling used (style: record it), placed per tier, evictions and moves."""
    return {
        "proved_optimal": run.proved_optimal,
        "stages": [s.to_dict() for s in run.stages],
        "first_improvement_s": run.first_improvement_s,
        "scaling": {
            "cpu_millicores_per_unit": run.cpu_scale,
            "memory_bytes_per_unit": run.memory_scale,
        },
        "placed": dict(zip(map(str, report.tiers), report.placed, strict=True)),
        "evictions": report.evictions,
        "moves": [{"pod": p, "from": a, "to": b} for p, a, b in report.moves],
    }


def plan_output(
    instance: PodpackInstance,
    run: TieredRun,
    report: PodpackEvaluation,
    certificate: dict[str, Any],
    backend: str,
    version: str,
) -> SolverOutput:
    """The result of a tiered run (CP-SAT or MIP): OPTIMAL only when every stage was proved.
    The bound is the run's lexicographic bound (tiered.lex_bound), the gap tiered.lex_gap of the
    objective against it (0 when proved; the family's gap, since the objective is a vector)."""
    bound = list(run.bound) if len(run.bound) == len(report.objective) else None
    return SolverOutput(
        status=Status.OPTIMAL if run.proved_optimal else Status.TIME_LIMIT,
        objective=report.objective,
        bound=bound,
        gap=None if bound is None else lex_gap(list(report.objective), bound),
        decision=PodpackDecision.from_indices(
            instance, [None if n < 0 else int(n) for n in run.nodes]
        ),
        certificate=certificate,
        build_s=run.build_s,
        solve_s=run.solve_s,
        backend=backend,
        backend_version=version,
    )


def backend_version() -> str:
    import ortools

    return ortools.__version__


def solve(
    instance: PodpackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: Mapping[str, Any] | None = None,
) -> SolverOutput:
    """cpsat: the lexicographic optimum from the instance's current state (spec/podpack.md)."""
    read_params(params or {})
    verdict = infeasible_verdict(instance, BACKEND, backend_version())
    if verdict is not None:
        return verdict
    start = repaired_current(instance)
    run = solve_tiered(instance, start, deadline, seed=seed, threads=threads)
    report = evaluate_indices(instance, run.nodes)
    certificate = plan_certificate(run, report)
    # pods evicted up front from overcommitted nodes to get a feasible start (real dumps)
    certificate["start_evictions"] = int(((start < 0) & (Arrays.of(instance).current >= 0)).sum())
    return plan_output(instance, run, report, certificate, BACKEND, backend_version())
