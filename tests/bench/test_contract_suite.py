"""The shipped contract suite: coverage, certified solutions, and a re-solved sample.

The suite is ground truth for later solvers (closed forms, the fast solver, learners), so its
solutions are checked by evaluate() here, independently of the solver that wrote them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import optkit
from optkit.core.jsonio import read_json
from optkit.core.result import SolveResult
from optkit.core.tolerances import CERTIFIED_GAP_REL, EXACT_FEASIBILITY, relative_difference
from optkit.families.contract import ContractDecision

SUITE = Path(__file__).resolve().parents[2] / "instances" / "contract" / "suite-v1"
FILES = sorted(p for p in SUITE.glob("*.json") if not p.name.endswith(".solution.json"))


def _solution(path: Path) -> SolveResult:
    return SolveResult.from_dict(
        read_json(path.with_name(path.stem + ".solution.json")),
        decode_decision=ContractDecision.from_dict,
    )


def test_suite_covers_the_required_grid():
    """>= 60 instances over I = 1..10, both IR notions, both valuations, one and two periods."""
    insts = [optkit.load(p) for p in FILES]
    assert len(insts) >= 60
    assert {i.n_types for i in insts} == set(range(1, 11))
    assert {i.ir for i in insts if i.dynamic} == {"per_period", "interim"}
    assert {i.valuation.kind for i in insts} == {"log", "power"}
    assert {i.periods for i in insts} == {1, 2}
    assert any(i.limited_liability for i in insts)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_stored_solution_is_certified(path):
    """Every stored decision is feasible by evaluate() and its objective matches evaluate()."""
    inst, sol = optkit.load(path), _solution(path)
    assert sol.status is optkit.Status.OPTIMAL
    assert sol.gap <= CERTIFIED_GAP_REL
    report = optkit.evaluate(inst, sol.decision)
    assert report.max_violation <= EXACT_FEASIBILITY
    assert relative_difference(report.objective, sol.evaluation.objective) <= 1e-12
    assert sol.bound >= report.objective - 1e-9 * max(1.0, abs(report.objective))


@pytest.mark.parametrize("path", FILES[::7], ids=[p.stem for p in FILES[::7]])
def test_resolve_agrees_with_certified_objective(path):
    inst, sol = optkit.load(path), _solution(path)
    res = optkit.solve(inst, solver="cvxpy")
    assert res.status is optkit.Status.OPTIMAL
    assert relative_difference(res.evaluation.objective, sol.evaluation.objective) <= 1e-6
    assert np.allclose(res.decision.effort1, sol.decision.effort1, rtol=1e-4, atol=1e-5)
