"""The on-disk ground-truth data set of `optkit baseline`: manifest, Parquet parts, lock, resume.

Layout of a data set directory (``pyarrow.parquet.read_table(DIR)`` reads it whole, because
pyarrow's dataset discovery skips names starting with ``_`` or ``.``)::

    DIR/_optkit_baseline.json       manifest: format tag, the run configuration, versions
    DIR/_optkit_baseline.lock       pid + host of the writer; held with flock while it runs
    DIR/part-<time>-<pid>-<k>.parquet   finished rows, SCHEMA, one row per instance id
    DIR/.part-....parquet.tmp       a part being written (renamed when complete)

Guarantees, and how they are kept:
- A part is written to a temporary name, fsynced and renamed (``os.replace``), then the folder is
  fsynced: a reader, or a run resumed after SIGKILL, sees whole parts or nothing. Leftover
  temporary files of a killed writer are removed by the next writer (it holds the lock).
- Resume: the finished ids are the ids in the parts; a rerun skips them, so no row is duplicated.
  Parts are never rewritten or merged (a merge followed by deleting the merged parts would open
  a window for duplicates).
- The manifest records the configuration; a rerun with another configuration is refused naming
  the differing key. A directory that is not a data set (files but no manifest), an unreadable
  manifest or part, or a stray visible file is refused, never overwritten.
- One writer at a time: an exclusive ``fcntl.flock`` on the lock file, which the kernel drops when
  its holder dies however it dies, so a lock left by a killed run is stale by construction (the
  pid and host written into the file only serve the error message). POSIX only; flock is not
  reliable across hosts on some network file systems, so point two machines at one directory
  only through Ray, which writes from the driver.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from optkit.core.errors import InvalidInputError
from optkit.core.jsonio import write_json_atomic

MANIFEST_NAME = "_optkit_baseline.json"
LOCK_NAME = "_optkit_baseline.lock"
FORMAT = "optkit-baseline"
FORMAT_VERSION = 1
PART_PREFIX, PART_SUFFIX = "part-", ".parquet"

# One fixed schema for every family, so that parts written before any vector objective or any
# decision was seen agree with later ones. Numbers that may be vectors (lexicographic families)
# have a float column, null for a vector, and a *_json column holding the value as returned.
SCHEMA = pa.schema(
    [
        ("id", pa.string()),  # file stem, or "<family>-<preset>-s<seed>" for a generator spec
        ("family", pa.string()),
        ("solver", pa.string()),
        ("guarantee", pa.string()),  # exact / exact_where_applicable / bound / heuristic / ...
        ("status", pa.string()),  # lower case, optkit.core.status.Status
        ("objective", pa.float64()),  # the solver's own objective (null if none or a vector)
        ("objective_json", pa.string()),
        ("bound", pa.float64()),  # best proven bound (null where none exists)
        ("bound_json", pa.string()),
        ("gap", pa.float64()),  # relative gap between the re-scored objective and the bound
        ("eval_objective", pa.float64()),  # objective re-scored by the family's evaluate()
        ("eval_objective_json", pa.string()),
        ("max_violation", pa.float64()),  # evaluate()'s largest constraint violation
        ("feasible", pa.bool_()),
        ("objective_mismatch", pa.bool_()),  # solver vs evaluate() beyond the tolerance table
        ("flags", pa.list_(pa.string())),
        ("message", pa.string()),  # the error or the solver's note; "" when none
        ("decision", pa.string()),  # decision JSON (null when the status carries none)
        ("certificate", pa.string()),  # certificate JSON (multipliers, dual bound, ...) or null
        ("instance", pa.string()),  # instance JSON (null if it could not be read)
        ("instance_seed", pa.int64()),  # generator seed of the instance; null for a folder input
        ("seed", pa.int64()),  # solver seed
        ("threads", pa.int64()),
        ("time_limit_s", pa.float64()),  # the solver's budget, set-up included; null: none
        ("params", pa.string()),  # solver params JSON
        ("build_s", pa.float64()),
        ("solve_s", pa.float64()),
        ("wall_s", pa.float64()),  # the whole solve call; for a killed item, until the kill
        ("backend", pa.string()),  # library that did the work ("cvxpy+clarabel")
        ("backend_version", pa.string()),
        ("optkit_version", pa.string()),
        ("versions", pa.string()),  # JSON of optkit.core.versions.versions() on the worker
        ("git_commit", pa.string()),  # of the optkit source tree, when known
        ("host", pa.string()),  # the worker's host name
    ]
)
TIMING_COLUMNS = ("build_s", "solve_s", "wall_s")


def _refuse(out: Path, problem: str) -> InvalidInputError:
    return InvalidInputError("--out", f"{out}: {problem}")


# --------------------------------------------------------------------------------------------
class DatasetLock:
    """Exclusive writer lock on DIR/_optkit_baseline.lock (flock + pid/host for the message)."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise _refuse(
                    self.path.parent,
                    f"another optkit baseline is writing this data set ({self._holder()}); "
                    "wait for it or use another --out",
                ) from None
            # A previous holder may have unlinked the file between our open and our flock;
            # then we hold a lock on an orphan inode: start again on the current file.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        self._fd = fd

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
            return f"pid {info['pid']} on {info['host']} since {info['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown"

    def release(self) -> None:
        if self._fd is None:
            return
        # Unlink while still holding the lock, so that a waiter never locks a file we then remove.
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None


