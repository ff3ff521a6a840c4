"""Instance and decision validation: every bad input names its field."""

from __future__ import annotations

import numpy as np
import pytest
from oa_testkit import three_requests

from optkit.core.errors import InvalidInputError
from optkit.families.online_alloc.instance import OnlineAllocDecision, OnlineAllocInstance


def make(**kw):
    base = dict(
        rho=np.array([0.5, 0.5]),
        rewards=np.ones((3, 2)),
        consumption=np.ones((3, 2, 2)),
    )
    base.update(kw)
    return OnlineAllocInstance(**base)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        (dict(rho=np.array([0.5, 0.0])), "rho[1]"),
        (dict(rho=np.array([-1.0, 0.5])), "rho[0]"),
        (dict(rewards=np.array([[1.0, np.nan], [1, 1], [1, 1]])), "rewards[0, 1]"),
        (dict(consumption=-np.ones((3, 2, 2))), "consumption[0, 0, 0]"),
        (dict(consumption=np.ones((3, 2, 3))), "consumption"),
        (dict(rewards=np.ones((3, 2)), consumption=np.ones((4, 2, 2))), "consumption"),
        (dict(variant="auction"), "variant"),
    ],
)
def test_bad_instance_names_field(kw, field):
    with pytest.raises(InvalidInputError) as exc:
        make(**kw)
    assert exc.value.field == field


def test_compact_dtype_is_kept_and_readonly():
    inst = make(consumption=np.ones((3, 2, 2), dtype=np.uint8))
    assert inst.consumption.dtype == np.uint8
    assert not inst.consumption.flags.writeable and not inst.rewards.flags.writeable
    assert inst.budgets.tolist() == [1.5, 1.5]


def test_bidding_is_the_d1_m1_choice_case():
    inst = OnlineAllocInstance(
        rho=np.array([0.5]),
        values=np.array([3.0, 1.0]),
        prices=np.array([1.0, 2.0]),
        variant="bidding",
    )
    assert inst.rewards[:, 0].tolist() == [2.0, -1.0]
    assert inst.consumption[:, 0, 0].tolist() == [1.0, 2.0]
    dec = OnlineAllocDecision.from_bids(inst, np.array([1.0, 1.5]))
    assert dec.actions.tolist() == [0, -1]  # bid 1 >= price 1 wins; 1.5 < 2 loses


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"actions": [0, 1, 0]}, "actions[1]"),
        ({"actions": [0, 0]}, "actions"),
        ({"actions": [0, True, 0]}, "actions[1]"),
        ({"actions": [-1, -1, -1], "duals": [-1.0]}, "duals[0]"),
        (
            {"actions": [0, -1, -1], "fractional": {"t": [0], "option": [0], "x": [0.5]}},
            "fractional.t[0]",
        ),
        ({"actions": [-1, -1, -1], "bogus": 1}, "bogus"),
    ],
)
def test_bad_decision_names_field(data, field):
    inst = three_requests()
    with pytest.raises(InvalidInputError) as exc:
        OnlineAllocDecision.from_dict(
            {"family": "online_alloc", "schema_version": 1, **data}, instance=inst
        )
    assert exc.value.field == field


def test_decision_round_trip():
    inst = three_requests()
    dec = OnlineAllocDecision(
        actions=np.array([-1, 0, -1]),
        duals=np.array([2.0]),
        frac_t=np.array([2]),
        frac_option=np.array([0]),
        frac_x=np.array([0.5]),
    )
    back = OnlineAllocDecision.from_dict(dec.to_dict(), instance=inst)
    assert back.to_dict() == dec.to_dict()
