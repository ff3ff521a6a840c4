"""`optkit bench` on the command line: the report it writes, its flags, and bad input (exit 2)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from test_bench_harness import toy  # noqa: F401  (the fixture registering the toy family)

from optkit.cli.bench import parse_seeds, parse_time_limits
from optkit.core.errors import InvalidInputError


def test_bench_writes_the_report_and_prints_where(run_cli, tmp_path):
    folder = tmp_path / "rep"
    r = run_cli(
        "bench", "contract/suite", "--quick", "--methods", "static_repeat,uniform",
        "--seeds", "0,3", "--report", folder,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert f"report: {folder / 'index.md'} and {folder / 'index.html'}" in r.out
    assert "(32 rows, 0 error rows" in r.out  # 8 quick suite instances x 2 seeds x 2 methods
    rows = pq.read_table(folder / "rows").to_pylist()
    assert {(x["method"], x["seed"]) for x in rows} == {
        (m, s) for m in ("static_repeat", "uniform") for s in (0, 3)
    }
    meta = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert meta["provenance"]["command"].startswith("optkit")
    assert [(s["family"], s["scenario"]) for s in meta["scenarios"]] == [("contract", "suite")]


def test_time_limits_give_one_table_per_limit(run_cli, tmp_path, toy):  # noqa: F811
    r = run_cli("bench", "toy/caps", "--time-limit", "0.5", "--time-limit", "none",
                "--report", tmp_path / "rep")  # fmt: skip
    assert r.code == 0, r.err
    md = (tmp_path / "rep" / "index.md").read_text(encoding="utf-8")
    assert "### time limit 0.5 s" in md and "### time limit none" in md
    assert (tmp_path / "rep" / "plots" / "toy-caps-gap-vs-time.png").exists()
    assert "(60 rows, 8 error rows" in r.out  # 6 items x 5 methods x 2 limits; cap 13 x 2 x 2


def test_quiet_keeps_stderr_empty(run_cli, tmp_path, toy):  # noqa: F811
    r = run_cli("-q", "bench", "toy/noref", "--report", tmp_path / "rep")
    assert r.code == 0 and r.err == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds", "x"], "--seeds: 'x' is not an integer or a range a-b"),
        (["--seeds", "0,0"], "--seeds: a seed is listed twice"),
        (["--seeds", "-1"], "--seeds"),
        (["--time-limit", "-1"], "--time-limit"),
        (["--time-limit", "soon"], "--time-limit: 'soon' is not a number of seconds or 'none'"),
        (["--methods", "nope"], "--methods: unknown method 'nope'; valid:"),
        (["toy/nope"], "FAMILY: toy has no scenario 'nope'"),
        (["nope"], "unknown family 'nope'"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_flags_exit_2_with_one_line(run_cli, tmp_path, toy, args, message):  # noqa: F811
    target = [] if any(not a.startswith("-") and "/" in a or a == "nope" for a in args) else ["toy"]
    r = run_cli("bench", *target, *args, "--report", tmp_path / "rep")
    assert r.code == 2
    assert len(r.err_lines) == 1 and message in r.err, r.err
    assert not (tmp_path / "rep").exists()  # refused before anything was written


def test_missing_report_flag_exits_2(run_cli):
    r = run_cli("bench", "contract")
    assert r.code == 2 and "Missing option '--report'" in r.err


def test_a_foreign_report_folder_is_refused_before_solving(run_cli, tmp_path, toy):  # noqa: F811
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    r = run_cli("bench", "toy", "--report", tmp_path)
    assert r.code == 2 and "holds no optkit report" in r.err and len(r.err_lines) == 1


def test_seed_and_limit_lists():
    assert parse_seeds(["0-2", "7"]) == [0, 1, 2, 7]
    assert parse_seeds(["1,4", "9"]) == [1, 4, 9]
    assert parse_seeds(None) == []
    assert parse_time_limits(["0.1,1", "none"]) == [0.1, 1.0, None]
    with pytest.raises(InvalidInputError, match="empty range"):
        parse_seeds(["5-2"])
