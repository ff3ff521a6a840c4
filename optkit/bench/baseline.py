"""Ground truth at scale: solve a folder of instances, or a generator spec, into a Parquet data set.

    run_baseline(BaselineConfig(solver="cvxpy", family="contract", preset="default", n=1000),
                 out=Path("gt"), backend="local", workers=2)

The harness knows no family by name: it goes through `optkit.core.api` (load / generate / solve)
and the registry, so every registered family works, including ones registered by a plugin module
(`BaselineConfig.plugins`, imported in the parent and in every worker before any solve).

Items and ids
- A folder: every ``*.json`` in it except ``*.solution.json``, sorted; id = file stem. One family
  per run (read from each file's header); the config records a SHA-256 over the files' names and
  bytes, so a rerun over edited files is refused.
- A generator spec (family, preset, n, seed): item k is ``generate(family, preset, seed + k,
  **options)`` with id ``<family>-<preset>-s<seed+k>`` -- the stem ``optkit generate`` gives
  the same instance's file, so ids agree between the two ways of feeding a run. Workers
  regenerate the instance themselves (bit for bit, the generators are seeded); only the spec
  travels.

Chunks: a task is a chunk of `chunk` consecutive items to do (default: DEFAULT_BATCH_CHUNK
when the solver declares a batch entry point, `SolverSpec.batch_entry_point`, else 1), solved
with one `optkit.core.api.solve_many` call, which uses the batch entry point (contract `fast`:
one vectorised interior point for the whole chunk) or loops the single solver. The chunk is a
throughput knob like the worker count: it is not part of the compared configuration, and an
item's row is the one it gets alone, timings aside: a batch's timings are its measured totals
divided evenly over its items (result flag "batch_timing"). A chunk of n items shares one
deadline of n x ``time_limit_s`` (solve_many's deadline counts the whole batch), so under a time
limit an item may use time its chunk-mates left over.

Rows: one per item (dataset.SCHEMA): the `SolveResult.to_dict()` fields flattened, the instance
JSON, and provenance (optkit version, every backend version, git commit, host). Every failure is a
row, never a dead batch: an unreadable instance or a solver crash is status ``error`` with the
message (a crash of a batch call is retried item by item inside the task, so it costs only the
crashing item's row); a worker process that dies on an item is status ``error`` ("worker process
died"); an item that overruns its hard limit (the solver's ``time_limit_s`` plus ``grace_s``,
counted from dispatch) is killed and recorded as ``time_limit``. A chunk's hard limit is
``time_limit_s`` x its size + ``grace_s``; a chunk task that fails as a whole (its worker died, it
was killed past that limit, or its result could not be sent) is redone item by item, as chunks
of one, in a second pass after the first, so that only the culprit gets the failure row. Without
a time limit no item is killed. Failure rows carry the instance JSON too (re-read by the parent
when the worker is gone), so a row alone reproduces its failure. Backends: see backends.py (why
our own spawn pool).

Writing, resume and interruption (dataset.py): rows are buffered and written as a new part every
`part_rows` rows or `flush_s` seconds, so a kill loses at most the rows of the last few seconds
and the in-flight chunks. A rerun with the same configuration skips finished ids (chunks are cut
from the ids still to do, so a half-done chunk is redone only for its missing ids); another
configuration is refused naming the key. Progress advances per item (all of a chunk's items
when it finishes). On Ctrl-C the in-flight chunks are abandoned (their workers are killed; they
are redone by the next run), finished rows are flushed, the lock is released and
`BaselineInterrupted` (a KeyboardInterrupt) carries the summary.

Compared configuration (manifest ``config``): family, solver, params, time_limit_s, solver seed,
threads, and the input -- folder content hash, or preset/seed/n/options. Not compared: backend,
workers, chunk, grace, the folder's path (moving the folder is fine; its content decides),
versions (every row carries its own).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import optkit
from optkit.bench.backends import LocalBackend, Outcome, RayBackend, Task
from optkit.bench.dataset import Dataset
from optkit.core import api, registry
from optkit.core.errors import InvalidInputError
from optkit.core.fields import as_float, as_int
from optkit.core.jsonio import dumps, read_json
from optkit.core.seeding import check_seed
from optkit.core.status import Status
from optkit.core.versions import versions

BACKENDS = ("local", "ray")
DEFAULT_FLUSH_S = 5.0
"""Seconds between part writes: a kill loses at most this much finished work."""
DEFAULT_PART_ROWS = 500
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DEFAULT_GRACE_S = 10.0
"""Seconds past the solver's time limit before an item's worker is killed. Generous because the
first item of a shape pays for compiling its model, and a fresh worker for its imports."""
DEFAULT_BATCH_CHUNK = 256
"""Items per task for a solver with a batch entry point. Contract `fast` costs ~5 ms alone and
~0.2 ms per instance in a batch of 200; at 256 the per-call overhead is amortised while a chunk
stays well under a second of work, so progress, flushes and Ctrl-C stay responsive."""


@dataclass(frozen=True)
class BaselineConfig:
    """What to solve and how; everything here but `plugins` is part of the compared config."""

    solver: str
    """Solver name within the family (see `optkit families`)."""
    input_dir: Path | None = None
    """A folder of instance JSON files; or None and a generator spec below."""
    family: str | None = None
    """Generator spec: family (with a folder, read from the files)."""
    preset: str | None = None
    """Generator spec: preset (None: the family's default)."""
    n: int | None = None
    """Generator spec: number of instances, seeds seed .. seed + n - 1."""
    seed: int = 0
    """Generator spec: seed of the first instance."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Generator spec: keyword options of the family's generator (contract: n_types)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Solver params, passed through `optkit.solve(params=...)`."""
    time_limit_s: float | None = None
    """The solver's budget per item, set-up included; None: no limit (and no kill)."""
    solver_seed: int = 0
    threads: int = 1
    plugins: tuple[str, ...] = ()
    """Modules to import before solving (in every worker too): they register families/solvers."""

    def __post_init__(self) -> None:
        check_seed(self.seed, "--seed")
        if (self.input_dir is None) == (self.family is None):
            raise InvalidInputError(
                "DIR", "give exactly one of a folder of instances and --family (with --n)"
            )
        if self.input_dir is not None:
            for flag, value in (("--preset", self.preset), ("--n", self.n)):
                if value is not None:
                    raise InvalidInputError(flag, "only applies with --family (no folder)")
            if self.options:
                raise InvalidInputError("--gen-option", "only applies with --family (no folder)")
            if not Path(self.input_dir).is_dir():
                raise InvalidInputError("", "is not a folder", source=str(self.input_dir))
        else:
            if self.n is None:
                raise InvalidInputError("--n", "is required with --family")
            as_int(self.n, "--n", ge=1)
            check_seed(self.seed + self.n - 1, "--seed")  # the last item's seed
        check_seed(self.solver_seed, "--solver-seed")
        as_int(self.threads, "--threads", ge=1)
        if self.time_limit_s is not None:
            as_float(self.time_limit_s, "--time-limit", ge=0)
        for key in ("options", "params"):
            try:
                dumps(dict(getattr(self, key)))
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(key, f"must be JSON-serialisable ({exc})") from None


@dataclass(frozen=True)
class Job:
    """What every item of a run shares; sent along with each item to the workers."""

    family: str
    solver: str
    guarantee: str
    params: Mapping[str, Any]
    time_limit_s: float | None
    solver_seed: int
    threads: int
    plugins: tuple[str, ...]
    git_commit: str | None


@dataclass(frozen=True)
class Item:
    """One instance to solve: a file, or a generator call."""

    id: str
    path: str | None = None
    preset: str | None = None
    seed: int | None = None
    options: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class BaselineSummary:
    out: Path
    total: int
    """Items in the run's configuration."""
    skipped: int
    """Finished by an earlier run (resume)."""
    solved: int
    """Rows written by this run."""
    statuses: Mapping[str, int]
    """Rows written by this run, by status."""
    elapsed_s: float
    interrupted: bool = False

    @property
    def rate(self) -> float:
        return self.solved / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.solved

    def line(self) -> str:
        counts = ", ".join(f"{v} {k}" for k, v in sorted(self.statuses.items()))
        head = "interrupted: " if self.interrupted else ""
        skipped = f" ({self.skipped} already done)" if self.skipped else ""
        left = f"; {self.remaining} left (rerun to resume)" if self.remaining else ""
        return (
            f"{head}{self.solved} instances in {self.elapsed_s:.1f} s = {self.rate:.2f} "
            f"instances/s{skipped}{': ' + counts if counts else ''}{left}; data set {self.out}"
        )


class BaselineInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: finished rows are on disk; `summary` says how far it got."""

    def __init__(self, summary: BaselineSummary):
        super().__init__(summary.line())
        self.summary = summary


class Progress(Protocol):
    def start(self, total: int, done: int) -> None: ...
    def advance(self, status: str) -> None: ...
    def close(self) -> None: ...


class RichProgress:
    """A rich progress bar on stderr: count, rate, elapsed, ETA, and errors so far."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _Bar

        self._bar = _Bar(
            TextColumn("baseline"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} inst/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[errors]}"),
            console=Console(stderr=True),
        )
        self._task: Any = None
        self._t0 = 0.0
        self._new = 0
        self._errors = 0

    def start(self, total: int, done: int) -> None:
        self._bar.start()
        self._t0 = time.perf_counter()
        self._task = self._bar.add_task(
            "baseline", total=total, completed=done, rate="-", errors=""
        )

    def advance(self, status: str) -> None:
        self._new += 1
        self._errors += status == Status.ERROR.value
        rate = self._new / max(time.perf_counter() - self._t0, 1e-9)
        errors = f"{self._errors} errors" if self._errors else ""
        self._bar.update(self._task, advance=1, rate=f"{rate:.2f}", errors=errors)

    def close(self) -> None:
        self._bar.stop()


