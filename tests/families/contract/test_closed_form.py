"""closed_form: hand-worked optima, ironing, and "agrees with cvxpy or refuses" on both sides of
every boundary of its domain (spec/contract.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from contract_testkit import gen, variant

import optkit
from optkit.core.errors import InvalidInputError, NoDecisionError
from optkit.core.status import Guarantee, Status
from optkit.families.contract.closed_form import pav_nonincreasing, virtual_costs
from optkit.families.contract.instance import ContractInstance, LogValuation


def static_two_type(omega: float, emax: float = 20.0) -> ContractInstance:
    """φ = c/θ = [2, 1] (c = 2, θ = [1, 2]), ν = [½, ½], G = ω ln(1 + e), N = 1."""
    return ContractInstance(
        n_servers=1,
        willingness=np.array([1.0, 2.0]),
        unit_cost=2.0,
        prior=np.array([0.5, 0.5]),
        valuation=LogValuation(omega=omega, kappa=1.0),
        periods=1,
        effort_max=emax,
    )


def test_static_two_types_hand_worked():
    """v_1 = φ_1 + (φ_1 - φ_2) ν_2/ν_1 = 3, v_2 = φ_2 = 1; G'(e) = 10/(1+e) = v gives
    e = (7/3, 9); R_1 = φ_1 e_1 = 14/3 (IR binds), R_2 = φ_2 e_2 + (φ_1 - φ_2) e_1 = 34/3."""
    res = optkit.solve(static_two_type(10.0), "closed_form")
    assert res.status is Status.OPTIMAL and res.solver.guarantee is Guarantee.EXACT_WHERE_APPLICABLE
    np.testing.assert_allclose(res.decision.effort1, [7 / 3, 9.0], rtol=1e-14)
    np.testing.assert_allclose(res.decision.reward1, [14 / 3, 34 / 3], rtol=1e-14)
    expected = 0.5 * (10 * np.log(10 / 3) - 14 / 3) + 0.5 * (10 * np.log(10.0) - 34 / 3)
    assert res.objective == pytest.approx(expected, rel=1e-14)
    assert res.bound == res.objective and res.gap == 0.0


def test_static_exclusion_hand_worked():
    """ω = 2.5: v_1 = 3 >= G'(0) = 2.5 excludes type 1 (e_1 = R_1 = 0, so no rent for type 2);
    type 2 gets its first best 2.5/1 - 1 = 1.5 at cost R_2 = 1.5."""
    res = optkit.solve(static_two_type(2.5), "closed_form")
    np.testing.assert_array_equal(res.decision.effort1[0], 0.0)
    np.testing.assert_allclose(res.decision.effort1, [0.0, 1.5])
    np.testing.assert_allclose(res.decision.reward1, [0.0, 1.5])


def test_static_clamps_at_effort_max():
    """effort_max = 5 < type 2's first best 9: e_2 = 5 and the rent stays φ-gap times e_1."""
    res = optkit.solve(static_two_type(10.0, emax=5.0), "closed_form")
    np.testing.assert_allclose(res.decision.effort1, [7 / 3, 5.0])
    np.testing.assert_allclose(res.decision.reward1, [14 / 3, 5.0 + 7 / 3])


def test_pav():
    np.testing.assert_allclose(pav_nonincreasing(np.array([1.0, 3.0, 2.0]), np.ones(3)), [2, 2, 2])
    np.testing.assert_allclose(pav_nonincreasing(np.array([3.0, 2.0, 1.0]), np.ones(3)), [3, 2, 1])
    np.testing.assert_allclose(
        pav_nonincreasing(np.array([5.0, 1.0, 4.0]), np.array([1.0, 3.0, 1.0])), [5, 1.75, 1.75]
    )


