"""Benchmark scenario types (optkit/core/benchmark.py): validation, gap, loading the hook."""

from __future__ import annotations

import dataclasses
import sys
import types

import pytest

from optkit.core import registry
from optkit.core.benchmark import BenchItem, Scenario, gap_to_reference, load_scenarios
from optkit.core.errors import InvalidInputError


def no_items(seeds, quick):
    return []


def scenario(**changes) -> Scenario:
    return Scenario(**{"name": "s", "description": "d", "instances": no_items, **changes})


def test_gap_is_positive_when_worse_for_either_sense():
    """Optimum 200: a value of 150 is 25% worse when maximising; for minimisation 250 is."""
    assert gap_to_reference(150.0, 200.0, "max") == pytest.approx(0.25)
    assert gap_to_reference(250.0, 200.0, "min") == pytest.approx(0.25)
    assert gap_to_reference(210.0, 200.0, "max") == pytest.approx(-0.05)  # a bound above it


def test_gap_floor_keeps_a_zero_optimum_finite():
    """|optimum| < 1 divides by 1: optimum 0, value -0.5 is a gap of 0.5, not infinity."""
    assert gap_to_reference(-0.5, 0.0, "max") == pytest.approx(0.5)


def test_vector_objectives_have_no_default_gap():
    assert gap_to_reference([1.0, 2.0], [1.0, 3.0], "lexmax") is None


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"name": "Bad Name"}, "must match"),
        ({"name": ""}, "must match"),
        ({"time_limits_s": ()}, "at least one"),
        ({"time_limits_s": (-1.0,)}, "not >= 0"),
        ({"time_limits_s": (float("inf"),)}, "not >= 0"),
        ({"seeds": ()}, "seeds must not be empty"),
        ({"quick_seeds": ()}, "seeds must not be empty"),
        ({"methods": ()}, "methods"),
        ({"methods": ("ok", "")}, "methods"),
    ],
)
def test_scenario_refuses_bad_definitions(changes, match):
    with pytest.raises(ValueError, match=match):
        scenario(**changes)


def test_scenario_refuses_a_negative_seed():
    with pytest.raises(InvalidInputError, match="seeds"):
        scenario(seeds=(0, -1))


def test_quick_runs_the_first_seed_unless_told():
    assert scenario(seeds=(3, 4, 5)).run_seeds(quick=True) == (3,)
    assert scenario(seeds=(3, 4, 5)).run_seeds(quick=False) == (3, 4, 5)
    assert scenario(seeds=(3, 4), quick_seeds=(9, 8)).run_seeds(quick=True) == (9, 8)


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"instance_id": ""}, ValueError),
        ({"decisions": 0}, ValueError),
        ({"decisions": 2.0}, TypeError),
        ({"decisions": True}, TypeError),
        ({"seed": -3}, InvalidInputError),
    ],
)
def test_bench_item_refuses_bad_fields(changes, error):
    with pytest.raises(error):
        BenchItem(**{"instance_id": "a", "instance": object(), **changes})


@pytest.fixture
def hook_module(monkeypatch):
    """A throw-away module the FamilySpec.bench entry point can name."""
    module = types.ModuleType("okt_fake_bench_hook")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def with_hook(entry: str | None) -> registry.FamilySpec:
    return dataclasses.replace(registry.get_family("contract"), bench=entry, solvers={})


def test_load_scenarios_calls_the_entry_point(hook_module):
    hook_module.scenarios = lambda: [scenario(name="a"), scenario(name="b")]
    names = [s.name for s in load_scenarios(with_hook("okt_fake_bench_hook:scenarios"))]
    assert names == ["a", "b"]


def test_no_hook_means_no_scenarios():
    assert load_scenarios(with_hook(None)) == ()


def test_load_scenarios_refuses_what_is_not_a_scenario(hook_module):
    hook_module.scenarios = lambda: [scenario(), {"name": "dict"}]
    with pytest.raises(TypeError, match="not a Scenario"):
        load_scenarios(with_hook("okt_fake_bench_hook:scenarios"))


def test_load_scenarios_refuses_duplicate_names(hook_module):
    hook_module.scenarios = lambda: [scenario(name="a"), scenario(name="a")]
    with pytest.raises(ValueError, match="two scenarios named 'a'"):
        load_scenarios(with_hook("okt_fake_bench_hook:scenarios"))


def test_load_scenarios_refuses_a_malformed_entry_point():
    with pytest.raises(ValueError, match="module:function"):
        load_scenarios(with_hook("no_colon_here"))


def test_contract_registers_its_hook():
    """The contract family's scenarios load through the registry (suite and drawn)."""
    names = [s.name for s in load_scenarios(registry.get_family("contract"))]
    assert names == ["suite", "drawn"]
