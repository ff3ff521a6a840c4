"""Exact Kubernetes quantity parsing (quantity.py) against hand values and a reference.

The reference below is written separately from the grammar in apimachinery's quantity.go, with
decimal.Decimal and a character scanner instead of a regex and Fraction (ParseQuantity's nano
round-up and 2**63 - 1 cap included); hypothesis draws strings from the same grammar and both
must agree exactly, MilliValue / Value rounding up.
"""

from __future__ import annotations

import decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optkit.core.errors import InvalidInputError
from optkit.families.podpack.quantity import milli_value, parse_quantity, value_of

BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
DECIMAL = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
CTX = decimal.Context(prec=400, Emax=10**6, Emin=-(10**6))


def reference(text: str) -> decimal.Decimal:
    """<signedNumber><suffix> by hand: sign, digits, '.', digits, then the rest is the suffix."""
    i, sign = 0, 1
    if text[:1] in ("+", "-"):
        sign, i = (-1 if text[0] == "-" else 1), 1
    start = i
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    number, suffix = text[start:i], text[i:]
    if number.count(".") > 1 or number in ("", "."):
        raise ValueError(text)
    value = CTX.create_decimal(number if not number.endswith(".") else number + "0")
    if suffix in BINARY:
        value = CTX.multiply(value, 1024 ** BINARY[suffix])
    elif suffix in DECIMAL:
        value = value.scaleb(DECIMAL[suffix], CTX)
    elif suffix[:1] in ("e", "E") and suffix[1:].lstrip("+-").isdigit() and suffix[1:2] != "":
        if suffix[1:].count("+") + suffix[1:].count("-") > 1:
            raise ValueError(text)
        value = value.scaleb(int(suffix[1:]), CTX)
    else:
        raise ValueError(text)
    if value:  # ParseQuantity: cap at 2**63 - 1, round the magnitude up to a nano
        value = min(value, decimal.Decimal(2**63 - 1))
        value = value.quantize(decimal.Decimal("1e-9"), rounding=decimal.ROUND_UP, context=CTX)
    return CTX.multiply(value, sign)


def ceil_reference(value: decimal.Decimal) -> int:
    return int(value.to_integral_value(rounding=decimal.ROUND_CEILING, context=CTX))


@pytest.mark.parametrize(
    "text, milli, units",
    [
        ("500m", 500, 1),  # 0.5 rounds up to 1 unit
        ("1", 1000, 1),
        ("1.5", 1500, 2),
        ("0.0001", 1, 1),  # MilliValue rounds 0.1m up to 1m
        ("1e3", 10**6, 1000),
        ("1E3", 10**6, 1000),
        ("1e-3", 1, 1),
        ("1Ki", 1024_000, 1024),
        ("1Gi", 2**30 * 1000, 2**30),
        ("1.5Gi", 3 * 2**29 * 1000, 3 * 2**29),
        ("100Mi", 100 * 2**20 * 1000, 100 * 2**20),
        ("1E", 10**21, 10**18),  # exa, not an exponent
        (".5", 500, 1),
        ("5.", 5000, 5),
        ("+1k", 10**6, 1000),
        ("0", 0, 0),
        (250, 250_000, 250),  # JSON numbers are accepted as kubectl does
        (0.5, 500, 1),
    ],
)
def test_known_values(text, milli, units):
    q = parse_quantity(text, "x")
    assert milli_value(q) == milli and value_of(q) == units


def test_exact_sums():
    """0.1 + 0.2 is exactly 3/10 cpu, so the pod's sum is 300m, not 300.00000000000006m."""
    assert parse_quantity("0.1", "x") + parse_quantity("0.2", "x") == Fraction(3, 10)
    assert milli_value(parse_quantity("100m", "x") * 3) == 300


@pytest.mark.parametrize(
    "text", ["", "abc", "1.2.3", "1Kb", "--1", "1e", "1 Gi", "Gi", ".", "1e1.5", "1ki", True, None]
)
def test_unparsable_names_the_field(text):
    with pytest.raises(InvalidInputError) as info:
        parse_quantity(text, "spec.containers[0].resources.requests.cpu")
    assert info.value.field == "spec.containers[0].resources.requests.cpu"


digits = st.text("0123456789", min_size=0, max_size=12)
numbers = (
    st.tuples(digits, st.booleans(), digits)
    .filter(lambda t: t[0] or t[2])
    .map(lambda t: t[0] + ("." + t[2] if t[1] or not t[0] else ""))
)
suffixes = st.one_of(
    st.sampled_from(sorted(BINARY) + sorted(DECIMAL)),
    st.builds(
        lambda e, s, d: e + s + d,
        st.sampled_from("eE"),
        st.sampled_from(["", "+", "-"]),
        st.text("0123456789", min_size=1, max_size=2),
    ),
)
quantities = st.builds(
    lambda s, n, x: s + n + x, st.sampled_from(["", "+", "-"]), numbers, suffixes
)


@settings(max_examples=300, deadline=None)
@given(quantities)
def test_matches_reference_on_the_grammar(text):
    """Exact value, MilliValue and Value agree with the Decimal reference on every grammar
    string (the 'E' suffix alone is exa; 'E' followed by digits is an exponent)."""
    ref = reference(text)
    got = parse_quantity(text, "q")
    assert Fraction(ref) == got
    assert milli_value(got) == ceil_reference(CTX.multiply(ref, 1000))
    assert value_of(got) == ceil_reference(ref)


@settings(max_examples=200, deadline=None)
@given(st.text("0123456789.+-eEkKMGTPim ", max_size=8))
def test_garbage_is_refused_or_agrees(text):
    """Random strings over the grammar's alphabet: either both refuse, or both give the value."""
    try:
        ref = reference(text)
    except (ValueError, decimal.InvalidOperation):
        ref = None
    try:
        got = parse_quantity(text, "q")
    except InvalidInputError:
        got = None
    assert (ref is None) == (got is None), text
    if ref is not None:
        assert Fraction(ref) == got


def test_parse_quantity_normalisations():
    """ParseQuantity rounds a non-zero magnitude up to a nano and caps it at 2**63 - 1; exponents
    far out saturate without building the power of ten; "0e2000" stays 0."""
    assert parse_quantity("1e-12", "q") == Fraction(1, 10**9)
    assert parse_quantity("-1e-12", "q") == -Fraction(1, 10**9)
    assert parse_quantity("1e-2000", "q") == Fraction(1, 10**9)
    assert parse_quantity("9Ei", "q") == 2**63 - 1  # 9 * 2**60 > 2**63 - 1: capped
    assert parse_quantity("1e2000", "q") == 2**63 - 1
    assert parse_quantity("0e2000", "q") == 0
    with pytest.raises(InvalidInputError, match="exponent out of range"):
        parse_quantity("1e99999999999", "q")