# ------------------------------------------------------------------------------ the items
def _instance_files(folder: Path) -> list[Path]:
    files = sorted(
        p
        for p in folder.glob("*.json")
        if not p.name.endswith(".solution.json") and p.is_file()  # a folder named x.json is none
    )
    if not files:
        raise InvalidInputError("", "folder holds no instance *.json", source=str(folder))
    return files


def _folder_items(folder: Path) -> tuple[str, list[Item], str]:
    """(family, items, SHA-256 over names and bytes) of a folder; one family per run."""
    digest = hashlib.sha256()
    family, items = None, []
    for path in _instance_files(folder):
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(raw).digest())
        data = read_json(path)
        try:
            name = api.check_header(data)
        except InvalidInputError as exc:
            raise exc.with_source(str(path)) from None
        if family is None:
            family = name
        elif name != family:
            raise InvalidInputError(
                "family", f"is {name!r}, the folder's first file is {family!r}", source=str(path)
            )
        items.append(Item(id=path.stem, path=str(path.resolve())))
    assert family is not None
    return family, items, digest.hexdigest()


def _generator_items(config: BaselineConfig, preset: str) -> list[Item]:
    assert config.family is not None and config.n is not None
    options = dict(config.options)  # one dict shared by every item (a run may have millions)
    return [
        Item(
            id=f"{config.family}-{preset}-s{config.seed + k}",
            preset=preset,
            seed=config.seed + k,
            options=options,
        )
        for k in range(config.n)
    ]


