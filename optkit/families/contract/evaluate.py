"""Objective and every IC/IR slack of a menu, in plain numpy, independent of any solver.

A slack >= 0 means the constraint holds; violation = max(0, -slack). Groups (shapes, I types):
  e1_min, e1_max (I,), e2_min, e2_max (I, I)   0 <= e <= effort_max
  ir1 (I,)        per_period: U1_i >= 0;  interim: U1_i + δ Σ_j P_ij U2_ij >= 0
  ir2 (I, I)      U2_ij >= 0
  ic1 (I, I)      [i, k]: truthful type i's total minus its total when it reports k (diagonal: +inf)
  ic2 (I, I, I)   [i, j, j']: at history i, type j's U2_ij minus its payoff from item j' (diag +inf)
  liability1 (I,), liability2 (I, I)   R >= 0 (only with limited_liability)
with U1_i = R1_i - φ_i e1_i and U2_ij = R2_ij - φ_j e2_ij.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.core.tolerances import INFEASIBLE_VIOLATION
from optkit.families.contract.instance import ContractDecision, ContractInstance, LogValuation


@dataclass(frozen=True)
class ContractEvaluation:
    objective: float
    """Cloud's expected profit, total over the N servers."""
    profit_per_server: float
    slacks: dict[str, np.ndarray]
    max_violation: float
    total_violation: float
    """Σ max(0, -slack) over every constraint (the raw action map's penalty is λ times this)."""
    worst: str
    """The most violated constraint, e.g. 'ic1[2, 0]' ('' when none is violated)."""
    feasible: bool
    """max_violation <= 1e-6 (the tolerance table's count for learned/heuristic decisions)."""
    rent1: np.ndarray
    """Each period-1 type's expected total utility U1_i + δ Σ_j P_ij U2_ij (information rent)."""

    def slack_items(self, groups: tuple[str, ...] | None = None):
        """(name, slack) of every constraint, e.g. ('ic1[2, 0]', 0.0); diagonals skipped."""
        for group, s in self.slacks.items():
            if groups is None or group in groups:
                for idx in np.argwhere(np.isfinite(s)):
                    yield _name(group, idx), float(s[tuple(idx)])

    def violations(self, tol: float = 1e-12) -> dict[str, float]:
        """Constraints violated by more than tol (default: above rounding): {'ir2[0, 1]': 0.003}."""
        return {name: -s for name, s in self.slack_items() if s < -tol}

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "profit_per_server": self.profit_per_server,
            "max_violation": self.max_violation,
            "total_violation": self.total_violation,
            "worst": self.worst,
            "feasible": self.feasible,
            "information_rent": self.rent1.tolist(),
            "violations": self.violations(),
        }


def _name(group: str, idx: np.ndarray) -> str:
    return f"{group}[{', '.join(str(int(i)) for i in idx)}]"


def evaluate(instance: ContractInstance, decision: ContractDecision) -> ContractEvaluation:
    decision.check_fits(instance)
    phi, nu, n = instance.phi, instance.prior, instance.n_types
    G = instance.valuation.value
    e1, r1 = decision.effort1, decision.reward1
    u1 = r1 - phi * e1
    slacks: dict[str, np.ndarray] = {}
    slacks["e1_min"], slacks["e1_max"] = e1, instance.effort_max - e1
    if instance.dynamic:
        P, delta = instance.transition, instance.discount
        e2, r2 = decision.effort2, decision.reward2
        slacks["e2_min"], slacks["e2_max"] = e2, instance.effort_max - e2
        u2 = r2 - phi[None, :] * e2  # U2[i, j]
        cont = delta * (P * u2).sum(axis=1)  # truthful continuation of history i
        # payoff of true type j taking item j' at history i: R2[i, j'] - φ_j e2[i, j']
        cross2 = r2[:, None, :] - phi[None, :, None] * e2[:, None, :]  # [i, j, j']
        ic2 = u2[:, :, None] - cross2
        ic2[:, np.arange(n), np.arange(n)] = np.inf
        slacks["ic2"] = ic2
        slacks["ir2"] = u2
        # liar: true type i reports k, keeps its true row P_i, then reports truthfully (IC2 makes
        # truth optimal on every history), so its continuation is δ Σ_j P_ij U2_kj.
        cont_cross = delta * P @ u2.T  # [i, k]
        profit = nu @ (G(np.maximum(e1, 0)) - r1) + delta * (
            nu @ (P * (G(np.maximum(e2, 0)) - r2)).sum(axis=1)
        )
    else:
        cont = np.zeros(n)
        cont_cross = np.zeros((n, n))
        profit = nu @ (G(np.maximum(e1, 0)) - r1)
    total = u1 + cont
    # deviation payoff of true type i reporting k: R1_k - φ_i e1_k + continuation of history k
    dev = r1[None, :] - phi[:, None] * e1[None, :] + cont_cross
    ic1 = total[:, None] - dev
    ic1[np.arange(n), np.arange(n)] = np.inf
    slacks["ic1"] = ic1
    slacks["ir1"] = total if (instance.ir == "interim" and instance.dynamic) else u1
    if instance.limited_liability:
        slacks["liability1"] = r1
        if instance.dynamic:
            slacks["liability2"] = decision.reward2
    worst, max_violation, total_violation = "", 0.0, 0.0
    for group, s in slacks.items():
        finite = s[np.isfinite(s)]
        total_violation += float(np.maximum(-finite, 0.0).sum())
        k = int(np.argmin(s))
        v = float(-s.flat[k])
        if v > max_violation:
            max_violation = v
            worst = _name(group, np.array(np.unravel_index(k, s.shape)))
    return ContractEvaluation(
        objective=float(instance.n_servers * profit),
        profit_per_server=float(profit),
        slacks=slacks,
        max_violation=max_violation,
        total_violation=total_violation,
        worst=worst,
        feasible=max_violation <= INFEASIBLE_VIOLATION,
        rent1=total,
    )


