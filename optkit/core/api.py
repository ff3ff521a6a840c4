"""The public Python API: load, generate, solve, evaluate. Families must already be registered
(importing `optkit` does that)."""

from __future__ import annotations

import dataclasses
import importlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optkit.core import registry
from optkit.core.errors import InvalidInputError, OptkitError
from optkit.core.fields import Fields, as_choice, as_float, as_int
from optkit.core.jsonio import read_json
from optkit.core.result import Evaluation, SolveResult, SolverInfo, SolverOutput, Timing
from optkit.core.seeding import check_seed
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import OBJECTIVE_MISMATCH_REL, relative_difference, relative_gap

SCHEMA_VERSION = 1


def check_header(data: Any, family: str | None = None, kind: str = "instance") -> str:
    """Check {"family", "schema_version"} of a JSON document; return the family name."""
    f = Fields(data)
    valid = registry.family_names()
    name = as_choice(f.get("family"), "family", valid if family is None else [family])
    version = as_int(f.get("schema_version"), "schema_version")
    if version != SCHEMA_VERSION:
        raise InvalidInputError(
            "schema_version",
            f"{kind} schema_version {version} is not supported (this optkit reads 1)",
        )
    return name


def instance_from_dict(data: Any, source: str | None = None, path: Path | None = None) -> Any:
    try:
        fam = registry.get_family(check_header(data))
        if path is not None and fam.from_file is not None:
            return fam.from_file(data, path)
        return fam.instance_type.from_dict(data)
    except InvalidInputError as exc:
        raise (exc.with_source(source) if source else exc) from None


def load(path: str | os.PathLike[str]) -> Any:
    """Read an instance JSON file of any registered family; errors name the file and field."""
    return instance_from_dict(read_json(path), source=str(path), path=Path(path))


EXPORT_FORMATS = ("lp", "mps")


def export(instance: Any, path: str | os.PathLike[str], fmt: str = "lp") -> Path:
    """Write the family's LP/MIP model of `instance` as an LP or MPS file (atomically)."""
    fam = registry.family_of(instance)
    fmt = as_choice(fmt, "format", EXPORT_FORMATS)
    if fam.export is None:
        raise InvalidInputError(
            "family", f"{fam.name} has no LP/MIP model to export (its solvers are not LP/MIP)"
        )
    module_name, attr = fam.export.split(":", 1)
    fn = getattr(importlib.import_module(module_name), attr)
    target = Path(path)
    fn(instance, target, fmt)
    return target


def load_decision(instance: Any, path: str | os.PathLike[str]) -> Any:
    """Read a decision JSON for `instance`'s family (a SolveResult JSON's decision is accepted)."""
    fam = registry.family_of(instance)
    data = read_json(path)
    try:
        if isinstance(data, dict) and "decision" in data and "solver" in data:
            data = data["decision"]
            if data is None:
                raise InvalidInputError("decision", "the result file carries no decision")
        check_header(data, fam.name, kind="decision")
        return fam.decision_type.from_dict(data, instance=instance)
    except InvalidInputError as exc:
        raise exc.with_source(str(path)) from None


def generate(family: str, preset: str | None = None, seed: int = 0, **options: Any) -> Any:
    """One instance from a family's named preset (its default preset when None)."""
    fam = registry.get_family(family)
    preset = fam.default_preset if preset is None else preset
    if preset not in fam.presets:
        from optkit.core.errors import UnknownNameError

        raise UnknownNameError(f"{family} preset", preset, list(fam.presets))
    return fam.generate(preset, check_seed(seed), **options)


def evaluate(instance: Any, decision: Any) -> Any:
    """The family's own numpy evaluation (objective, every constraint slack, max violation)."""
    fam = registry.family_of(instance)
    if not isinstance(decision, fam.decision_type):
        raise InvalidInputError(
            "decision",
            f"a {fam.name} instance takes a {fam.decision_type.__name__}, "
            f"got {type(decision).__name__}",
        )
    return fam.evaluate(instance, decision)