# ------------------------------------------------------------------------ one item (worker)
@functools.cache
def _provenance() -> tuple[str, str, str]:
    return optkit.__version__, dumps(versions(), indent=None), socket.gethostname()


def _split(x: Any) -> tuple[float | None, str | None]:
    """(float column, JSON column) of a number-or-vector value (already JSON-clean)."""
    if x is None:
        return None, None
    return (None if isinstance(x, list) else float(x)), dumps(x, indent=None)


def _json(x: Any) -> str | None:
    return None if x is None else dumps(x, indent=None)


def load_item(item: Item, job: Job) -> tuple[Any, str]:
    """The item's instance and its JSON (compact): read from its file, or regenerated."""
    if item.path is not None:
        data = read_json(item.path)
        inst = api.instance_from_dict(data, source=item.path, path=Path(item.path))
        return inst, dumps(data, indent=None)
    inst = api.generate(job.family, item.preset, item.seed, **dict(item.options or {}))
    return inst, dumps(inst.to_dict(), indent=None)


def instance_json_of(item: Item, job: Job) -> str | None:
    """The item's JSON for a failure row: as loaded, else the file as it is, else None."""
    try:
        return load_item(item, job)[1]
    except Exception:  # noqa: BLE001 - an invalid instance: record the file as it is
        pass
    try:
        return None if item.path is None else dumps(read_json(item.path), indent=None)
    except Exception:  # noqa: BLE001 - nothing readable to record
        return None


def _error_message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, InvalidInputError) else f"{type(exc).__name__}: {exc}"


