"""Instances and decisions: JSON round trip, CSV/YAML import, and the spec's rejection list."""

from __future__ import annotations

import numpy as np
import pytest
from knapsack_testkit import EXAMPLE_PATH, ROOT

import optkit
from optkit.core.api import instance_from_dict
from optkit.core.errors import InvalidInputError
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance
from optkit.families.knapsack.inventory import read_inventory


def test_example_round_trips_bit_for_bit(example_dict):
    inst = instance_from_dict(example_dict)
    assert isinstance(inst, KnapsackInstance)
    again = instance_from_dict(inst.to_dict())
    assert again.to_dict() == inst.to_dict()
    assert inst.n_components == 4 and inst.skill_names == ("search", "code", "summarise")
    assert inst.conflicts.tolist() == [[2, 3]]


@pytest.mark.parametrize("preset", ["single_agent", "multi_agent"])
def test_generated_instances_round_trip(preset):
    inst = optkit.generate("knapsack", preset, seed=3)
    again = instance_from_dict(inst.to_dict())
    for name in ("prices", "quality", "offers", "description", "weights", "conflicts"):
        assert np.array_equal(getattr(again, name), getattr(inst, name)), name


# The spec's rejection list, each naming its field.
REJECTIONS = [
    (lambda d: d["components"][1].update(price=0.0), "components[1].price"),
    (lambda d: d["components"][1].update(price=-3), "components[1].price"),
    (lambda d: d["components"][0]["quality"].update(search=1.2), "components[0].quality.search"),
    (lambda d: d["components"][0]["quality"].update(code=-0.1), "components[0].quality.code"),
    (lambda d: d["components"][2]["quality"].update(dance=0.5), "components[2].quality.dance"),
    (lambda d: d["components"][3].update(name="coder"), "components[3].name"),
    (lambda d: d.update(conflicts=[["coder", "nobody"]]), "conflicts[0][1]"),
    (lambda d: d.update(conflicts=[["coder", "coder"]]), "conflicts[0]"),
    (lambda d: d.update(requires=[["ghost", "coder"]]), "requires[0][0]"),
    (lambda d: d.update(requires=[["coder", "searcher"], ["coder", "coder"]]), "requires[1]"),
    (lambda d: d.update(budget=0), "budget"),
    (lambda d: d.update(objective="best"), "objective"),
    (lambda d: d["skills"][1].update(weight=0), "skills[1].weight"),
    (lambda d: d["skills"][1].update(name="search"), "skills[1].name"),
    (lambda d: d.update(extra=1), "extra"),
]


@pytest.mark.parametrize("mutate, field", REJECTIONS)
def test_bad_input_names_the_field(example_dict, mutate, field):
    mutate(example_dict)
    with pytest.raises(InvalidInputError) as info:
        instance_from_dict(example_dict)
    assert info.value.field == field


def test_decision_names_unknown_components():
    inst = optkit.load(EXAMPLE_PATH)
    data = {"family": "knapsack", "schema_version": 1, "chosen": ["coder", "ghost"]}
    with pytest.raises(InvalidInputError) as info:
        KnapsackDecision.from_dict(data, instance=inst)
    assert info.value.field == "chosen[1]"
    data = {"family": "knapsack", "schema_version": 1, "chosen": ["coder", "coder"]}
    with pytest.raises(InvalidInputError, match="duplicate"):
        KnapsackDecision.from_dict(data, instance=inst)


def test_csv_and_yaml_inventories_match_the_json():
    ref = optkit.load(EXAMPLE_PATH)
    folder = ROOT / "instances" / "knapsack"
    csv = read_inventory(folder / "example-inventory.csv", budget=7.0, weights={"search": 2.0})
    yml = read_inventory(folder / "example-inventory.yaml")
    for inst in (csv, yml):
        for name in ("skill_names", "component_names", "budget"):
            assert getattr(inst, name) == getattr(ref, name)
        for name in ("prices", "quality", "offers", "description", "weights", "conflicts"):
            assert np.array_equal(getattr(inst, name), getattr(ref, name)), name


def test_csv_errors_name_row_and_column(tmp_path):
    bad = tmp_path / "inv.csv"
    bad.write_text("name,price,quality.search\na,1.0,0.5\nb,zero,0.5\n")
    with pytest.raises(InvalidInputError) as info:
        read_inventory(bad, budget=5)
    assert info.value.field == "rows[1].price" and info.value.source == str(bad)
    bad.write_text("name,price,quality.search\na,1.0,0.5\nb,2.0,1.5\n")
    with pytest.raises(InvalidInputError) as info:
        read_inventory(bad, budget=5)
    assert info.value.field == "rows[1].quality.search"
    with pytest.raises(InvalidInputError) as info:
        read_inventory(bad)
    assert info.value.field == "budget"


def test_yaml_errors_name_the_field(tmp_path):
    bad = tmp_path / "inv.yaml"
    bad.write_text(
        "skills: {a: 1}\nbudget: 3\ncomponents:\n  - {name: x, price: 1, quality: {b: 0.5}}\n"
    )
    with pytest.raises(InvalidInputError) as info:
        read_inventory(bad)
    assert info.value.field == "components[0].quality.b"


def test_presets_are_frozen():
    """instances/knapsack/knapsack-single_agent-s0.json was written by `optkit generate` when
    the preset was defined: regenerating it must give the same instance bit for bit (a change
    of draw order is a new preset name, never an edit)."""
    shipped = optkit.load(ROOT / "instances" / "knapsack" / "knapsack-single_agent-s0.json")
    fresh = optkit.generate("knapsack", "single_agent", seed=0)
    without_name = lambda inst: {k: v for k, v in inst.to_dict().items() if k != "name"}  # noqa: E731
    assert without_name(fresh) == without_name(shipped)
