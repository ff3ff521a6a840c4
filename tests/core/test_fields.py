"""Field readers: each refusal names the field (and the index), so every loader's message does."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optkit.core.errors import InvalidInputError
from optkit.core.fields import (
    Fields,
    as_array,
    as_bool,
    as_choice,
    as_float,
    as_int,
    stochastic,
)


def refusal(fn, *args, **kwargs) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        fn(*args, **kwargs)
    return info.value


# -- as_float ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, bounds, problem",
    [
        (0.0, {"gt": 0}, "must be > 0"),
        (-1e-9, {"ge": 0}, "must be >= 0"),
        (1.0, {"lt": 1}, "must be < 1"),
        (1.5, {"le": 1}, "must be <= 1"),
        (math.nan, {}, "must be finite"),
        (math.inf, {}, "must be finite"),
        (True, {}, "got a boolean"),
        ("1.0", {}, "got a string"),
        (None, {}, "must be a number"),
        ([1.0], {}, "got an array"),
    ],
    ids=["gt", "ge", "lt", "le", "nan", "inf", "bool", "string", "null", "list"],
)
def test_as_float_refusals_name_the_field(value, bounds, problem):
    """Out-of-bounds, non-finite and non-numbers are refused with the field's name first."""
    err = refusal(as_float, value, "valuation.omega", **bounds)
    assert err.field == "valuation.omega"
    assert problem in str(err)
    assert str(err).startswith("valuation.omega: ")


@pytest.mark.parametrize("value", [1, 1.0, np.float32(1.0), np.int64(1)], ids=str)
def test_as_float_accepts_numbers_inside_bounds(value):
    """Ints and numpy scalars are numbers; the bound is inclusive only where asked (le=1)."""
    assert as_float(value, "discount", gt=0, le=1) == 1.0


def test_as_float_refuses_numpy_bool():
    """np.bool_ is as much a boolean as True is."""
    assert "must be a number" in str(refusal(as_float, np.bool_(True), "x"))


# -- as_int -----------------------------------------------------------------------------------
def test_as_int_accepts_integral_float():
    """JSON writers may spell 3 as 3.0; that is still the integer 3."""
    value = as_int(3.0, "n_servers")
    assert value == 3 and type(value) is int


@pytest.mark.parametrize(
    "value, problem",
    [
        (3.5, "must be an integer"),
        (True, "got a boolean"),
        ("3", "got a string"),
        (0, "must be >= 1"),
    ],
    ids=["fraction", "bool", "string", "below-ge"],
)
def test_as_int_refusals(value, problem):
    err = refusal(as_int, value, "n_servers", ge=1)
    assert err.field == "n_servers"
    assert problem in str(err)


# -- as_bool ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["False", "false", 0, 1, None], ids=repr)
def test_as_bool_refuses_non_booleans(value):
    """STYLE.md: "False" must never read as true; no truthiness at all, only JSON booleans."""
    err = refusal(as_bool, value, "limited_liability")
    assert err.field == "limited_liability"
    assert "true or false" in str(err)


def test_as_bool_accepts_booleans():
    assert as_bool(False, "x") is False
    assert as_bool(np.bool_(True), "x") is True


def test_as_choice_lists_the_choices():
    err = refusal(as_choice, "ex_ante", "ir", ("per_period", "interim"))
    assert "ir: must be one of per_period, interim, got 'ex_ante'" == str(err)


# -- as_array ---------------------------------------------------------------------------------
def test_as_array_returns_read_only_float64():
    """Instances are frozen: the arrays inside them must not be writable either."""
    arr = as_array([[1, 2], [3, 4]], "transition", (2, 2))
    assert arr.dtype == np.float64
    with pytest.raises(ValueError):
        arr[0, 0] = 5.0


def test_as_array_string_entry_named_by_index():
    """A string inside an array is named by its index (numpy would read "0.5" as 0.5)."""
    err = refusal(as_array, [[0.5, "a"], [0.5, 0.5]], "transition", (2, 2))
    assert err.field == "transition[0, 1]" and "must be a number" in err.problem