# --------------------------------------------------------------------------------------------
def config_differences(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = ""
) -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) wherever two JSON-like configurations differ, sorted
    by key; a key missing on one side has the value "(absent)" there."""
    out = []
    for key in sorted(set(old) | set(new)):
        name = f"{prefix}{key}"
        a, b = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(config_differences(a, b, name + "."))
        elif a != b:
            out.append((name, a, b))
    return out


_ABSENT = "(absent)"


def _show(value: Any) -> str:
    return value if value == _ABSENT else json.dumps(value)


@dataclass
class Dataset:
    """An open data set directory owned by this process (use as a context manager)."""

    folder: Path
    config: dict[str, Any]
    done_ids: set[str] = field(default_factory=set)
    resumed: bool = False
    _lock: DatasetLock | None = None
    _seq: int = 0
    _run_tag: str = ""

    @classmethod
    def open(cls, out: Path, config: Mapping[str, Any], info: Mapping[str, Any]) -> Dataset:
        """Create the data set, or reopen it for resumption after checking it is ours.

        `config` is compared with the manifest's (any difference refuses the run); `info`
        (versions, input path, ...) is recorded when the manifest is created, never compared.
        """
        out = Path(out)
        config = json.loads(json.dumps(config))  # the JSON view, as the manifest will hold it
        if out.exists() and not out.is_dir():
            raise _refuse(out, "exists and is not a directory")
        if out.is_dir() and not (out / MANIFEST_NAME).exists():
            stray = [p.name for p in out.iterdir() if not _ours_transient(p.name)]
            if stray:
                raise _refuse(
                    out,
                    f"is not an optkit baseline data set (no {MANIFEST_NAME}, holds "
                    f"{stray[0]!r}); refusing to write into it",
                )
        lock = DatasetLock(out)
        try:
            out.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except PermissionError as exc:
            raise _refuse(out, f"cannot write here ({exc.strerror})") from None
        try:
            ds = cls(folder=out, config=config, _lock=lock)
            ds._run_tag = f"{_dt.datetime.now(_dt.UTC):%Y%m%dT%H%M%S}-{os.getpid()}"
            manifest = out / MANIFEST_NAME
            if manifest.exists():
                ds._check_manifest(manifest)
                ds.resumed = True
            else:
                write_json_atomic(
                    manifest,
                    {
                        "format": FORMAT,
                        "format_version": FORMAT_VERSION,
                        "created": _now(),
                        "config": config,
                        **dict(info),
                    },
                )
            ds._scan()
            return ds
        except BaseException:
            lock.release()
            raise

    def _check_manifest(self, manifest: Path) -> None:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            ok = isinstance(data, dict) and data.get("format") == FORMAT
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise _refuse(self.folder, f"{MANIFEST_NAME} is not an optkit baseline manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise _refuse(
                self.folder,
                f"data set format_version {data.get('format_version')!r} is not "
                f"{FORMAT_VERSION}; use another --out",
            )
        diffs = config_differences(data.get("config") or {}, self.config)
        if diffs:
            key, old, new = diffs[0]
            more = f" (and {len(diffs) - 1} more: {', '.join(d[0] for d in diffs[1:])})"
            raise _refuse(
                self.folder,
                f"configuration differs from the data set's: {key} was {_show(old)}, "
                f"this run has {_show(new)}{more if len(diffs) > 1 else ''}; rerun with the "
                "data set's configuration to resume, or use another --out",
            )

    def _scan(self) -> None:
        """Remove a killed writer's temporary parts, refuse stray files, collect finished ids."""
        for p in sorted(self.folder.iterdir()):
            if p.name in (MANIFEST_NAME, LOCK_NAME):
                continue
            if _ours_transient(p.name):
                p.unlink(missing_ok=True)  # temp of a dead writer: its rows were never final
                continue
            if not (p.name.startswith(PART_PREFIX) and p.name.endswith(PART_SUFFIX)):
                raise _refuse(
                    self.folder, f"holds {p.name!r}, which is not a part of this data set"
                )
            try:
                ids = pq.read_table(p, columns=["id"]).column("id").to_pylist()
            except (OSError, pa.ArrowException, KeyError) as exc:
                raise _refuse(self.folder, f"part {p.name} is unreadable ({exc})") from None
            dup = self.done_ids.intersection(ids)
            if dup or len(set(ids)) != len(ids):
                raise _refuse(self.folder, f"part {p.name} repeats finished ids (corrupt)")
            self.done_ids.update(ids)

    def write_part(self, rows: Iterable[Mapping[str, Any]]) -> Path | None:
        """Append finished rows as one new part, atomically; returns its path (None if empty)."""
        rows = list(rows)
        if not rows:
            return None
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        while True:
            self._seq += 1
            name = f"{PART_PREFIX}{self._run_tag}-{self._seq:05d}{PART_SUFFIX}"
            # A run of this process that ended earlier in the same second used the same tag
            # (a resume right after Ctrl-C): os.replace would silently drop its rows. We hold
            # the lock, so no other writer can create the name between the check and the rename.
            if not (self.folder / name).exists():
                break
        final, tmp = self.folder / name, self.folder / f".{name}.tmp"
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(table, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.folder)
        self.done_ids.update(r["id"] for r in rows)
        return final

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ours_transient(name: str) -> bool:
    """Files a writer leaves when killed: its lock and temporary parts (safe to remove)."""
    return name == LOCK_NAME or (name.startswith("." + PART_PREFIX) and name.endswith(".tmp"))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
