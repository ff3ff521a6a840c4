"""The benchmark grid behind `optkit bench` and `optkit demo` (spec/bench.md, "Benchmark").

For every registered family with a bench hook (`FamilySpec.bench`), every scenario it returns,
every method (registered solver) of the scenario, every item and every time limit, one call of
`optkit.core.api.solve` in this process: the same instances, seeds and limits for every method.
Each call becomes one `BenchRow` (status, evaluate()'s objective, gap to the certified optimum,
feasibility, time per decision, provenance). A method that raises on an item gives an error row
and the grid goes on; a family whose hook fails is recorded in `BenchRun.notes`.

The harness knows no family by name: what to run comes from the registry and the hooks.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import optkit
from optkit.core import api, registry
from optkit.core.benchmark import BenchItem, Scenario, gap_to_reference, load_scenarios
from optkit.core.errors import InvalidInputError
from optkit.core.result import SolveResult
from optkit.core.status import Guarantee, Status
from optkit.core.versions import package_version, versions

REPO_ROOT = Path(optkit.__file__).resolve().parent.parent
GUARANTEE_ORDER = {g.value: k for k, g in enumerate(Guarantee)}
"""Tables list exact methods first, then bounds, heuristics, online and learned policies."""


@dataclass(frozen=True)
class BenchRow:
    """One (item, method, time limit) of a scenario: the Parquet row and the tables' input."""

    family: str
    scenario: str
    instance_id: str
    seed: int
    """The seed the method was called with (and the item's draw seed)."""
    method: str
    guarantee: str
    time_limit_s: float | None
    """Seconds, set-up included; None: no limit."""
    status: str
    objective: float | None
    """evaluate()'s objective of the returned decision (None without a decision or for vector
    objectives, which are in objective_json)."""
    objective_json: str
    bound: float | None
    """The method's own proven bound (None for heuristics, online and learned methods)."""
    reference: float | None
    """The certified optimum this row is measured against (None where none is known)."""
    reference_json: str
    reference_source: str
    """"stored" (read from a certified solution file), "solved:<solver>", or "" (none)."""
    gap: float | None
    """(optimum - value) / max(|optimum|, 1), mirrored for minimisation; positive = worse."""
    feasible: bool
    """A decision exists and the family's evaluate() calls it feasible."""
    max_violation: float | None
    wall_s: float
    build_s: float
    solve_s: float
    decisions: int
    time_per_decision_s: float
    """wall_s / decisions."""
    flags: str
    """Comma-separated flags of the result (objective_mismatch, ...)."""
    message: str
    backend: str
    backend_version: str
    threads: int
    optkit_version: str
    git_commit: str
    host: str


ROW_FIELDS = tuple(f.name for f in fields(BenchRow))


@dataclass
class ScenarioRun:
    """A scenario as it was run: its grid and rows, or why it was not."""

    family: str
    sense: str
    scenario: Scenario
    methods: tuple[tuple[str, str], ...] = ()
    """(name, guarantee) in table order."""
    seeds: tuple[int, ...] = ()
    time_limits_s: tuple[float | None, ...] = ()
    n_items: int = 0
    rows: list[BenchRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.family}/{self.scenario.name}"


@dataclass
class BenchRun:
    """Everything a report needs: the scenario runs, notes, and where the numbers came from."""

    runs: list[ScenarioRun]
    notes: list[str]
    provenance: dict[str, Any]

    @property
    def rows(self) -> list[BenchRow]:
        return [row for run in self.runs for row in run.rows]


class Progress:
    """Callbacks the CLI turns into a progress bar; this base class prints nothing."""

    def scenario(self, label: str, total: int) -> None:
        """A scenario starts: `total` solver calls to go."""

    def advance(self, row: BenchRow) -> None:
        """One call finished."""


@dataclass(frozen=True)
class Plan:
    """What `run_bench` will run, checked before any solve (bad names fail fast)."""

    runs: list[ScenarioRun]
    notes: list[str]


