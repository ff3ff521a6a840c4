"""The `closed_form` contract solver: exact inside its domain, NOT_APPLICABLE outside it.

Two textbook solutions (spec/contract.md), both derived from a relaxed problem whose answer is
then checked against the dropped constraints; inside the stated domain the check always passes,
so the answer is optimal for the full problem:

Static screening (periods = 1, any I; Myerson 1981, Laffont & Martimort 2002, ch. 2-3).
  Keep type 1's IR and the adjacent downward ICs. Rents are U_1 = 0 and
  U_i = U_{i-1} + (φ_{i-1} - φ_i) e_{i-1}, so the expected payment is Σ_i ν_i v_i e_i with the
  virtual cost  v_i = φ_i + (φ_i - φ_{i+1}) (Σ_{k>i} ν_k) / ν_i  (v_I = φ_I). Each effort maximises
  G(e) - v_i e on [0, effort_max]: zero ("exclusion") when v_i >= G'(0), clamped at effort_max.
  IC needs e nondecreasing in i; where v is not nonincreasing, pool-adjacent-violators ironing
  replaces v by its ν-weighted isotonic regression (Robertson, Wright & Dykstra 1988, thm 1.5.1:
  for a separable objective Σ ν_i [G(e_i) - v_i e_i] the monotone optimum is G'^{-1} of the
  isotonic regression of v, and clipping to the box commutes with it).

Two types, two periods (Baron & Besanko 1984; Courty & Li 2000), L = type 1, H = type 2,
Δ = φ_L - φ_H. Relaxed problem: L's IR in each state, downward IC2 at each history, H's
downward IC1. Every rent sits at its lower bound:
  U2_LL = U2_HL = 0, U2_LH = Δ e2_LL, U2_HH = Δ e2_HL, and H's total rent
  per_period: U1_L = 0,                     V_H = Δ e1_L + δ P_HH Δ e2_LL
  interim:    U1_L = -δ P_LH Δ e2_LL (V_L = 0), V_H = Δ e1_L + δ (P_HH - P_LH) Δ e2_LL
so e1_H, e2_LH, e2_HH, e2_HL are first best and the two L-efforts carry virtual costs
  v1_L  = φ_L + Δ ν_H / ν_L
  v2_LL = φ_L + Δ (ν_L P_LH + ν_H P_HH) / (ν_L P_LL)      per_period
  v2_LL = φ_L + Δ ν_H (P_HH - P_LH) / (ν_L P_LL)           interim
The dropped constraints hold when P_HH >= P_LH (L's upward IC1 then reduces to
Δ(e1_L - e1_H) + δ(P_HH - P_LH)Δ(e2_LL - e2_HL) <= 0, true because L-efforts are distorted
down), and, per period, when H's period-1 IR stays slack:
  U1_H = V_H - δ P_HH Δ e2_HL >= 0  ⟺  δ P_HH Δ e2_HL^FB <= Δ e1_L + δ P_HH Δ e2_LL.
With limited liability the interim menu can ask a negative R1_L; the closed form then refuses
(its relaxation would no longer be tight). One type (I = 1) is first best in each period.

Every menu is re-scored by evaluate(); a violation above the exact tolerance is reported as an
ERROR (a bug), never as a number.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import EXACT_FEASIBILITY
from optkit.families.contract.certificate import sup_concave
from optkit.families.contract.evaluate import evaluate
from optkit.families.contract.instance import ContractDecision, ContractInstance

BACKEND = "numpy"
# Boundary slack for the per-period IR condition, relative to the rents involved: at the boundary
# itself both sides of the condition give the same menu, so rounding there cannot flip the answer.
_BOUNDARY_REL = 1e-12


class NotApplicable(Exception):
    """The instance lies outside the closed form's domain (the message says which condition)."""


def best_effort(inst: ContractInstance, virtual_cost: np.ndarray) -> np.ndarray:
    """argmax over e in [0, effort_max] of G(e) - v e, elementwise (v may be +inf: e = 0)."""
    v = np.asarray(virtual_cost, dtype=float)
    e, _ = sup_concave(inst, np.ones_like(v), -v)
    return e


