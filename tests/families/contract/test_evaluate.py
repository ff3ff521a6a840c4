"""evaluate(): objective and every IC/IR slack of a menu, in plain numpy (spec/contract.md).

evaluate() is the referee of every solver, so it is checked three independent ways:
1. against the sparse linear system of constraints.build_system (built row by row from the spec,
   used by the canonical LP and the dual certificate) on arbitrary menus, group by group;
2. on menus whose violations are known by construction (contract_testkit.py explains why the
   base menus are strictly feasible), broken by a known amount v in exactly one place;
3. on the zero menu (always feasible, objective G(0) - 0 = 0) and on effort-bound violations.
"""

from __future__ import annotations

import numpy as np
import pytest
from contract_testkit import feasible_menu, gen, replace, small_instances
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import optkit
from optkit.families.contract.constraints import build_system, stack_decision
from optkit.families.contract.instance import ContractDecision, ContractInstance

BOUND_GROUPS = {"e1_min", "e1_max", "e2_min", "e2_max"}
CONSTRAINT_GROUPS = {"ic1", "ic2", "ir1", "ir2", "liability1", "liability2"}
PROPERTY = settings(max_examples=60, deadline=None)


def random_menu(data, inst: ContractInstance) -> ContractDecision:
    """Arbitrary menus: efforts a little outside [0, effort_max] too, rewards of any sign."""
    n = inst.n_types
    effort = st.floats(-1.0, inst.effort_max + 1.0)
    money = st.floats(-50.0, 50.0)
    arr = lambda shape, el: data.draw(hnp.arrays(np.float64, shape, elements=el))  # noqa: E731
    if not inst.dynamic:
        return ContractDecision(effort1=arr(n, effort), reward1=arr(n, money))
    return ContractDecision(
        effort1=arr(n, effort),
        reward1=arr(n, money),
        effort2=arr((n, n), effort),
        reward2=arr((n, n), money),
    )


def objective_by_loops(inst: ContractInstance, dec: ContractDecision) -> float:
    """The spec's objective written out term by term:
    N · Σ_i ν_i [ G(e1_i) − R1_i + δ Σ_j P_ij ( G(e2_ij) − R2_ij ) ]."""
    G = lambda e: float(inst.valuation.value(np.array(max(e, 0.0))))  # noqa: E731
    total = 0.0
    for i in range(inst.n_types):
        term = G(dec.effort1[i]) - dec.reward1[i]
        if inst.dynamic:
            for j in range(inst.n_types):
                term += (
                    inst.discount
                    * inst.transition[i, j]
                    * (G(dec.effort2[i, j]) - dec.reward2[i, j])
                )
        total += inst.prior[i] * term
    return inst.n_servers * total


def slack_at(ev, name: str) -> float:
    """The slack a name such as 'ic2[1, 0, 2]' refers to."""
    group, idx = name[:-1].split("[")
    return float(ev.slacks[group][tuple(int(x) for x in idx.split(","))])


# -- 1. cross-check with the independent linear system -------------------------------------------


@PROPERTY
@given(inst=small_instances(), data=st.data())
def test_slacks_equal_the_linear_system(inst, data):
    """For any menu z, the rows of A z (constraints.py) are evaluate()'s slacks: ic1 rows (i, k),
    ic2 (i, j, j'), ir1 (i), ir2 (i, j), liability; every finite slack is exactly one row. The
    'canonical' equality rows exist only under interim IR and are U2[i, 0], i.e. ir2[i, 0]."""
    dec = random_menu(data, inst)
    system = build_system(inst)
    z = stack_decision(system.layout, dec.effort1, dec.reward1, dec.effort2, dec.reward2)
    Az = system.A @ z
    ev = optkit.evaluate(inst, dec)
    groups = set(system.groups) - {"canonical"}
    assert groups == set(ev.slacks) - BOUND_GROUPS
    assert groups <= CONSTRAINT_GROUPS
    atol = 1e-11 * (1.0 + np.abs(z).max()) * (1.0 + inst.phi.max())
    for name in groups:
        g = system.groups[name]
        assert not g.equality
        assert np.isfinite(ev.slacks[name]).sum() == g.stop - g.start, name
        if g.stop == g.start:  # I = 1: no pair of types, no IC row
            continue
        got = ev.slacks[name][tuple(np.asarray(g.index).reshape(len(g.index), -1).T)]
        np.testing.assert_allclose(got, Az[g.start : g.stop], rtol=1e-12, atol=atol, err_msg=name)
        assert len({tuple(np.atleast_1d(r)) for r in g.index}) == len(g.index), name
    if inst.dynamic and inst.ir == "interim":
        g = system.groups["canonical"]
        assert g.equality
        np.testing.assert_allclose(
            Az[g.start : g.stop], ev.slacks["ir2"][:, 0], rtol=1e-12, atol=atol
        )
        assert system.equality_rows.sum() == inst.n_types
    else:
        assert "canonical" not in system.groups and not system.equality_rows.any()


