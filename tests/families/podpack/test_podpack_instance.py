"""PodpackInstance / PodpackDecision validation and JSON: every bad field named (exit 2 on the
command line), round trips bit for bit."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import optkit
from optkit.core.api import instance_from_dict
from optkit.core.errors import InvalidInputError
from optkit.families.podpack.instance import PodpackDecision, PodpackInstance

EXAMPLE = {
    "family": "podpack",
    "schema_version": 1,
    "nodes": [
        {"name": "node-0", "cpu": 4000, "memory": 8589934592},
        {"name": "node-1", "cpu": 2000, "memory": 4294967296, "schedulable": False},
    ],
    "pods": [
        {
            "name": "web-1",
            "cpu": 250,
            "memory": 268435456,
            "priority": 2,
            "node": "node-0",
            "protected": False,
            "owner": "web",
        },
        {
            "name": "web-2",
            "cpu": 250,
            "memory": 268435456,
            "priority": 2,
            "node": None,
            "protected": False,
            "owner": "web",
        },
        {
            "name": "ds-1",
            "cpu": 100,
            "memory": 1000,
            "priority": 100,
            "node": "node-1",
            "protected": True,
            "owner": None,
        },
    ],
}


def field_of(data) -> str:
    with pytest.raises(InvalidInputError) as info:
        instance_from_dict(data)
    return info.value.field


def test_spec_example_loads_and_round_trips():
    inst = instance_from_dict(copy.deepcopy(EXAMPLE))
    assert inst.n_nodes == 2 and inst.n_pods == 3 and inst.tiers() == (100, 2)
    again = PodpackInstance.from_dict(json.loads(json.dumps(inst.to_dict())))
    assert again == inst and again.to_dict() == inst.to_dict()


def test_generated_instances_round_trip():
    inst = optkit.generate("podpack", "n4-ppn8-l4-u095", seed=1)
    assert PodpackInstance.from_dict(json.loads(json.dumps(inst.to_dict()))) == inst


@pytest.mark.parametrize(
    "path, value, field",
    [
        ("pods.0.node", "node-9", "pods[0].node"),
        ("pods.0.cpu", -1, "pods[0].cpu"),
        ("pods.0.cpu", 1.5, "pods[0].cpu"),
        ("pods.0.memory", "1Gi", "pods[0].memory"),
        ("pods.1.name", "web-1", "pods[1].name"),
        ("nodes.1.name", "node-0", "nodes[1].name"),
        ("nodes.0.cpu", True, "nodes[0].cpu"),
        ("pods.0.priority", 3_000_000_000, "pods[0].priority"),
        ("pods.1.protected", True, "pods[1].protected"),
        ("pods.0.eligible_nodes", ["node-7"], "pods[0].eligible_nodes[0]"),
        ("pods.0.colour", "red", "pods[0].colour"),
        ("nodes.0.taints", [{"key": "k", "effect": "Sometimes"}], "nodes[0].taints[0].effect"),
        ("nodes.0.schedulable", "false", "nodes[0].schedulable"),
        ("pods", {}, "pods"),
        ("nodes", [], "nodes"),
    ],
)
def test_bad_fields_are_named(path, value, field):
    data = copy.deepcopy(EXAMPLE)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    assert field_of(data) == field


def test_decision_checks_names():
    inst = instance_from_dict(copy.deepcopy(EXAMPLE))
    ok = {"web-1": "node-0", "web-2": None, "ds-1": "node-1"}
    assert PodpackDecision.from_dict({"assignment": ok}, instance=inst).indices(inst) == (
        0,
        None,
        1,
    )
    for bad, field in [
        ({**ok, "web-2": "node-9"}, "assignment.web-2"),
        ({**ok, "ghost": None}, "assignment.ghost"),
        ({"web-1": "node-0", "ds-1": "node-1"}, "assignment.web-2"),
        ({**ok, "web-2": 3}, "assignment.web-2"),
    ]:
        with pytest.raises(InvalidInputError) as info:
            PodpackDecision.from_dict({"assignment": bad}, instance=inst)
        assert info.value.field == field


def test_eligibility_rules():
    """Cordoned node-1 takes no new pod; a running pod may stay where it is."""
    inst = instance_from_dict(copy.deepcopy(EXAMPLE))
    assert inst.may_place(1, 0) and not inst.may_place(1, 1)
    assert inst.may_use(2, 1) and not inst.may_place(2, 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"key": "", "operator": "Equal", "value": "v"}, "operator"),  # tolerated any key
        ({"key": "k", "operator": "Exists", "value": "v"}, "value"),
        ({}, "operator"),
        ({"key": "k", "effect": None}, "effect"),
    ],
)
def test_tolerations_follow_the_api_servers_validation(kwargs, field):
    """ValidateTolerations (pkg/apis/core/validation): an empty key needs Exists, Exists takes
    no value. `tolerates` relies on it; hand-written JSON reached it unchecked (an empty-key
    Equal toleration tolerated every taint with its value, whatever the key). The published
    schema refuses the same documents."""
    from jsonschema import Draft202012Validator

    from optkit.families.podpack.instance import Toleration

    with pytest.raises(InvalidInputError) as exc:
        Toleration(**kwargs)
    assert exc.value.field == field
    root = Path(__file__).resolve().parents[3]
    schema = json.loads((root / "docs/schemas/podpack.instance.schema.json").read_text())
    item = schema["properties"]["pods"]["items"]["properties"]["tolerations"]["items"]
    assert not Draft202012Validator(item).is_valid(kwargs)
