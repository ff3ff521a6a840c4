"""JSON files: strict reading with errors naming the file, atomic writing (temp file + rename)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; NaN/Infinity literals are refused (they are not JSON)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError("", "file not found", source=str(p)) from None
    except IsADirectoryError:
        raise InvalidInputError("", "is a directory, expected a JSON file", source=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError("", f"cannot read: {exc}", source=str(p)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            "", f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", source=str(p)
        ) from None
    except RecursionError:  # "[[[[...": Python's parser recurses per level
        raise InvalidInputError("", "JSON nested too deeply", source=str(p)) from None
    try:
        hit = _first_non_finite(data, "")
    except RecursionError:  # nested deeper than the walk can go (and than any optkit file)
        raise InvalidInputError("", "JSON nested too deeply", source=str(p)) from None
    if hit is not None:
        # Python's json reads NaN/Infinity literals, which JSON does not have: name the field.
        where, value = hit
        literal = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        raise InvalidInputError(
            where or "(document)", f"{literal} is not valid JSON", source=str(p)
        )
    return data


def _first_non_finite(node: Any, path: str) -> tuple[str, float] | None:
    """Path and value of the first NaN/inf in parsed JSON (``transition[1][2]``), else None."""
    if isinstance(node, float) and not math.isfinite(node):
        return path, node
    if isinstance(node, dict):
        for k, v in node.items():
            hit = _first_non_finite(v, f"{path}.{k}" if path else str(k))
            if hit is not None:
                return hit
    elif isinstance(node, list):
        for i, v in enumerate(node):
            hit = _first_non_finite(v, f"{path}[{i}]")
            if hit is not None:
                return hit
    return None


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON text; refuses NaN/inf so that nothing unreadable is ever written."""
    return json.dumps(data, indent=indent, default=_default, allow_nan=False)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | os.PathLike[str], data: Any, indent: int | None = 2) -> Path:
    """Write to a temp file in the same folder, fsync, rename: a reader never sees half a file."""
    return write_text_atomic(path, dumps(data, indent=indent) + "\n")


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to a temp file in the same folder, fsync, rename (no half file is seen)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a plain open() would honour umask
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def finite_or_null(node: Any) -> Any:
    """`node` with every NaN/inf float replaced by None (JSON null), through dicts and lists:
    dumps() refuses them, and a mean over no instance or a gap without an optimum is NaN."""
    if isinstance(node, float):
        return node if math.isfinite(node) else None
    if isinstance(node, dict):
        return {k: finite_or_null(v) for k, v in node.items()}
    if isinstance(node, list):
        return [finite_or_null(v) for v in node]
    return node
