"""SolveResult: what every solver returns, and the JSON the CLI prints.

Objective and bound are side by side (the CVXPY/Pyomo habit), the decision is re-scored by the
family's own evaluate(), and timings include set-up. Reading `decision` when the status carries
none raises `NoDecisionError` instead of returning something a caller could mistake for an answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError, NoDecisionError
from optkit.core.fields import Fields, as_bool, as_float, as_int
from optkit.core.status import Guarantee, Status

Objective = float | list[float]


@dataclass(frozen=True)
class SolverInfo:
    name: str
    guarantee: Guarantee
    backend: str = ""
    """The library doing the work ("cvxpy+clarabel", "highspy"); empty for pure-numpy methods."""
    backend_version: str = ""


@dataclass(frozen=True)
class Evaluation:
    """The family's evaluate() verdict on the returned decision, independent of the solver."""

    objective: Objective
    max_violation: float
    feasible: bool
    objective_mismatch: bool = False
    """True when the solver's own objective differs from this one beyond the tolerance table."""

    def __post_init__(self) -> None:
        if not (self.max_violation >= 0):
            raise ValueError(f"max_violation must be >= 0, got {self.max_violation}")


@dataclass(frozen=True)
class Timing:
    """Seconds. wall_s covers the whole call, set-up included; build_s + solve_s <= wall_s."""

    build_s: float = 0.0
    solve_s: float = 0.0
    wall_s: float = 0.0


@dataclass(frozen=True)
class SolverOutput:
    """What a solver function hands back to `optkit.core.api.solve`, before re-scoring."""

    status: Status
    objective: Objective | None = None
    bound: Objective | None = None
    decision: Any = None
    certificate: dict[str, Any] | None = None
    build_s: float = 0.0
    solve_s: float = 0.0
    flags: tuple[str, ...] = ()
    message: str = ""
    backend: str = ""
    backend_version: str = ""
    gap: float | None = None
    """Set only when the family defines its own gap (vector objectives); else computed by core."""


