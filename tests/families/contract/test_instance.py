"""Validation of ContractInstance / ContractDecision and their JSON (spec/contract.md, "Instance
JSON"; tolerances from spec/architecture.md).

Every rule must raise InvalidInputError whose `.field` names the offending field by its JSON path
(`transition[1]`, `valuation.rho`), because that is what the CLI prints on one line with exit
code 2. Each test mutates exactly one field of the hand-written EXAMPLE (contract_testkit.py).
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from contract_testkit import EXAMPLE, PRESETS, decision_arrays, gen

import optkit
from optkit.core.api import instance_from_dict
from optkit.core.errors import InvalidInputError
from optkit.families.contract.instance import ContractDecision, ContractInstance, LogValuation


def field_of(fn, *args, **kwargs) -> str:
    """Run fn, expect InvalidInputError, return the field it names."""
    with pytest.raises(InvalidInputError) as info:
        fn(*args, **kwargs)
    return info.value.field


def load(d: dict) -> ContractInstance:
    return ContractInstance.from_dict(d)


def test_example_is_valid_and_derives_phi(base_dict):
    """φ = c / θ (spec: "bears cost φ·e"), strictly decreasing because θ is increasing."""
    inst = load(base_dict)
    assert inst.n_types == 3 and inst.dynamic and inst.periods == 2
    np.testing.assert_allclose(inst.phi, 1.2 / np.array([0.6, 1.0, 1.5]), rtol=1e-15)
    assert np.all(np.diff(inst.phi) < 0)
    assert inst.valuation == LogValuation(omega=10.0, kappa=1.0)


# -- probability vectors and stochastic rows ---------------------------------------------------


@pytest.mark.parametrize(
    "key, value, field",
    [
        ("transition", [[0.7, 0.2, 0.1], [0.2, 0.6, 0.3], [0.1, 0.2, 0.7]], "transition[1]"),
        ("transition", [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7 + 2e-6]], "transition[2]"),
        ("transition", [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7 - 2e-6]], "transition[2]"),
        ("prior", [0.3, 0.4, 0.31], "prior"),
        ("prior", [0.3, 0.4, 0.3 + 2e-6], "prior"),
        ("transition", [[-0.1, 0.6, 0.5], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7]], "transition[0, 0]"),
        ("prior", [0.0, 0.5, 0.5], "prior[0]"),
        ("prior", [-0.1, 0.6, 0.5], "prior[0]"),
    ],
)
def test_probabilities_must_sum_to_one_and_be_valid(base_dict, key, value, field):
    """Rows and the prior must sum to 1 within 1e-6 (2e-6 off is refused, on either side);
    transition entries may be 0 but not negative; every prior entry must be > 0 (spec)."""
    base_dict[key] = value
    assert field_of(load, base_dict) == field


@pytest.mark.parametrize(
    "row",
    [[0.333, 0.333, 0.334], [0.3333333, 0.3333333, 0.3333333], [0.2, 0.6, 0.2 + 9e-7]],
)
def test_rows_within_tolerance_pass_and_are_renormalised(base_dict, row):
    """A hand-written 0.333/0.333/0.334 row (or one 1e-7 short of 1, or 9e-7 over) is inside the
    1e-6 tolerance: it is accepted and divided by its sum, so proportions are kept and the
    stored row sums to exactly 1.0."""
    base_dict["transition"][1] = row
    base_dict["prior"] = row
    inst = load(base_dict)
    for stored in (inst.transition[1], inst.prior):
        np.testing.assert_allclose(stored, np.array(row) / sum(row), rtol=1e-15)
        assert math.isclose(stored.sum(), 1.0, rel_tol=0, abs_tol=2.3e-16)


def test_transition_may_contain_zeros(base_dict):
    """P_ij may be 0 (spec: "entries may be 0"); only the prior must be strictly positive."""
    base_dict["transition"] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]
    assert load(base_dict).transition[0, 1] == 0.0


# -- willingness, scalars ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "theta, field",
    [
        ([0.6, 0.6, 1.5], "willingness[1]"),
        ([0.6, 1.5, 1.0], "willingness[2]"),
        ([0.0, 1.0, 1.5], "willingness[0]"),
        ([-0.6, 1.0, 1.5], "willingness[0]"),
    ],
)
def test_willingness_strictly_increasing_and_positive(base_dict, theta, field):
    """θ_1 < ... < θ_I and θ > 0: equal or decreasing neighbours, zero or a negative value are
    refused, naming the first offending entry."""
    base_dict["willingness"] = theta
    assert field_of(load, base_dict) == field


def test_no_type_at_all_refused_by_the_constructor():
    """I >= 1: an empty willingness list is refused naming willingness."""
    assert (
        field_of(
            ContractInstance,
            n_servers=1,
            willingness=[],
            unit_cost=1.0,
            prior=[],
            valuation=LogValuation(1.0, 1.0),
            periods=1,
        )
        == "willingness"
    )


def test_no_type_at_all_refused_by_the_loader_naming_willingness(base_dict):
    """The loader names the real culprit, willingness, not a field sized from it. Regression:
    it used to check transition's shape (0, 0) first and name transition."""
    base_dict["willingness"], base_dict["prior"] = [], []
    assert field_of(load, base_dict) == "willingness"


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("discount",), 0.0, "discount"),
        (("discount",), -0.5, "discount"),
        (("discount",), 1.0000001, "discount"),
        (("unit_cost",), 0.0, "unit_cost"),
        (("unit_cost",), -1.0, "unit_cost"),
        (("effort_max",), 0.0, "effort_max"),
        (("effort_max",), -3.0, "effort_max"),
        (("valuation", "omega"), 0.0, "valuation.omega"),
        (("valuation", "omega"), -10.0, "valuation.omega"),
        (("valuation", "kappa"), 0.0, "valuation.kappa"),
        (("n_servers",), 0, "n_servers"),
        (("n_servers",), 2.5, "n_servers"),
        (("periods",), 3, "periods"),
        (("periods",), 0, "periods"),
        (("ir",), "yearly", "ir"),
        (("valuation", "kind"), "exp", "valuation.kind"),
        (("valuation",), [10.0, 1.0], "valuation"),
        (("name",), 5, "name"),
    ],
)
def test_scalar_ranges(base_dict, path, value, field):
    """δ in (0, 1]; c, effort_max, ω, κ > 0; N >= 1 integer; periods in {1, 2}; ir and
    valuation.kind from their lists; valuation is an object; name a string."""
    target = base_dict
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert field_of(load, base_dict) == field


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.5, 1.5])
def test_power_rho_in_open_unit_interval(base_dict, rho):
    """G(e) = ω e^ρ is concave and increasing only for 0 < ρ < 1; both ends are refused."""
    base_dict["valuation"] = {"kind": "power", "omega": 10.0, "rho": rho}
    assert field_of(load, base_dict) == "valuation.rho"


