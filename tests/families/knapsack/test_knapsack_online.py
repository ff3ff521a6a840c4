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
from optkit.families.knapsack.instance import KnapsackInstance
from optkit.families.knapsack.online import (
    GRID,
    BernoulliTester,
    Composer,
    OnlineConfig,
    headroom_density,
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
    c = Composer(inst, BernoulliTester(inst, 0), OnlineConfig())
    i = inst.component_names.index("coder")
    mean = c.alpha[i, 1] / (c.alpha[i, 1] + c.beta[i, 1])
    assert math.isclose(c.gain(i), inst.weights[1] * mean, abs_tol=1e-4)
    c.accept(i)
    assert c.gain(i) < inst.weights[1] * mean  # a second copy of a belief adds less
    assert GRID[0] == 0.0 and GRID[-1] == 1.0


def test_headroom_density_is_the_value_left_per_unit_budget():
    """Example: Σw = 4, B = 7. Nothing chosen: 4/7. After the coder, the estimate of the selection
    is the coder's belief mean on `code` (weight 1), and the headroom shrinks by that over B."""
    inst = optkit.load(EXAMPLE_PATH)
    c = Composer(inst, BernoulliTester(inst, 0), OnlineConfig())
    assert math.isclose(headroom_density(c), 4.0 / 7.0)
    i = inst.component_names.index("coder")
    mean = c.alpha[i, 1] / (c.alpha[i, 1] + c.beta[i, 1])
    c.accept(i)
    assert math.isclose(headroom_density(c), (4.0 - mean) / 7.0, abs_tol=1e-4)


def _one_skill_instance() -> KnapsackInstance:
    def comp(name, price, d, q):
        return {
            "name": name,
            "price": price,
            "quality": {"task": q},
            "description_score": {"task": d},
        }

    return KnapsackInstance.from_dict(
        {
            "family": "knapsack",
            "schema_version": 1,
            "skills": [{"name": "task", "weight": 1.0}],
            "components": [
                comp("tiny", 1.0, 1.0, 0.8),
                comp("backup", 10.0, 0.9, 0.95),
                comp("dud", 20.0, 0.0, 0.1),
            ],
            "conflicts": [],
            "requires": [],
            "budget": 40.0,
            "objective": "weighted",
        }
    )


class AllPassTester:
    """Every trial succeeds, except the dud's."""

    def run(self, component, skills, trials):
        return {s: 0 if component == "dud" else trials for s in skills}


def test_zcl_caps_u_by_the_headroom_and_buys_a_second_server():
    """One skill (w = 1), B = 40, prior strength 2. Standalone prior densities: tiny
    (1 + 2)/4 / 1 = 0.75 = U, dud 0.25/20 = 0.0125 = L. tiny arrives first and passes 5/5:
    Beta(8, 1), f̂ = 8/9, z = 1/40. backup passes 5/5, Beta(7.8, 1.2); its expected gain over
    tiny is 0.0446, density 0.00446. The static threshold ψ(1/40; 0.0125, 0.75) = 0.00522 rejects
    it; with U capped at the headroom (1 - 8/9)/40 = 0.00278 (and L <= U), ψ = 0.00278·e^(z-1)
    = 0.00105 accepts it, and the true value rises from 0.8 to 0.95. A U given in params stays
    fixed (the old, static rule)."""
    inst = _one_skill_instance()
    out = solve_zcl(inst, deadline=Deadline(None), tester=AllPassTester())
    cert = out.certificate
    assert math.isclose(cert["U"], 0.75) and math.isclose(cert["L"], 0.0125)
    assert out.decision.chosen == ("tiny", "backup")
    assert math.isclose(out.objective, 0.95)
    assert cert["U_end"] < 0.003 and cert["L_end"] <= cert["U_end"]

    static = solve_zcl(
        inst, deadline=Deadline(None), tester=AllPassTester(), params={"L": 0.0125, "U": 0.75}
    )
    assert static.decision.chosen == ("tiny",)
    assert static.certificate["U_end"] == 0.75 and math.isclose(static.objective, 0.8)


def test_zcl_spends_most_of_a_generous_budget():
    """multi_agent gives 3x the budget the hindsight optimum needs. Before the headroom cap zcl
    stopped at about a third of it (U from one cheap, dense component); now the threshold
    follows the value left and it spends most of it on the first three seeds."""
    for seed in range(3):
        inst = optkit.generate("knapsack", "multi_agent", seed=seed)
        res = optkit.solve(inst, "zcl", seed=seed)
        assert res.certificate["component_cost"] > 0.5 * inst.budget
        assert res.certificate["U_end"] < res.certificate["U"]


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
    with pytest.raises(InvalidInputError) as info:
        optkit.solve(inst, "zcl", params={"headroom_cap": "False"})  # a string is not a bool
    assert info.value.field == "params.headroom_cap"


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