@pytest.mark.parametrize(
    "value, shape, problem",
    [
        ([[0.5, 0.5], [0.5, 0.5]], (3, 3), "must have shape (3, 3), got (2, 2)"),
        ([0.5, 0.5], (3, 3), "must have shape (3, 3), got shape (2,)"),
        ([[0.5, 0.5], [1.0]], (2, 2), "(2, 2)"),
        (0.5, (3,), "got a scalar"),
    ],
    ids=["wrong-size", "wrong-ndim", "ragged", "scalar"],
)
def test_as_array_shape_errors_name_the_field(value, shape, problem):
    err = refusal(as_array, value, "transition", shape)
    assert err.field == "transition"
    assert problem in str(err)


def test_as_array_nan_names_the_index():
    """A NaN deep in a matrix is reported at its index: 'transition[1, 2]'."""
    value = [[0.2, 0.3, 0.5], [0.2, 0.3, math.nan], [0.2, 0.3, 0.5]]
    err = refusal(as_array, value, "transition", (3, 3))
    assert err.field == "transition[1, 2]"
    assert str(err) == "transition[1, 2]: must be finite"


def test_as_array_bound_names_the_index_and_value():
    err = refusal(as_array, [0.6, 1.0, -1.5], "willingness", (None,), gt=0)
    assert str(err) == "willingness[2]: must be > 0, got -1.5"


# -- stochastic -------------------------------------------------------------------------------
def test_stochastic_renormalises_hand_written_thirds():
    """0.333/0.333/0.334 is how people write thirds: accepted, and renormalised to sum 1."""
    rows = np.array([[0.333, 0.333, 0.334], [0.2, 0.3, 0.5000004]])
    out = stochastic(rows, "transition")
    assert out.sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-15)
    assert rows[1].sum() - 1.0 > 1e-7  # the input really was off; the output is not
    assert out[0].tolist() == pytest.approx([0.333, 0.333, 0.334], abs=1e-12)
    assert not out.flags.writeable


def test_stochastic_refuses_a_row_naming_it():
    """A row summing to 0.9 is a typo, not rounding: refused with the row's index and its sum."""
    rows = np.array([[0.5, 0.5], [0.5, 0.4]])
    err = refusal(stochastic, rows, "transition")
    assert err.field == "transition[1]"
    assert "must sum to 1" in str(err) and "0.9" in str(err)


def test_stochastic_vector_names_the_vector():
    err = refusal(stochastic, np.array([0.5, 0.4]), "prior")
    assert err.field == "prior"
    assert "sums to 0.9" in str(err)


def test_stochastic_refuses_negative_entry_by_index():
    err = refusal(stochastic, np.array([[1.2, -0.2], [0.5, 0.5]]), "transition")
    assert str(err) == "transition[0, 1]: must be >= 0, got -0.2"


def test_stochastic_tolerance_edge():
    """The table's 1e-6: 5e-7 off passes, 2e-6 off is refused."""
    stochastic(np.array([0.5, 0.5000005]), "prior")
    refusal(stochastic, np.array([0.5, 0.500002]), "prior")


# -- Fields -----------------------------------------------------------------------------------
def test_fields_names_nested_paths_and_unknown_keys():
    """Nested objects report dotted paths; finish() refuses keys nobody read, listing valid ones."""
    f = Fields({"kind": "log", "omega": 1.0, "kapa": 2.0}, "valuation")
    f.get("kind")
    f.get("omega")
    assert str(refusal(f.get, "kappa")) == "valuation.kappa: is required"
    err = refusal(f.finish)
    assert err.field == "valuation.kapa"
    assert "unknown key" in str(err) and "kappa" in str(err)


def test_fields_refuses_non_object():
    assert str(refusal(Fields, [1, 2])) == "(document): must be a JSON object, got an array"