def evaluate_batch(
    instances: list[ContractInstance],
    effort1: np.ndarray,
    reward1: np.ndarray,
    effort2: np.ndarray | None = None,
    reward2: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(objective, max_violation) of B menus of one shape at once, the same arithmetic as
    evaluate() with a leading batch axis (tests check the two agree). Arrays: effort1/reward1
    (B, I), effort2/reward2 (B, I, I). Used where thousands of menus are certified per second."""
    first = instances[0]
    n, B = first.n_types, len(instances)
    dynamic, interim = first.dynamic, first.ir == "interim" and first.dynamic
    phi = np.array([i.phi for i in instances])
    nu = np.array([i.prior for i in instances])
    emax = np.array([i.effort_max for i in instances])[:, None]
    G = _batch_valuation(instances)
    e1, r1 = effort1, reward1
    u1 = r1 - phi * e1
    groups = [e1, emax - e1]
    if dynamic:
        P = np.array([i.transition for i in instances])
        delta = np.array([i.discount for i in instances])[:, None]
        e2, r2 = effort2, reward2
        u2 = r2 - phi[:, None, :] * e2
        cont = delta * (P * u2).sum(2)
        cross2 = r2[:, :, None, :] - phi[:, None, :, None] * e2[:, :, None, :]  # [b, i, j, j']
        ic2 = u2[:, :, :, None] - cross2
        ic2[:, :, np.arange(n), np.arange(n)] = np.inf
        groups += [e2, emax[:, :, None] - e2, ic2, u2]
        cont_cross = delta[:, :, None] * np.einsum("bij,bkj->bik", P, u2)
        profit = (nu * (G(np.maximum(e1, 0)) - r1)).sum(1) + delta[:, 0] * (
            nu * (P * (G(np.maximum(e2, 0)) - r2)).sum(2)
        ).sum(1)
    else:
        cont, cont_cross = np.zeros((B, n)), np.zeros((B, n, n))
        profit = (nu * (G(np.maximum(e1, 0)) - r1)).sum(1)
    total = u1 + cont
    dev = r1[:, None, :] - phi[:, :, None] * e1[:, None, :] + cont_cross
    ic1 = total[:, :, None] - dev
    ic1[:, np.arange(n), np.arange(n)] = np.inf
    groups += [ic1, total if interim else u1]
    if first.limited_liability:
        groups += [r1] + ([reward2] if dynamic else [])
    worst = np.max([np.max(-g.reshape(B, -1), axis=1) for g in groups], axis=0)
    n_servers = np.array([i.n_servers for i in instances], dtype=float)
    return n_servers * profit, np.maximum(worst, 0.0)


def _batch_valuation(instances: list[ContractInstance]):
    """G(e) for a batch of one valuation kind, parameters broadcast along the batch axis."""
    v0 = instances[0].valuation
    omega = np.array([i.valuation.omega for i in instances])
    if isinstance(v0, LogValuation):
        kappa = np.array([i.valuation.kappa for i in instances])

        def G(e):
            shape = (-1,) + (1,) * (e.ndim - 1)
            return omega.reshape(shape) * np.log1p(kappa.reshape(shape) * e)

        return G
    rho = np.array([i.valuation.rho for i in instances])

    def G(e):
        shape = (-1,) + (1,) * (e.ndim - 1)
        return omega.reshape(shape) * np.power(e, rho.reshape(shape))

    return G