def solve_item(item: Item, job: Job) -> dict[str, Any]:
    """Load or generate one instance, solve it, and return its row. Never raises for the item's
    own failures (they are an error row); runs in the workers."""
    for module in job.plugins:
        importlib.import_module(module)
    t0 = time.perf_counter()
    try:
        inst, instance_json = load_item(item, job)
        res = api.solve(
            inst,
            solver=job.solver,
            time_limit_s=job.time_limit_s,
            seed=job.solver_seed,
            threads=job.threads,
            params=job.params,
        )
    except Exception as exc:  # noqa: BLE001 - a bad item is a row; the batch goes on
        wall_s = time.perf_counter() - t0
        return failure_row(
            item, job, Status.ERROR, _error_message(exc), wall_s, instance_json_of(item, job)
        )
    return result_row(item, job, res, instance_json)


def solve_chunk(items: Sequence[Item], job: Job) -> dict[str, dict[str, Any]]:
    """Rows of a chunk of items, by id: one `api.solve_many` call for every item that loads, with
    one deadline of time_limit_s x len(items). Never raises for the items' own failures: an item
    that does not load is an error row, and if solve_many raises (bad params, say) every item is
    solved alone by `solve_item`, so each gets the row it would get in a chunk of one."""
    for module in job.plugins:
        importlib.import_module(module)
    rows: dict[str, dict[str, Any]] = {}
    loaded: list[tuple[Item, Any, str]] = []
    for item in items:
        t0 = time.perf_counter()
        try:
            inst, instance_json = load_item(item, job)
        except Exception as exc:  # noqa: BLE001 - a bad item is a row; the chunk goes on
            wall_s = time.perf_counter() - t0
            rows[item.id] = failure_row(
                item, job, Status.ERROR, _error_message(exc), wall_s, instance_json_of(item, job)
            )
            continue
        loaded.append((item, inst, instance_json))
    if loaded:
        try:
            results = api.solve_many(
                [inst for _, inst, _ in loaded],
                solver=job.solver,
                time_limit_s=None if job.time_limit_s is None else job.time_limit_s * len(items),
                seed=job.solver_seed,
                threads=job.threads,
                params=job.params,
            )
        except Exception:  # noqa: BLE001 - each item alone: its own error row, or its answer
            for item, _, _ in loaded:
                rows[item.id] = solve_item(item, job)
        else:
            for (item, _, instance_json), res in zip(loaded, results, strict=True):
                rows[item.id] = result_row(item, job, res, instance_json)
    return {item.id: rows[item.id] for item in items}


def result_row(item: Item, job: Job, res: Any, instance_json: str) -> dict[str, Any]:
    """The row of an item from its `SolveResult`."""
    d = res.to_dict()
    ev = d["evaluation"] or {}
    objective, objective_json = _split(d["objective"])
    bound, bound_json = _split(d["bound"])
    eval_objective, eval_objective_json = _split(ev.get("objective"))
    return {
        **_common(item, job),
        "status": d["status"],
        "objective": objective,
        "objective_json": objective_json,
        "bound": bound,
        "bound_json": bound_json,
        "gap": d["gap"],
        "eval_objective": eval_objective,
        "eval_objective_json": eval_objective_json,
        "max_violation": ev.get("max_violation"),
        "feasible": ev.get("feasible"),
        "objective_mismatch": ev.get("objective_mismatch"),
        "flags": d["flags"],
        "message": d["message"],
        "decision": _json(d["decision"]),
        "certificate": _json(d["certificate"]),
        "instance": instance_json,
        **{k: d["timing"][k] for k in ("build_s", "solve_s", "wall_s")},
        "backend": d["solver"]["backend"],
        "backend_version": d["solver"]["backend_version"],
    }


def _common(item: Item, job: Job) -> dict[str, Any]:
    version, all_versions, host = _provenance()
    return {
        "id": item.id,
        "family": job.family,
        "solver": job.solver,
        "guarantee": job.guarantee,
        "instance_seed": item.seed,
        "seed": job.solver_seed,
        "threads": job.threads,
        "time_limit_s": job.time_limit_s,
        "params": _json(dict(job.params)),
        "optkit_version": version,
        "versions": all_versions,
        "git_commit": job.git_commit,
        "host": host,
    }


def failure_row(
    item: Item,
    job: Job,
    status: Status,
    message: str,
    wall_s: float,
    instance_json: str | None = None,
) -> dict[str, Any]:
    """The row of an item without a result: unreadable, crashed its worker, or killed."""
    row = {
        **_common(item, job),
        "status": status.value,
        "flags": [],
        "message": message,
        "instance": instance_json,
        "build_s": 0.0,
        "solve_s": 0.0,
        "wall_s": wall_s,
    }
    return row


