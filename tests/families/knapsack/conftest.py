"""Fixtures of the knapsack tests; plain helpers live in knapsack_testkit.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from knapsack_testkit import EXAMPLE


@pytest.fixture
def example_dict() -> dict[str, Any]:
    """A fresh deep copy of instances/knapsack/example.json (tests mutate it freely)."""
    return copy.deepcopy(EXAMPLE)
