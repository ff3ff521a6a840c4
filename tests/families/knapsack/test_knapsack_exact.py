"""Exact solvers: hand-worked optima, verdicts, and agreement between independent solvers.

brute_force (enumeration) and dp (a 0-1 knapsack DP) are the oracles; highs, cpsat and pyomo
solve the MIP of model.py three ways. Agreement is within 1e-6 relative (core's tolerance)
and, for cpsat, within its recorded scaling bound.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from knapsack_testkit import EXAMPLE_PATH, random_instance

import optkit
from optkit.core.status import Status
from optkit.core.tolerances import EXACT_FEASIBILITY

EXACT = ("brute_force", "highs", "cpsat")


def check_exact(inst, solver, **kw):
    res = optkit.solve(inst, solver, **kw)
    assert res.status is Status.OPTIMAL, (solver, res.status, res.message)
    assert res.evaluation.max_violation <= EXACT_FEASIBILITY
    assert not res.evaluation.objective_mismatch
    assert res.bound is None or res.bound >= res.objective - 1e-9 * max(1, abs(res.objective))
    return res


@pytest.mark.parametrize("solver", EXACT + ("pyomo",))
def test_example_optimum(solver):
    """Budget 7. generalist alone: 2·0.95 + 0.9 + 0.6 = 3.4; {summariser, generalist} would
    give 3.5 but conflicts; every other affordable set is worse ({searcher, summariser} 3.0,
    {searcher, coder} 2.6, {coder, summariser} 2.3), so {generalist} is optimal."""
    inst = optkit.load(EXAMPLE_PATH)
    res = check_exact(inst, solver)
    assert res.decision.chosen == ("generalist",) and math.isclose(res.objective, 3.4)
    assert res.decision.assignment == {
        "search": "generalist",
        "code": "generalist",
        "summarise": "generalist",
    }


@pytest.mark.parametrize("solver", EXACT)
def test_example_without_the_conflict(solver):
    """Dropping the conflict admits {summariser, generalist} at cost 7: 1.9 + 0.9 + 0.7 = 3.5."""
    inst = dataclasses.replace(optkit.load(EXAMPLE_PATH), conflicts=np.zeros((0, 2), int))
    res = check_exact(inst, solver)
    assert set(res.decision.chosen) == {"summariser", "generalist"}
    assert math.isclose(res.objective, 3.5)


@pytest.mark.parametrize("solver", EXACT + ("pyomo",))
def test_all_skills_infeasible_is_a_verdict(solver):
    """all_skills with budget 4: covering `summarise` needs summariser (2) or generalist (5),
    `code` then needs searcher (4) or coder (3): 5, 6 or more > 4. Proved infeasible."""
    inst = dataclasses.replace(optkit.load(EXAMPLE_PATH), objective="all_skills", budget=4.0)
    res = optkit.solve(inst, solver)
    assert res.status is Status.INFEASIBLE and not res.has_decision


def test_dp_not_applicable_outside_the_additive_case():
    res = optkit.solve(optkit.load(EXAMPLE_PATH), "dp")
    assert res.status is Status.NOT_APPLICABLE and "offered by two" in res.message


def test_brute_force_refuses_large_n():
    res = optkit.solve(optkit.generate("knapsack", "single_agent", seed=0), "brute_force")
    assert res.status is Status.NOT_APPLICABLE


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(1, 9),
    S=st.integers(1, 4),
    objective=st.sampled_from(["weighted", "all_skills"]),
)
def test_exact_solvers_agree_with_brute_force(seed, n, S, objective):
    inst = random_instance(seed, n, S, objective=objective)
    ref = optkit.solve(inst, "brute_force")
    for solver in ("highs", "cpsat"):
        res = optkit.solve(inst, solver)
        assert res.status is ref.status, (solver, res.message)
        if ref.status is Status.OPTIMAL:
            assert res.evaluation.feasible
            tol = 1e-6 * max(1.0, abs(ref.objective))
            if solver == "cpsat":
                tol = max(tol, res.certificate["scaling_bound"])
            assert abs(res.objective - ref.objective) <= tol, solver


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(1, 12), S=st.integers(1, 12))
def test_dp_agrees_with_brute_force_on_additive_instances(seed, n, S):
    inst = random_instance(seed, n, S, integer_prices=True, additive=True)
    dp, ref = optkit.solve(inst, "dp"), optkit.solve(inst, "brute_force")
    assert dp.status is Status.OPTIMAL is ref.status
    assert math.isclose(dp.objective, ref.objective, rel_tol=1e-9, abs_tol=1e-12)


def test_pyomo_agrees_on_random_instances():
    for seed in range(4):
        inst = random_instance(seed, 8, 3)
        a, b = optkit.solve(inst, "pyomo"), optkit.solve(inst, "brute_force")
        assert a.status is b.status is Status.OPTIMAL
        assert math.isclose(a.objective, b.objective, rel_tol=1e-6, abs_tol=1e-9)


@pytest.mark.parametrize("preset", ["single_agent", "multi_agent"])
@pytest.mark.parametrize("objective", ["weighted", "all_skills"])
def test_mip_solvers_agree_on_presets(preset, objective):
    """highs and pyomo within 1e-6 relative; cpsat within its recorded scaling bound."""
    for seed in range(2):
        inst = optkit.generate("knapsack", preset, seed=seed, objective=objective)
        h = check_exact(inst, "highs", threads=2)
        c = check_exact(inst, "cpsat", threads=2)
        p = check_exact(inst, "pyomo")
        assert abs(c.objective - h.objective) <= c.certificate["scaling_bound"] + 1e-9
        assert math.isclose(p.objective, h.objective, rel_tol=1e-6)
        assert c.certificate["objective_scale"] == 1e8 and c.certificate["price_scale"] == 1e6


def test_cpsat_records_exact_budget_for_decimal_prices():
    inst = optkit.load(EXAMPLE_PATH)
    assert optkit.solve(inst, "cpsat").certificate["budget_exact"] is True
    inst = optkit.generate("knapsack", "single_agent", seed=0)
    assert optkit.solve(inst, "cpsat").certificate["budget_exact"] is False


def test_exact_solvers_are_deterministic():
    inst = optkit.generate("knapsack", "multi_agent", seed=5)
    for solver in ("highs", "cpsat"):
        a, b = optkit.solve(inst, solver, seed=1), optkit.solve(inst, solver, seed=1)
        assert a.decision.to_dict() == b.decision.to_dict()


@pytest.mark.parametrize("solver", EXACT + ("pyomo",))
def test_an_uncoverable_skill_is_infeasible_under_all_skills(solver):
    """Every component offering `summarise` fails it always (q = 0): no budget covers it, so
    all_skills is INFEASIBLE even at B = 100. The weighted objective scores the skill 0 and
    buys the best of the rest: generalist's search 0.95 (weight 2) and code 0.9 = 2.8."""
    inst = optkit.load(EXAMPLE_PATH)
    quality = inst.quality.copy()
    quality[:, 2] = 0.0
    inst = dataclasses.replace(inst, quality=quality, objective="all_skills", budget=100.0)
    assert optkit.solve(inst, solver).status is Status.INFEASIBLE
    weighted = dataclasses.replace(inst, objective="weighted")
    assert math.isclose(check_exact(weighted, solver).objective, 2.0 * 0.95 + 0.9)


