"""Fixtures of the contract tests; plain helpers live in contract_testkit.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from contract_testkit import EXAMPLE


@pytest.fixture
def base_dict() -> dict[str, Any]:
    """A fresh deep copy of EXAMPLE, the hand-written I = 3 instance (tests mutate it freely)."""
    return copy.deepcopy(EXAMPLE)
