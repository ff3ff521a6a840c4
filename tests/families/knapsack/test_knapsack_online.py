"""Online composition: test accounting, the Tester protocol, determinism, policy behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from knapsack_testkit import EXAMPLE_PATH

import optkit
from optkit.core.errors import InvalidInputError
from optkit.core.status import Guarantee, Status
from optkit.core.timing import Deadline
from optkit.families.knapsack.online import (
    GRID,
    BernoulliTester,
    hindsight_ratio,
    psi,
    solve_zcl,
)

POLICIES = ("zcl", "greedy_density", "retrieval_topk", "identity")


@pytest.mark.parametrize("policy", POLICIES)
def test_policies_are_registered_online_and_feasible(policy):
    spec = optkit.core.registry.get_solver("knapsack", policy)
    assert spec.guarantee is Guarantee.ONLINE
    inst = optkit.generate("knapsack", "multi_agent", seed=2)
    res = optkit.solve(inst, policy, seed=4)
    assert res.status is Status.FEASIBLE and res.bound is None and res.evaluation.feasible
    assert not res.evaluation.objective_mismatch  # the objective is the true value
    opt = optkit.solve(inst, "highs").objective
    assert 0 < hindsight_ratio(inst, res.objective, opt) <= 1 + 1e-12


@pytest.mark.parametrize("policy", POLICIES)
def test_same_seed_same_answer(policy):
    inst = optkit.generate("knapsack", "single_agent", seed=9)
    a, b = optkit.solve(inst, policy, seed=3), optkit.solve(inst, policy, seed=3)
    assert a.decision.to_dict() == b.decision.to_dict() and a.certificate == b.certificate


def test_test_budget_is_counted_and_respected():
    inst = optkit.generate("knapsack", "multi_agent", seed=1)
    full = optkit.solve(inst, "greedy_density", seed=0)
    # greedy tests every component priced within budget, 5 trials each
    assert full.certificate["tests_used"] == 5 * int((inst.prices <= inst.budget).sum())
    capped = optkit.solve(inst, "zcl", seed=0, params={"test_budget": 23})
    assert capped.certificate["tests_used"] <= 23 and capped.certificate["test_budget"] == 23
    none = optkit.solve(inst, "retrieval_topk", seed=0)
    assert none.certificate["tests_used"] == 0


def test_charged_trials_come_out_of_the_money_budget():
    """With 1 money per trial, the components bought plus the trials stay within B."""
    inst = optkit.generate("knapsack", "single_agent", seed=4)
    res = optkit.solve(inst, "zcl", seed=0, params={"cost_per_trial": 1.0})
    c = res.certificate
    assert c["test_cost"] == c["tests_used"] > 0
    assert c["component_cost"] + c["test_cost"] <= inst.budget + 1e-9


class ScriptedTester:
    """A sandbox that says: `coder` always succeeds, everything else always fails."""

    def __init__(self):
        self.calls = []

    def run(self, component, skills, trials):
        self.calls.append((component, tuple(skills), trials))
        return {s: trials if component == "coder" else 0 for s in skills}


def test_a_plugged_in_tester_drives_the_choice():
    """50 trials, uniform prior. A component failing them all has q̂ = 1/52 per skill, so its
    density is at most (2 + 1)/52 / 2 ≈ 0.03 (summariser: weights 2 + 1, price 2), below
    ψ(0) = L/e = 0.05; the coder's is (51/52)/3 ≈ 0.33 >= ψ. zcl picks only the coder, and the
    tester sees each admissible component once, with 50 trials on its declared skills."""
    inst = optkit.load(EXAMPLE_PATH)
    tester = ScriptedTester()
    params = {"L": 0.05 * math.e, "U": 1.0, "prior_strength": 0.0, "tests_per_component": 50}
    out = solve_zcl(inst, deadline=Deadline(None), params=params, tester=tester)
    assert out.decision.chosen == ("coder",)
    assert all(trials == 50 for _, _, trials in tester.calls)
    assert ("coder", ("code",), 50) in tester.calls
    assert len({c for c, _, _ in tester.calls}) == len(tester.calls)


def test_bernoulli_tester_draws_binomial_successes():
    inst = optkit.load(EXAMPLE_PATH)
    wins = BernoulliTester(inst, seed=0).run("generalist", ["search", "summarise"], 20_000)
    assert abs(wins["search"] / 20_000 - 0.95) < 0.01
    assert abs(wins["summarise"] / 20_000 - 0.6) < 0.015


def test_psi_runs_from_l_over_e_to_u():
    assert math.isclose(psi(0.0, 0.01, 1.0), 0.01 / math.e)
    assert math.isclose(psi(1.0, 0.01, 1.0), 1.0)
    assert psi(0.3, 0.01, 1.0) < psi(0.6, 0.01, 1.0)


def test_expected_gain_matches_a_closed_form():
    """Nothing chosen: the gain of a Beta(a, b) server is its mean w·a/(a+b) (∫(1-F) = E[Q]).
    The composer's grid integral must reproduce it to the trapezoid rule's accuracy."""
    inst = optkit.load(EXAMPLE_PATH)
    from optkit.families.knapsack.online import Composer, OnlineConfig

    c = Composer(inst, BernoulliTester(inst, 0), OnlineConfig())
    i = inst.component_names.index("coder")
    mean = c.alpha[i, 1] / (c.alpha[i, 1] + c.beta[i, 1])
    assert math.isclose(c.gain(i), inst.weights[1] * mean, abs_tol=1e-4)
    c.accept(i)
    assert c.gain(i) < inst.weights[1] * mean  # a second copy of a belief adds less
    assert GRID[0] == 0.0 and GRID[-1] == 1.0


def test_hindsight_ratio_uses_success_probability_for_all_skills():
    import dataclasses

    inst = dataclasses.replace(optkit.load(EXAMPLE_PATH), objective="all_skills")
    assert math.isclose(hindsight_ratio(inst, math.log(0.25), math.log(0.5)), 0.5)
    assert hindsight_ratio(inst, -math.inf, math.log(0.5)) == 0.0


def test_retrieval_topk_caps_the_count_and_identity_keeps_inventory_order():
    inst = optkit.generate("knapsack", "multi_agent", seed=0)
    res = optkit.solve(inst, "retrieval_topk", params={"k": 3})
    assert len(res.decision.chosen) == 3
    order = np.argsort(-inst.retrieval_scores(), kind="stable")
    assert res.decision.chosen == tuple(sorted(inst.component_names[i] for i in order[:3]))
    ident = optkit.solve(inst, "identity")
    assert ident.decision.chosen[0] == inst.component_names[0]


def test_unknown_online_params_are_refused():
    inst = optkit.load(EXAMPLE_PATH)
    with pytest.raises(InvalidInputError) as info:
        optkit.solve(inst, "zcl", params={"tests": 3})
    assert info.value.field == "params.tests"
    with pytest.raises(InvalidInputError) as info:
        optkit.solve(inst, "zcl", params={"tests_per_component": -1})
    assert info.value.field == "params.tests_per_component"


def test_compare_with_hindsight_on_the_example():
    """Retrieval scores Σ w·d: searcher 2.2, generalist 2.2 (tie: inventory order), summariser
    1.9, coder 0.9. Budget 7: searcher (4), generalist (5) no longer fits, summariser (2) does,
    coder (3) does not: {searcher, summariser}, worth 3.0 against the optimum 3.4."""
    from optkit.families.knapsack.online import compare_with_hindsight

    inst = optkit.load(EXAMPLE_PATH)
    res = optkit.solve(inst, "retrieval_topk")
    cmp = compare_with_hindsight(inst, res.decision)
    assert set(res.decision.chosen) == {"searcher", "summariser"}
    assert math.isclose(cmp["optimum"], 3.4) and math.isclose(cmp["ratio"], 3.0 / 3.4)
