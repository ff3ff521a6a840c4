"""`optkit baseline`: rows, backends, faults, resume after SIGKILL and Ctrl-C, refusals.

Runs use the `contract` family (its real solvers) and, for faults, the test-only
`contract/baseline_probe` solver of tests/bench/baseline_plugin.py, which the harness imports in
its workers as a plugin. Every local run spawns worker processes (a second or two of imports
each), so runs are shared between tests through module-scoped fixtures where they can be.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import optkit
from optkit.bench.backends import Failure, LocalBackend, RayBackend, Task
from optkit.bench.baseline import BaselineConfig, BaselineInterrupted, plan, run_baseline
from optkit.bench.dataset import (
    LOCK_NAME,
    MANIFEST_NAME,
    TIMING_COLUMNS,
    Dataset,
    DatasetLock,
    config_differences,
)
from optkit.core import registry
from optkit.core.errors import InvalidInputError
from optkit.core.jsonio import write_json_atomic

HERE = Path(__file__).resolve().parent
PLUGIN = "baseline_plugin"
GEN = BaselineConfig(solver="cvxpy", family="contract", preset="default", n=6, seed=3)


def rows_of(folder: Path) -> list[dict]:
    """The data set's rows sorted by id, timings dropped (they are the only allowed change)."""
    rows = pq.read_table(folder).to_pylist()
    for r in rows:
        for k in TIMING_COLUMNS:
            r.pop(k)
    return sorted(rows, key=lambda r: r["id"])


@pytest.fixture(scope="module")
def probe_registry():
    """The probe solver registered in a copy of the registry for this module's tests only."""
    saved = registry._FAMILIES
    registry._FAMILIES = {
        k: dataclasses.replace(v, solvers=dict(v.solvers)) for k, v in saved.items()
    }
    sys.modules.pop(PLUGIN, None)
    yield
    sys.modules.pop(PLUGIN, None)
    registry._FAMILIES = saved


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gt") / "one"
    summary = run_baseline(GEN, out, workers=1)
    assert (summary.total, summary.skipped, summary.solved) == (6, 0, 6)
    return out


# ------------------------------------------------------------------------------------ rows
def test_rows_are_the_solver_results(one_worker):
    """One row per instance, id = <family>-<preset>-s<seed>, and the row holds what optkit.solve
    returns for that instance (re-solved here in-process)."""
    rows = rows_of(one_worker)
    assert [r["id"] for r in rows] == [f"contract-default-s{s}" for s in range(3, 9)]
    for r in rows:
        seed = int(r["id"].rsplit("s", 1)[1])
        inst = optkit.generate("contract", "default", seed=seed)
        res = optkit.solve(inst, solver="cvxpy").to_dict()
        assert r["status"] == res["status"] == "optimal"
        assert r["objective"] == res["objective"] and r["bound"] == res["bound"]
        assert json.loads(r["decision"]) == res["decision"]
        assert json.loads(r["instance"]) == inst.to_dict()
        assert r["feasible"] and r["max_violation"] <= 1e-7 and r["gap"] <= 1e-6
        assert (r["instance_seed"], r["seed"], r["threads"]) == (seed, 0, 1)
        assert r["guarantee"] == "exact" and r["backend"] == "cvxpy+clarabel"
        assert json.loads(r["versions"])["cvxpy"] and r["host"] and r["optkit_version"]
    # the manifest and the lock are invisible to the reader; the lock is gone after the run
    assert not (one_worker / LOCK_NAME).exists()
    assert json.loads((one_worker / MANIFEST_NAME).read_text())["config"]["solver"] == "cvxpy"


def test_two_workers_write_the_same_rows(one_worker, tmp_path):
    run_baseline(GEN, tmp_path / "two", workers=2)
    assert rows_of(tmp_path / "two") == rows_of(one_worker)


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray with two CPUs for this module's Ray tests, shut down after them (starting
    Ray costs seconds). Not marked slow: CI installs the ray extra, and without it these tests
    fail on the import instead of skipping."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


