"""The generic CLI on online_alloc: generate, solve, check, export (in-process)."""

from __future__ import annotations

import json

import pytest


def test_generate_solve_check_export(run_cli, tmp_path):
    res = run_cli("generate", "online_alloc", "--preset", "small", "--seed", "3", "--out", tmp_path)
    assert res.code == 0, res.err
    path = tmp_path / "online_alloc-small-s3.json"
    assert "generator" in json.loads(path.read_text())
    out = tmp_path / "lp.json"
    res = run_cli("solve", path, "--format", "json", "--out", out)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["solver"]["name"] == "dual_bound" and doc["status"] == "optimal"
    assert doc["gap"] <= 1e-6
    res = run_cli("solve", path, "--solver", "dmd", "--format", "json")
    dmd = json.loads(res.out)
    assert res.code == 0 and dmd["status"] == "feasible" and dmd["bound"] is None
    assert dmd["evaluation"]["objective"] <= doc["bound"] + 1e-9
    res = run_cli("check", path, "--decision", out, "--format", "json")
    assert res.code == 0 and json.loads(res.out)["feasible"] is True
    res = run_cli("export", path, "--format", "mps", "--out", tmp_path / "m.mps")
    assert res.code == 0 and (tmp_path / "m.mps").stat().st_size > 0


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda d: d.update(T=0), "T"),
        (lambda d: d["generator"]["options"].update(T=-5), "generator.options.T"),
        (lambda d: d.update(variant="matching"), "variant"),
    ],
)
def test_bad_header_exit_2(run_cli, tmp_path, edit, needle):
    run_cli("generate", "online_alloc", "--preset", "small", "--out", tmp_path)
    path = tmp_path / "online_alloc-small-s0.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    res = run_cli("solve", path)
    assert res.code == 2 and needle in res.err and len(res.err_lines) == 1, res.err
