"""evaluate(): hand-worked values and a hypothesis property against a direct recomputation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from oa_testkit import three_requests

from optkit.families.online_alloc.evaluate import evaluate
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.instance import OnlineAllocDecision


def test_hand_worked_budget_violation_is_named():
    """Taking all three requests uses 3 units of a 1.5 budget: violation 1.5 on budget[0]."""
    inst = three_requests()
    ev = evaluate(inst, OnlineAllocDecision(actions=np.array([0, 0, 0])))
    assert ev.objective == 6.0
    assert ev.max_violation == 1.5 and ev.worst == "budget[0]" and not ev.feasible
    assert ev.violations() == {"budget[0]": 1.5}
    assert ev.first_depletion == 0  # after request 0 only 0.5 < 1 unit is left


def test_fractional_lp_solution_scores_four():
    inst = three_requests()
    dec = OnlineAllocDecision(
        actions=np.array([-1, 0, -1]),
        frac_t=np.array([2]),
        frac_option=np.array([0]),
        frac_x=np.array([0.5]),
    )
    ev = evaluate(inst, dec)
    assert ev.objective == 4.0 and ev.feasible and ev.utilisation.tolist() == [1.0]


def test_overfull_fraction_is_a_choice_violation():
    inst = three_requests(rho=2.0)
    dec = OnlineAllocDecision(
        actions=np.array([-1, -1, -1]),
        frac_t=np.array([1, 1]),
        frac_option=np.array([0, 0]),
        frac_x=np.array([0.7, 0.6]),
    )
    ev = evaluate(inst, dec)
    assert ev.worst == "choice[0]" and abs(ev.max_violation - 0.3) < 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), act_seed=st.integers(0, 10_000))
def test_objective_and_use_match_a_direct_loop(seed, act_seed):
    inst = generate("small", seed, T=40)
    rng = np.random.default_rng(act_seed)
    actions = rng.integers(-1, inst.d, size=inst.T)
    ev = evaluate(inst, OnlineAllocDecision(actions=actions))
    reward, used = 0.0, np.zeros(inst.m)
    for t, a in enumerate(actions):
        if a >= 0:
            reward += inst.rewards[t, a]
            used += inst.consumption[t, :, a]
    assert np.isclose(ev.objective, reward, rtol=1e-12, atol=1e-12)
    assert np.allclose(ev.used, used)
    assert ev.feasible == bool((used <= inst.budgets + 1e-6).all())
