"""The tolerance table of spec/architecture.md as constants (absolute unless said)."""

from __future__ import annotations

import math

PROBABILITY_SUM = 1e-6
"""Probability vectors / stochastic rows must sum to 1 within this, then are renormalised."""

EXACT_FEASIBILITY = 1e-7
"""Exact solvers: evaluate() max violation at most this."""

INFEASIBLE_VIOLATION = 1e-6
"""A learned or heuristic decision with max violation above this counts as infeasible."""

EXACT_AGREEMENT_REL = 1e-6
"""Exact solvers agree on the objective within this relative difference."""

OBJECTIVE_MISMATCH_REL = 1e-6
"""evaluate() vs the solver's own objective: a larger relative difference is flagged."""

CERTIFIED_GAP_REL = 1e-6
"""A certified solver's relative gap (bound vs objective) must be at most this."""


def relative_gap(objective: float, bound: float, sense: str = "max") -> float:
    """Bound minus objective in the improving direction, over max(|objective|, 1).

    The floor of 1 keeps the all-zero answer finite; a tiny negative value (bound below the
    objective by rounding) is reported as it is, never clipped, so rounding stays visible.
    """
    diff = bound - objective if sense in ("max", "lexmax") else objective - bound
    gap = diff / max(abs(objective), 1.0)
    return gap if math.isfinite(gap) else math.inf


def relative_difference(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|, 1): relative for large values, absolute below 1.

    The floor of 1 keeps an all-zero answer (objective 0) from producing an infinite ratio.
    """
    return abs(a - b) / max(abs(a), abs(b), 1.0)