def _outcome_row(item: Item, job: Job, out: Outcome, grace_s: float) -> dict[str, Any]:
    """The row of `item` from the outcome of the task that held it (a `solve_chunk` mapping by
    id, or the failure of a task of that item alone)."""
    if out.failure is None:
        return out.value[item.id]
    f = out.failure
    if f.kind == "timeout":
        message = (
            f"killed: time limit {job.time_limit_s:g} s + grace {grace_s:g} s exceeded "
            f"({f.message})"
        )
        status = Status.TIME_LIMIT
    else:
        message, status = f.message, Status.ERROR
    # The worker is gone: the parent re-reads the instance (so the row alone reproduces the
    # failure) and records its own host and versions.
    return failure_row(item, job, status, message, out.elapsed_s, instance_json_of(item, job))


def _chunk_rows(
    runner: LocalBackend | RayBackend,
    chunks: list[list[Item]],
    job: Job,
    grace_s: float,
) -> Iterator[list[dict[str, Any]] | None]:
    """Each chunk's rows as its task finishes (None: a tick while waiting).

    First pass: the chunks as given, hard limit time_limit_s x the largest chunk + grace_s. A
    chunk of several items whose task failed as a whole is redone item by item in a second pass
    (hard limit time_limit_s + grace_s), where a failure is that item's row. Closing the
    generator closes the running pass (its workers are killed).
    """
    todo = chunks
    while todo:
        size = max(len(c) for c in todo)
        hard_limit_s = None if job.time_limit_s is None else job.time_limit_s * size + grace_s
        by_key = {c[0].id: c for c in todo}  # items are in one chunk each: first ids are unique
        tasks = [Task(key, (tuple(c), job)) for key, c in by_key.items()]
        retry: list[list[Item]] = []
        outcomes = runner.map(solve_chunk, tasks, hard_limit_s)
        try:
            for outcome in outcomes:
                if outcome is None:
                    yield None
                    continue
                chunk = by_key[outcome.key]
                if outcome.failure is not None and len(chunk) > 1:
                    retry.extend([item] for item in chunk)
                    yield None
                    continue
                yield [_outcome_row(item, job, outcome, grace_s) for item in chunk]
        finally:
            outcomes.close()
        todo = retry


