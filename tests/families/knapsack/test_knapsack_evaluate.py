"""evaluate(): hand-worked values, every slack by name, and properties of the coverage value."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from knapsack_testkit import EXAMPLE_PATH, random_instance

import optkit
from optkit.families.knapsack.evaluate import evaluate, set_value
from optkit.families.knapsack.instance import KnapsackDecision


def decide(inst, *names):
    return KnapsackDecision.from_mask(inst, np.isin(inst.component_names, names))


def test_example_values_by_hand():
    """weights (search 2, code 1, summarise 1). {searcher, summariser}: search 0.9 (searcher
    beats summariser's 0.4), code 0.5, summarise 0.7 -> 2·0.9 + 0.5 + 0.7 = 3.0 at cost 6."""
    inst = optkit.load(EXAMPLE_PATH)
    ev = evaluate(inst, decide(inst, "searcher", "summariser"))
    assert math.isclose(ev.objective, 3.0) and ev.cost == 6.0 and ev.feasible
    assert ev.coverage.tolist() == [0.9, 0.5, 0.7]
    assert ev.to_dict()["violations"] == {}


def test_violations_are_named():
    """{summariser, generalist} conflicts (conflicts[0]); adding coder also breaks the budget
    (2 + 5 + 3 = 10 > 7, slack -3)."""
    inst = optkit.load(EXAMPLE_PATH)
    ev = evaluate(inst, decide(inst, "summariser", "generalist", "coder"))
    assert ev.violations() == {"budget[0]": 3.0, "conflicts[0]": 1.0}
    assert ev.worst == "budget[0]" and ev.max_violation == 3.0 and not ev.feasible


def test_assignment_must_name_a_chosen_server():
    inst = optkit.load(EXAMPLE_PATH)
    dec = KnapsackDecision(chosen=("coder",), assignment={"code": "searcher"})
    ev = evaluate(inst, dec)
    assert ev.violations() == {"assignment[1]": 1.0}
    assert math.isclose(ev.objective, 0.8)  # the value is the best chosen server's regardless


def test_all_skills_is_a_log_success_probability():
    """generalist alone serves every skill: log(0.95 · 0.9 · 0.6); coder alone leaves two
    skills uncovered: success probability 0, a violated cover constraint per skill."""
    inst = optkit.load(EXAMPLE_PATH)
    import dataclasses

    inst = dataclasses.replace(inst, objective="all_skills")
    ev = evaluate(inst, decide(inst, "generalist"))
    assert math.isclose(ev.success_probability, 0.95 * 0.9 * 0.6)
    assert math.isclose(ev.objective, math.log(0.95 * 0.9 * 0.6))
    ev = evaluate(inst, decide(inst, "coder"))
    assert ev.objective == -math.inf and ev.success_probability == 0.0
    assert set(ev.violations()) == {"cover[0]", "cover[2]"}
    assert ev.to_dict()["objective"] is None  # JSON has no -inf


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), a=st.integers(0, 1023), b=st.integers(0, 1023))
def test_coverage_value_is_monotone_and_submodular(seed, a, b):
    """f(A) + f(B) >= f(A ∪ B) + f(A ∩ B) and f(A ∩ B) <= f(A) for the weighted value
    (a weighted sum of maxima is a coverage function)."""
    inst = random_instance(seed, 10, 4)
    bits = lambda m: ((m >> np.arange(10)) & 1).astype(bool)  # noqa: E731
    A, B = bits(a), bits(b)
    f = lambda x: set_value(inst, x)  # noqa: E731
    assert f(A & B) <= f(A) + 1e-12
    assert f(A) + f(B) >= f(A | B) + f(A & B) - 1e-12


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(0, 1023))
def test_evaluate_agrees_with_a_loop(seed, m):
    """The numpy evaluation against a plain loop over the definitions."""
    inst = random_instance(seed, 10, 3)
    x = ((m >> np.arange(10)) & 1).astype(bool)
    ev = evaluate(inst, KnapsackDecision.from_mask(inst, x))
    value = sum(
        inst.weights[s] * max([inst.quality[i, s] for i in range(10) if x[i]], default=0.0)
        for s in range(3)
    )
    assert math.isclose(ev.objective, value, abs_tol=1e-12)
    cost = sum(inst.prices[i] for i in range(10) if x[i])
    broken = any(x[a] and x[b] for a, b in inst.conflicts) or any(
        x[i] and not x[k] for i, k in inst.requires
    )
    assert ev.feasible == (cost <= inst.budget + 1e-6 and not broken)