def test_boundary_values_that_are_allowed(base_dict):
    """δ = 1 (no discounting) is allowed, N = 3.0 is read as the integer 3, ρ = 0.5 is fine."""
    base_dict["discount"] = 1.0
    base_dict["n_servers"] = 3.0
    base_dict["valuation"] = {"kind": "power", "omega": 10.0, "rho": 0.5}
    inst = load(base_dict)
    assert inst.discount == 1.0 and inst.n_servers == 3 and isinstance(inst.n_servers, int)


# -- shapes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("willingness", [[0.6, 1.0, 1.5]]),
        ("prior", [0.5, 0.5]),
        ("prior", [[0.3, 0.4, 0.3]]),
        ("transition", [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]),
        ("transition", [[0.5, 0.5], [0.5, 0.5]]),
        ("transition", [1 / 3] * 9),
        ("transition", [[0.7, 0.2, 0.1], [0.5, 0.5], [0.1, 0.2, 0.7]]),
        ("prior", 1.0),
    ],
)
def test_every_array_sized_by_the_number_of_types(base_dict, key, value):
    """Every array is sized I (or I x I) from willingness; a wrong, flat or ragged shape is
    refused naming the array."""
    base_dict[key] = value
    assert field_of(load, base_dict) == key


# -- periods, transition and discount ----------------------------------------------------------


