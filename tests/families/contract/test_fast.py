"""The `fast` solver: agreement with cvxpy, its certificate, fallbacks, batching; and the batched
evaluate() it certifies with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from contract_testkit import gen
from hypothesis import given, settings
from hypothesis import strategies as st

import optkit
from optkit.core.errors import InvalidInputError
from optkit.core.jsonio import read_json
from optkit.core.result import SolveResult
from optkit.core.status import Status
from optkit.families.contract import fast
from optkit.families.contract.evaluate import evaluate, evaluate_batch
from optkit.families.contract.instance import ContractDecision

SUITE = Path(__file__).resolve().parents[3] / "instances" / "contract" / "suite-v1"
SUITE_FILES = sorted(p for p in SUITE.glob("*.json") if not p.name.endswith(".solution.json"))


def test_agrees_with_the_certified_suite():
    """One batch over all 70 suite instances (seven shapes, I = 1..10): each answer, certified or
    fallen back, matches the stored certified objective to 1e-6 relative."""
    insts = [optkit.load(p) for p in SUITE_FILES]
    outs, stats = fast.solve_batch(insts)
    assert stats.n == 70 and stats.fallbacks <= 7  # measured 0-3; the rest are certified here
    for path, inst, out in zip(SUITE_FILES, insts, outs, strict=True):
        ref = SolveResult.from_dict(read_json(path.with_name(path.stem + ".solution.json")))
        assert out.status is Status.OPTIMAL, (path.stem, out.message)
        rel = abs(out.objective - ref.objective) / max(1.0, abs(ref.objective))
        assert rel <= 1e-6, path.stem
        report = evaluate(inst, out.decision)
        assert report.max_violation <= 1e-7 and report.objective == pytest.approx(out.objective)
        assert out.bound >= out.objective - 1e-9 * max(1.0, abs(out.objective))


@settings(max_examples=25, deadline=None)
@given(
    preset=st.sampled_from(["default", "interim", "power", "static"]),
    seed=st.integers(0, 10**6),
    n=st.integers(1, 4),
    ll=st.booleans(),
)
def test_certified_answers_match_cvxpy(preset, seed, n, ll):
    inst = optkit.generate("contract", preset, seed, n_types=n, limited_liability=ll)
    res = optkit.solve(inst, "fast")
    ref = optkit.solve(inst, "cvxpy")
    assert res.status is Status.OPTIMAL
    assert res.evaluation.max_violation <= 1e-7 and not res.evaluation.objective_mismatch
    assert res.gap <= 1e-6
    assert res.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-6)
    # both bounds are valid: each solver's value lies below the other's bound
    assert res.objective <= ref.bound + 1e-9 * max(1.0, abs(ref.bound))
    assert ref.objective <= res.bound + 1e-9 * max(1.0, abs(res.bound))


def test_batch_keeps_input_order_across_shapes():
    insts = [gen("default", 1), gen("static", 2, n_types=4), gen("interim", 3), gen("default", 4)]
    outs, stats = fast.solve_batch(insts)
    for inst, out in zip(insts, outs, strict=True):
        assert out.decision.n_types == inst.n_types
        assert out.objective == pytest.approx(evaluate(inst, out.decision).objective)


def test_failed_certificates_fall_back_to_cvxpy(monkeypatch):
    """With one iteration allowed nothing certifies: every item is re-solved by cvxpy, flagged and
    counted; without fallback the items are errors, never numbers."""
    monkeypatch.setattr(fast, "MAX_ITER", 1)
    insts = [gen("default", s) for s in range(3)]
    outs, stats = fast.solve_batch(insts)
    assert stats.fallbacks == 3
    for out in outs:
        assert out.status is Status.OPTIMAL and "fallback_cvxpy" in out.flags
        assert out.certificate["fallback"] is True and out.certificate["fallback_reason"]
    outs, _ = fast.solve_batch(insts, fallback=False)
    assert all(o.status is Status.ERROR and o.objective is None for o in outs)


def test_canonical_rewards_on_request():
    """canonical=True replaces the interior-point rewards by the canonical LP's for the same
    efforts: the same profit (the expected payment is minimal either way) and no larger total."""
    inst = gen("interim", 7)
    plain = optkit.solve(inst, "fast")
    canon = optkit.solve(inst, "fast", params={"canonical": True})
    np.testing.assert_array_equal(plain.decision.effort2, canon.decision.effort2)
    assert canon.objective == pytest.approx(plain.objective, rel=1e-9)
    total = lambda d: d.reward1.sum() + d.reward2.sum()  # noqa: E731
    assert total(canon.decision) <= total(plain.decision) + 1e-9
    assert (
        np.abs(canon.decision.reward2[:, 0] - inst.phi[0] * canon.decision.effort2[:, 0]).max()
        < 1e-9
    )


def test_rejects_unknown_params():
    with pytest.raises(InvalidInputError, match="params.model"):
        optkit.solve(gen("default", 0), "fast", params={"model": "cached"})


@settings(max_examples=30, deadline=None)
@given(
    preset=st.sampled_from(["default", "interim", "power", "static"]),
    seed=st.integers(0, 10**6),
    ll=st.booleans(),
    data=st.data(),
)
def test_evaluate_batch_equals_evaluate(preset, seed, ll, data):
    """Random (mostly infeasible) menus: objective and max violation agree with evaluate()."""
    B = 4
    insts = [optkit.generate("contract", preset, seed + k, n_types=3, limited_liability=ll)
             for k in range(B)]  # fmt: skip
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    dyn = insts[0].dynamic
    e1, r1 = rng.uniform(-1, 12, (B, 3)), rng.uniform(-5, 40, (B, 3))
    e2 = rng.uniform(-1, 12, (B, 3, 3)) if dyn else None
    r2 = rng.uniform(-5, 40, (B, 3, 3)) if dyn else None
    obj, viol = evaluate_batch(insts, e1, r1, e2, r2)
    for k, inst in enumerate(insts):
        dec = ContractDecision(e1[k], r1[k], None if e2 is None else e2[k],
                               None if r2 is None else r2[k])  # fmt: skip
        ref = evaluate(inst, dec)
        assert obj[k] == pytest.approx(ref.objective, rel=1e-13, abs=1e-12)
        assert viol[k] == pytest.approx(ref.max_violation, rel=1e-13, abs=1e-12)