@PROPERTY
@given(inst=small_instances(), data=st.data())
def test_objective_rent_and_summary_are_consistent(inst, data):
    """The objective equals the spec's formula written with loops; rent1 is U1 + δ Σ_j P_ij U2_ij;
    max_violation, worst and feasible summarise the slacks (feasible: violation <= 1e-6)."""
    dec = random_menu(data, inst)
    ev = optkit.evaluate(inst, dec)
    expected = objective_by_loops(inst, dec)
    assert ev.objective == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert ev.profit_per_server * inst.n_servers == pytest.approx(ev.objective, rel=1e-12, abs=1e-9)
    u1 = dec.reward1 - inst.phi * dec.effort1
    if inst.dynamic:
        u2 = dec.reward2 - inst.phi[None, :] * dec.effort2
        u1 = u1 + inst.discount * (inst.transition * u2).sum(axis=1)
    np.testing.assert_allclose(ev.rent1, u1, rtol=1e-12, atol=1e-9)
    worst = max((float(-np.min(s)) for s in ev.slacks.values()), default=0.0)
    assert ev.max_violation == pytest.approx(max(worst, 0.0), abs=0)
    if ev.max_violation > 0:
        assert slack_at(ev, ev.worst) == -ev.max_violation
    else:
        assert ev.worst == ""
    viol = ev.violations()
    if ev.max_violation > 1e-12:
        assert viol[ev.worst] == ev.max_violation == max(viol.values())
    else:
        assert viol == {}
    assert ev.feasible == (ev.max_violation <= 1e-6)


# -- 2. known violations ---------------------------------------------------------------------


def menus(presets=("default", "static", "interim")):
    return st.fixed_dictionaries(
        {
            "inst": small_instances(presets=presets, max_types=5),
            "menu_seed": st.integers(0, 2**32 - 1),
            "frac": st.floats(0.01, 0.99),
        }
    )


def base_menu(case) -> tuple[ContractInstance, ContractDecision, np.random.Generator]:
    inst = case["inst"]
    if inst.limited_liability:  # lowering rewards could break R >= 0 as well: keep it off here
        inst = ContractInstance.from_dict({**inst.to_dict(), "limited_liability": False})
    rng = np.random.default_rng(case["menu_seed"])
    dec = feasible_menu(inst, rng, margin1=rng.uniform(0.5, 5.0), margin2=rng.uniform(0.5, 5.0))
    ev = optkit.evaluate(inst, dec)
    assert ev.max_violation == 0.0 and ev.worst == "" and ev.feasible  # strictly feasible base
    return inst, dec, rng


def assert_only_violation(ev, name: str, v: float) -> None:
    """Exactly one constraint is violated, the named one, by v (to rounding)."""
    assert ev.worst == name
    assert ev.max_violation == pytest.approx(v, rel=1e-9, abs=1e-12)
    viol = ev.violations(tol=1e-9 * v)
    assert set(viol) == {name}, viol


def assert_unchanged(before, after, groups) -> None:
    for g in groups:
        if g in before.slacks:
            a, b = before.slacks[g], after.slacks[g]
            fin = np.isfinite(a)
            assert np.array_equal(fin, np.isfinite(b))
            np.testing.assert_allclose(b[fin], a[fin], rtol=1e-12, atol=1e-10, err_msg=g)


@settings(max_examples=60, deadline=None)
@given(case=menus())
def test_lowering_period1_rewards_breaks_only_the_tightest_ir1(case):
    """Lowering every period-1 reward by Δ leaves each IC1 slack unchanged (only differences of
    R1 enter IC1) and lowers each IR1 slack by Δ. With Δ = (smallest IR1 slack) + v and v below
    the gap to the second smallest, exactly that IR1 is violated, by v. Under per_period IR the
    smallest is type 0's (utilities increase with the type); under interim IR it is wherever the
    continuation makes it."""
    inst, dec, _ = base_menu(case)
    before = optkit.evaluate(inst, dec)
    s = np.sort(before.slacks["ir1"])
    gap = s[1] - s[0] if len(s) > 1 else np.inf
    v = case["frac"] * min(gap, 5.0)
    assume(v > 1e-4)
    k = int(np.argmin(before.slacks["ir1"]))
    if inst.ir == "per_period" or not inst.dynamic:
        assert k == 0
    after = optkit.evaluate(inst, replace(dec, reward1=dec.reward1 - (s[0] + v)))
    assert_only_violation(after, f"ir1[{k}]", v)
    assert_unchanged(before, after, ["ic1", "ic2", "ir2"])


