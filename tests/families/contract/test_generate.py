"""Seeded generator presets of spec/contract.md ("Generator presets").

Each preset is checked against the ranges the spec states for it, over many seeds (drawing an
instance costs microseconds). Ranges are closed because the spec writes U(a, b); a value outside
them means the preset changed, which the spec forbids ("Presets are frozen: changing one is a
new preset name").
"""

from __future__ import annotations

import numpy as np
import pytest
from contract_testkit import PRESETS, gen

import optkit
from optkit.core.errors import InvalidInputError, UnknownNameError
from optkit.families.contract import generate as family_generate
from optkit.families.contract.instance import ContractInstance

SEEDS = range(40)
RHO_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def check_common(inst: ContractInstance) -> None:
    """Ranges shared by every preset (spec: the `default` draws, inherited by the others)."""
    theta = inst.willingness
    assert np.all(theta >= 0.5) and np.all(theta <= 2.0)
    # minimum gap 0.05 (up to the rounding of adding k·0.05 in the spacing construction)
    assert np.all(np.diff(theta) >= 0.05 - 1e-12)
    assert 0.5 <= inst.unit_cost <= 2.0
    assert np.all(inst.prior > 0) and inst.prior.sum() == pytest.approx(1.0, abs=1e-12)
    assert 5.0 <= inst.valuation.omega <= 20.0
    assert 5.0 <= inst.effort_max <= 20.0
    assert 1 <= inst.n_servers <= 19 and isinstance(inst.n_servers, int)
    assert inst.limited_liability is False
    if inst.dynamic:
        P = inst.transition
        assert 0.7 <= inst.discount <= 1.0
        # P = ½·Dirichlet(1) rows + ½·I: a persistent diagonal of at least ½, rows stochastic
        assert np.all(np.diag(P) >= 0.5 - 1e-12) and np.all(P >= 0)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    else:
        assert inst.transition is None and inst.discount == 1.0


@pytest.mark.parametrize("preset", ["default", "interim"])
def test_default_and_interim_ranges(preset):
    """default: I = 3, periods 2, log valuation with κ in [0.5, 2], per_period IR; interim is
    the same draw with interim IR."""
    for seed in SEEDS:
        inst = gen(preset, seed)
        check_common(inst)
        assert inst.n_types == 3 and inst.periods == 2
        assert inst.valuation.kind == "log" and 0.5 <= inst.valuation.kappa <= 2.0
        assert inst.ir == ("interim" if preset == "interim" else "per_period")


def test_default_is_what_a_user_gets_without_a_preset():
    """optkit.generate with no preset uses `default` (spec)."""
    assert optkit.generate("contract", seed=3).to_dict() == gen("default", 3).to_dict()


def test_static_ranges():
    """static: periods = 1 with I in 2..8; over 40 seeds several sizes occur."""
    sizes = set()
    for seed in SEEDS:
        inst = gen("static", seed)
        check_common(inst)
        assert inst.periods == 1 and 2 <= inst.n_types <= 8
        sizes.add(inst.n_types)
    assert len(sizes) >= 4


def test_power_ranges():
    """power: valuation ω e^ρ with ρ from the grid {0.3, ..., 0.8} (exact grid values)."""
    rhos = set()
    for seed in SEEDS:
        inst = gen("power", seed)
        check_common(inst)
        assert inst.valuation.kind == "power" and inst.valuation.rho in RHO_GRID
        assert inst.n_types == 3 and inst.periods == 2
        rhos.add(inst.valuation.rho)
    assert len(rhos) >= 4


def test_large_ranges():
    """large: I in 8..20, otherwise the default draw (two periods, log valuation)."""
    for seed in SEEDS:
        inst = gen("large", seed)
        check_common(inst)
        assert 8 <= inst.n_types <= 20 and inst.periods == 2
        assert inst.valuation.kind == "log"


@pytest.mark.parametrize("preset", PRESETS)
def test_same_seed_same_instance_different_seed_different(preset):
    """Seeded with a numpy Generator: one seed, one instance; another seed, another one."""
    a, b = gen(preset, 123), gen(preset, 123)
    assert a.to_dict() == b.to_dict()
    assert np.array_equal(a.willingness, b.willingness)
    others = {repr(gen(preset, s).to_dict()) for s in range(10)}
    assert len(others) == 10


def test_global_rng_untouched():
    """Generators never use (or reseed) numpy's global RNG (architecture.md)."""
    np.random.seed(7)
    state = np.random.get_state()[1].copy()
    a = gen("default", 5)
    assert np.array_equal(np.random.get_state()[1], state)
    np.random.seed(8)
    assert gen("default", 5).to_dict() == a.to_dict()


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("n", [1, 2, 5, 29])
def test_n_types_override(preset, n):
    """n_types overrides I; the θ construction keeps the gap 0.05 inside [0.5, 2] up to the
    29 types that fit (1.5 / 0.05 + 1)."""
    inst = gen(preset, 11, n)
    assert inst.n_types == n
    check_common(inst)


def test_n_types_override_keeps_the_stream():
    """The override still consumes the preset's own size draw, so asking for the size the preset
    would have drawn anyway gives the very same instance."""
    for seed in range(10):
        inst = gen("static", seed)
        assert gen("static", seed, inst.n_types).to_dict() == inst.to_dict()


@pytest.mark.parametrize("n", [0, 30, True, 2.5])
def test_bad_n_types_refused(n):
    """I >= 1, at most 29 (more cannot keep the gap), an integer and not a bool."""
    with pytest.raises(InvalidInputError) as info:
        optkit.generate("contract", preset="default", seed=0, n_types=n)
    assert info.value.field == "n_types"


def test_limited_liability_option():
    """The option only switches R >= 0 on; the drawn data are the same."""
    a = optkit.generate("contract", seed=4, limited_liability=True)
    b = gen("default", 4)
    assert a.limited_liability
    assert {**a.to_dict(), "limited_liability": False} == b.to_dict()


def test_unknown_preset_refused():
    """The family's generator raises InvalidInputError naming `preset` and listing the valid
    names; the public API refuses it earlier with the registry's UnknownNameError, which lists
    them too."""
    with pytest.raises(InvalidInputError) as info:
        family_generate("huge", 0)
    assert info.value.field == "preset"
    for name in PRESETS:
        assert name in str(info.value)
    with pytest.raises(UnknownNameError) as info2:
        optkit.generate("contract", preset="huge", seed=0)
    assert all(name in str(info2.value) for name in PRESETS)


@pytest.mark.parametrize("seed", [-1, True, 1.5, 2**63])
def test_bad_seed_refused(seed):
    """A seed is a non-negative integer below 2**63; True is not a seed."""
    with pytest.raises(InvalidInputError) as info:
        optkit.generate("contract", seed=seed)
    assert info.value.field == "seed"


def test_name_option():
    """A name given to the generator is carried into the JSON."""
    assert optkit.generate("contract", seed=0, name="x").to_dict()["name"] == "x"


def test_limited_liability_string_refused():
    """The STYLE.md pitfall: "False" must not be read as true; refuse it naming the option.
    Regression: generate() passed the option through bool()."""
    with pytest.raises(InvalidInputError) as info:
        optkit.generate("contract", seed=0, limited_liability="False")
    assert info.value.field == "limited_liability"


def test_non_string_name_refused():
    """The generator applies the instance's own rule for `name` (regression: it was set after
    validation, so its to_dict() was then refused by from_dict)."""
    with pytest.raises(InvalidInputError) as info:
        optkit.generate("contract", seed=0, name=5)
    assert info.value.field == "name"
