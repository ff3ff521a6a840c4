"""Pieces every knapsack solver shares: reading `params` strictly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from optkit.core.errors import InvalidInputError


def check_params(params: dict[str, Any] | None, valid: Iterable[str], solver: str) -> dict:
    """A copy of params; an unknown key raises naming `params.<key>` and the valid keys."""
    params = dict(params or {})
    valid = tuple(valid)
    for key in params:
        if key not in valid:
            raise InvalidInputError(
                f"params.{key}",
                f"unknown {solver} parameter (valid: {', '.join(valid) or 'none'})",
            )
    return params
