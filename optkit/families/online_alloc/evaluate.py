"""Reward and every budget slack of a decision, in plain numpy, independent of any policy.

Slack >= 0 means the constraint holds; violation = max(0, -slack). Groups:
  budget (m,)      ρ_j T - Σ_t C_t[j, ·] x_t            (resource j never overspent)
  choice (k,)      1 - Σ_i x_ti over requests with fractional entries (at most one unit each)
  fraction (k,)    x >= 0 on every fractional entry
matching adds λ·Σ_t H(x_t0, x_t) (entropy over the options and "none") to the reward.
Integral actions satisfy the choice rows by construction (one option or none).
Also reported: per-resource utilisation, the first depletion time (the first request after which
some resource's remaining budget is below the largest single use of it in the stream, so a
request could be refused), and the number of requests served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.core.tolerances import INFEASIBLE_VIOLATION
from optkit.families.online_alloc.instance import (
    NO_ACTION,
    OnlineAllocDecision,
    OnlineAllocInstance,
)

CHUNK = 16384
"""Requests per chunk when gathering consumption (keeps float copies small at T = 10^6)."""


@dataclass(frozen=True)
class OnlineAllocEvaluation:
    objective: float
    """Total reward earned (reward units)."""
    used: np.ndarray
    """shape (m,), total consumption of each resource."""
    slacks: dict[str, np.ndarray]
    max_violation: float
    worst: str
    """The most violated constraint, e.g. 'budget[3]' ('' when none is violated)."""
    feasible: bool
    """max_violation <= 1e-6 (the tolerance table's count for heuristic/online decisions)."""
    utilisation: np.ndarray
    """shape (m,), used / (ρ T)."""
    first_depletion: int | None
    """Index of the first request after which a resource could not afford its largest use."""
    served: int
    """Requests with an (integral) action."""

    def violations(self, tol: float = 1e-12) -> dict[str, float]:
        out = {}
        for group, s in self.slacks.items():
            for k in np.flatnonzero(s < -tol):
                out[f"{group}[{int(k)}]"] = float(-s[k])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "max_violation": self.max_violation,
            "worst": self.worst,
            "feasible": self.feasible,
            "served": self.served,
            "first_depletion": self.first_depletion,
            "utilisation": self.utilisation.tolist(),
            "violations": self.violations(),
        }


def evaluate(instance: OnlineAllocInstance, decision: OnlineAllocDecision) -> OnlineAllocEvaluation:
    decision.check_fits(instance)
    r, C, B = instance.rewards, instance.consumption, instance.budgets
    T, m = instance.T, instance.m
    a = decision.actions
    taken = np.flatnonzero(a != NO_ACTION)
    reward = float(r[taken, a[taken]].sum())
    used = np.zeros(m)
    cap = _largest_use(C)
    first_depletion: int | None = None
    for lo in range(0, taken.size, CHUNK):
        t = taken[lo : lo + CHUNK]
        step = C[t, :, a[t]].astype(np.float64)  # (n, m): consumption of each served request
        if first_depletion is None:
            remaining = B - used - np.cumsum(step, axis=0)
            low = (remaining < cap).any(axis=1)
            if low.any():
                first_depletion = int(t[int(np.argmax(low))])
        used += step.sum(axis=0)
    ft, fo, fx = decision.frac_t, decision.frac_option, decision.frac_x
    if ft.size:
        reward += float((r[ft, fo] * fx).sum())
        used += (C[ft, :, fo].astype(np.float64) * fx[:, None]).sum(axis=0)
        per_request = np.zeros(T)
        np.add.at(per_request, ft, fx)
        rows = np.unique(ft)
        choice = 1.0 - per_request[rows]
    else:
        choice = np.zeros(0)
    if instance.variant == "matching":
        reward += instance.entropy * float(allocation_entropy(decision, T, instance.d).sum())
    slacks = {"budget": B - used, "choice": choice, "fraction": np.asarray(fx, float)}
    worst, max_violation = "", 0.0
    for group, s in slacks.items():
        if s.size and -s.min() > max_violation:
            max_violation = float(-s.min())
            worst = f"{group}[{int(np.argmin(s))}]"
    return OnlineAllocEvaluation(
        objective=reward,
        used=used,
        slacks=slacks,
        max_violation=max_violation,
        worst=worst,
        feasible=max_violation <= INFEASIBLE_VIOLATION,
        utilisation=used / B,
        first_depletion=first_depletion,
        served=int(taken.size),
    )


def allocation_entropy(decision: OnlineAllocDecision, T: int, d: int) -> np.ndarray:
    """H(x_t0, x_t) = -Σ x log x over the d options and "none" (x_t0 = 1 - Σ_i x_ti), shape (T,).

    Integral actions have entropy 0. Overfull rows (a choice violation, reported as such) count
    their negative "none" share as 0 here, so the term stays finite."""
    X = np.zeros((T, d))
    on = decision.actions != NO_ACTION
    X[np.flatnonzero(on), decision.actions[on]] = 1.0
    np.add.at(X, (decision.frac_t, decision.frac_option), decision.frac_x)
    shares = np.concatenate([X, np.maximum(1.0 - X.sum(axis=1, keepdims=True), 0.0)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(shares > 0, -shares * np.log(shares), 0.0)
    return terms.sum(axis=1)


def _largest_use(C: np.ndarray) -> np.ndarray:
    """max_t,i C_t[j, i], shape (m,), chunked over t."""
    out = np.zeros(C.shape[1])
    for lo in range(0, C.shape[0], CHUNK):
        np.maximum(out, C[lo : lo + CHUNK].max(axis=(0, 2)), out=out)
    return out
