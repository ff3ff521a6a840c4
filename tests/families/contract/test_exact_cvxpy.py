"""The exact `cvxpy` contract solver (spec/contract.md, "Solvers"; tolerances of architecture.md).

Known optima derived by hand, the guarantees every exact answer must carry (optimal, feasible
to 1e-7 by the independent evaluate(), a dual bound that really bounds), bit-for-bit canonical
decisions, the DPP cache against a fresh problem, first best as an upper bound, and bad input.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from contract_testkit import (
    decision_arrays,
    first_best_effort,
    first_best_value,
    gen,
    multipliers_vector,
    variant,
)
from scipy.optimize import minimize_scalar

import optkit
from optkit.core.errors import InvalidInputError, NoDecisionError
from optkit.core.status import Guarantee, Status
from optkit.families.contract.constraints import build_system, objective_weights, stack_decision
from optkit.families.contract.instance import (
    ContractDecision,
    ContractInstance,
    LogValuation,
    PowerValuation,
)

CERT_KEYS = {"dual_bound", "binding", "multipliers", "information_rent", "stationarity_residual"}
# A fresh problem with the data as constants (no DPP parameters), the baseline the DPP cache is
# measured against. (The brief called this {"rebuild": True}; the solver now spells it
# {"model": "inline"}, with "rebuild" = the parameterised problem compiled afresh.)
FRESH_CONSTANT = {"model": "inline"}
FRESH_DPP = {"model": "rebuild"}


@functools.cache
def solved(preset: str, seed: int, n: int, ll: bool = False):
    """One solve per case, shared by the tests that read it (solves are deterministic)."""
    inst = gen(preset, seed, n, limited_liability=True) if ll else gen(preset, seed, n)
    return inst, optkit.solve(inst, solver="cvxpy")


# (preset, seed, I, limited liability): every small preset, I = 1..6, with and without R >= 0.
CASES = [
    (preset, 1000 * n + int(ll), n, ll)
    for preset in ("default", "static", "interim", "power")
    for n in range(1, 7)
    for ll in (False, True)
]


# -- known optima ----------------------------------------------------------------------------


def two_type_static(valuation, effort_max: float) -> ContractInstance:
    """c = 1, θ = (0.5, 1) so φ = (2, 1); ν = (0.6, 0.4); N = 3; one period."""
    return ContractInstance(
        n_servers=3,
        willingness=[0.5, 1.0],
        unit_cost=1.0,
        prior=[0.6, 0.4],
        valuation=valuation,
        periods=1,
        effort_max=effort_max,
    )


# Hand-derived optimum of the static two-type screening problem (φ_1 = 2 > φ_2 = 1, ν = (.6, .4)).
# IR of the high-cost type 1 and the downward IC of type 2 bind:
#     R1 = φ_1 e1,   R2 = φ_2 e2 + (φ_1 - φ_2) e1     (type 2's information rent (φ_1 - φ_2) e1).
# Substituting, the objective ν_1 [G(e1) - φ_1 e1] + ν_2 [G(e2) - φ_2 e2 - (φ_1 - φ_2) e1] is
# separable and strictly concave: type 2 gets first best, G'(e2) = φ_2, and type 1's effort solves
# the virtual-cost condition ν_1 G'(e1) = ν_1 φ_1 + ν_2 (φ_1 - φ_2), i.e. G'(e1) = ψ = 2 + (.4/.6)
# = 8/3. Both are interior (0 < e1 < e2 < effort_max) and e1 < e2, so the relaxed solution is the
# optimum (the upward IC is slack: type 1 would pay φ_1 (e2 - e1) more than the rent gained).
#   log  G = 10 ln(1 + e):  G' = 10/(1+e):  e2 = 10 - 1 = 9,  e1 = 10/ψ - 1 = 2.75
#   power G = 10 √e:        G' = 5/√e:      e2 = 25,          e1 = (5/ψ)^2 = 3.515625
KNOWN_STATIC = {
    "log": (LogValuation(10.0, 1.0), 20.0, 2.75, 9.0),
    "power": (PowerValuation(10.0, 0.5), 30.0, 3.515625, 25.0),
}


def known_static_answer(kind: str):
    valuation, emax, e1, e2 = KNOWN_STATIC[kind]
    inst = two_type_static(valuation, emax)
    phi1, phi2 = 2.0, 1.0
    r = np.array([phi1 * e1, phi2 * e2 + (phi1 - phi2) * e1])
    e = np.array([e1, e2])
    G = valuation.value(e)
    objective = 3 * (0.6 * (G[0] - r[0]) + 0.4 * (G[1] - r[1]))
    return inst, e, r, objective


@pytest.mark.parametrize("kind", ["log", "power"])
def test_known_static_two_type_optimum(kind):
    """Objective to 1e-6 relative (log: 3[.6(10 ln 3.75 - 5.5) + .4(10 ln 10 - 11.75)];
    power: 3[.6(18.75 - 7.03125) + .4(50 - 25 - 3.515625)] = 46.875). The menu is checked to
    1e-3 relative here and to 1e-6 below (efforts polished from the multipliers)."""
    inst, e, r, objective = known_static_answer(kind)
    res = optkit.solve(inst, solver="cvxpy")
    assert res.status is Status.OPTIMAL
    assert res.objective == pytest.approx(objective, rel=1e-6)
    assert res.evaluation.objective == pytest.approx(objective, rel=1e-6)
    np.testing.assert_allclose(res.decision.effort1, e, rtol=1e-3)
    np.testing.assert_allclose(res.decision.reward1, r, rtol=1e-3)


@pytest.mark.parametrize("kind", ["log", "power"])
def test_known_static_two_type_decision_to_1e_6(kind):
    """The optimal menu is unique here (strictly concave in e, binding IR/IC fix R), so an exact
    solver's canonical decision should equal it to the tolerance of the objective."""
    inst, e, r, _ = known_static_answer(kind)
    dec = optkit.solve(inst, solver="cvxpy").decision
    np.testing.assert_allclose(dec.effort1, e, rtol=1e-6)
    np.testing.assert_allclose(dec.reward1, r, rtol=1e-6)