@settings(max_examples=60, deadline=None)
@given(case=menus(("default", "interim")), h=st.integers(0, 4))
def test_shifting_history_rent_breaks_only_ir2(case, h):
    """At history h, lower every period-2 reward by Δ and raise R1_h by δΔ. A truthful type h
    loses δ Σ_j P_hj Δ = δΔ in period 2 and gains δΔ in period 1; a liar reporting h loses
    δ Σ_j P_ij Δ = δΔ too (rows of P sum to 1). So IC1, IC2 (differences within a history) and
    the interim IR1 slack are unchanged, and only IR2 at history h drops by Δ. Its smallest
    entry is ir2[h, 0] (period-2 utilities increase with the type), so Δ = U2[h, 0] + v violates
    exactly ir2[h, 0] by v when v < U2[h, 1] - U2[h, 0]."""
    inst, dec, _ = base_menu(case)
    h = h % inst.n_types
    before = optkit.evaluate(inst, dec)
    u2 = before.slacks["ir2"][h]
    assert int(np.argmin(u2)) == 0
    gap = u2[1] - u2[0] if len(u2) > 1 else np.inf
    v = case["frac"] * min(gap, 5.0)
    assume(v > 1e-4)
    delta = u2[0] + v
    r1, r2 = np.array(dec.reward1), np.array(dec.reward2)
    r2[h] -= delta
    r1[h] += inst.discount * delta
    after = optkit.evaluate(inst, replace(dec, reward1=r1, reward2=r2))
    assert_only_violation(after, f"ir2[{h}, 0]", v)
    unchanged = ["ic1", "ic2"] + (["ir1"] if inst.ir == "interim" else [])
    assert_unchanged(before, after, unchanged)
    np.testing.assert_allclose(after.rent1, before.rent1, rtol=1e-12, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(case=menus(), k=st.integers(0, 3), downward=st.booleans())
def test_moving_one_reward_step_breaks_exactly_one_ic1(case, k, downward):
    """Period-1 reward steps sit at the midpoint of [φ_{k+1} Δe_k, φ_k Δe_k]. Setting step k to
    φ_k Δe_k + v makes type k gain exactly v by reporting k+1: ic1[k, k+1] = -v. Setting it to
    φ_{k+1} Δe_k - v makes type k+1 gain exactly v by reporting k: ic1[k+1, k] = -v. Every other
    deviation gains strictly less (the other steps still sit strictly inside their intervals),
    and with margin m > v every IR stays slack. Period 2 repeats one row at every history, so
    continuations cancel in IC1 (dynamic and interim alike). The worst constraint must be the
    named one; others may be violated, but by strictly less than v."""
    inst, dec, rng = base_menu(case)
    n = inst.n_types
    assume(n >= 2)
    k = k % (n - 1)
    phi, e = inst.phi, dec.effort1
    de = np.diff(e)
    v = case["frac"] * 2.0
    steps = 0.5 * (phi[:-1] + phi[1:]) * de
    steps[k] = phi[k] * de[k] + v if downward else phi[k + 1] * de[k] - v
    margin = v + rng.uniform(0.5, 2.0)
    r1 = phi[0] * e[0] + margin + np.concatenate([[0.0], np.cumsum(steps)])
    ev = optkit.evaluate(inst, replace(dec, reward1=r1))
    name = f"ic1[{k}, {k + 1}]" if downward else f"ic1[{k + 1}, {k}]"
    assert ev.worst == name
    assert ev.max_violation == pytest.approx(v, rel=1e-9)
    others = {key: x for key, x in ev.violations().items() if key != name}
    assert all(key.startswith("ic1[") and x < v * (1 - 1e-9) for key, x in others.items())


@settings(max_examples=40, deadline=None)
@given(inst=small_instances(), data=st.data(), step=st.floats(0.5, 20.0))
def test_objective_is_linear_in_rewards(inst, data, step):
    """Raising R1_i by t changes the objective by -N ν_i t exactly (linear, no other term), and
    R2_ij by -N δ ν_i P_ij t: the per-ES weights of objective_weights times N."""
    dec = random_menu(data, inst)
    base = optkit.evaluate(inst, dec).objective
    tol = 1e-10 * max(1.0, abs(base), inst.n_servers * step)
    i = data.draw(st.integers(0, inst.n_types - 1))
    r1 = np.array(dec.reward1)
    r1[i] += step
    moved = optkit.evaluate(inst, replace(dec, reward1=r1)).objective
    assert moved - base == pytest.approx(-inst.n_servers * inst.prior[i] * step, abs=tol)
    if inst.dynamic:
        j = data.draw(st.integers(0, inst.n_types - 1))
        r2 = np.array(dec.reward2)
        r2[i, j] += step
        moved = optkit.evaluate(inst, replace(dec, reward2=r2)).objective
        coef = inst.n_servers * inst.discount * inst.prior[i] * inst.transition[i, j]
        assert moved - base == pytest.approx(-coef * step, abs=tol)


# -- 3. the zero menu and effort bounds ---------------------------------------------------------


def zero_menu(inst: ContractInstance, **arrays) -> ContractDecision:
    n = inst.n_types
    fields = dict(effort1=np.zeros(n), reward1=np.zeros(n))
    if inst.dynamic:
        fields.update(effort2=np.zeros((n, n)), reward2=np.zeros((n, n)))
    fields.update(arrays)
    return ContractDecision(**fields)


@pytest.mark.parametrize("preset", ["default", "static", "interim", "power", "large"])
@pytest.mark.parametrize("ll", [False, True])
def test_zero_menu_is_feasible_with_objective_zero(preset, ll):
    """e = 0, R = 0 meets every IC/IR with equality (all utilities 0) and R >= 0; G(0) = 0 for
    both valuations, so the cloud's profit is exactly 0 (spec: "always feasible")."""
    inst = gen(preset, 2, limited_liability=ll)
    ev = optkit.evaluate(inst, zero_menu(inst))
    assert ev.objective == 0.0 and ev.max_violation == 0.0 and ev.worst == "" and ev.feasible
    assert np.array_equal(ev.rent1, np.zeros(inst.n_types))


@pytest.mark.parametrize("preset", ["default", "static", "power"])
@pytest.mark.parametrize("v", [1e-3, 0.5, 7.0])
def test_effort_above_max_reported_as_e1_max(preset, v):
    """Everyone pooled on e = effort_max + v with R = φ_1 e + 1: IC holds with equality (one item),
    every IR is slack by >= 1 (φ_1 is the largest cost), so the only violations are e1_max[k] = v
    for every type k; the first is reported as worst."""
    inst = gen(preset, 3)
    n = inst.n_types
    e = np.full(n, inst.effort_max + v)
    ev = optkit.evaluate(inst, zero_menu(inst, effort1=e, reward1=inst.phi[0] * e + 1.0))
    assert ev.worst == "e1_max[0]"
    assert ev.max_violation == pytest.approx(v, rel=1e-9)
    viol = ev.violations(tol=1e-9 * v)
    assert set(viol) == {f"e1_max[{k}]" for k in range(n)}


@pytest.mark.parametrize("preset", ["default", "interim", "power"])
@pytest.mark.parametrize("v", [1e-3, 2.0])
def test_negative_period2_effort_reported_as_e2_min(preset, v):
    """Period-2 efforts -v with R2 = 0 give U2_ij = φ_j v > 0 (IR2 slack), one pooled item per
    history (IC2 with equality) and the same row at every history (continuations cancel in IC1):
    only e2_min[i, j] = v is violated; the first, e2_min[0, 0], is worst."""
    inst = gen(preset, 4)
    n = inst.n_types
    ev = optkit.evaluate(inst, zero_menu(inst, effort2=np.full((n, n), -v)))
    assert ev.worst == "e2_min[0, 0]"
    assert ev.max_violation == pytest.approx(v, rel=1e-12)
    assert set(ev.violations()) == {f"e2_min[{i}, {j}]" for i in range(n) for j in range(n)}


@pytest.mark.parametrize("v", [1e-3, 2.0])
def test_negative_period1_reward_is_a_liability_violation_only(v):
    """Under interim IR a negative period-1 payment -v is individually rational when the
    continuation pays more (δ c >= v + 1, c a pooled period-2 payment for zero effort), so with
    limited liability the only violations are liability1[k] = v."""
    inst = gen("interim", 5, limited_liability=True)
    n = inst.n_types
    c = (v + 1.0) / inst.discount
    dec = zero_menu(inst, reward1=np.full(n, -v), reward2=np.full((n, n), c))
    ev = optkit.evaluate(inst, dec)
    assert ev.worst == "liability1[0]"
    assert ev.max_violation == pytest.approx(v, rel=1e-12)
    assert set(ev.violations()) == {f"liability1[{k}]" for k in range(n)}
    # without limited liability the same menu is feasible
    free = ContractInstance.from_dict({**inst.to_dict(), "limited_liability": False})
    assert optkit.evaluate(free, dec).max_violation <= 1e-15  # IC1 ties up to rounding