# ------------------------------------------------------------------------------ the run
@functools.cache
def git_commit() -> str | None:
    """Commit of the optkit source tree when it is a git checkout (read-only), else None."""
    root = Path(optkit.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        res = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (res.stdout.strip() or None) if res.returncode == 0 else None


def default_chunk(spec: registry.SolverSpec) -> int:
    """Items per task when --chunk is not given: DEFAULT_BATCH_CHUNK for a solver with a batch
    entry point, else 1 (looping the single solver in one task would only coarsen the hard
    limits and the progress)."""
    return DEFAULT_BATCH_CHUNK if spec.batch_entry_point is not None else 1


def plan(config: BaselineConfig) -> tuple[Job, list[Item], dict[str, Any], dict[str, Any]]:
    """Check the configuration against the registry and list the items.

    Returns (job, items, compared config, recorded info). Loads the solver's module so that a
    missing extra or an unknown name fails here, once, rather than as N error rows.
    """
    for module in config.plugins:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InvalidInputError("--plugin", f"cannot import {module!r}: {exc}") from None
    info: dict[str, Any] = {}
    if config.input_dir is not None:
        folder = Path(config.input_dir)
        family, items, digest = _folder_items(folder)
        source: dict[str, Any] = {"kind": "folder", "files": len(items), "sha256": digest}
        info["input"] = str(folder.resolve())
    else:
        assert config.family is not None
        fam = registry.get_family(config.family)
        family = fam.name
        preset = config.preset or fam.default_preset
        if preset not in fam.presets:
            raise InvalidInputError(
                "--preset", f"unknown {family} preset {preset!r}; valid: {', '.join(fam.presets)}"
            )
        items = _generator_items(config, preset)
        source = {
            "kind": "generator",
            "preset": preset,
            "seed": config.seed,
            "n": config.n,
            "options": dict(config.options),
        }
    spec = registry.get_solver(family, config.solver)
    spec.load()
    job = Job(
        family=family,
        solver=spec.name,
        guarantee=spec.guarantee.value,
        params=dict(config.params),
        time_limit_s=None if config.time_limit_s is None else float(config.time_limit_s),
        solver_seed=config.solver_seed,
        threads=config.threads,
        plugins=tuple(config.plugins),
        git_commit=git_commit(),
    )
    compared = {
        "family": family,
        "solver": spec.name,
        "params": dict(config.params),
        "time_limit_s": job.time_limit_s,
        "solver_seed": config.solver_seed,
        "threads": config.threads,
        "source": source,
    }
    info.update({"versions": versions(), "git_commit": job.git_commit})
    return job, items, compared, info


def run_baseline(
    config: BaselineConfig,
    out: str | os.PathLike[str],
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
    *,
    chunk: int | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    part_rows: int = DEFAULT_PART_ROWS,
    flush_s: float = DEFAULT_FLUSH_S,
) -> BaselineSummary:
    """Solve every item of `config` not yet in the data set at `out`; return a summary.

    backend "local" (a process pool of `workers`, default: the CPU count) or "ray" (Ray tasks on
    the cluster at `address`, or on a local Ray with `workers` CPUs). `chunk`: items per task
    (default: `default_chunk` of the solver). Raises InvalidInputError for a bad configuration or
    a refused `out`, BaselineInterrupted on Ctrl-C.
    """
    if backend not in BACKENDS:
        raise InvalidInputError("--backend", f"unknown backend {backend!r}; valid: local, ray")
    if workers is not None:
        as_int(workers, "--workers", ge=1)
    if chunk is not None:
        chunk = as_int(chunk, "--chunk", ge=1)
    if address is not None and backend != "ray":
        raise InvalidInputError("--address", "only applies with --backend ray")
    grace_s = as_float(grace_s, "grace_s", ge=0)
    job, items, compared, info = plan(config)
    spec = registry.get_solver(job.family, job.solver)
    if chunk is None:
        chunk = default_chunk(spec)
    runner: LocalBackend | RayBackend
    if backend == "local":
        # The solver's modules are imported at worker start-up, not against the first limit.
        entries = (spec.entry_point, spec.batch_entry_point)
        solver_modules = tuple(dict.fromkeys(e.split(":")[0] for e in entries if e is not None))
        preload = ("optkit.bench.baseline", *job.plugins, *solver_modules)
        # One BLAS/OpenMP thread pool of `threads` per worker, not one of every core each:
        # K workers on K cores would otherwise oversubscribe them (Ray likewise sets its
        # workers' OMP_NUM_THREADS from the task's CPUs).
        blas = {k: str(job.threads) for k in BLAS_THREAD_VARIABLES}
        runner = LocalBackend(workers or os.cpu_count() or 1, preload=preload, env=blas)
    else:
        runner = RayBackend(workers, address)

    t0 = time.perf_counter()
    statuses: Counter[str] = Counter()
    interrupted = False
    with Dataset.open(Path(out), compared, info) as ds:
        todo = [it for it in items if it.id not in ds.done_ids]
        skipped = len(items) - len(todo)
        buffer: list[dict[str, Any]] = []
        last_flush = time.perf_counter()
        if progress is not None:
            progress.start(len(items), skipped)
        chunks = [todo[k : k + chunk] for k in range(0, len(todo), chunk)]
        results = _chunk_rows(runner, chunks, job, grace_s)
        try:
            for rows in results:
                for row in rows or ():
                    buffer.append(row)
                    statuses[row["status"]] += 1
                    if progress is not None:
                        progress.advance(row["status"])
                now = time.perf_counter()
                if buffer and (len(buffer) >= part_rows or now - last_flush >= flush_s):
                    # Hand the rows over before writing: an interrupt mid-write must not make
                    # the final flush write them a second time.
                    rows, buffer, last_flush = buffer, [], now
                    ds.write_part(rows)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            results.close()  # kills the workers; in-flight chunks are redone by the next run
            ds.write_part(buffer)
            if progress is not None:
                progress.close()
    summary = BaselineSummary(
        out=Path(out),
        total=len(items),
        skipped=skipped,
        solved=sum(statuses.values()),
        statuses=dict(statuses),
        elapsed_s=time.perf_counter() - t0,
        interrupted=interrupted,
    )
    if interrupted:
        raise BaselineInterrupted(summary)
    return summary


def parse_assignments(pairs: list[str] | None, flag: str) -> dict[str, Any]:
    """KEY=VALUE strings to a dict; VALUE is read as JSON when it parses (3, 0.5, true, [1,2],
    "text"), else kept as the string."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(flag, f"expected KEY=VALUE, got {pair!r}")
        if key in out:
            raise InvalidInputError(flag, f"{key!r} given twice")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out