@pytest.mark.parametrize("ir", ["per_period", "interim"])
def test_known_dynamic_optimum_with_persistent_types(ir):
    """P = identity (types never change), δ = 0.8: the optimum is (1 + δ) times the static one.

    Upper bound: only ask that type i not mimic type k in both periods at once (a liar may do
    better at history k, so this relaxes IC1/IC2) and only ask total IR (relaxes both IRs).
    That is static screening of the bundle (e1_k, e2_kk) at cost φ_i (e1_k + δ e2_kk); with IR1
    of type 1 and the downward IC of type 2 binding, the objective separates by period into the
    static problem once with weight 1 and once with weight δ. Achieved: offer the static optimal
    menu in period 1 and at every history in period 2 (IC at each history, IR in each period,
    and a liar's continuation equals the truthful one, so IC1 is the static IC). Interim IR
    relaxes per-period IR and the same menu is still optimal. On-path efforts e1 and e2[i, i]
    equal the static ones (unique: strictly concave); off-path items (probability 0) are free."""
    valuation, emax, e1, e2 = KNOWN_STATIC["log"]
    static, _, _, static_obj = known_static_answer("log")
    inst = ContractInstance(
        n_servers=3,
        willingness=[0.5, 1.0],
        unit_cost=1.0,
        prior=[0.6, 0.4],
        valuation=valuation,
        periods=2,
        transition=np.eye(2),
        discount=0.8,
        ir=ir,
        effort_max=emax,
    )
    res = optkit.solve(inst, solver="cvxpy")
    assert res.status is Status.OPTIMAL
    assert res.objective == pytest.approx(1.8 * static_obj, rel=1e-6)
    np.testing.assert_allclose(res.decision.effort1, [e1, e2], rtol=1e-3)
    np.testing.assert_allclose(np.diag(res.decision.effort2), [e1, e2], rtol=1e-3)


@pytest.mark.parametrize("periods", [1, 2])
@pytest.mark.parametrize(
    "omega, effort",
    [
        (10.0, 10.0 / 1.5 - 1.0),  # interior: G'(e) = ω/(1+e) = φ = 1.5
        (100.0, 20.0),  # first best 65.7 > effort_max: clamped to effort_max = 20
        (1.2, 0.0),  # G'(0) = ω κ = 1.2 <= φ: no effort is worth buying
    ],
)
def test_single_type_gets_first_best_and_no_rent(periods, omega, effort):
    """I = 1: nobody to screen, so the optimum is first best e* = argmax G(e) - φ e on
    [0, effort_max] with R = φ e* (IR binds: zero rent), in each period; the total is
    N (1 + δ)(G(e*) - φ e*) (with P = [[1]])."""
    inst = ContractInstance(
        n_servers=2,
        willingness=[1.0],
        unit_cost=1.5,
        prior=[1.0],
        valuation=LogValuation(omega, 1.0),
        periods=periods,
        transition=[[1.0]] if periods == 2 else None,
        discount=0.9,
        effort_max=20.0,
    )
    res = optkit.solve(inst, solver="cvxpy")
    value = omega * math.log1p(effort) - 1.5 * effort
    weight = 1.0 + (0.9 if periods == 2 else 0.0)
    assert res.status is Status.OPTIMAL
    assert res.objective == pytest.approx(2 * weight * value, rel=1e-6, abs=1e-9)
    dec = res.decision
    items = [(dec.effort1, dec.reward1)]
    if periods == 2:
        items.append((dec.effort2, dec.reward2))
    for e, r in items:
        np.testing.assert_allclose(e, effort, rtol=1e-3, atol=1e-9)
        np.testing.assert_allclose(r, 1.5 * e, rtol=1e-9, atol=1e-9)  # zero rent
    assert res.certificate["information_rent"] == pytest.approx([0.0], abs=1e-9)