def solve(
    instance: Any,
    solver: str | None = None,
    time_limit_s: float | None = None,
    seed: int = 0,
    threads: int = 1,
    params: Mapping[str, Any] | None = None,
) -> SolveResult:
    """Solve with a registered solver; the answer is re-scored by the family's evaluate().

    The time limit counts everything from this call on (model building included). A backend
    failure becomes status ERROR with its message; bad arguments raise InvalidInputError.
    """
    fam = registry.family_of(instance)
    spec = registry.get_solver(fam.name, solver)
    seed, threads, time_limit_s, params = _check_arguments(seed, threads, time_limit_s, params)
    fn = spec.load()  # a missing extra raises here with the install hint
    run = _Run(fam, spec, seed, threads, params, time_limit_s, Deadline(time_limit_s))
    return run.solve_one(fn, instance)


BATCH_TIMING_FLAG = "batch_timing"
"""Flag of a `solve_many` result whose timings are its batch's divided evenly over the batch."""
BATCH_CRASH_FLAG = "batch_crashed"
"""Flag of a `solve_many` result solved alone because the solver's batch call raised."""


def solve_many(
    instances: Sequence[Any],
    solver: str | None = None,
    time_limit_s: float | None = None,
    seed: int = 0,
    threads: int = 1,
    params: Mapping[str, Any] | None = None,
) -> list[SolveResult]:
    """Solve many instances of one family with one solver: one SolveResult per instance, in order.

    Uses the solver's batch entry point when it declares one (`SolverSpec.batch_entry_point`),
    else calls the single solver on each instance in turn. Every answer is re-scored by the
    family's evaluate() exactly as `solve` does.

    The batch shares one deadline: `time_limit_s` counts the whole batch from this call on
    (set-up included), not each instance; looping, each instance gets what is left of it.
    Timings of a batch call are measured for the whole call and divided evenly over its
    instances: build_s, solve_s (the sums of the solver's per-instance figures) and wall_s are
    each the batch total / n, and such results carry the flag "batch_timing" (with n > 1); a
    looped instance's timings are its own. A crash of the batch call does not fail its
    instances: each is then solved alone (flag "batch_crashed"), so one bad instance is one
    ERROR result. Bad arguments raise InvalidInputError as in `solve`.
    """
    seed, threads, time_limit_s, params = _check_arguments(seed, threads, time_limit_s, params)
    deadline = Deadline(time_limit_s)  # from here on everything counts, set-up included
    instances = list(instances)
    if not instances:
        return []
    fam = registry.family_of(instances[0])
    for inst in instances:
        if not isinstance(inst, fam.instance_type):
            other = registry.family_of(inst).name
            raise InvalidInputError("instances", f"mix families {fam.name!r} and {other!r}")
    spec = registry.get_solver(fam.name, solver)
    run = _Run(fam, spec, seed, threads, params, time_limit_s, deadline)
    batch_fn = spec.load_batch()
    fn = spec.load()
    if batch_fn is None:
        return [run.solve_one(fn, inst) for inst in instances]
    try:
        outs = list(
            batch_fn(instances, deadline=deadline, seed=seed, threads=threads, params=dict(params))
        )
        if len(outs) != len(instances):
            raise RuntimeError(f"{len(outs)} outputs for {len(instances)} instances")
    except (InvalidInputError, OptkitError):
        raise
    except Exception:  # noqa: BLE001 - the batch crashed: each instance alone, as `solve` would
        return [run.solve_one(fn, inst, extra_flags=(BATCH_CRASH_FLAG,)) for inst in instances]
    n = len(instances)
    wall_s = deadline.elapsed_s()
    build_s = sum(o.build_s for o in outs) / n
    solve_s = sum(o.solve_s for o in outs) / n
    shared = (BATCH_TIMING_FLAG,) if n > 1 else ()
    return [
        run.finish(
            inst,
            dataclasses.replace(out, build_s=build_s, solve_s=solve_s, flags=(*out.flags, *shared)),
            wall_s / n,
        )
        for inst, out in zip(instances, outs, strict=True)
    ]


MAX_THREADS = 1024
"""Upper bound of `threads` (and every --threads flag). HiGHS aborts the whole process (SIGABRT,
"terminate called without an active exception", no message) when asked for 100,000 threads;
1,000 works. Refused above this rather than letting a typo kill a batch."""