@pytest.mark.parametrize("eps", [3e-7, 1e-5])
def test_a_budget_just_below_the_optimum_is_respected(eps):
    """B = (cost of the optimum at a looser budget) - eps. HiGHS's default tolerance (1e-6)
    would accept that set; every exact answer must instead fit B to 1e-7. cpsat may not prove
    optimality when its relaxed price rounding picks the overspending set (then FEASIBLE with
    the flag price_rounding_gap), but it never returns it."""
    inst = optkit.generate("knapsack", "single_agent", seed=0, budget_fraction=0.02)
    loose = optkit.solve(inst, "highs")
    tight = dataclasses.replace(inst, budget=optkit.evaluate(inst, loose.decision).cost - eps)
    h = check_exact(tight, "highs")
    assert check_exact(tight, "pyomo").objective == h.objective
    c = optkit.solve(tight, "cpsat")
    assert c.evaluation.max_violation <= EXACT_FEASIBILITY
    if c.status is Status.OPTIMAL:
        assert abs(c.objective - h.objective) <= c.certificate["scaling_bound"]
    else:
        assert c.status is Status.FEASIBLE and c.flags == ("price_rounding_gap",)
        assert c.certificate["price_rounding"] == "relaxed, then conservative"
        assert c.objective <= h.objective + 1e-12