# -- every exact answer ------------------------------------------------------------------------


@pytest.mark.parametrize("preset, seed, n, ll", CASES)
def test_every_exact_answer_is_certified(preset, seed, n, ll):
    """Status optimal; evaluate() (independent numpy) finds violation <= 1e-7 and the solver's
    objective (no objective_mismatch flag); bound >= objective up to rounding and gap <= 1e-6;
    the certificate carries dual bound, binding set, multipliers, information rents and the
    stationarity residual, and the rents equal evaluate()'s."""
    inst, res = solved(preset, seed, n, ll)
    assert res.status is Status.OPTIMAL, (res.status, res.flags, res.message)
    assert res.solver.name == "cvxpy" and res.solver.guarantee is Guarantee.EXACT
    assert res.evaluation.max_violation <= 1e-7
    assert "objective_mismatch" not in res.flags and not res.evaluation.objective_mismatch
    assert res.evaluation.objective == pytest.approx(res.objective, rel=1e-6, abs=1e-6)
    scale = max(1.0, abs(res.objective))
    assert res.bound >= res.objective - 1e-9 * scale
    assert res.gap <= 1e-6
    cert = res.certificate
    assert CERT_KEYS <= set(cert)
    assert cert["dual_bound"] == res.bound
    ev = optkit.evaluate(inst, res.decision)
    np.testing.assert_allclose(cert["information_rent"], ev.rent1, rtol=1e-12, atol=1e-12)
    json.dumps(res.to_dict())  # the CLI's JSON: no NaN, numpy scalars or enums left in it


@pytest.mark.parametrize("preset, seed, n, ll", CASES[::3])
def test_dual_certificate_checked_independently(preset, seed, n, ll):
    """Weak duality recomputed from the reported multipliers λ, not from certificate.py's code:
    for the constraints A z >= 0 and objective N (wG·G(e) - wR·R),
    * λ >= 0 on inequality rows and stationarity in R holds: A_Rᵀλ = N wR (else the Lagrangian
      is unbounded in R and no finite bound exists);
    * then L(e) = N wG·G(e) + λᵀ A_e e bounds the optimum for every e in the box, so no random
      effort vector may beat the reported bound;
    * at the answer z*, L(z*) = objective + λᵀ A z* <= bound, so complementary slackness
      λᵀ A z* is at most the reported gap;
    * every binding name has slack <= 1e-7 in evaluate()."""
    inst, res = solved(preset, seed, n, ll)
    system = build_system(inst)
    lam = multipliers_vector(system, res.certificate["multipliers"])
    assert np.all(lam[~system.equality_rows] >= 0)
    A_e = system.A[:, system.layout.effort_cols]
    A_r = system.A[:, system.layout.reward_cols]
    w_g, w_r = objective_weights(inst)
    N = inst.n_servers
    stationarity = N * w_r - A_r.T @ lam
    assert np.abs(stationarity).max() <= 1e-6 * N  # multipliers below 1e-9 are not reported
    dec = res.decision
    z = stack_decision(system.layout, dec.effort1, dec.reward1, dec.effort2, dec.reward2)
    e_star = z[system.layout.effort_cols]
    r_star = z[system.layout.reward_cols]
    scale = max(1.0, abs(res.objective))
    slack_term = float(lam @ (system.A @ z))
    assert slack_term <= res.bound - res.objective + abs(stationarity @ r_star) + 1e-9 * scale
    rng = np.random.default_rng(seed)
    for _ in range(200):
        e = rng.uniform(0.0, inst.effort_max, size=len(e_star))
        if rng.random() < 0.3:  # also the corners, where a bounded sup is often attained
            e = np.where(rng.random(len(e)) < 0.5, 0.0, inst.effort_max)
        lagrangian = N * w_g @ inst.valuation.value(e) + lam @ (A_e @ e)
        assert lagrangian <= res.bound + 1e-9 * scale
    ev = optkit.evaluate(inst, dec)
    for name in res.certificate["binding"]:
        group, idx = name[:-1].split("[")
        assert ev.slacks[group][tuple(int(x) for x in idx.split(","))] <= 1e-7


