"""Solver statuses and guarantees shared by every family.

Callers must check `SolveResult.status` before reading a decision (the CVXPY/Pyomo habit):
`Status.has_decision` says whether a status may carry one.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Outcome of a solve. JSON spells these in lower case ("optimal")."""

    OPTIMAL = "optimal"
    """A decision proved optimal within the tolerance table."""
    FEASIBLE = "feasible"
    """A decision without proof of optimality (heuristic, online, inaccurate convex solve)."""
    TIME_LIMIT = "time_limit"
    """The budget ran out; an incumbent may or may not be attached."""
    INFEASIBLE = "infeasible"
    """Proved infeasible: a verdict, not a failure."""
    UNBOUNDED = "unbounded"
    """Proved unbounded: a verdict, not a failure."""
    NOT_APPLICABLE = "not_applicable"
    """The solver's domain excludes this instance (e.g. a closed form outside its regime)."""
    ERROR = "error"
    """The backend failed; the message is in `SolveResult.message`."""

    @property
    def is_verdict(self) -> bool:
        """A proved answer (exit code 0 on the CLI), whether or not it carries a decision."""
        return self in (
            Status.OPTIMAL,
            Status.FEASIBLE,
            Status.INFEASIBLE,
            Status.UNBOUNDED,
            Status.NOT_APPLICABLE,
        )

    @property
    def may_have_decision(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)

    @classmethod
    def parse(cls, text: str | Status) -> Status:
        if isinstance(text, cls):
            return text
        try:
            return cls(str(text).lower())
        except ValueError:
            valid = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown status {text!r}; valid: {valid}") from None


class Guarantee(str, Enum):
    """What a solver promises about its answer."""

    EXACT = "exact"
    """Optimal (or a proved verdict) within the tolerance table."""
    EXACT_WHERE_APPLICABLE = "exact_where_applicable"
    """Exact inside a stated domain; NOT_APPLICABLE outside it, never a number."""
    BOUND = "bound"
    """A relaxation's value (e.g. first best, LP relaxation): not a feasible decision's value."""
    HEURISTIC = "heuristic"
    ONLINE = "online"
    LEARNED = "learned"