def test_static_instance_may_omit_transition_and_discount(base_dict):
    """With periods = 1 there is no period 2: transition and discount may be omitted, and the
    loaded instance is static with δ defaulting to 1."""
    base_dict["periods"] = 1
    del base_dict["transition"], base_dict["discount"]
    inst = load(base_dict)
    assert not inst.dynamic and inst.transition is None and inst.discount == 1.0
    assert "transition" not in inst.to_dict()


@pytest.mark.parametrize("key", ["transition", "discount"])
def test_dynamic_instance_requires_transition_and_discount(base_dict, key):
    """With periods = 2 the period-2 Markov matrix and the discount are part of the model."""
    del base_dict[key]
    assert field_of(load, base_dict) == key


def test_constructor_requires_transition_for_two_periods():
    """The Python constructor applies the same rule as the loader."""
    assert (
        field_of(
            ContractInstance,
            n_servers=1,
            willingness=[1.0],
            unit_cost=1.0,
            prior=[1.0],
            valuation=LogValuation(1.0, 1.0),
            periods=2,
        )
        == "transition"
    )


@pytest.mark.parametrize(
    "key",
    ["n_servers", "willingness", "unit_cost", "prior", "valuation", "effort_max"],
)
def test_required_fields(base_dict, key):
    """Fields without a documented default are required; the error names the missing one."""
    del base_dict[key]
    assert field_of(load, base_dict) == key


# -- NaN / inf, unknown keys, wrong JSON types -------------------------------------------------


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("willingness", 1), math.nan, "willingness[1]"),
        (("prior", 2), math.inf, "prior[2]"),
        (("transition", 1, 2), math.nan, "transition[1, 2]"),
        (("valuation", "omega"), math.nan, "valuation.omega"),
        (("valuation", "kappa"), math.inf, "valuation.kappa"),
        (("discount",), math.nan, "discount"),
        (("unit_cost",), -math.inf, "unit_cost"),
        (("effort_max",), math.inf, "effort_max"),
    ],
)
def test_nan_and_inf_refused(base_dict, path, value, field):
    """NaN slips through every comparison (NaN > 0 is False, but so is NaN <= 0), so it must be
    refused explicitly, as must ±inf; the error points at the entry."""
    target = base_dict
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert field_of(load, base_dict) == field


@pytest.mark.parametrize(
    "path, field",
    [((), "foo"), (("valuation",), "valuation.foo")],
)
def test_unknown_key_refused(base_dict, path, field):
    """A misspelt key would otherwise be silently ignored (e.g. "dicsount" leaving δ at default)."""
    target = base_dict
    for key in path:
        target = target[key]
    target["foo"] = 1
    assert field_of(load, base_dict) == field


def test_key_of_the_other_valuation_kind_refused(base_dict):
    """ρ belongs to the power valuation; on a log valuation it is an unknown key."""
    base_dict["valuation"]["rho"] = 0.5
    assert field_of(load, base_dict) == "valuation.rho"


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("n_servers",), True, "n_servers"),
        (("periods",), True, "periods"),
        (("discount",), True, "discount"),
        (("unit_cost",), False, "unit_cost"),
        (("effort_max",), True, "effort_max"),
        (("valuation", "omega"), True, "valuation.omega"),
        (("discount",), "0.9", "discount"),
        (("limited_liability",), "false", "limited_liability"),
        (("limited_liability",), 0, "limited_liability"),
    ],
)
def test_wrong_json_type_refused(base_dict, path, value, field):
    """true is not the number 1 and "false" is not a boolean (a non-empty string is truthy in
    Python, the classic "False" bug); numbers given as strings are refused too."""
    target = base_dict
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert field_of(load, base_dict) == field


