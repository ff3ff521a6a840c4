"""Field-by-field readers for JSON objects and dataclass arguments.

Every check raises `InvalidInputError` naming the field by its path (``valuation.omega``,
``transition[1]``), so a loader, a CLI flag and a Python call all give the same one-line message.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.tolerances import PROBABILITY_SUM

_MISSING = object()


class Fields:
    """A JSON object read key by key; `finish()` refuses keys nobody asked for."""

    def __init__(self, data: Any, path: str = ""):
        if not isinstance(data, Mapping):
            raise InvalidInputError(
                path or "(document)", f"must be a JSON object, got {_kind(data)}"
            )
        self.data, self.path, self._seen = data, path, set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = _MISSING) -> Any:
        self._seen.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise InvalidInputError(self.name(key), "is required")
        return default

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            valid = ", ".join(sorted(self._seen))
            raise InvalidInputError(self.name(unknown[0]), f"unknown key (valid keys: {valid})")


def _kind(value: Any) -> str:
    """What a JSON reader calls the value ("null", not Python's "NoneType")."""
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""The integers a field may hold: JSON's are unbounded in Python, numpy's and the solvers' not."""

MAX_MAGNITUDE = 1e12
"""Upper bound of a family's scale fields (money, effort, weights, curvature). Beyond it the
solvers' float64 numerics fail (contract unit_cost or effort_max = 1e300: Clarabel failed;
knapsack price = 1e300: HiGHS "Not Set"), which a user saw as a bare ERROR status; refused here
naming the field. Rescale the units instead (every optimum is invariant to them)."""


def as_float(
    value: Any,
    field: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> float:
    """A finite real number within the given open/closed bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInputError(field, f"must be a number, got {_kind(value)}")
    try:
        x = float(value)
    except OverflowError:  # a JSON integer literal beyond float64 (10**400)
        raise InvalidInputError(field, "must be finite, got an integer beyond float64") from None
    if not math.isfinite(x):
        raise InvalidInputError(field, f"must be finite, got {x}")
    _check_bounds(x, field, gt=gt, ge=ge, lt=lt, le=le)
    return x


def _check_bounds(x: float, field: str, *, gt=None, ge=None, lt=None, le=None) -> None:
    if gt is not None and not x > gt:
        raise InvalidInputError(field, f"must be > {gt}, got {x}")
    if ge is not None and not x >= ge:
        raise InvalidInputError(field, f"must be >= {ge}, got {x}")
    if lt is not None and not x < lt:
        raise InvalidInputError(field, f"must be < {lt}, got {x}")
    if le is not None and not x <= le:
        raise InvalidInputError(field, f"must be <= {le}, got {x}")


def as_int(value: Any, field: str, *, ge: int | None = None, le: int | None = None) -> int:
    """An integer (a float with an integral value such as 3.0 is accepted; bools are not)."""
    if isinstance(value, bool):
        raise InvalidInputError(field, "must be an integer, got a boolean")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise InvalidInputError(field, f"must be an integer, got {_kind(value)}")
    x = int(value)
    if not INT64_MIN <= x <= INT64_MAX:
        # JSON integers are unbounded in Python; past int64 numpy and the solvers overflow (an
        # n_servers of 10**400 came back as status error "int too large to convert to float")
        digits = str(x) if abs(x) < 10**30 else f"an integer of {len(str(abs(x)))} digits"
        raise InvalidInputError(field, f"must fit in 64 bits, got {digits}")
    _check_bounds(x, field, ge=ge, le=le)
    return x


def as_bool(value: Any, field: str) -> bool:
    """A JSON boolean; strings such as "False" are refused rather than read as true."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidInputError(field, f"must be true or false, got {value!r}")


def as_choice(value: Any, field: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise InvalidInputError(field, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def as_array(
    value: Any,
    field: str,
    shape: tuple[int | None, ...],
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> np.ndarray:
    """A finite float64 array of the given shape (None = any length), read-only.

    Element bounds are checked with the offending index in the message.
    """
    bad = _first_non_number(value, field)
    if bad is not None:
        raise InvalidInputError(bad[0], f"must be a number, got {_kind(bad[1])}")
    try:
        arr = np.array(value, dtype=np.float64)
    except OverflowError:  # a JSON integer literal beyond float64 (10**400)
        raise InvalidInputError(field, "must be finite, got an integer beyond float64") from None
    except (TypeError, ValueError):
        raise InvalidInputError(
            field, f"must be a numeric array of shape {_shape(shape)}"
        ) from None
    if arr.dtype == object or arr.ndim != len(shape):
        raise InvalidInputError(field, f"must have shape {_shape(shape)}, got {_got(value, arr)}")
    for axis, (want, got) in enumerate(zip(shape, arr.shape, strict=True)):
        if want is not None and want != got:
            raise InvalidInputError(
                field, f"must have shape {_shape(shape)}, got {arr.shape} (axis {axis})"
            )
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InvalidInputError(_at(field, bad), "must be finite")
    for name, limit, ok in (
        ("> ", gt, None if gt is None else arr > gt),
        (">= ", ge, None if ge is None else arr >= ge),
        ("<= ", le, None if le is None else arr <= le),
    ):
        if ok is not None and not ok.all():
            idx = _at(field, ~ok)
            raise InvalidInputError(idx, f"must be {name}{limit}, got {arr[~ok].flat[0]}")
    arr.setflags(write=False)
    return arr


def _first_non_number(
    value: Any, field: str, index: tuple[int, ...] = ()
) -> tuple[str, Any] | None:
    """The first leaf of nested lists that is not a real number, as ('field[i, j]', leaf).

    numpy would quietly turn true into 1.0 and "1.5" into 1.5, so JSON booleans and strings are
    refused here instead."""
    if isinstance(value, (list, tuple)):
        for k, v in enumerate(value):
            hit = _first_non_number(v, field, index + (k,))
            if hit is not None:
                return hit
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        where = f"{field}[{', '.join(map(str, index))}]" if index else field
        return where, value
    return None


def _shape(shape: tuple[int | None, ...]) -> str:
    return (
        "("
        + ", ".join("n" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def _got(value: Any, arr: np.ndarray) -> str:
    return (
        "a scalar"
        if arr.ndim == 0
        else f"shape {arr.shape}"
        if arr.dtype != object
        else "ragged rows"
    )


def _at(field: str, mask: np.ndarray) -> str:
    """field[i, j] of the first True entry of mask."""
    idx = np.argwhere(mask)[0]
    return f"{field}[{', '.join(str(int(i)) for i in idx)}]"


def stochastic(arr: np.ndarray, field: str) -> np.ndarray:
    """Rows (or the vector) must be >= 0 and sum to 1 within PROBABILITY_SUM; then renormalised.

    A hand-written 0.333/0.333/0.334 row passes and is renormalised exactly.
    """
    if (arr < 0).any():
        raise InvalidInputError(_at(field, arr < 0), f"must be >= 0, got {arr[arr < 0].flat[0]}")
    sums = arr.sum(axis=-1, keepdims=True)
    off = np.abs(sums - 1.0) > PROBABILITY_SUM
    if off.any():
        where = field if arr.ndim == 1 else f"{field}[{int(np.argwhere(off[..., 0])[0][0])}]"
        raise InvalidInputError(
            where, f"must sum to 1 (within {PROBABILITY_SUM}), sums to {float(sums[off][0]):.9g}"
        )
    # Renormalise only rows whose sum is off by more than rounding: dividing by a floating-point
    # sum is not idempotent, and a saved-and-reloaded instance must come back bit for bit.
    needs = np.abs(sums - 1.0) > 1e-13
    out = np.where(needs, arr / sums, arr)
    out.setflags(write=False)
    return out
