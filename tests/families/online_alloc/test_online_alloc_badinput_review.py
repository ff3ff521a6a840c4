"""Bad input the adversarial review found getting past online_alloc (tasks/review_badinput.md):
each case used to raise something other than InvalidInputError, or to be accepted silently."""

from __future__ import annotations

import json

import numpy as np
import pytest

import optkit
from optkit.core.errors import InvalidInputError
from optkit.families.online_alloc import storage
from optkit.families.online_alloc.instance import OnlineAllocDecision, OnlineAllocInstance


def tiny(**kw) -> OnlineAllocInstance:
    """Two requests, one resource, one option."""
    return OnlineAllocInstance(
        rho=[1.0], rewards=np.ones((2, 1)), consumption=np.ones((2, 1, 1)), **kw
    )


def test_decision_action_beyond_int64_names_the_entry():
    """`"actions": [1e23 as an integer]` used to raise OverflowError (exit 1 in `optkit check`)."""
    with pytest.raises(InvalidInputError, match=r"actions\[1\]: is out of range"):
        OnlineAllocDecision.from_dict(
            {"family": "online_alloc", "schema_version": 1, "actions": [0, 10**23]}
        )


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"name": 5}, "name"), ({"preset": ["x"]}, "preset"), ({"seed": "x"}, "seed")],
)
def test_header_fields_are_typed(kw, field):
    """name/preset/seed were stored as given (an .npz-backed file with "name": true loaded)."""
    with pytest.raises(InvalidInputError, match=rf"^{field}: "):
        tiny(**kw)


def test_npz_header_name_must_be_a_string(tmp_path):
    inst = optkit.generate("online_alloc", "small", seed=0)
    path = storage.save(inst, tmp_path / "s.json")
    doc = json.loads(path.read_text())
    doc["name"] = True
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError, match="name: must be a string"):
        optkit.load(path)


def test_complex_consumption_is_refused_not_truncated():
    """astype(float64) used to drop the imaginary part with only a numpy warning."""
    with pytest.raises(InvalidInputError, match="consumption: must be a real numeric array"):
        OnlineAllocInstance(
            rho=[1.0], rewards=np.ones((2, 1)), consumption=np.full((2, 1, 1), 1 + 2j)
        )


def test_generate_too_large_a_stream_names_T():
    """T = 10**12 used to raise MemoryError from numpy (or exhaust the machine)."""
    with pytest.raises(InvalidInputError, match=r"^T: the stream needs about"):
        optkit.generate("online_alloc", "small", seed=0, T=10**12)
