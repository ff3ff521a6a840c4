"""`optkit baseline --chunk`: batched solving (`api.solve_many`) changes throughput only.

The contract `fast` solver declares a batch entry point (`fast:solve_many`), so its runs default to
chunks of `DEFAULT_BATCH_CHUNK` items per task; `--chunk 1` is the item-by-item run. Rows of both
must agree on everything that does not depend on timing. Every local run spawns one worker (a
second or two of imports), so the runs are shared through module-scoped fixtures.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import optkit
from optkit.bench.baseline import (
    DEFAULT_BATCH_CHUNK,
    BaselineConfig,
    BaselineInterrupted,
    default_chunk,
    run_baseline,
)
from optkit.core import api, registry
from optkit.core.jsonio import write_json_atomic
from optkit.core.status import Status

N = 48
FAST = BaselineConfig(solver="fast", family="contract", preset="default", n=N, seed=500)
SAME = ("status", "objective", "bound", "gap", "decision", "certificate")
"""Row fields that do not depend on timing (the task's comparison)."""


def rows_by_id(folder: Path) -> dict[str, dict]:
    rows = pq.read_table(folder).to_pylist()
    assert len({r["id"] for r in rows}) == len(rows), "an id was written twice"
    return {r["id"]: r for r in rows}


def same_fields(rows: dict[str, dict]) -> dict[str, tuple]:
    return {i: tuple(r[k] for k in SAME) for i, r in rows.items()}


@pytest.fixture(scope="module")
def unbatched(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("gt") / "chunk1"
    summary = run_baseline(FAST, out, workers=1, chunk=1)
    assert (summary.solved, summary.statuses) == (N, {"optimal": N})
    return rows_by_id(out)


@pytest.fixture(scope="module")
def batched(tmp_path_factory) -> dict[str, dict]:
    """The default chunk: all N items in one task, one solve_many call."""
    assert default_chunk(registry.get_solver("contract", "fast")) == DEFAULT_BATCH_CHUNK > N
    out = tmp_path_factory.mktemp("gt") / "default"
    summary = run_baseline(FAST, out, workers=1)
    assert (summary.solved, summary.statuses) == (N, {"optimal": N})
    return rows_by_id(out)


def test_batched_rows_equal_unbatched_rows(batched, unbatched):
    assert (
        sorted(batched) == sorted(unbatched) == [f"contract-default-s{500 + k}" for k in range(N)]
    )
    assert same_fields(batched) == same_fields(unbatched)
    for i, r in batched.items():
        cert = json.loads(r["certificate"])
        assert r["max_violation"] <= 1e-7 and r["gap"] <= 1e-6 and cert["fallback"] is False
        assert r["eval_objective"] == unbatched[i]["eval_objective"]
        # timings of the batch, divided evenly and flagged so; the item-by-item run's are its own
        assert "batch_timing" in r["flags"] and "batch_timing" not in unbatched[i]["flags"]
    assert len({(r["build_s"], r["solve_s"], r["wall_s"]) for r in batched.values()}) == 1


def test_a_chunk_with_an_unreadable_file_has_one_error_row(tmp_path):
    """Six files in one chunk, one of them invalid: its error row, five answers."""
    for k in range(6):
        data = optkit.generate("contract", "default", seed=k).to_dict()
        if k == 2:
            data["discount"] = 2.0  # not in (0, 1]: the loader refuses it, naming the field
        write_json_atomic(tmp_path / "in" / f"c{k}.json", data)
    config = BaselineConfig(solver="fast", input_dir=tmp_path / "in")
    summary = run_baseline(config, tmp_path / "gt", workers=1)
    rows = rows_by_id(tmp_path / "gt")
    assert summary.statuses == {"optimal": 5, "error": 1}
    assert rows["c2"]["status"] == "error" and "c2.json: discount:" in rows["c2"]["message"]
    assert json.loads(rows["c2"]["instance"])["discount"] == 2.0
    for k in (0, 1, 3, 4, 5):
        res = api.solve(optkit.generate("contract", "default", seed=k), solver="fast").to_dict()
        assert rows[f"c{k}"]["objective"] == res["objective"]
        assert json.loads(rows[f"c{k}"]["decision"]) == res["decision"]


def test_resume_redoes_only_the_missing_ids_of_a_half_done_chunk(unbatched, tmp_path, monkeypatch):
    """A run in chunks of 5 is interrupted after two chunks (10 rows on disk); the rerun, in
    chunks of 256, skips them and solves the 38 others, so the old chunk boundaries do not
    matter; the data set then equals the item-by-item one."""
    from optkit.bench import baseline

    calls = {"n": 0}
    real = baseline._outcome_row

    def interrupt_in_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 11:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(baseline, "_outcome_row", interrupt_in_third_chunk)
    with pytest.raises(BaselineInterrupted) as info:
        run_baseline(FAST, tmp_path / "gt", workers=1, chunk=5)
    assert info.value.summary.solved == 10
    monkeypatch.setattr(baseline, "_outcome_row", real)
    first = set(rows_by_id(tmp_path / "gt"))
    assert first == {f"contract-default-s{500 + k}" for k in range(10)}

    summary = run_baseline(FAST, tmp_path / "gt", workers=1, chunk=256)
    assert (summary.skipped, summary.solved) == (10, N - 10)
    rows = rows_by_id(tmp_path / "gt")
    assert same_fields(rows) == same_fields(unbatched)


def test_cli_chunk_0_is_refused_naming_the_flag(run_cli, tmp_path):
    r = run_cli(
        "baseline", "--family", "contract", "--n", 2, "--solver", "fast", "--chunk", 0,
        "--out", tmp_path / "gt",
    )  # fmt: skip
    assert r.code == 2
    assert len(r.err_lines) == 1 and "--chunk" in r.err and ">= 1" in r.err, r.err
    assert "Traceback" not in r.err
    assert not (tmp_path / "gt").exists()


def test_cli_help_shows_chunk(run_cli):
    r = run_cli("baseline", "--help")
    assert r.code == 0 and "--chunk" in r.out


# ----------------------------------------------------------------------------- solve_many
def _without_timing(res) -> dict:
    d = res.to_dict()
    d.pop("timing")
    return d


def test_solve_many_without_a_batch_entry_point_equals_looping_solve():
    insts = [optkit.generate("contract", "default", seed=s) for s in range(12)]
    for name in ("closed_form", "first_best", "uniform"):
        assert registry.get_solver("contract", name).batch_entry_point is None
        many = api.solve_many(insts, solver=name, seed=3)
        loop = [api.solve(i, solver=name, seed=3) for i in insts]
        assert [_without_timing(r) for r in many] == [_without_timing(r) for r in loop]


def test_solve_many_with_fast_equals_looping_solve_but_for_timing():
    insts = [optkit.generate("contract", "default", seed=s) for s in range(30)]
    many = api.solve_many(insts, solver="fast")
    loop = [api.solve(i, solver="fast") for i in insts]
    for m, s in zip(many, loop, strict=True):
        dm, ds = _without_timing(m), _without_timing(s)
        assert dm.pop("flags") == ["batch_timing"] and ds.pop("flags") == []
        assert dm == ds
    assert len({r.timing for r in many}) == 1  # the batch's totals, divided evenly


def test_a_crashing_batch_call_solves_each_item_alone(isolated_registry):
    """A solver whose batch entry point raises (math:sqrt cannot take a list): every instance is
    solved by the single entry point instead, flagged, and equals `solve`."""
    registry.register_solver(
        registry.SolverSpec(
            family="contract",
            name="uniform_broken_batch",
            guarantee=registry.get_solver("contract", "uniform").guarantee,
            entry_point="optkit.families.contract.baselines:uniform",
            batch_entry_point="math:sqrt",
        )
    )
    insts = [optkit.generate("contract", "default", seed=s) for s in range(4)]
    many = api.solve_many(insts, solver="uniform_broken_batch")
    loop = [api.solve(i, solver="uniform_broken_batch") for i in insts]
    for m, s in zip(many, loop, strict=True):
        dm, ds = _without_timing(m), _without_timing(s)
        assert dm.pop("flags") == ["batch_crashed"]
        assert ds.pop("flags") == [] and dm == ds


def test_the_deadline_is_shared_by_the_batch():
    """cvxpy (no batch entry point, looped) reads the deadline: with 0.3 s for 400 instances
    (about 2.5 ms each) the call stops near 0.3 s, the first instances answered and every later
    one TIME_LIMIT; alone, each would have had 0.3 s and been solved."""
    insts = [optkit.generate("contract", "default", seed=s) for s in range(400)]
    api.solve(insts[0], solver="cvxpy")  # compile the shape's model outside the timed call
    t0 = time.perf_counter()
    many = api.solve_many(insts, solver="cvxpy", time_limit_s=0.3)
    wall = time.perf_counter() - t0
    statuses = [r.status for r in many]
    assert wall < 0.3 + 1.0  # one solve's worth of overrun at most, with room for a busy host
    assert statuses[0] is Status.OPTIMAL and statuses[-1] is Status.TIME_LIMIT
    first_cut = statuses.index(Status.TIME_LIMIT)
    assert set(statuses[first_cut:]) == {Status.TIME_LIMIT}
    assert all(r.params["time_limit_s"] == 0.3 for r in many)
    assert api.solve(insts[-1], solver="cvxpy", time_limit_s=0.3).status is Status.OPTIMAL


def test_fast_stops_at_its_deadline_single_or_batched():
    """`fast` checks the shared deadline before every Newton step: with a limit far below the
    batch's own time every item is TIME_LIMIT, returned well before the unlimited batch would be,
    with a valid bound (at least the certified optimum) and a menu only where it is feasible, and
    no cvxpy fallback started. With room to spare the answers are the unlimited ones."""
    insts = [optkit.generate("contract", "default", seed=s) for s in range(300)]
    free = api.solve_many(insts, solver="fast")
    assert Counter(r.status for r in free) == {Status.OPTIMAL: 300}
    t0 = time.perf_counter()
    tiny = api.solve_many(insts, solver="fast", time_limit_s=1e-6)
    assert time.perf_counter() - t0 < 0.5 * sum(r.timing.wall_s for r in free) + 0.5
    assert Counter(r.status for r in tiny) == {Status.TIME_LIMIT: 300}
    for a, b in zip(tiny, free, strict=True):
        assert a.bound is not None and a.bound >= b.objective * (1 - 1e-9)
        assert "fallback_cvxpy" not in a.flags
        if a.has_decision:
            assert a.evaluation.feasible and a.objective <= b.objective * (1 + 1e-9)
    alone = api.solve(insts[0], solver="fast", time_limit_s=1e-6)
    assert alone.status is Status.TIME_LIMIT and alone.bound >= free[0].objective * (1 - 1e-9)
    roomy = api.solve_many(insts, solver="fast", time_limit_s=600.0)
    for a, b in zip(roomy, free, strict=True):
        da, db = _without_timing(a), _without_timing(b)
        assert da.pop("params") == {"time_limit_s": 600.0}
        assert db.pop("params") == {"time_limit_s": None} and da == db


# -------------------------------------------------------------------- faults inside a chunk
@pytest.fixture
def probe(monkeypatch):
    """The test-only `contract/baseline_probe` solver of tests/bench/baseline_plugin.py (it
    answers with `uniform` but crashes or hangs on named instances), registered in a copy of the
    registry for one test."""
    table = {
        k: dataclasses.replace(v, solvers=dict(v.solvers)) for k, v in registry._FAMILIES.items()
    }
    monkeypatch.setattr(registry, "_FAMILIES", table)
    monkeypatch.delitem(sys.modules, "baseline_plugin", raising=False)
    yield
    sys.modules.pop("baseline_plugin", None)


def test_a_failed_chunk_is_redone_item_by_item(probe, tmp_path):
    """Chunks of two: [c0, c1] dies with c1's worker, [c2, c3] hangs on c2 past its hard limit
    (2 x 0.5 s + 0.5 s). Both are redone one item at a time, so only the culprits get failure
    rows, the same rows as with --chunk 1."""
    for k in range(4):
        data = optkit.generate("contract", "default", seed=k).to_dict()
        data["name"] = f"c{k}"
        write_json_atomic(tmp_path / "in" / f"c{k}.json", data)
    config = BaselineConfig(
        solver="baseline_probe",
        input_dir=tmp_path / "in",
        params={"crash_on": ["c1"], "hang_on": ["c2"]},
        time_limit_s=0.5,
        plugins=("baseline_plugin",),
    )
    summary = run_baseline(config, tmp_path / "gt", workers=2, chunk=2, grace_s=0.5)
    rows = rows_by_id(tmp_path / "gt")
    assert summary.statuses == {"feasible": 2, "error": 1, "time_limit": 1}
    assert rows["c1"]["message"] == "worker process died (exit code 3)"
    assert rows["c2"]["message"].startswith("killed: time limit 0.5 s + grace 0.5 s exceeded")
    assert rows["c0"]["status"] == rows["c3"]["status"] == "feasible"


def test_ray_backend_writes_the_same_batched_rows(batched, tmp_path):
    """Chunks of 16 as Ray tasks (3 tasks, the last one short): the same rows."""
    summary = run_baseline(FAST, tmp_path / "ray", backend="ray", workers=2, chunk=16)
    assert summary.statuses == {"optimal": N}
    assert same_fields(rows_by_id(tmp_path / "ray")) == same_fields(batched)
