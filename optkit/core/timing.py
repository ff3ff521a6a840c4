"""Timing that counts set-up: a deadline starts when the call starts, not when the solver does.

PyVRP's users reported time-limit overruns when model building was not counted; optkit's
solvers build their models inside the same Deadline and pass only `remaining_s()` to the backend.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class Deadline:
    """Wall-clock budget started at construction; `None` means no limit."""

    time_limit_s: float | None
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    def __post_init__(self) -> None:
        if self.time_limit_s is not None:
            if not math.isfinite(self.time_limit_s) or self.time_limit_s < 0:
                raise ValueError(f"time_limit_s must be >= 0 and finite, got {self.time_limit_s}")

    def elapsed_s(self) -> float:
        return time.perf_counter() - self._t0

    def remaining_s(self) -> float | None:
        if self.time_limit_s is None:
            return None
        return max(0.0, self.time_limit_s - self.elapsed_s())

    def expired(self) -> bool:
        r = self.remaining_s()
        return r is not None and r <= 0.0
