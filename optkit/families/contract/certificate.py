"""The Lagrangian dual bound of a contract instance, from any multipliers λ >= 0.

With constraints A z >= 0 and the (total) objective N (wG·G(e) - wR·R), the dual function is
    d(λ) = sup_{0 <= e <= e_max, R}  N wG·G(e) - N wR·R + λᵀ A z.
It is finite only when the reward coefficients vanish (stationarity in R: A_Rᵀλ = N wR); then it
separates over efforts and each term sup_e a·G(e) + s·e is closed form because G is concave.
By weak duality d(λ) bounds the optimum for every feasible λ, so a small d(λ) - objective
certifies optimality independently of the solver that produced λ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optkit.families.contract.constraints import LinearSystem, objective_weights
from optkit.families.contract.instance import ContractInstance, LogValuation


@dataclass(frozen=True)
class DualBound:
    bound: float
    """d(λ) after repair: an upper bound on the total objective."""
    residual: float
    """max |A_Rᵀλ - N wR| left after repair (0 up to rounding when the bound is valid)."""
    multipliers: np.ndarray
    """The repaired λ, one per row of the system (equality rows may be negative)."""
    efforts: np.ndarray
    """The Lagrangian's maximiser over efforts at λ (Layout.effort_cols order). At optimal λ it is
    the optimal effort wherever the weight of G is positive (G strictly concave there)."""


def sup_concave(
    inst: ContractInstance, a: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """argmax and max over e in [0, e_max] of a·G(e) + s·e, elementwise (a >= 0)."""
    E = inst.effort_max
    v = inst.valuation
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if isinstance(v, LogValuation):
            stat = -a * v.omega / s - 1.0 / v.kappa  # a ω κ / (1 + κ e) = -s
        else:
            stat = (-s / (a * v.omega * v.rho)) ** (1.0 / (v.rho - 1.0))  # a ω ρ e^(ρ-1) = -s
    e = np.where(s >= 0, E, np.clip(np.nan_to_num(stat, nan=0.0, posinf=E), 0.0, E))
    e = np.where(a <= 0, np.where(s > 0, E, 0.0), e)
    return e, a * v.value(e) + s * e


def dual_bound(inst: ContractInstance, system: LinearSystem, lam: np.ndarray) -> DualBound:
    lay = system.layout
    n = lay.n
    w_g, w_r = objective_weights(inst)
    N = inst.n_servers
    lam = np.array(lam, dtype=float)
    eq = system.equality_rows
    lam[~eq] = np.maximum(lam[~eq], 0.0)
    A_r = system.A_reward

    def residual() -> np.ndarray:
        return N * w_r - A_r.T @ lam

    # Repair stationarity in R exactly through rows whose only reward entry is +1 on that reward
    # (ir1 per period, ir2, liability) or that are equalities (canonical). R1 first: interim ir1
    # rows also touch R2, which the second pass then absorbs.
    groups = system.groups
    r = residual()
    for k in range(n):
        _absorb(lam, r[k], [(groups["ir1"], k, False), (groups.get("liability1"), k, False)])
    if lay.dynamic:
        r = residual()
        for k in range(n * n):
            i, j = divmod(k, n)
            cands = [(groups["ir2"], k, False)]
            if "canonical" in groups and j == 0:
                cands.append((groups["canonical"], i, True))
            cands.append((groups.get("liability2"), k, False))
            _absorb(lam, r[n + k], cands)
    res = float(np.max(np.abs(residual()))) if len(lam) else 0.0
    s = system.A_effort.T @ lam
    e, best = sup_concave(inst, N * w_g, s)
    return DualBound(float(best.sum()), res, lam, e)


def _absorb(lam: np.ndarray, r: float, candidates) -> None:
    """Move r into the candidates' multipliers in order, keeping inequality multipliers >= 0.

    Whatever cannot be absorbed stays as residual, which the caller reports.
    """
    for group, k, free in candidates:
        if group is None or r == 0.0:
            continue
        row = group.start + k
        take = r if free else max(r, -lam[row])
        lam[row] += take
        r -= take
