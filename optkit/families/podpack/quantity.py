"""Exact Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource, release v1.32).

Grammar (quantity.go):

    <quantity>        ::= <signedNumber><suffix>
    <signedNumber>    ::= <number> | <sign><number>
    <sign>            ::= "+" | "-"
    <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>   (an integer exponent)

A quantity is held as an exact `Fraction`, so "0.1" + "0.2" is 3/10 and nothing is lost to
floating point. As ParseQuantity does, a non-zero magnitude is rounded up to a whole nano and
capped at 2**63 - 1 (neither changes a MilliValue or Value below the cap). `milli_value` and
`value_of` round up to an integer exactly as upstream's Quantity.MilliValue() / Value() do
(ScaledValue rounds towards +infinity), which is how a request of "0.0001" cpu becomes
1 millicore and "1.5" bytes becomes 2.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from optkit.core.errors import InvalidInputError

BINARY_SI = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL_SI = {
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
# ParseQuantity's two normalisations: a non-zero magnitude is rounded up to a whole nano (1e-9;
# "if you want some resources, you should get some"), and capped at 2**63 - 1 units.
NANO = Fraction(1, 10**9)
MAX_ALLOWED = Fraction(2**63 - 1)
# Beyond this exponent the cap or the nano floor decides the value whatever the digits, so the
# exact power of ten (a 10**(10**9) integer for "1e999999999") is never built.
SATURATING_EXPONENT = 1000
MAX_INT32 = 2**31 - 1

_NUMBER = r"(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?"
_QUANTITY = re.compile(_NUMBER + r"(?P<suffix>.*)")
_EXPONENT = re.compile(r"[eE](?P<esign>[+-]?)(?P<edigits>[0-9]+)")


def parse_quantity(text: object, field: str) -> Fraction:
    """The exact value of a quantity string (or a JSON number, which kubectl also accepts).

    Raises InvalidInputError naming `field` for anything outside the grammar.
    """
    if isinstance(text, bool):
        raise InvalidInputError(field, f"must be a quantity such as '500m' or '1Gi', got {text!r}")
    if isinstance(text, int):
        return _normalise(Fraction(text))
    if isinstance(text, float):
        if not math.isfinite(text):
            raise InvalidInputError(field, f"must be a finite quantity, got {text!r}")
        return _normalise(Fraction(repr(text)))  # the decimal the JSON wrote, not the binary
    if not isinstance(text, str):
        raise InvalidInputError(field, f"must be a quantity string, got {type(text).__name__}")
    m = _QUANTITY.fullmatch(text)
    if m is None or (not m["int"] and not m["frac"]):
        raise InvalidInputError(field, f"unparsable quantity {text!r} (expected e.g. 500m, 1Gi)")
    digits = (m["int"] or "") + (m["frac"] or "")
    value = Fraction(int(digits), 10 ** len(m["frac"] or ""))
    suffix = m["suffix"]
    if suffix in BINARY_SI:
        value *= BINARY_SI[suffix]
    elif suffix in DECIMAL_SI:
        value *= DECIMAL_SI[suffix]
    else:
        e = _EXPONENT.fullmatch(suffix)
        if e is None:
            raise InvalidInputError(
                field, f"unparsable quantity {text!r}: unknown suffix {suffix!r}"
            )
        exponent = int(e["edigits"]) * (-1 if e["esign"] == "-" else 1)
        if abs(exponent) > MAX_INT32:  # upstream parses the exponent as an int32
            raise InvalidInputError(field, f"quantity {text!r}: exponent out of range")
        if value and exponent > SATURATING_EXPONENT:
            value = MAX_ALLOWED
        elif value and exponent < -SATURATING_EXPONENT:
            value = NANO
        else:
            value *= Fraction(10) ** exponent
    value = _normalise(value)
    return -value if m["sign"] == "-" else value


def _normalise(magnitude: Fraction) -> Fraction:
    """ParseQuantity: a non-zero magnitude rounded up to a whole nano, capped at 2**63 - 1."""
    sign = -1 if magnitude < 0 else 1
    magnitude = abs(magnitude)
    if magnitude:
        magnitude = min(ceil_int(magnitude / NANO) * NANO, MAX_ALLOWED)
    return sign * magnitude


def ceil_int(value: Fraction) -> int:
    """The smallest integer >= value (upstream ScaledValue rounds up)."""
    return -((-value.numerator) // value.denominator)


def milli_value(value: Fraction) -> int:
    """Quantity.MilliValue(): value in thousandths, rounded up."""
    return ceil_int(value * 1000)


def value_of(value: Fraction) -> int:
    """Quantity.Value(): value in units, rounded up."""
    return ceil_int(value)


def format_bytes(n: int) -> str:
    """A readable byte count for messages and explanations ('1.5 GiB')."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.4g} {unit}"
    return f"{n} B"