def pav_nonincreasing(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted isotonic regression onto nonincreasing sequences (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [weighted mean, weight, length]
    for v, w in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks[-1]
            blocks[-1] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2]
    return np.concatenate([np.full(n, v) for v, _, n in blocks])


def virtual_costs(phi: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """v_i = φ_i + (φ_i - φ_{i+1}) Σ_{k>i} ν_k / ν_i, with v_I = φ_I (static screening)."""
    tail = np.concatenate([np.cumsum(prior[::-1])[::-1][1:], [0.0]])
    gap = np.concatenate([phi[:-1] - phi[1:], [0.0]])
    return phi + gap * tail / prior


def static_menu(inst: ContractInstance) -> tuple[np.ndarray, np.ndarray]:
    """The optimal one-period menu (e, R) for the instance's types and prior (any I)."""
    phi = inst.phi
    v = pav_nonincreasing(virtual_costs(phi, inst.prior), inst.prior)
    e = best_effort(inst, v)
    # Adjacent downward IC binding, type 1's IR binding: U_i = Σ_{k<i} (φ_k - φ_{k+1}) e_k.
    rent = np.concatenate([[0.0], np.cumsum((phi[:-1] - phi[1:]) * e[:-1])])
    return e, phi * e + rent


def first_best_efforts(inst: ContractInstance) -> np.ndarray:
    """Complete-information efforts G'(e) = φ_i, clamped to [0, effort_max]; shape (I,)."""
    return best_effort(inst, inst.phi)


def _two_type_menu(inst: ContractInstance) -> ContractDecision:
    (nu_l, nu_h), (phi_l, phi_h) = inst.prior, inst.phi
    P, delta = inst.transition, inst.discount
    p_ll, p_lh, p_hl, p_hh = P[0, 0], P[0, 1], P[1, 0], P[1, 1]
    if p_hh < p_lh:
        raise NotApplicable(f"P_HH = {p_hh:.6g} < P_LH = {p_lh:.6g} (types not persistent)")
    d = phi_l - phi_h
    interim = inst.ir == "interim"
    fb_l, fb_h = first_best_efforts(inst)
    e1_l = best_effort(inst, np.array([phi_l + d * nu_h / nu_l]))[0]
    cost_ll = d * (nu_h * (p_hh - p_lh) if interim else nu_l * p_lh + nu_h * p_hh)
    if p_ll > 0:
        e2_ll = best_effort(inst, np.array([phi_l + cost_ll / (nu_l * p_ll)]))[0]
    else:
        e2_ll = 0.0  # state never reached on the path: only its rent cost (or nothing) counts
    e1 = np.array([e1_l, fb_h])
    e2 = np.array([[e2_ll, fb_h], [fb_l, fb_h]])
    u2 = np.array([[0.0, d * e2_ll], [0.0, d * fb_l]])
    if interim:
        u1_l = -delta * p_lh * d * e2_ll
        v_h = d * e1_l + delta * (p_hh - p_lh) * d * e2_ll
    else:
        u1_l = 0.0
        v_h = d * e1_l + delta * p_hh * d * e2_ll
    u1_h = v_h - delta * (p_hl * u2[1, 0] + p_hh * u2[1, 1])
    if not interim and u1_h < -_BOUNDARY_REL * max(v_h, delta * p_hh * u2[1, 1], 1e-300):
        raise NotApplicable(
            "H's period-1 IR binds: δ·P_HH·Δφ·e2_HL^FB > Δφ·e1_L + δ·P_HH·Δφ·e2_LL"
            f" ({delta * p_hh * u2[1, 1]:.6g} > {v_h:.6g})"
        )
    if not interim:
        u1_h = max(u1_h, 0.0)
    r1 = inst.phi * e1 + np.array([u1_l, u1_h])
    r2 = inst.phi[None, :] * e2 + u2
    if inst.limited_liability and (r1.min() < 0 or r2.min() < 0):
        raise NotApplicable("limited liability binds (the interim menu asks a negative reward)")
    return ContractDecision(effort1=e1, reward1=r1, effort2=e2, reward2=r2)


def closed_form_menu(inst: ContractInstance) -> ContractDecision:
    """The optimal menu, or NotApplicable naming the failed domain condition."""
    if not inst.dynamic:
        e, r = static_menu(inst)
        return ContractDecision(effort1=e, reward1=r)
    if inst.n_types == 1:
        e, r = static_menu(inst)  # first best, IR binding, in each period
        return ContractDecision(effort1=e, reward1=r, effort2=e[None, :], reward2=r[None, :])
    if inst.n_types == 2:
        return _two_type_menu(inst)
    raise NotApplicable(f"periods = 2 with I = {inst.n_types} types (the closed form needs I <= 2)")


def solve(
    instance: ContractInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    if params:
        raise InvalidInputError("params", f"closed_form takes no params, got {sorted(params)}")
    t0 = time.perf_counter()
    try:
        menu = closed_form_menu(instance)
    except NotApplicable as why:
        return SolverOutput(
            status=Status.NOT_APPLICABLE,
            message=str(why),
            solve_s=time.perf_counter() - t0,
            backend=BACKEND,
        )
    report = evaluate(instance, menu)
    solve_s = time.perf_counter() - t0
    if report.max_violation > EXACT_FEASIBILITY:  # a bug, not a verdict: never a wrong number
        return SolverOutput(
            status=Status.ERROR,
            message=f"closed-form menu violates {report.worst} by {report.max_violation:.2e}",
            solve_s=solve_s,
            backend=BACKEND,
        )
    return SolverOutput(
        status=Status.OPTIMAL,
        objective=report.objective,
        bound=report.objective,  # optimal by the theorem quoted in the module docstring
        decision=menu,
        certificate={"proof": "closed form (static screening / two-type dynamic)"},
        solve_s=solve_s,
        backend=BACKEND,
    )