def plan(
    targets: Sequence[str] = (),
    methods: Sequence[str] = (),
    seeds: Sequence[int] = (),
    time_limits_s: Sequence[float | None] = (),
    quick: bool = False,
) -> Plan:
    """Resolve targets ("family" or "family/scenario"; none: every family with a hook).

    Unknown families, scenarios or methods raise InvalidInputError (the CLI's exit 2); a
    family without a hook is an error when named and a note otherwise.
    """
    notes: list[str] = []
    wanted: dict[str, set[str] | None] = {}
    for target in targets:
        family, _, scenario = target.partition("/")
        registry.get_family(family)  # unknown name: lists the valid ones
        if scenario:
            chosen = wanted.setdefault(family, set())
            if chosen is not None:
                chosen.add(scenario)
        else:
            wanted[family] = None
    named = bool(wanted)
    if not named:
        wanted = dict.fromkeys(registry.family_names())

    runs: list[ScenarioRun] = []
    for family, only in wanted.items():
        spec = registry.get_family(family)
        if spec.bench is None:
            if named:
                raise InvalidInputError("FAMILY", f"family {family!r} has no bench scenarios")
            notes.append(f"{family}: no bench scenarios registered (FamilySpec.bench is None)")
            continue
        try:
            scenarios = load_scenarios(spec)
        except Exception as exc:  # another family's broken hook must not sink the others
            notes.append(f"{family}: bench hook {spec.bench} failed: {type(exc).__name__}: {exc}")
            continue
        if only:
            unknown = sorted(only - {s.name for s in scenarios})
            if unknown:
                valid = ", ".join(s.name for s in scenarios)
                raise InvalidInputError(
                    "FAMILY", f"{family} has no scenario {unknown[0]!r}; valid: {valid}"
                )
            scenarios = tuple(s for s in scenarios if s.name in only)
        for s in scenarios:
            runs.append(_resolve(spec, s, methods, seeds, time_limits_s, quick))

    if methods:
        specs = {s.name: s for run in runs for s in registry.solver_specs(run.family)}
        for m in methods:
            if m not in specs:
                raise InvalidInputError(
                    "--methods", f"unknown method {m!r}; valid: {', '.join(sorted(specs))}"
                )
            extra = specs[m].missing_extra()
            if extra:
                raise InvalidInputError(
                    "--methods",
                    f"method {m!r} needs the optional {extra!r} extra: pip install "
                    f"'optkit[{extra}]'",
                )
    return Plan(runs, notes)


def _registered(family: str) -> list[str]:
    return [s.name for s in registry.solver_specs(family)]


def _resolve(
    spec: registry.FamilySpec,
    scenario: Scenario,
    methods: Sequence[str],
    seeds: Sequence[int],
    time_limits_s: Sequence[float | None],
    quick: bool,
) -> ScenarioRun:
    run = ScenarioRun(family=spec.name, sense=spec.sense, scenario=scenario)
    registered = {s.name: s for s in registry.solver_specs(spec.name)}
    names = list(scenario.methods) if scenario.methods is not None else list(registered)
    for name in names:
        if name not in registered:
            run.notes.append(f"method {name!r} is not registered; skipped")
    chosen = [registered[n] for n in names if n in registered and (not methods or n in methods)]
    # a method whose optional extra is not installed (edmsac without torch) is left out with a
    # note rather than giving one identical error row per item; plan() refuses it when named
    missing = {s.name: s.missing_extra() for s in chosen}
    for name, extra in missing.items():
        if extra:
            run.notes.append(
                f"method {name!r} needs the optional {extra!r} extra "
                f"(pip install 'optkit[{extra}]'); skipped"
            )
    chosen = [s for s in chosen if not missing[s.name]]
    chosen.sort(key=lambda s: (GUARANTEE_ORDER[s.guarantee.value], s.name))
    run.methods = tuple((s.name, s.guarantee.value) for s in chosen)
    run.seeds = tuple(seeds) or scenario.run_seeds(quick)
    run.time_limits_s = tuple(time_limits_s) or scenario.time_limits_s
    if scenario.reference is not None and scenario.reference not in registered:
        run.notes.append(f"reference solver {scenario.reference!r} is not registered")
    return run