# -- determinism, DPP cache ---------------------------------------------------------------------


@pytest.mark.parametrize("preset, n", [("default", 3), ("interim", 3), ("static", 5), ("power", 2)])
def test_canonical_decisions_reproducible_bit_for_bit(preset, n):
    """The canonical menu comes from a deterministic simplex vertex on the same data, so solving
    an instance again, even after the cached problem of that shape was re-solved with other
    parameter values (and after another shape), gives identical arrays and objective."""
    a, b = gen(preset, 21, n), gen(preset, 22, n)
    first = optkit.solve(a, solver="cvxpy")
    again = optkit.solve(a, solver="cvxpy")
    optkit.solve(b, solver="cvxpy")
    optkit.solve(gen("default", 23, n + 1), solver="cvxpy")
    after = optkit.solve(a, solver="cvxpy")
    for other in (again, after):
        assert other.objective == first.objective
        assert other.bound == first.bound
        for x, y in zip(
            decision_arrays(first.decision), decision_arrays(other.decision), strict=True
        ):
            assert np.array_equal(x, y)


@pytest.mark.parametrize(
    "preset, n, ll",
    [("default", 3, False), ("interim", 4, True), ("power", 3, False), ("static", 6, True)],
)
@pytest.mark.parametrize("params", [FRESH_CONSTANT, FRESH_DPP], ids=["inline", "rebuild"])
def test_dpp_cache_agrees_with_a_fresh_problem(preset, n, ll, params):
    """The cached DPP problem re-solved with new parameter values and a fresh problem of the
    same data agree on the objective to 1e-6 relative (the spec's agreement tolerance)."""
    inst = gen(preset, 31, n, limited_liability=ll)
    optkit.solve(gen(preset, 32, n, limited_liability=ll), solver="cvxpy")  # warm the cache
    cached = optkit.solve(inst, solver="cvxpy")
    fresh = optkit.solve(inst, solver="cvxpy", params=params)
    assert cached.status is fresh.status is Status.OPTIMAL
    assert fresh.objective == pytest.approx(cached.objective, rel=1e-6)
    assert fresh.evaluation.max_violation <= 1e-7


# -- bounds ---------------------------------------------------------------------------------


def pooled_value(inst: ContractInstance) -> float:
    """A feasible menu: everyone gets type 1's first-best item (e1*, φ_1 e1*) in both periods.
    One item is IC; IR holds for all because φ_1 is the largest cost; R >= 0. So the optimum is
    at least its value."""
    e = first_best_effort(inst, inst.phi[0])
    n = inst.n_types
    dec = ContractDecision(
        effort1=np.full(n, e),
        reward1=np.full(n, inst.phi[0] * e),
        effort2=np.full((n, n), e) if inst.dynamic else None,
        reward2=np.full((n, n), inst.phi[0] * e) if inst.dynamic else None,
    )
    ev = optkit.evaluate(inst, dec)
    assert ev.max_violation <= 1e-12
    return ev.objective


@pytest.mark.parametrize("preset, seed, n, ll", CASES[1::2])
def test_first_best_bounds_the_optimum(preset, seed, n, ll):
    """Optimum <= first best (the complete-information relaxation) and >= the pooled menu and
    the zero menu (both feasible). The closed-form first-best effort is cross-checked against a
    bounded scalar search. With one type the optimum is first best itself."""
    inst, res = solved(preset, seed, n, ll)
    for phi in inst.phi:
        found = minimize_scalar(
            lambda e, phi=phi: -(float(inst.valuation.value(np.array(e))) - phi * e),
            bounds=(0.0, inst.effort_max),
            method="bounded",
            options={"xatol": 1e-10},
        )
        e = first_best_effort(inst, phi)
        assert float(inst.valuation.value(np.array(e))) - phi * e >= -found.fun - 1e-9
    fb = first_best_value(inst)
    tol = 1e-6 * max(1.0, abs(fb))
    assert fb >= res.objective - tol
    assert res.objective >= pooled_value(inst) - tol
    assert res.objective >= -tol
    if n == 1:
        assert res.objective == pytest.approx(fb, rel=1e-6)