def test_ray_backend_writes_the_same_rows(local_ray, one_worker, tmp_path):
    summary = run_baseline(GEN, tmp_path / "ray", backend="ray", workers=2)
    assert summary.solved == 6
    assert local_ray.is_initialized()  # a Ray the run did not start is left running
    assert rows_of(tmp_path / "ray") == rows_of(one_worker)


def test_local_backend_replaces_a_worker_that_died_idle():
    """A worker killed between two tasks (say by the OOM killer) is replaced and the next task
    still runs: the pool reads its death on dispatch or from its pipe, not as a task's fault."""
    import math
    import operator

    backend = LocalBackend(workers=1)
    outcomes = backend.map(
        operator.call, [Task("pid", (os.getpid,)), Task("sqrt", (math.sqrt, 4.0))]
    )
    first = next(o for o in outcomes if o is not None)
    os.kill(first.value, signal.SIGKILL)
    time.sleep(0.2)
    rest = [o for o in outcomes if o is not None]
    assert [(o.key, o.value, o.failure) for o in rest] == [("sqrt", 2.0, None)]


def test_ray_backend_reports_a_dead_worker_and_cancels_an_overrun(local_ray):
    """The Ray backend's own fault handling, with functions every Ray worker can import:
    os._exit kills its worker (an outcome "died", max_retries=0 so it is not re-run), a sleep
    past the hard limit is cancelled with force ("timeout"), a raise is "raised"; the rest of
    the batch is answered. operator.call(f, *args) runs each task's own builtin."""
    import math
    import operator

    # ok and raise first: at worst they wait for Ray to start its workers, which the hard limit
    # (counted from submission) must cover on a busy machine.
    tasks = [
        Task("ok", (math.sqrt, 16.0)),
        Task("raise", (math.sqrt, -1.0)),
        Task("exit", (os._exit, 3)),
        Task("sleep", (time.sleep, 3600)),
    ]
    backend = RayBackend(workers=2, address=None)
    outcomes = {
        o.key: o for o in backend.map(operator.call, tasks, hard_limit_s=5.0) if o is not None
    }
    assert outcomes["ok"].value == 4.0 and outcomes["ok"].failure is None
    assert outcomes["exit"].failure.kind == "died"
    assert outcomes["sleep"].failure.kind == "timeout"
    assert outcomes["raise"].failure == Failure("raised", "ValueError: math domain error")