def run_bench(
    the_plan: Plan,
    quick: bool = False,
    threads: int = 1,
    progress: Progress | None = None,
    command: str | None = None,
) -> BenchRun:
    """Run every planned scenario in this process, in a fixed order (items, limits, methods)."""
    progress = progress or Progress()
    prov = provenance(command)
    for run in the_plan.runs:
        _run_scenario(run, quick, threads, progress, prov)
    return BenchRun(the_plan.runs, list(the_plan.notes), prov)


def _run_scenario(
    run: ScenarioRun, quick: bool, threads: int, progress: Progress, prov: dict[str, Any]
) -> None:
    if not run.methods:
        run.notes.append("no method selected; nothing run")
        return
    try:
        items = list(run.scenario.instances(run.seeds, quick))
    except Exception as exc:
        run.notes.append(f"building the instances failed: {type(exc).__name__}: {exc}")
        return
    ids = [(item.instance_id, item.seed) for item in items]
    if len(set(ids)) != len(ids):
        run.notes.append("two items share an instance id and seed; scenario not run")
        return
    run.n_items = len(items)
    progress.scenario(run.label, len(items) * len(run.methods) * len(run.time_limits_s))
    missing_refs = 0
    for item in items:
        calls = [
            _call(item, name, guarantee, limit, threads)
            for limit in run.time_limits_s
            for name, guarantee in run.methods
        ]
        reference, source = _reference(run, item, calls, threads)
        missing_refs += reference is None and run.scenario.reference is not None
        for call in calls:
            row = _row(run, item, call, reference, source, threads, prov)
            run.rows.append(row)
            progress.advance(row)
    if missing_refs:
        run.notes.append(
            f"{missing_refs} of {len(items)} item(s) have no certified optimum "
            f"({run.scenario.reference} not optimal): their gaps are blank"
        )


@dataclass(frozen=True)
class _Call:
    """One solve of the grid: the result, or the exception text when the call raised."""

    method: str
    guarantee: str
    time_limit_s: float | None
    result: SolveResult | None
    wall_s: float
    error: str = ""


def _call(item: BenchItem, method: str, guarantee: str, limit: float | None, threads: int) -> _Call:
    """One solve; any exception (bad input, missing extra, a bug) is returned, not raised."""
    t0 = time.perf_counter()
    try:
        res = api.solve(
            item.instance, solver=method, time_limit_s=limit, seed=item.seed, threads=threads
        )
    except Exception as exc:  # an error row, never a dead run (KeyboardInterrupt still stops)
        wall_s = time.perf_counter() - t0
        return _Call(method, guarantee, limit, None, wall_s, f"{type(exc).__name__}: {exc}")
    return _Call(method, guarantee, limit, res, res.timing.wall_s)


def _evaluated(res: SolveResult | None) -> Any:
    """evaluate()'s objective of the result's decision (None without one)."""
    if res is None or res.evaluation is None:
        return None
    return res.evaluation.objective


def _reference(
    run: ScenarioRun, item: BenchItem, calls: list[_Call], threads: int
) -> tuple[Any, str]:
    """The item's certified optimum: stored, else the reference solver's optimal answer (its
    unlimited call when it ran, else one extra unlimited solve)."""
    if item.reference is not None:
        return item.reference, "stored"
    ref = run.scenario.reference
    if ref is None or ref not in _registered(run.family):
        return None, ""
    ran = [c for c in calls if c.method == ref and c.time_limit_s is None]
    res = ran[0].result if ran else _call(item, ref, "", None, threads).result
    if res is None or res.status is not Status.OPTIMAL or _evaluated(res) is None:
        return None, ""
    return _evaluated(res), f"solved:{ref}"


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, (list, tuple)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _json(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, (list, tuple)):
        return json.dumps([_num(v) for v in x])
    return json.dumps(_num(x))