# -- interim IR ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed, n", [(41, 2), (42, 3), (43, 4), (44, 5)])
def test_interim_canonical_and_a_relaxation_of_per_period(seed, n):
    """Under interim IR the solver normalises U2[i, 0] = 0, so R2[i, 0] = φ_1 e2[i, 0] in the
    decision; interim IR only asks the total over both periods to be >= 0, a relaxation of
    per-period IR, so its optimum is at least the per_period optimum of the same data."""
    inst, res = solved("interim", seed, n)
    dec = res.decision
    np.testing.assert_allclose(
        dec.reward2[:, 0],
        inst.phi[0] * dec.effort2[:, 0],
        rtol=0,
        atol=1e-9 * max(1.0, np.abs(dec.reward2).max()),
    )
    per_period = optkit.solve(variant(inst, ir="per_period"), solver="cvxpy")
    assert per_period.status is Status.OPTIMAL
    assert res.objective >= per_period.objective - 1e-6 * max(1.0, abs(per_period.objective))
    # ...and the per_period menu is feasible under interim IR (the relaxation, checked directly)
    assert optkit.evaluate(inst, per_period.decision).max_violation <= 1e-7


# -- time limit and bad input ----------------------------------------------------------------------


def test_zero_time_limit_gives_no_decision():
    """time_limit_s = 0 is spent before the solver starts (set-up counts): status time_limit,
    no decision, no objective or evaluation, and reading the decision raises NoDecisionError."""
    res = optkit.solve(gen("default", 0), solver="cvxpy", time_limit_s=0)
    assert res.status is Status.TIME_LIMIT
    assert not res.has_decision and res.objective is None and res.evaluation is None
    with pytest.raises(NoDecisionError):
        _ = res.decision
    assert res.to_dict()["decision"] is None


@pytest.mark.parametrize(
    "params, field",
    [
        ({"foo": 1}, "params.foo"),
        ({"rebuild": "False"}, "params.rebuild"),
        ({"model": True}, "params.model"),
        ({"model": "Inline"}, "params.model"),
    ],
)
def test_bad_solver_params_refused(params, field):
    """Unknown parameters are refused naming params.<key> (a typo must not be ignored); values
    must have the documented type: no string standing in for a bool, no bool for a mode name."""
    with pytest.raises(InvalidInputError) as info:
        optkit.solve(gen("default", 0), solver="cvxpy", params=params)
    assert info.value.field == field


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"time_limit_s": -1.0}, "time_limit_s"),
        ({"time_limit_s": math.nan}, "time_limit_s"),
        ({"threads": 0}, "threads"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_solve_arguments_refused(kwargs, field):
    """The public solve() validates its own arguments, naming them."""
    with pytest.raises(InvalidInputError) as info:
        optkit.solve(gen("default", 0), solver="cvxpy", **kwargs)
    assert info.value.field == field


# -- scale -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed, n", [(60, 8), (61, 10)])
def test_large_preset_at_moderate_size_is_certified(seed, n):
    """Spec target: I = 10 solved OPTIMAL (the time target is not asserted here)."""
    inst = gen("large", seed, n)
    res = optkit.solve(inst, solver="cvxpy")
    assert res.status is Status.OPTIMAL, (res.flags, res.message)
    assert res.evaluation.max_violation <= 1e-7 and res.gap <= 1e-6


# cvxpy 1.8 sums an uninitialised np.empty in Sum.shape_from_args while compiling a new shape;
# harmless (the shape is recomputed), but numpy warns on this shape's first build.
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
@pytest.mark.parametrize("seed, n", [(2, 18), (0, 20), (26, 19)])
def test_large_preset_at_full_size_is_optimal(seed, n):
    """`large` draws I in 8..20; every instance it draws should be solved OPTIMAL (the spec's
    stretch: I = 20). These seeds stall with Clarabel's defaults (InsufficientProgress, gap ~1e-4)
    and are certified by the retry with a shorter maximum step (seed 26 only by the last, 0.8)."""
    res = optkit.solve(gen("large", seed, n), solver="cvxpy")
    assert res.status is Status.OPTIMAL, (res.status, res.message)
    assert "clarabel_retry" in res.flags
    assert res.evaluation.max_violation <= 1e-7 and res.gap <= 1e-6


def test_first_solve_in_a_process_equals_the_next():
    """A new compiled shape is warmed up once, so the first answer is the cached path's answer."""
    from optkit.families.contract import exact_cvxpy

    inst = optkit.generate("contract", "power", 11, n_types=4)
    exact_cvxpy._CACHE.clear()
    first = optkit.solve(inst, "cvxpy")
    second = optkit.solve(inst, "cvxpy")
    assert first.objective == second.objective
    np.testing.assert_array_equal(first.decision.effort2, second.decision.effort2)
