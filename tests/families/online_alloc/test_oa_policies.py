"""Online policies: budgets never exceeded, rewards re-scored, streaming API, batched = single."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oa_testkit import three_requests

import optkit
from optkit.core.status import Status
from optkit.families.online_alloc.dmd import REFERENCES, DMDParams
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.policies import (
    DMD,
    FixedDual,
    Greedy,
    Resolve,
    ResolveParams,
    StreamHeader,
    run_stream,
)
from optkit.families.online_alloc.simulate import simulate

POLICIES = ("dmd", "greedy", "fixed_dual", "resolve")


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    preset=st.sampled_from(["small", "bidding-small", "matching-small"]),
    model=st.sampled_from(["iid", "adversarial", "markov", "periodic"]),
    beta=st.floats(0.05, 1.0),
)
def test_budgets_never_exceeded_and_rewards_rescored(seed, preset, model, beta):
    if preset == "bidding-small" and model in ("markov", "periodic"):
        model = "iid"
    inst = generate(preset, seed, T=120, input_model=model, beta=beta)
    for policy in POLICIES:
        res = optkit.solve(inst, policy, seed=seed)
        if preset == "matching-small" and policy in ("fixed_dual", "resolve"):
            assert res.status is Status.NOT_APPLICABLE  # LP-priced policies
            continue
        assert res.status is Status.FEASIBLE, (policy, res.message)
        ev = res.evaluation
        assert ev.max_violation == 0.0, policy  # the safety rule: never a unit over
        assert not ev.objective_mismatch, policy
        assert res.bound is None


@pytest.mark.parametrize("reference", REFERENCES)
def test_batched_simulator_plays_the_single_stream_actions(reference):
    streams = [generate("small", s, T=300, m=6, d=4) for s in range(5)]
    params = DMDParams(reference=reference)
    batch = simulate(streams, "dmd", params)
    for s, inst in enumerate(streams):
        actions, _ = run_stream(DMD(params), inst)
        assert np.array_equal(actions, batch.actions[s])


def test_batched_greedy_and_fixed_dual_match_single_stream():
    streams = [generate("small", s, T=200) for s in range(3)]
    mu = np.linspace(0.0, 2.0, streams[0].m)
    for policy, factory in (("greedy", Greedy), ("fixed_dual", lambda: FixedDual(mu))):
        batch = simulate(streams, policy, mu=mu)
        for s, inst in enumerate(streams):
            actions, _ = run_stream(factory(), inst)
            assert np.array_equal(actions, batch.actions[s]), policy


@pytest.mark.parametrize("make", [DMD, lambda: Resolve(ResolveParams(every=30))])
def test_state_round_trip_resumes_identically(make):
    inst = generate("small", 3, T=200)
    header = StreamHeader.from_instance(inst)
    R, C = inst.rewards, inst.consumption
    whole = make()
    whole.reset(header)
    expected = [whole.step(R[t], C[t]) for t in range(inst.T)]
    first = make()
    first.reset(header)
    got = [first.step(R[t], C[t]) for t in range(100)]
    saved = json.loads(json.dumps(first.state()))  # what a service would persist
    second = make()
    second.reset(header)
    second.load_state(saved)
    got += [second.step(R[t], C[t]) for t in range(100, inst.T)]
    assert got == expected


def test_greedy_on_the_hand_worked_stream():
    """Greedy takes request 0 (reward 1) and then cannot afford the others (see oa_testkit)."""
    res = optkit.solve(three_requests(), "greedy")
    assert res.objective == 1.0 and res.decision.actions.tolist() == [0, -1, -1]


def test_dmd_is_deterministic_and_beats_greedy_on_nrm():
    inst = generate("nrm", 11, T=2000, m=20)
    a = optkit.solve(inst, "dmd")
    b = optkit.solve(inst, "dmd")
    assert np.array_equal(a.decision.actions, b.decision.actions)
    assert a.objective > optkit.solve(inst, "greedy").objective


def test_fixed_dual_trains_on_another_stream():
    inst = generate("small", 4, T=300)
    res = optkit.solve(inst, "fixed_dual", params={"train_T": 300})
    assert res.certificate["train_stream"] == 1
    given_mu = optkit.solve(inst, "fixed_dual", params={"mu": res.certificate["final_duals"]})
    assert given_mu.objective == res.objective
    arrays_only = optkit.families.online_alloc.OnlineAllocInstance(
        rho=inst.rho, rewards=inst.rewards, consumption=inst.consumption
    )
    assert optkit.solve(arrays_only, "fixed_dual").status is Status.NOT_APPLICABLE


def test_bidding_bids_are_dmd_bids():
    inst = generate("bidding-small", 2)
    res = optkit.solve(inst, "dmd", params={"reference": "euclidean"})
    bids, won = res.decision.bids, res.decision.actions == 0
    assert (bids[won] >= inst.prices[won]).all() and (bids[~won] < inst.prices[~won]).all()
    assert bids[0] == pytest.approx(inst.values[0])  # μ_1 = 0 for the euclidean reference


def test_bad_params_name_the_field():
    inst = generate("small", 0, T=20)
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.solve(inst, "dmd", params={"reference": "cosine"})
    assert exc.value.field == "reference"
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.solve(inst, "dmd", params={"step": 1})
    assert exc.value.field == "params.step"