def _row(
    run: ScenarioRun,
    item: BenchItem,
    call: _Call,
    reference: Any,
    source: str,
    threads: int,
    prov: dict[str, Any],
) -> BenchRow:
    res = call.result
    objective = _evaluated(res)
    ev = res.evaluation if res is not None else None
    gap = None
    if objective is not None and reference is not None:
        gap_fn: Callable[[Any, Any], float | None] = run.scenario.gap or (
            lambda obj, ref: gap_to_reference(obj, ref, run.sense)
        )
        gap = _num(gap_fn(objective, reference))
    return BenchRow(
        family=run.family,
        scenario=run.scenario.name,
        instance_id=item.instance_id,
        seed=item.seed,
        method=call.method,
        guarantee=call.guarantee,
        time_limit_s=call.time_limit_s,
        status=Status.ERROR.value if res is None else res.status.value,
        objective=_num(objective),
        objective_json=_json(objective),
        bound=None if res is None else _num(res.bound),
        reference=_num(reference),
        reference_json=_json(reference),
        reference_source=source if reference is not None else "",
        gap=gap,
        feasible=bool(ev is not None and ev.feasible),
        max_violation=None if ev is None else float(ev.max_violation),
        wall_s=float(call.wall_s),
        build_s=0.0 if res is None else float(res.timing.build_s),
        solve_s=0.0 if res is None else float(res.timing.solve_s),
        decisions=item.decisions,
        time_per_decision_s=float(call.wall_s) / item.decisions,
        flags="" if res is None else ",".join(res.flags),
        message=call.error if res is None else res.message,
        backend="" if res is None else res.solver.backend,
        backend_version="" if res is None else res.solver.backend_version,
        threads=threads,
        optkit_version=prov["optkit"],
        git_commit=prov["git_commit"] or "",
        host=prov["host"],
    )


def provenance(command: str | None = None) -> dict[str, Any]:
    """optkit and solver versions, git commit (when run from a checkout), host, date, command."""
    commit, dirty = _git_state()
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "optkit": optkit.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_average": _load_average(),
        "versions": {
            k: v
            for k, v in {**versions(), "matplotlib": package_version("matplotlib")}.items()
            if v is not None
        },
    }


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # not on every platform
        return None


def _git_state() -> tuple[str | None, bool | None]:
    """HEAD of the checkout optkit runs from, and whether tracked files differ from it.

    Read-only: `--no-optional-locks` keeps `git status` from refreshing the index.
    """
    if not (REPO_ROOT / ".git").exists():
        return None, None
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(REPO_ROOT), "status", "--porcelain", "-uno"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(changes)


@dataclass(frozen=True)
class ModelCard:
    """A trained model's card found under models/ (see spec/architecture.md, "Top-level")."""

    name: str
    path: Path
    summary: dict[str, Any]
    """Selected fields of a JSON card (family, solver, algo, measured gap); empty otherwise."""


CARD_NAMES = ("card.json", "card.md", "card.yaml", "card.yml")
CARD_KEYS = ("family", "solver", "method", "algo", "checkpoint", "seed", "gap", "measured_gap")


def model_cards(folder: Path) -> list[ModelCard]:
    """Every model card under `folder`, sorted by path: `<model>/card.*`, `<model>.card.*`, or
    the spec's checkpoint convention `<model>.md` beside `<model>.pt`."""
    if not folder.is_dir():
        return []
    cards = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.name in CARD_NAMES:
            name = path.parent.relative_to(folder).as_posix()
        elif any(path.name.endswith("." + n) for n in CARD_NAMES):
            name = path.name.split(".card.")[0]
        elif path.suffix == ".md" and path.with_suffix(".pt").is_file():
            name = path.relative_to(folder).with_suffix("").as_posix()
        else:
            continue
        summary: dict[str, Any] = {}
        if path.suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                summary = {k: data[k] for k in CARD_KEYS if isinstance(data, dict) and k in data}
            except (OSError, ValueError) as exc:
                summary = {"error": f"unreadable card: {exc}"}
        cards.append(ModelCard(name or path.stem, path, summary))
    return cards