class SolveResult:
    """The result of one solve. Check `status` before reading `decision`."""

    __slots__ = (
        "family",
        "solver",
        "status",
        "objective",
        "bound",
        "gap",
        "_decision",
        "evaluation",
        "timing",
        "seed",
        "threads",
        "params",
        "certificate",
        "flags",
        "message",
    )

    def __init__(
        self,
        *,
        family: str,
        solver: SolverInfo,
        status: Status,
        objective: Objective | None = None,
        bound: Objective | None = None,
        gap: float | None = None,
        decision: Any = None,
        evaluation: Evaluation | None = None,
        timing: Timing = Timing(),
        seed: int = 0,
        threads: int = 1,
        params: Mapping[str, Any] | None = None,
        certificate: Mapping[str, Any] | None = None,
        flags: tuple[str, ...] = (),
        message: str = "",
    ):
        if not isinstance(status, Status):
            raise TypeError(f"status must be a Status, got {status!r}")
        if decision is not None and not status.may_have_decision:
            raise ValueError(f"a {status.value} result cannot carry a decision")
        self.family, self.solver, self.status = family, solver, status
        self.objective, self.bound, self.gap = objective, bound, gap
        self._decision, self.evaluation, self.timing = decision, evaluation, timing
        self.seed, self.threads = seed, threads
        self.params = dict(params or {})
        self.certificate = dict(certificate) if certificate is not None else None
        self.flags, self.message = tuple(flags), message

    @property
    def has_decision(self) -> bool:
        return self._decision is not None

    @property
    def decision(self) -> Any:
        if self._decision is None:
            raise NoDecisionError(
                f"{self.solver.name} returned status {self.status.value!r} with no decision"
                + (f": {self.message}" if self.message else "")
            )
        return self._decision

    def __repr__(self) -> str:
        return (
            f"SolveResult(family={self.family!r}, solver={self.solver.name!r}, "
            f"status={self.status.value}, objective={self.objective!r}, bound={self.bound!r}, "
            f"gap={self.gap!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lower-case statuses, null where a value does not exist)."""
        return {
            "family": self.family,
            "solver": {**asdict(self.solver), "guarantee": self.solver.guarantee.value},
            "status": self.status.value,
            "objective": _num(self.objective),
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "decision": None if self._decision is None else self._decision.to_dict(),
            "evaluation": None
            if self.evaluation is None
            else {**asdict(self.evaluation), "objective": _num(self.evaluation.objective)},
            "timing": asdict(self.timing),
            "seed": self.seed,
            "threads": self.threads,
            "params": self.params,
            "certificate": self.certificate,
            "flags": list(self.flags),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Any, decode_decision=None) -> SolveResult:
        """Inverse of to_dict; `decode_decision(dict)` rebuilds the typed decision (else raw)."""
        f = Fields(data)
        s = Fields(f.get("solver"), "solver")
        guarantee = s.get("guarantee")
        if guarantee not in {g.value for g in Guarantee}:
            valid = ", ".join(g.value for g in Guarantee)
            raise InvalidInputError(
                "solver.guarantee", f"unknown guarantee {guarantee!r}; valid: {valid}"
            )
        solver = SolverInfo(
            name=str(s.get("name")),
            guarantee=Guarantee(guarantee),
            backend=str(s.get("backend", "")),
            backend_version=str(s.get("backend_version", "")),
        )
        s.finish()
        try:
            status = Status.parse(f.get("status"))
        except ValueError as exc:
            raise InvalidInputError("status", str(exc)) from None
        raw = f.get("decision", None)
        decision = None if raw is None else (decode_decision(raw) if decode_decision else _Raw(raw))
        ev = f.get("evaluation", None)
        evaluation = None
        if ev is not None:
            e = Fields(ev, "evaluation")
            evaluation = Evaluation(
                objective=_obj(e.get("objective"), "evaluation.objective"),
                max_violation=as_float(e.get("max_violation"), "evaluation.max_violation", ge=0),
                feasible=as_bool(e.get("feasible"), "evaluation.feasible"),
                objective_mismatch=as_bool(
                    e.get("objective_mismatch", False), "evaluation.objective_mismatch"
                ),
            )
            e.finish()
        t = Fields(f.get("timing", {}), "timing")
        timing = Timing(
            **{
                k: as_float(t.get(k, 0.0), f"timing.{k}", ge=0)
                for k in ("build_s", "solve_s", "wall_s")
            }
        )
        t.finish()
        out = cls(
            family=str(f.get("family")),
            solver=solver,
            status=status,
            objective=_obj(f.get("objective", None), "objective"),
            bound=_obj(f.get("bound", None), "bound"),
            gap=None if f.get("gap", None) is None else as_float(f.get("gap"), "gap"),
            decision=decision,
            evaluation=evaluation,
            timing=timing,
            seed=as_int(f.get("seed", 0), "seed", ge=0),
            threads=as_int(f.get("threads", 1), "threads", ge=1),
            params=f.get("params", {}) or {},
            certificate=f.get("certificate", None),
            flags=tuple(f.get("flags", [])),
            message=str(f.get("message", "")),
        )
        f.finish()
        return out


@dataclass(frozen=True)
class _Raw:
    """A decision kept as its JSON dict when no decoder is given."""

    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)


def _num(x: Any) -> Any:
    """Floats for JSON: NaN/inf have no JSON spelling, so they become null."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [_num(v) for v in x]
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)  # lexicographic objectives count pods: keep them integers in JSON
    x = float(x)
    return x if math.isfinite(x) else None


def _obj(x: Any, field_name: str) -> Objective | None:
    if x is None:
        return None
    if isinstance(x, list):
        return [_obj(v, f"{field_name}[{k}]") for k, v in enumerate(x)]
    if isinstance(x, int) and not isinstance(x, bool):
        return x
    return as_float(x, field_name)