def test_ironing_pools_types_and_matches_cvxpy():
    """ν = [0.45, 0.1, 0.45]: the rare middle type's virtual cost exceeds type 1's, so types 1
    and 2 are pooled (one effort) and the menu still matches the convex program."""
    inst = ContractInstance(
        n_servers=3,
        willingness=np.array([1.0, 1.2, 2.0]),
        unit_cost=1.0,
        prior=np.array([0.45, 0.1, 0.45]),
        valuation=LogValuation(omega=10.0, kappa=1.0),
        periods=1,
        effort_max=20.0,
    )
    v = virtual_costs(inst.phi, inst.prior)
    assert v[1] > v[0]  # the raw virtual costs are not monotone: ironing is needed
    res = optkit.solve(inst, "closed_form")
    ref = optkit.solve(inst, "cvxpy")
    assert res.decision.effort1[0] == res.decision.effort1[1]
    assert res.objective == pytest.approx(ref.objective, rel=1e-6)
    assert ref.objective <= res.objective <= ref.bound * (1 + 1e-12)


# -- the domain ---------------------------------------------------------------------------------
def _fb(inst: ContractInstance, v: float) -> float:
    """argmax G(e) - v e on [0, e_max] (log valuation, written out independently)."""
    g = inst.valuation
    return float(np.clip(g.omega / v - 1.0 / g.kappa, 0.0, inst.effort_max))


def _two_type_terms(inst: ContractInstance) -> dict[str, float]:
    """Efforts and rewards of the spec's two-type two-period solution (log valuation)."""
    (nu_l, nu_h), (phi_l, phi_h) = inst.prior, inst.phi
    P, dl = inst.transition, inst.discount
    d = phi_l - phi_h
    e1_l = _fb(inst, phi_l + d * nu_h / nu_l)
    if inst.ir == "interim":
        v2 = phi_l + d * nu_h * (P[1, 1] - P[0, 1]) / (nu_l * P[0, 0])
    else:
        v2 = phi_l + d * (nu_l * P[0, 1] + nu_h * P[1, 1]) / (nu_l * P[0, 0])
    e2_ll, e2_hl, fb_h = _fb(inst, v2), _fb(inst, phi_l), _fb(inst, phi_h)
    u1_l = -dl * P[0, 1] * d * e2_ll if inst.ir == "interim" else 0.0
    extra = (P[1, 1] - P[0, 1]) if inst.ir == "interim" else P[1, 1]
    u1_h = d * e1_l + dl * extra * d * e2_ll - dl * P[1, 1] * d * e2_hl
    return dict(e1_l=e1_l, e2_ll=e2_ll, e2_hl=e2_hl, r1_l=phi_l * e1_l + u1_l,
                r1_h=phi_h * fb_h + u1_h, u1_h=u1_h)  # fmt: skip


def expected_applicable(inst: ContractInstance) -> bool:
    """The spec's domain, written from spec/contract.md independently of the solver code."""
    if not inst.dynamic or inst.n_types == 1:
        return True
    if inst.n_types > 2 or inst.transition[1, 1] < inst.transition[0, 1]:
        return False
    t = _two_type_terms(inst)
    if inst.ir == "per_period":
        return t["u1_h"] >= 0  # H's period-1 IR slack
    return not inst.limited_liability or min(t["r1_l"], t["r1_h"]) >= 0


KINDS = ("persistence", "h_ir", "liability", "exclusion", "clamp", "ironing", "size")


