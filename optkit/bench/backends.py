"""Parallel backends for batch work: a local process pool and Ray core tasks.

Both run a module-level function ``fn(*args)`` once per task and yield an `Outcome` per task as
it finishes (in completion order), plus ``None`` ticks about once a second so the caller can
flush and refresh while waiting. Neither knows what the tasks are: for the baseline harness a
task is a chunk of items and its value the chunk's rows, so the hard limit and a worker's death
apply to the task as a whole (the harness redoes a failed chunk item by item).

Local pool: our own small pool of `multiprocessing` processes, not
`concurrent.futures.ProcessPoolExecutor`, because the harness needs two things the executor does
not give: when a worker dies the executor marks the whole pool broken and fails every in-flight
future (so the item that killed it cannot be told from its innocent neighbours), and it cannot
stop one overrunning task. Here each worker has its own pipe and runs one task at a time, so the
parent knows which task each worker holds: a worker that dies is replaced and only its task is
reported (`Outcome.failure` kind "died"); a task past its hard limit has its worker killed and
replaced (kind "timeout").

Start method `spawn`: a forked child would inherit the parent's threads' locks mid-flight (rich's
refresh thread, BLAS pools, Ray's threads when both are used), which can deadlock it; `spawn`
starts a clean interpreter and behaves the same on every OS. Its cost, importing optkit and the
solver backend once per worker (a second or two), is paid at start-up and after a worker is
replaced, not per task: workers live for the whole run, so module-level caches (the DPP-compiled
cvxpy models of the contract family, for instance) are reused by every task a worker runs.
`forkserver` would only make replacements cheaper, which are rare.

Workers ignore SIGINT: Ctrl-C reaches the whole process group, and the parent alone decides
what happens (it stops dispatching, kills the workers, flushes what finished). A worker exits
when its pipe closes or its parent disappears (a watchdog thread polls the parent pid), so a
SIGKILLed run leaves no orphans behind.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from optkit.core.errors import MissingExtraError

TICK_S = 1.0
"""Longest wait between two yields to the caller (flushes, progress refresh)."""
STARTUP_LIMIT_S = 300.0
"""A worker that has not finished importing after this long is considered broken."""


@dataclass(frozen=True)
class Task:
    key: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Failure:
    kind: str
    """"died" (the worker process exited), "timeout" (killed past the hard limit), "raised"
    (fn raised; the worker is fine)."""
    message: str


@dataclass(frozen=True)
class Outcome:
    key: str
    value: Any = None
    failure: Failure | None = None
    elapsed_s: float = 0.0
    """Seconds from dispatch to result or kill, measured by the parent."""


# ------------------------------------------------------------------------------- local pool
def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(1)


def _worker_main(conn: Connection, preload: tuple[str, ...], parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    try:
        for module in preload:
            importlib.import_module(module)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        key, fn, args = msg
        try:
            value = fn(*args)
        except Exception as exc:  # noqa: BLE001 - one task's failure is its outcome
            conn.send(("raised", key, f"{type(exc).__name__}: {exc}"))
            continue
        try:  # send() pickles the whole message before writing a byte
            conn.send(("done", key, value))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send(("raised", key, f"result could not be sent: {exc}"))


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    started: float
    ready: bool = False
    task: Task | None = None
    dispatched: float = 0.0


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class LocalBackend:
    """A pool of `workers` spawned processes, each running one task at a time."""

    name = "local"

    def __init__(
        self,
        workers: int,
        preload: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        tick_s: float = TICK_S,
    ):
        """`preload`: modules every worker imports before its first task. `env`: variables set
        in the workers' environment unless the user set them (the BLAS/OpenMP pool sizes)."""
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.preload = tuple(preload)
        self.env = dict(env or {})
        self.tick_s = tick_s
        self._ctx = multiprocessing.get_context("spawn")

    def _start(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, self.preload, os.getpid()),
            daemon=True,
            name="optkit-worker",
        )
        # A spawned child copies the parent's environment when it starts; the variables are
        # set only around start() and only where the user has not set them.
        added = [k for k in self.env if k not in os.environ]
        try:
            os.environ.update({k: self.env[k] for k in added})
            proc.start()
        finally:
            for k in added:
                os.environ.pop(k, None)
        child_conn.close()  # else the parent never sees EOF when the child dies
        return _Worker(proc=proc, conn=parent_conn, started=time.perf_counter())

    @staticmethod
    def _stop(w: _Worker, kill: bool) -> None:
        if kill and w.proc.is_alive():
            w.proc.kill()
        w.proc.join(timeout=5.0)
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join()
        w.conn.close()

    def map(
        self, fn: Callable[..., Any], tasks: Sequence[Task], hard_limit_s: float | None = None
    ) -> Iterator[Outcome | None]:
        """Run fn(*task.args) for every task; yield Outcomes as they finish, None as ticks.

        A task still running `hard_limit_s` after dispatch has its worker killed. Closing the
        generator (or an exception in the caller) kills the workers; unfinished tasks are lost.
        """
        pending = deque(tasks)
        pool = [self._start() for _ in range(min(self.workers, len(pending)))]
        try:
            while pending or any(w.task is not None for w in pool):
                for w in pool:
                    if w.ready and w.task is None and pending:
                        w.task, w.dispatched = pending.popleft(), time.perf_counter()
                        try:
                            w.conn.send((w.task.key, fn, w.task.args))
                        except OSError:  # it died idle: the task waits, its EOF is read below
                            pending.appendleft(w.task)
                            w.task = None
                ready = wait([w.conn for w in pool], timeout=self._timeout(pool, hard_limit_s))
                yielded = False
                for w in [w for w in pool if w.conn in ready]:
                    out, alive = self._receive(w)
                    if not alive:  # replace the dead worker (a new one only if work is left)
                        pool.remove(w)
                        self._stop(w, kill=False)
                        if pending:
                            pool.append(self._start())
                    if out is not None:
                        yielded = True
                        yield out
                now = time.perf_counter()
                for w in list(pool):
                    if w.task is not None and hard_limit_s is not None:
                        elapsed = now - w.dispatched
                        if elapsed >= hard_limit_s:
                            key = w.task.key
                            pool.remove(w)
                            self._stop(w, kill=True)
                            if pending:
                                pool.append(self._start())
                            message = f"no answer after {elapsed:.1f} s; worker killed"
                            yielded = True
                            yield Outcome(
                                key, failure=Failure("timeout", message), elapsed_s=elapsed
                            )
                    elif not w.ready and now - w.started > STARTUP_LIMIT_S:
                        raise RuntimeError(f"a worker did not start within {STARTUP_LIMIT_S:.0f} s")
                if not yielded:
                    yield None
        finally:
            for w in pool:
                if w.task is None and w.ready:
                    try:
                        w.conn.send(None)  # a clean exit for idle workers
                    except OSError:
                        pass
                self._stop(w, kill=w.task is not None or not w.ready)

    def _timeout(self, pool: list[_Worker], hard_limit_s: float | None) -> float:
        timeout = self.tick_s
        if hard_limit_s is not None:
            now = time.perf_counter()
            for w in pool:
                if w.task is not None:
                    timeout = min(timeout, w.dispatched + hard_limit_s - now)
        return max(0.0, timeout)

    def _receive(self, w: _Worker) -> tuple[Outcome | None, bool]:
        """Read one message from `w`: (its outcome if it finished a task, whether it lives)."""
        try:
            msg = w.conn.recv()
        except (EOFError, OSError):
            w.proc.join(timeout=5.0)
            if not w.ready:
                raise RuntimeError(
                    f"a worker died while starting ({_exit_text(w.proc.exitcode)})"
                ) from None
            if w.task is None:
                return None, False
            elapsed = time.perf_counter() - w.dispatched
            message = f"worker process died ({_exit_text(w.proc.exitcode)})"
            return Outcome(w.task.key, failure=Failure("died", message), elapsed_s=elapsed), False
        kind = msg[0]
        if kind == "ready":
            w.ready = True
            return None, True
        if kind == "fatal":
            raise RuntimeError(f"a worker could not start: {msg[1]}")
        task, w.task = w.task, None
        if task is None or task.key != msg[1]:
            raise RuntimeError(f"worker answered {msg[1]!r} while holding {task}")
        elapsed = time.perf_counter() - w.dispatched
        if kind == "raised":
            return Outcome(task.key, failure=Failure("raised", msg[2]), elapsed_s=elapsed), True
        return Outcome(task.key, value=msg[2], elapsed_s=elapsed), True


