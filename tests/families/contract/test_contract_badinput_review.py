"""Bad input the adversarial review found getting past the contract generator
(tasks/review_badinput.md)."""

from __future__ import annotations

import pytest

import optkit
from optkit.core.errors import InvalidInputError


def test_unknown_generator_option_is_named():
    """`optkit.generate("contract", foo=1)` used to raise TypeError (exit 1 from `optkit
    baseline --gen-option foo=1`, one error row per item)."""
    with pytest.raises(InvalidInputError, match=r"^foo: unknown option"):
        optkit.generate("contract", foo=1)