@pytest.mark.parametrize(
    "key, value, field",
    [
        ("willingness", [0.6, True, 1.5], "willingness[1]"),
        ("willingness", ["0.6", "1.0", "1.5"], "willingness[0]"),
        ("prior", [0.3, 0.4, "0.3"], "prior[2]"),
        ("transition", [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, False, 0.9]], "transition[2, 1]"),
    ],
)
def test_bool_or_string_inside_an_array_refused(base_dict, key, value, field):
    """The scalar rule (a bool or a string is not a number) must hold for array entries too,
    naming the entry. Regression: np.array(..., dtype=float64) silently turned true into 1.0
    and "0.6" into 0.6."""
    base_dict[key] = value
    assert field_of(load, base_dict) == field


def test_header_checked_by_the_loader(base_dict):
    """The public loader checks family and schema_version before the family's own fields."""
    assert isinstance(instance_from_dict(base_dict), ContractInstance)
    assert field_of(instance_from_dict, {**base_dict, "schema_version": 2}) == "schema_version"
    assert field_of(instance_from_dict, {**base_dict, "family": "no_such_family"}) == "family"


# -- decisions -----------------------------------------------------------------------------------

DEC = {
    "family": "contract",
    "schema_version": 1,
    "effort1": [1.0, 2.0, 3.0],
    "reward1": [1.0, 2.0, 3.0],
    "effort2": [[1.0, 2.0, 3.0]] * 3,
    "reward2": [[1.0, 2.0, 3.0]] * 3,
}


@pytest.mark.parametrize(
    "key, value, field",
    [
        ("reward1", [1.0, 2.0], "reward1"),
        ("effort2", [[1.0, 2.0]] * 3, "effort2"),
        ("reward2", [[1.0, 2.0, 3.0]] * 2, "reward2"),
        ("effort2", [1.0, 2.0, 3.0], "effort2"),
        ("reward2", None, "reward2"),
        ("effort2", None, "effort2"),
        ("reward1", [1.0, math.nan, 3.0], "reward1[1]"),
        ("reward2", [[1.0, 2.0, 3.0], [1.0, 2.0, math.inf], [1.0, 2.0, 3.0]], "reward2[1, 2]"),
        ("effort3", [1.0], "effort3"),
    ],
)
def test_decision_validation(key, value, field):
    """Decision arrays are sized from effort1 (I and I x I), finite, come as an
    effort2/reward2 pair, and carry no unknown key."""
    d = dict(DEC)
    if value is None:
        del d[key]
    else:
        d[key] = value
    assert field_of(ContractDecision.from_dict, d) == field


def test_decision_must_fit_the_instance(base_dict):
    """check_fits: effort2 present only with periods = 2, required with periods = 2, and the
    number of types must match; evaluate() applies the same check."""
    dyn = load(base_dict)
    static_dec = ContractDecision(effort1=[1.0, 2.0, 3.0], reward1=[1.0, 2.0, 3.0])
    assert field_of(static_dec.check_fits, dyn) == "effort2"
    assert field_of(optkit.evaluate, dyn, static_dec) == "effort2"
    assert (
        field_of(
            ContractDecision.from_dict,
            {k: v for k, v in DEC.items() if k not in ("effort2", "reward2")},
            instance=dyn,
        )
        == "effort2"
    )

    base_dict["periods"] = 1
    static = load(base_dict)
    dyn_dec = ContractDecision.from_dict(DEC)
    assert field_of(dyn_dec.check_fits, static) == "effort2"
    assert field_of(ContractDecision.from_dict, DEC, instance=static) == "effort2"

    two = ContractDecision(effort1=[1.0, 2.0], reward1=[1.0, 2.0])
    assert field_of(two.check_fits, static) == "effort1"
    assert field_of(optkit.evaluate, static, two) == "effort1"