def _check_arguments(
    seed: int, threads: int, time_limit_s: float | None, params: Mapping[str, Any] | None
) -> tuple[int, int, float | None, dict[str, Any]]:
    seed = check_seed(seed)
    threads = as_int(threads, "threads", ge=1, le=MAX_THREADS)
    if time_limit_s is not None:
        time_limit_s = as_float(time_limit_s, "time_limit_s", ge=0)
    if params is not None and not isinstance(params, Mapping):
        raise InvalidInputError("params", f"must be a mapping of names to values, got {params!r}")
    return seed, threads, time_limit_s, dict(params or {})


@dataclass(frozen=True)
class _Run:
    """What the instances of one `solve` / `solve_many` call share."""

    fam: registry.FamilySpec
    spec: registry.SolverSpec
    seed: int
    threads: int
    params: dict[str, Any]
    time_limit_s: float | None
    deadline: Deadline

    def solve_one(
        self, fn: Callable[..., Any], instance: Any, extra_flags: tuple[str, ...] = ()
    ) -> SolveResult:
        """Call the single solver under the shared deadline; a backend crash is status ERROR."""
        t0 = time.perf_counter()
        try:
            out: SolverOutput = fn(
                instance,
                deadline=self.deadline,
                seed=self.seed,
                threads=self.threads,
                params=dict(self.params),
            )
        except (InvalidInputError, OptkitError):
            raise
        except Exception as exc:  # a backend crash is a result, not a dead batch
            out = SolverOutput(status=Status.ERROR, message=f"{type(exc).__name__}: {exc}")
        wall = time.perf_counter() - t0
        if extra_flags:
            out = dataclasses.replace(out, flags=(*out.flags, *extra_flags))
        return self.finish(instance, out, wall)

    def finish(self, instance: Any, out: SolverOutput, wall_s: float) -> SolveResult:
        return finish_result(
            self.fam,
            self.spec,
            instance,
            out,
            wall_s,
            self.seed,
            self.threads,
            self.params,
            self.time_limit_s,
        )


def _objectives_differ(claimed: Any, scored: Any) -> bool:
    """The solver's objective vs evaluate()'s, scalar or vector (lexicographic families)."""
    if isinstance(claimed, (list, tuple)) or isinstance(scored, (list, tuple)):
        if not (isinstance(claimed, (list, tuple)) and isinstance(scored, (list, tuple))):
            return True
        if len(claimed) != len(scored):
            return True
        return any(_objectives_differ(a, b) for a, b in zip(claimed, scored, strict=True))
    return relative_difference(float(claimed), float(scored)) > OBJECTIVE_MISMATCH_REL


def finish_result(
    fam: registry.FamilySpec,
    spec: registry.SolverSpec,
    instance: Any,
    out: SolverOutput,
    wall_s: float,
    seed: int,
    threads: int,
    params: Mapping[str, Any],
    time_limit_s: float | None,
) -> SolveResult:
    """Re-score the decision with evaluate(), flag mismatches, compute the gap, assemble."""
    evaluation, flags = None, list(out.flags)
    if out.decision is not None:
        report = fam.evaluate(instance, out.decision)
        mismatch = out.objective is not None and _objectives_differ(out.objective, report.objective)
        if mismatch:
            flags.append("objective_mismatch")
        evaluation = Evaluation(
            objective=report.objective,
            max_violation=float(report.max_violation),
            feasible=bool(report.feasible),
            objective_mismatch=mismatch,
        )
    gap = out.gap
    if gap is None and isinstance(out.bound, (int, float)) and evaluation is not None:
        gap = relative_gap(float(evaluation.objective), float(out.bound), fam.sense)
    all_params = {"time_limit_s": time_limit_s, **params}
    return SolveResult(
        family=fam.name,
        solver=SolverInfo(spec.name, spec.guarantee, out.backend, out.backend_version),
        status=out.status,
        objective=out.objective,
        bound=out.bound,
        gap=gap,
        decision=out.decision,
        evaluation=evaluation,
        timing=Timing(build_s=out.build_s, solve_s=out.solve_s, wall_s=wall_s),
        seed=seed,
        threads=threads,
        params=all_params,
        certificate=out.certificate,
        flags=tuple(flags),
        message=out.message,
    )