# ------------------------------------------------------------------------------------- ray
def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        if (getattr(exc, "name", None) or "").split(".")[0] != "ray":
            raise
        raise MissingExtraError("the ray backend", "ray", exc) from exc
    return ray


def _ray_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args)


class RayBackend:
    """The same work as Ray core tasks: on a cluster at `address`, or on a local Ray.

    Tasks are submitted with `max_retries=0` (a task that killed its worker is an outcome, not a
    retry) and at most `workers` at a time, so a task's clock starts about when it starts
    running; the hard limit cancels it with `ray.cancel(force=True)`, which kills its worker.
    Ray reuses worker processes between tasks, so per-process caches are reused as locally.
    """

    name = "ray"

    def __init__(
        self,
        workers: int | None,
        address: str | None,
        tick_s: float = TICK_S,
        cpus_per_task: int = 1,
    ):
        """`cpus_per_task`: the CPUs Ray reserves for each task (a training seed with
        --threads 4 asks for 4, so a node does not run more of them than it has cores)."""
        if cpus_per_task < 1:
            raise ValueError(f"cpus_per_task must be >= 1, got {cpus_per_task}")
        self.ray = import_ray()
        self.workers, self.address, self.tick_s = workers, address, tick_s
        self.cpus_per_task = cpus_per_task

    def map(
        self, fn: Callable[..., Any], tasks: Sequence[Task], hard_limit_s: float | None = None
    ) -> Iterator[Outcome | None]:
        ray = self.ray
        started_here = not ray.is_initialized()
        if started_here:
            if self.address:
                ray.init(address=self.address, logging_level="WARNING")
            else:
                # a local Ray big enough for `workers` tasks at once, and for one at least
                want = self.workers * self.cpus_per_task if self.workers else os.cpu_count() or 1
                ray.init(
                    num_cpus=max(want, self.cpus_per_task),
                    include_dashboard=False,
                    logging_level="WARNING",
                )
        cpus = int(ray.cluster_resources().get("CPU", 1))
        cap = self.workers or max(1, cpus // self.cpus_per_task)
        remote = ray.remote(num_cpus=self.cpus_per_task, max_retries=0)(_ray_call)
        fn_ref = ray.put(fn)
        pending = deque(tasks)
        inflight: dict[Any, tuple[str, float]] = {}
        try:
            while pending or inflight:
                while pending and len(inflight) < cap:
                    task = pending.popleft()
                    ref = remote.remote(fn_ref, task.args)
                    inflight[ref] = (task.key, time.perf_counter())
                timeout = self.tick_s
                now = time.perf_counter()
                if hard_limit_s is not None:
                    first = min(t for _, t in inflight.values())
                    timeout = max(0.0, min(timeout, first + hard_limit_s - now))
                done, _ = ray.wait(list(inflight), num_returns=1, timeout=timeout)
                yielded = False
                for ref in done:
                    key, t0 = inflight.pop(ref)
                    yielded = True
                    yield self._outcome(ref, key, time.perf_counter() - t0)
                if hard_limit_s is not None:
                    now = time.perf_counter()
                    for ref, (key, t0) in list(inflight.items()):
                        if now - t0 >= hard_limit_s:
                            ray.cancel(ref, force=True)
                            del inflight[ref]
                            message = f"no answer after {now - t0:.1f} s; Ray task cancelled"
                            yielded = True
                            yield Outcome(
                                key, failure=Failure("timeout", message), elapsed_s=now - t0
                            )
                if not yielded:
                    yield None
        finally:
            for ref in inflight:
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()

    def _outcome(self, ref: Any, key: str, elapsed: float) -> Outcome:
        ray = self.ray
        try:
            return Outcome(key, value=ray.get(ref), elapsed_s=elapsed)
        except ray.exceptions.WorkerCrashedError as exc:
            failure = Failure("died", f"Ray worker died ({type(exc).__name__})")
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            failure = Failure("raised", f"{type(cause).__name__}: {cause}")
        except ray.exceptions.RayError as exc:
            failure = Failure("died", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        return Outcome(key, failure=failure, elapsed_s=elapsed)