# -- JSON round trip, immutability ---------------------------------------------------------------


def same_instance(a: ContractInstance, b: ContractInstance) -> bool:
    return a.to_dict() == b.to_dict() and all(
        (x is None and y is None) or np.array_equal(x, y)
        for x, y in (
            (a.willingness, b.willingness),
            (a.prior, b.prior),
            (a.transition, b.transition),
            (a.phi, b.phi),
        )
    )


SEEDS = range(60)


@pytest.mark.parametrize("preset", PRESETS)
def test_round_trip_is_exact_for_every_preset(preset):
    """to_dict then from_dict must give back the same instance bit for bit (spec: a generator
    spec "regenerates them bit for bit"; a saved-and-reloaded suite instance must be the one
    that was solved). Regression: renormalising every row by its floating-point sum is not
    idempotent and moved ~1/3 of 'default' and ~90% of 'large' instances by an ulp per reload;
    a second reload must not move them either."""
    for seed in SEEDS:
        inst = gen(preset, seed)
        back = ContractInstance.from_dict(json.loads(json.dumps(inst.to_dict())))
        assert same_instance(inst, back), seed
        assert same_instance(back, ContractInstance.from_dict(back.to_dict())), seed


def test_round_trip_of_example_static_and_named(base_dict):
    """The hand-written example (and its static version) survives JSON text and back; name
    and every option are kept."""
    for periods in (2, 1):
        base_dict["periods"] = periods
        base_dict["limited_liability"] = True
        base_dict["ir"] = "interim"
        inst = load(base_dict)
        back = load(json.loads(json.dumps(inst.to_dict())))
        assert back.name == "example" and back.limited_liability and back.ir == "interim"
        np.testing.assert_allclose(back.prior, inst.prior, rtol=1e-15, atol=0)
        assert np.array_equal(back.willingness, inst.willingness)


@pytest.mark.parametrize("periods", [1, 2])
def test_decision_round_trip_exact(periods):
    """Decisions have no renormalisation, so their JSON round trip is exact."""
    rng = np.random.default_rng(periods)
    dec = ContractDecision(
        effort1=rng.uniform(0, 10, 4),
        reward1=rng.normal(size=4),
        effort2=rng.uniform(0, 10, (4, 4)) if periods == 2 else None,
        reward2=rng.normal(size=(4, 4)) if periods == 2 else None,
    )
    back = ContractDecision.from_dict(json.loads(json.dumps(dec.to_dict())))
    assert len(decision_arrays(back)) == 2 * periods
    for a, b in zip(decision_arrays(dec), decision_arrays(back), strict=True):
        assert np.array_equal(a, b)


def test_arrays_are_read_only_and_copied(base_dict):
    """Frozen instances must not be changeable through their arrays (a solver cache keyed on
    the instance would go stale), and must not alias the caller's arrays."""
    theta = np.array([0.6, 1.0, 1.5])
    P = np.array(EXAMPLE["transition"])
    inst = ContractInstance(
        n_servers=2,
        willingness=theta,
        unit_cost=1.2,
        prior=np.array([0.3, 0.4, 0.3]),
        transition=P,
        discount=0.9,
        valuation=LogValuation(10.0, 1.0),
    )
    theta[0], P[0, 0] = 0.1, 0.0  # the caller's arrays stay theirs
    assert inst.willingness[0] == 0.6 and inst.transition[0, 0] == pytest.approx(0.7, abs=1e-15)
    for arr in (inst.willingness, inst.prior, inst.transition, inst.phi):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        inst.discount = 0.5  # type: ignore[misc]
    dec = ContractDecision.from_dict(DEC)
    for arr in decision_arrays(dec):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0
