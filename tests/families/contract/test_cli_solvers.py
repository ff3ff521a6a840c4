"""Every contract solver through the CLI: `optkit solve --solver X --out` then `optkit check`."""

from __future__ import annotations

import json

import pytest

import optkit

# learned solvers need a shipped checkpoint and the learn extra: tests/learn covers them
NON_LEARNED = sorted(s.name for s in optkit.solvers("contract") if s.guarantee.value != "learned")


@pytest.mark.parametrize("solver", NON_LEARNED)
def test_solve_then_check(run_cli, contract_file, tmp_path, solver):
    out = tmp_path / f"{solver}.json"
    r = run_cli("solve", contract_file, "--solver", solver, "--out", out, "--format", "json")
    assert r.code == 0, r.err
    res = json.loads(r.out)
    assert res["solver"]["name"] == solver and res["status"] in ("optimal", "feasible",
                                                                 "not_applicable")  # fmt: skip
    if res["decision"] is None:  # closed_form outside its domain (the example has I = 3)
        assert solver == "closed_form" and res["objective"] is None and res["bound"] is None
        r = run_cli("check", contract_file, "--decision", out)
        assert r.code == 2 and "no decision" in r.err
        return
    r = run_cli("check", contract_file, "--decision", out, "--format", "json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["objective"] == pytest.approx(res["evaluation"]["objective"], rel=1e-12)
    # first best is a bound, not a menu: the check shows the broken IC constraints
    assert report["feasible"] is (solver != "first_best")
    if solver == "first_best":
        assert any(name.startswith("ic") for name in report["violations"])


def test_closed_form_refusal_is_a_verdict(run_cli, contract_file):
    r = run_cli("solve", contract_file, "--solver", "closed_form")
    assert r.code == 0 and "not_applicable" in r.out


def test_families_lists_guarantees(run_cli):
    r = run_cli("families", "--format", "json")
    rows = {row["solver"]: row for row in json.loads(r.out) if row["family"] == "contract"}
    assert rows["closed_form"]["guarantee"] == "exact_where_applicable"
    assert rows["first_best"]["guarantee"] == "bound"
    assert rows["static_repeat"]["guarantee"] == rows["uniform"]["guarantee"] == "heuristic"
