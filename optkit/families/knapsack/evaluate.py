"""Value, cost and every constraint slack of a chosen set, in plain numpy, independent of solvers.

A slack >= 0 means the constraint holds; violation = max(0, -slack). Groups:
  budget (1,)        B - Σ_i c_i x_i                                     (money)
  conflicts (m,)     1 - x_i - x_k for each conflicting pair (i, k)
  requires (r,)      x_k - x_i for each requirement i -> k
  assignment (S,)    -1 where the decision's assignment names an unchosen component or one that
                     does not offer the skill, else 0
  cover (S,)         all_skills only: -1 where no chosen component can serve the skill, else 0
Value (spec/knapsack.md): weighted Σ_s w_s max_{i∈X} q_is (a coverage function, each skill
served by its best chosen component); all_skills Σ_s log max_{i∈X} q_is, the log success
probability of the whole task (-inf when a skill is uncovered: success probability 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.core.tolerances import INFEASIBLE_VIOLATION
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance


@dataclass(frozen=True)
class KnapsackEvaluation:
    objective: float
    """weighted: Σ_s w_s max q; all_skills: log success probability (-inf: a skill uncovered)."""
    success_probability: float | None
    """all_skills: exp(objective), the probability the whole task succeeds; weighted: None."""
    coverage: np.ndarray
    """shape (S,): max_{i∈X} q_is, the success rate each skill gets (0 if uncovered)."""
    cost: float
    """Σ_i c_i x_i, money."""
    n_chosen: int
    slacks: dict[str, np.ndarray]
    max_violation: float
    worst: str
    """The most violated constraint, e.g. 'conflicts[2]' ('' when none is violated)."""
    feasible: bool
    """max_violation <= 1e-6 (the tolerance table's count for heuristic decisions)."""

    def violations(self, tol: float = 1e-12) -> dict[str, float]:
        """{'conflicts[2]': 1.0, ...}: every constraint violated by more than tol."""
        out = {}
        for group, s in self.slacks.items():
            for k in np.flatnonzero(s < -tol):
                out[f"{group}[{k}]"] = float(-s[k])
        return out

    def to_dict(self) -> dict[str, Any]:
        finite = lambda x: x if x is None or math.isfinite(x) else None  # noqa: E731 (JSON)
        return {
            "objective": finite(self.objective),
            "success_probability": self.success_probability,
            "coverage": self.coverage.tolist(),
            "cost": self.cost,
            "n_chosen": self.n_chosen,
            "max_violation": self.max_violation,
            "worst": self.worst,
            "feasible": self.feasible,
            "violations": self.violations(),
        }


def set_value(instance: KnapsackInstance, mask: np.ndarray) -> float:
    """The objective of the chosen set `mask` (n,) bool, without the constraint report."""
    coverage = (instance.quality * mask[:, None]).max(axis=0)
    return _value(instance, coverage, mask)


def overspend(instance: KnapsackInstance, mask: np.ndarray) -> float:
    """Σ c_i x_i - B (money): positive when the set `mask` breaks the budget."""
    return float(instance.prices @ mask) - instance.budget


def _value(instance: KnapsackInstance, coverage: np.ndarray, mask: np.ndarray) -> float:
    if instance.objective == "weighted":
        return float(instance.weights @ coverage)
    served = (mask[:, None] & instance.servable).any(axis=0)
    if not served.all():
        return -math.inf
    return float(np.log(coverage).sum())


def evaluate(instance: KnapsackInstance, decision: KnapsackDecision) -> KnapsackEvaluation:
    decision.check_fits(instance)
    x = decision.mask(instance)
    coverage = (instance.quality * x[:, None]).max(axis=0)
    cost = float(instance.prices @ x)
    slacks: dict[str, np.ndarray] = {"budget": np.array([instance.budget - cost])}
    xf = x.astype(float)
    a, b = instance.conflicts[:, 0], instance.conflicts[:, 1]
    slacks["conflicts"] = 1.0 - xf[a] - xf[b]
    i, k = instance.requires[:, 0], instance.requires[:, 1]
    slacks["requires"] = xf[k] - xf[i]
    assign = np.zeros(instance.n_skills)
    for s, skill in enumerate(instance.skill_names):
        comp = decision.assignment.get(skill)
        if comp is not None:
            j = instance.index_of(comp, f"assignment.{skill}")
            if not (x[j] and instance.offers[j, s]):
                assign[s] = -1.0
    slacks["assignment"] = assign
    if instance.objective == "all_skills":
        served = (x[:, None] & instance.servable).any(axis=0)
        slacks["cover"] = np.where(served, 0.0, -1.0)
    worst, max_violation = "", 0.0
    for group, s in slacks.items():
        if s.size and -float(s.min()) > max_violation:
            max_violation = -float(s.min())
            worst = f"{group}[{int(np.argmin(s))}]"
    objective = _value(instance, coverage, x)
    success = None
    if instance.objective == "all_skills":
        success = math.exp(objective) if math.isfinite(objective) else 0.0
    return KnapsackEvaluation(
        objective=objective,
        success_probability=success,
        coverage=coverage,
        cost=cost,
        n_chosen=int(x.sum()),
        slacks=slacks,
        max_violation=max_violation,
        worst=worst,
        feasible=max_violation <= INFEASIBLE_VIOLATION,
    )