def boundary_case(k: int) -> tuple[ContractInstance, str]:
    """Case k: an instance at relative distance eps (1e-6..1e-1) on one side of one boundary."""
    rng = np.random.default_rng(10_000 + k)
    kind, side = KINDS[k % len(KINDS)], (-1.0, 1.0)[(k // len(KINDS)) % 2]
    eps = 10 ** rng.uniform(-6, -1)
    for _attempt in range(200):  # redraw until the boundary lies inside the parameter ranges
        seed = int(rng.integers(1 << 30))
        if kind == "persistence":
            inst = gen("default", seed, n_types=2, ir=str(rng.choice(["per_period", "interim"])))
            p_lh = rng.uniform(0.1, 0.8)
            p_hh = p_lh * (1 + side * eps)
            P = [[1 - p_lh, p_lh], [1 - p_hh, p_hh]]
            return variant(inst, transition=P), kind
        if kind in ("h_ir", "liability"):
            ir = "per_period" if kind == "h_ir" else "interim"
            # persistent P; liability binds only with a likely L -> H switch and a rare L
            p_lh = rng.uniform(0.05, 0.9) if kind == "h_ir" else rng.uniform(0.5, 0.95)
            p_hh = rng.uniform(p_lh, 1.0)
            nu_l = rng.uniform(0.2, 0.8) if kind == "h_ir" else rng.uniform(0.05, 0.5)
            inst = gen(
                "default",
                seed,
                n_types=2,
                ir=ir,
                limited_liability=kind == "liability",
                transition=[[1 - p_lh, p_lh], [1 - p_hh, p_hh]],
                prior=[nu_l, 1 - nu_l],
            )
            # every term is affine in δ: find where the condition crosses zero
            at = lambda dl, inst=inst: _two_type_terms(dataclasses.replace(inst, discount=dl))  # noqa: E731
            f = (lambda t: t["u1_h"]) if kind == "h_ir" else (lambda t: min(t["r1_l"], t["r1_h"]))
            lo, hi = 1e-3, 1.0
            if not (f(at(lo)) > 0 > f(at(hi))):
                continue
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if f(at(mid)) > 0 else (lo, mid)
            star = 0.5 * (lo + hi)
            dl = star * (1 + side * eps)
            if not 0 < dl <= 1:
                continue
            return dataclasses.replace(inst, discount=dl), kind
        if kind == "exclusion":  # static, G'(0) = ωκ against type 1's virtual cost
            inst = gen("static", seed, n_types=2)
            v1 = virtual_costs(inst.phi, inst.prior)[0]
            kappa = v1 * (1 + side * eps) / inst.valuation.omega
            return variant(inst, valuation={"kind": "log", "omega": inst.valuation.omega,
                                            "kappa": kappa}), kind  # fmt: skip
        if kind == "clamp":  # static, type I's first best against effort_max
            inst = gen("static", seed, n_types=int(rng.integers(1, 5)))
            e_star = inst.valuation.omega / inst.phi[-1] - 1 / inst.valuation.kappa
            if e_star <= 0:
                continue
            return variant(inst, effort_max=e_star * (1 + side * eps)), kind
        if kind == "ironing":  # static I in 2..8: Dirichlet priors iron often
            return gen("static", seed, n_types=int(rng.integers(2, 9))), kind
        if kind == "size":  # two periods with I = 1 (applies) or I >= 3 (refuses)
            return gen("default", seed, n_types=1 if side < 0 else int(rng.integers(3, 5))), kind
    raise AssertionError(f"no {kind} case found")


@pytest.mark.parametrize("k", range(252))
def test_agrees_with_cvxpy_or_refuses(k):
    inst, kind = boundary_case(k)
    res = optkit.solve(inst, "closed_form")
    if not expected_applicable(inst):
        assert res.status is Status.NOT_APPLICABLE, (kind, res.status, res.objective)
        assert res.objective is None and res.bound is None and res.message
        with pytest.raises(NoDecisionError):
            res.decision  # noqa: B018
        return
    assert res.status is Status.OPTIMAL, (kind, res.message)
    ref = optkit.solve(inst, "cvxpy")
    assert ref.status is Status.OPTIMAL
    value = res.evaluation.objective
    assert res.evaluation.max_violation <= 1e-7
    assert value == pytest.approx(ref.evaluation.objective, rel=1e-6, abs=1e-6), kind
    # sandwiched between cvxpy's feasible menu and its certified dual bound
    assert value <= ref.bound + 1e-9 * max(1.0, abs(ref.bound)), kind


def test_boundary_cases_cover_both_sides():
    """The 252 cases above really straddle the domain: many refusals and many answers."""
    verdicts = {kind: set() for kind in KINDS}
    for k in range(252):
        inst, kind = boundary_case(k)
        verdicts[kind].add(expected_applicable(inst))
    for kind in ("persistence", "h_ir", "liability", "size"):
        assert verdicts[kind] == {True, False}, kind


def test_refusal_names_the_condition():
    res = optkit.solve(gen("default", 0, n_types=3), "closed_form")
    assert res.status is Status.NOT_APPLICABLE and "I = 3" in res.message


def test_rejects_params():
    with pytest.raises(InvalidInputError, match="params"):
        optkit.solve(static_two_type(10.0), "closed_form", params={"x": 1})
