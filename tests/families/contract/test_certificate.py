"""The Lagrangian dual certificate (certificate.py), checked against independent computations.

The bound d(λ) = Σ sup_{0<=e<=e_max} [a·G(e) + s·e] is only as good as that elementwise sup, so
sup_concave is compared with a dense grid and a bounded scalar search for both valuations. Then
dual_bound itself: with λ = 0 the repair moves the whole reward weight N wR onto the IR rows
(λ_IR = N wR makes stationarity hold exactly), and the dual function at those multipliers is the
complete-information problem, so the bound must equal the first-best value computed in closed
form. Finally weak duality and convexity along the segment from the first-best multipliers to
the solver's.
"""

from __future__ import annotations

import numpy as np
import pytest
from contract_testkit import first_best_value, gen, multipliers_vector, small_instances
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import minimize_scalar

import optkit
from optkit.families.contract.certificate import dual_bound, sup_concave
from optkit.families.contract.constraints import build_system
from optkit.families.contract.instance import ContractInstance, LogValuation, PowerValuation

GRID = 20001


def valuation_holder(valuation, effort_max: float) -> ContractInstance:
    """A one-type static instance: only its valuation and effort_max matter to sup_concave."""
    return ContractInstance(
        n_servers=1,
        willingness=[1.0],
        unit_cost=1.0,
        prior=[1.0],
        valuation=valuation,
        periods=1,
        effort_max=effort_max,
    )


@st.composite
def valuation_instances(draw) -> ContractInstance:
    if draw(st.booleans()):
        val = LogValuation(draw(st.floats(0.1, 50.0)), draw(st.floats(0.05, 5.0)))
    else:
        val = PowerValuation(draw(st.floats(0.1, 50.0)), draw(st.floats(0.05, 0.95)))
    return valuation_holder(val, draw(st.floats(0.5, 30.0)))


coeffs = st.integers(1, 8).flatmap(
    lambda k: st.tuples(
        hnp.arrays(np.float64, k, elements=st.one_of(st.just(0.0), st.floats(1e-3, 100.0))),
        hnp.arrays(np.float64, k, elements=st.one_of(st.just(0.0), st.floats(-200.0, 200.0))),
    )
)


# certificate.py computes the stationary point (-aω/s - 1/κ, or (-s/(aωρ))^(1/(ρ-1))) without
# silencing overflow (it silences divide and invalid only); an overflow there means the point
# lies far beyond effort_max and is clipped to it, which the assertions below check.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@settings(max_examples=150, deadline=None)
@given(inst=valuation_instances(), ab=coeffs)
def test_sup_concave_is_the_true_maximum(inst, ab):
    """For a >= 0, a·G(e) + s·e is concave on [0, e_max]. The returned e must lie in the box,
    the returned value must be attained there (value = f(e)), and no point of a 20001-point grid
    nor a bounded scalar search may beat it: then it is the maximum (to rounding)."""
    a, s = ab
    e, value = sup_concave(inst, a, s)
    E = inst.effort_max
    G = inst.valuation.value
    assert np.all((e >= 0) & (e <= E))
    f_at_e = a * G(e) + s * e
    np.testing.assert_allclose(value, f_at_e, rtol=1e-12, atol=1e-12)
    grid = np.linspace(0.0, E, GRID)
    for k in range(len(a)):
        f = lambda x, ak=a[k], sk=s[k]: ak * G(x) + sk * x  # noqa: E731
        scale = 1e-9 * max(1.0, abs(a[k]) * abs(float(G(np.array(E)))), abs(s[k]) * E)
        assert value[k] >= f(grid).max() - scale
        found = minimize_scalar(
            lambda x, f=f: -f(x), bounds=(0.0, E), method="bounded", options={"xatol": 1e-12}
        )
        assert value[k] >= -found.fun - scale
        assert value[k] >= max(f(np.array(0.0)), f(np.array(E))) - scale


@pytest.mark.parametrize("kind", ["log", "power"])
def test_sup_concave_edge_cases(kind):
    """a = 0: the sup of s·e is s·e_max for s > 0 and 0 otherwise; s >= 0 with a > 0: G is
    increasing, so e = e_max."""
    val = LogValuation(10.0, 1.0) if kind == "log" else PowerValuation(10.0, 0.5)
    inst = valuation_holder(val, 4.0)
    a = np.array([0.0, 0.0, 0.0, 2.0, 2.0])
    s = np.array([3.0, 0.0, -3.0, 0.0, 1.0])
    e, value = sup_concave(inst, a, s)
    np.testing.assert_array_equal(e, [4.0, e[1], 0.0, 4.0, 4.0])
    GE = float(val.value(np.array(4.0)))
    np.testing.assert_allclose(value, [12.0, 0.0, 0.0, 2 * GE, 2 * GE + 4.0], rtol=1e-15)


@settings(max_examples=40, deadline=None)
@given(inst=small_instances(max_types=5))
def test_zero_multipliers_repair_to_the_first_best_bound(inst):
    """With λ = 0 the residual of stationarity is N wR > 0 and the repair absorbs it into
    ir1 (R1) and ir2 (R2), or, under interim IR, entirely into ir1 (its rows carry δ P_ij on
    R2). The resulting dual function maximises N wG·G(e) - Σ N w φ e separately: the first best."""
    system = build_system(inst)
    cert = dual_bound(inst, system, np.zeros(system.n_rows))
    assert cert.residual <= 1e-12 * inst.n_servers
    assert np.all(cert.multipliers[~system.equality_rows] >= 0)
    fb = first_best_value(inst)
    assert cert.bound == pytest.approx(fb, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    "preset, n, ll",
    [("default", 2, False), ("interim", 3, True), ("power", 3, False), ("static", 4, True)],
)
def test_dual_function_between_certificate_and_first_best(preset, n, ll):
    """Weak duality and convexity of the dual function d. Both the solver's multipliers λ* and
    the first-best multipliers λ_FB (the repair of λ = 0) satisfy stationarity A_Rᵀλ = N wR, a
    linear equation, and are >= 0, so every convex combination λ_t = t λ* + (1-t) λ_FB is a dual
    feasible point: optimum <= d(λ_t) (weak duality) <= t d(λ*) + (1-t) d(λ_FB) (d is a sup of
    affine functions of λ, hence convex). At t = 1 and t = 0 d gives back the reported bound and
    the first-best value."""
    inst = gen(preset, 50 + n, n, limited_liability=ll)
    res = optkit.solve(inst, solver="cvxpy")
    system = build_system(inst)
    lam_star = multipliers_vector(system, res.certificate["multipliers"])
    lam_fb = dual_bound(inst, system, np.zeros(system.n_rows)).multipliers
    fb = first_best_value(inst)
    tol = 1e-9 * max(1.0, abs(fb))
    assert dual_bound(inst, system, lam_star).bound == pytest.approx(res.bound, rel=1e-9)
    for t in np.linspace(0.0, 1.0, 11):
        cert = dual_bound(inst, system, t * lam_star + (1 - t) * lam_fb)
        assert cert.residual <= 1e-6 * inst.n_servers
        assert res.objective - tol <= cert.bound <= t * res.bound + (1 - t) * fb + tol
    assert fb > res.objective + tol  # with n >= 2 types information rents are costly