# ------------------------------------------------------------------------------ refusals
def test_rerun_with_the_same_config_skips_everything(one_worker, tmp_path):
    out = shutil.copytree(one_worker, tmp_path / "copy")
    before = sorted(p.name for p in out.iterdir())
    summary = run_baseline(GEN, out, workers=1)
    assert (summary.skipped, summary.solved) == (6, 0)
    assert sorted(p.name for p in out.iterdir()) == before


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"solver": "closed_form"}, "solver"),
        ({"n": 7}, "source.n"),
        ({"time_limit_s": 5.0}, "time_limit_s"),
        ({"params": {"model": "rebuild"}}, "params.model"),
        ({"options": {"n_types": 4}}, "source.options.n_types"),
    ],
)
def test_a_changed_configuration_is_refused_naming_the_key(one_worker, tmp_path, change, key):
    out = shutil.copytree(one_worker, tmp_path / "copy")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(InvalidInputError, match=rf"differs .*: {key} was ") as info:
        run_baseline(dataclasses.replace(GEN, **change), out, workers=1)
    assert info.value.field == "--out"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_foreign_directory_is_refused_and_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="not an optkit baseline data set"):
        run_baseline(GEN, tmp_path, workers=1)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_corrupt_manifest_a_stray_file_and_a_corrupt_part_are_refused(one_worker, tmp_path):
    out = shutil.copytree(one_worker, tmp_path / "a")
    (out / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(InvalidInputError, match="not an optkit baseline manifest"):
        run_baseline(GEN, out, workers=1)

    out = shutil.copytree(one_worker, tmp_path / "b")
    (out / "extra.csv").write_text("a,b")
    with pytest.raises(InvalidInputError, match="'extra.csv', which is not a part"):
        run_baseline(GEN, out, workers=1)

    out = shutil.copytree(one_worker, tmp_path / "c")
    next(out.glob("part-*.parquet")).write_bytes(b"PAR1 truncated")
    with pytest.raises(InvalidInputError, match="unreadable"):
        run_baseline(GEN, out, workers=1)


def test_two_writers_cannot_share_a_data_set_and_a_dead_writers_lock_is_stale(tmp_path):
    holder = DatasetLock(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    holder.acquire()
    try:
        with pytest.raises(InvalidInputError, match=f"another optkit baseline .*pid {os.getpid()}"):
            Dataset.open(tmp_path, {"solver": "x"}, {})
    finally:
        holder.release()
    # A lock file left by a dead writer (nobody holds the flock) does not block the next run.
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": 999999, "host": "gone", "started": ""}))
    with Dataset.open(tmp_path, {"solver": "x"}, {}) as ds:
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
        assert ds.done_ids == set()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_folder_whose_files_changed_is_refused(run_cli, tmp_path):
    """The folder's content hash is part of the configuration: edit one instance and the data
    set written from the old files refuses the rerun (no worker needs to start to tell)."""
    assert run_cli("-q", "generate", "contract", "--n", 3, "--out", tmp_path / "in").code == 0
    config = BaselineConfig(solver="cvxpy", input_dir=tmp_path / "in")
    _, items, compared, info = plan(config)
    Dataset.open(tmp_path / "gt", compared, info).close()
    edited = tmp_path / "in" / "contract-default-s1.json"
    edited.write_text(edited.read_text().replace('"n_servers": ', '"n_servers": 1'))
    _, _, compared, info = plan(config)
    with pytest.raises(InvalidInputError, match=r"differs .*: source\.sha256 was "):
        Dataset.open(tmp_path / "gt", compared, info)


def test_folder_and_generator_spec_give_the_same_ids(run_cli, tmp_path):
    """`optkit generate` names its files <family>-<preset>-s<seed>: the ids of a generator-spec
    run, so both ways of feeding the same instances give the same ids."""
    assert run_cli("-q", "generate", "contract", "--n", 3, "--seed", 5, "--out", tmp_path).code == 0
    from_files = plan(BaselineConfig(solver="cvxpy", input_dir=tmp_path))[1]
    from_spec = plan(BaselineConfig(solver="cvxpy", family="contract", n=3, seed=5))[1]
    assert [i.id for i in from_files] == [i.id for i in from_spec]


def test_a_folder_named_like_an_instance_is_not_an_item(run_cli, tmp_path):
    """in/sub.json/ is a folder: not an item (IsADirectoryError, exit 1, before)."""
    assert run_cli("-q", "generate", "contract", "--n", 2, "--out", tmp_path / "in").code == 0
    (tmp_path / "in" / "sub.json").mkdir()
    items = plan(BaselineConfig(solver="cvxpy", input_dir=tmp_path / "in"))[1]
    assert [i.id for i in items] == ["contract-default-s0", "contract-default-s1"]


def test_config_differences_are_dotted_and_sorted():
    old = {"solver": "a", "source": {"n": 3, "options": {}}, "params": {}}
    new = {"solver": "a", "source": {"n": 4, "options": {"k": 1}}, "params": {}}
    assert [d[0] for d in config_differences(old, new)] == ["source.n", "source.options.k"]


# -------------------------------------------------------------------------------- faults
@pytest.fixture(scope="module")
def faulty_run(probe_registry, tmp_path_factory):
    """Five instance files: one makes its worker die, one hangs past its limit, one is invalid,
    two are fine; two workers, time limit 1 s + 1 s grace."""
    folder = tmp_path_factory.mktemp("faulty")
    for k in range(5):
        data = optkit.generate("contract", "default", seed=k).to_dict()
        data["name"] = f"c{k}"
        if k == 4:
            data["discount"] = 2.0  # not in (0, 1]: the loader refuses it, naming the field
        write_json_atomic(folder / f"c{k}.json", data)
    config = BaselineConfig(
        solver="baseline_probe",
        input_dir=folder,
        params={"crash_on": ["c1"], "hang_on": ["c2"]},
        time_limit_s=1.0,
        plugins=(PLUGIN,),
    )
    out = tmp_path_factory.mktemp("faulty-gt") / "gt"
    summary = run_baseline(config, out, workers=2, grace_s=1.0)
    return summary, {r["id"]: r for r in rows_of(out)}


def test_a_worker_that_dies_is_an_error_row_and_the_run_goes_on(faulty_run):
    summary, rows = faulty_run
    assert sorted(rows) == ["c0", "c1", "c2", "c3", "c4"]
    assert rows["c1"]["status"] == "error"
    assert rows["c1"]["message"] == "worker process died (exit code 3)"
    assert json.loads(rows["c1"]["instance"])["name"] == "c1"  # the culprit, to reproduce it
    for ok in ("c0", "c3"):  # the uniform heuristic's answer, re-scored
        assert rows[ok]["status"] == "feasible" and rows[ok]["feasible"]
    assert summary.statuses == {"feasible": 2, "error": 2, "time_limit": 1}


def test_an_item_past_its_hard_limit_is_killed(faulty_run):
    _, rows = faulty_run
    assert rows["c2"]["status"] == "time_limit"
    assert rows["c2"]["message"].startswith("killed: time limit 1 s + grace 1 s exceeded")
    assert rows["c2"]["time_limit_s"] == 1.0


def test_an_invalid_instance_file_is_an_error_row_naming_the_field(faulty_run):
    _, rows = faulty_run
    assert rows["c4"]["status"] == "error"
    assert "c4.json: discount:" in rows["c4"]["message"]
    assert json.loads(rows["c4"]["instance"])["discount"] == 2.0


# --------------------------------------------------------------------- kill and resume (CLI)
N_SLOW = 120
"""Long enough (about 9 s of work on 2 workers) that the stop lands mid-run on an idle machine
too: with 40 items a fast fresh-clone CI run once finished before the Ctrl-C arrived."""


def _cli(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "optkit",
        "-q",
        "baseline",
        "--family",
        "contract",
        "--n",
        str(N_SLOW),
        "--solver",
        "baseline_probe",
        "--plugin",
        PLUGIN,
        "--param",
        "sleep_s=0.15",
        "--workers",
        "2",
        "--flush-every",
        "0.3",
        "--out",
        str(out),
        *extra,
    ]


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def _start_and_stop(out: Path, sig: int) -> tuple[subprocess.CompletedProcess, list[int]]:
    """Start a slow run, stop it with `sig` once two parts are on disk, wait for it; return it
    and the pids of its worker processes.

    SIGKILL goes to the optkit process alone (`kill -9 PID`: its workers must notice and exit by
    themselves); SIGINT goes to the whole process group, as a terminal's Ctrl-C does.
    """
    proc = subprocess.Popen(
        _cli(out),
        env=_env(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    t0 = time.monotonic()
    while len(list(out.glob("part-*.parquet"))) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < 60, "no parts written"
        time.sleep(0.05)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    if sig == signal.SIGKILL:
        os.kill(proc.pid, sig)
    else:
        os.killpg(proc.pid, sig)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), [
        int(c) for c in children
    ]


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has exited


def _parts(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.glob("part-*.parquet")}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["sigkill", "ctrl-c"])
def test_kill_and_rerun_keeps_every_finished_row_once(tmp_path, sig):
    out = tmp_path / "gt"
    stopped, workers = _start_and_stop(out, sig)
    assert len(workers) >= 2  # the workers (and multiprocessing's resource tracker)
    if sig == signal.SIGINT:
        assert stopped.returncode == 130, stopped.stderr
        assert b"interrupted: " in stopped.stderr
        assert not (out / LOCK_NAME).exists()
    else:
        assert stopped.returncode == -signal.SIGKILL
    t0 = time.monotonic()  # orphaned workers exit by themselves within a second or two
    while any(_running(pid) for pid in workers) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)
    assert not list(out.glob(".*.tmp"))  # parts are renamed whole or not at all
    kept = _parts(out)
    done = set(pq.read_table(out).column("id").to_pylist())
    assert 0 < len(done) < N_SLOW

    rerun = subprocess.run(_cli(out), env=_env(), capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"({len(done)} already done)" in rerun.stdout.decode()
    table = pq.read_table(out)
    ids = table.column("id").to_pylist()
    assert sorted(ids) == sorted(f"contract-default-s{k}" for k in range(N_SLOW))  # once each
    # Workers live on between items (4 worker processes over the two runs, 40 items).
    pids = [m.split()[1] for m in table.column("message").to_pylist()]
    assert len(set(pids)) <= 4 < N_SLOW
    assert {k: v for k, v in _parts(out).items() if k in kept} == kept  # earlier parts untouched
    assert not (out / LOCK_NAME).exists()


def test_keyboard_interrupt_in_process_flushes_and_reports(tmp_path, monkeypatch):
    """The engine's side of Ctrl-C, without a subprocess: the interrupt arrives after the third
    row; those rows are on disk and the summary says how far the run got."""
    from optkit.bench import baseline

    calls = {"n": 0}
    real = baseline._outcome_row

    def interrupt_after_three(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(baseline, "_outcome_row", interrupt_after_three)
    config = BaselineConfig(solver="uniform", family="contract", n=10)
    with pytest.raises(BaselineInterrupted) as info:
        run_baseline(config, tmp_path / "gt", workers=1)
    assert info.value.summary.solved == 3 and info.value.summary.interrupted
    assert pq.read_table(tmp_path / "gt").num_rows == 3
    assert not (tmp_path / "gt" / LOCK_NAME).exists()


# ---------------------------------------------------------------------------- CLI surface
def test_cli_resumes_a_finished_run_and_reports_the_rate(run_cli, one_worker, tmp_path):
    out = shutil.copytree(one_worker, tmp_path / "copy")
    r = run_cli(
        "-q", "baseline", "--family", "contract", "--n", 6, "--seed", 3, "--solver", "cvxpy",
        "--out", out,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "0 instances in" in r.out and "instances/s (6 already done)" in r.out
    assert r.err == ""  # -q: no progress bar
    r = run_cli(
        "baseline", "--family", "contract", "--n", 6, "--seed", 3, "--solver", "cvxpy",
        "--out", out,
    )  # fmt: skip
    assert r.code == 0 and "6/6" in r.err and "inst/s" in r.err and "ETA" in r.err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--family", "contract", "--solver", "cvxpy"], "--n: is required with --family"),
        (["--family", "contract", "--n", "2", "--solver", "nope"], "unknown contract solver"),
        (["--family", "nope", "--n", "2", "--solver", "cvxpy"], "unknown family 'nope'"),
        (["--family", "contract", "--n", "2", "--preset", "x", "--solver", "cvxpy"], "--preset"),
        (
            ["--family", "contract", "--n", "2", "--solver", "cvxpy", "--address", "a:1"],
            "--address",
        ),
        (["--family", "contract", "--n", "2", "--solver", "cvxpy", "--param", "x"], "--param"),
        (["--solver", "cvxpy"], "give exactly one of a folder of instances and --family"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(run_cli, tmp_path, argv, needle):
    r = run_cli("baseline", *argv, "--out", tmp_path / "gt")
    assert r.code == 2
    assert len(r.err_lines) == 1 and needle in r.err, r.err
    assert not (tmp_path / "gt").exists()


def test_cli_folder_of_two_families_is_refused(run_cli, tmp_path, contract_dict):
    write_json_atomic(tmp_path / "in" / "a.json", contract_dict)
    write_json_atomic(tmp_path / "in" / "b.json", {**contract_dict, "family": "knapsack"})
    r = run_cli("baseline", tmp_path / "in", "--solver", "cvxpy", "--out", tmp_path / "gt")
    assert r.code == 2 and "b.json" in r.err, r.err
