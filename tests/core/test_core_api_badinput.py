"""Bad arguments to the Python API and bad JSON documents: one InvalidInputError naming the
field, never a raw TypeError / RecursionError / process abort (found by the bad-input review)."""

from __future__ import annotations

from pathlib import Path

import pytest

import optkit
from optkit.core.api import MAX_THREADS
from optkit.core.errors import InvalidInputError
from optkit.core.jsonio import read_json
from optkit.families.knapsack.instance import KnapsackDecision


@pytest.fixture(scope="module")
def inst():
    return optkit.generate("contract", preset="default", seed=0)


def test_deeply_nested_json_is_bad_input(tmp_path):
    """100,000 levels overflow Python's parser (RecursionError, exit 1 before): one message,
    the file named."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidInputError, match="nested too deeply") as exc:
        read_json(path)
    assert exc.value.source == str(path)


def test_deep_json_from_the_cli_exits_2(run_cli, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    res = run_cli("solve", path)
    assert res.code == 2 and "nested too deeply" in res.err


@pytest.mark.parametrize("call", ["solve", "solve_many"])
def test_not_an_instance_names_the_instance(inst, call):
    with pytest.raises(InvalidInputError, match="not an instance type") as exc:
        optkit.solve(None) if call == "solve" else optkit.solve_many([inst, None])
    assert exc.value.field == "instance"


@pytest.mark.parametrize("params", [[1], "abc", 3])
def test_params_must_be_a_mapping(inst, params):
    with pytest.raises(InvalidInputError) as exc:
        optkit.solve(inst, "fast", params=params)
    assert exc.value.field == "params"


def test_threads_are_capped(inst):
    """HiGHS aborts the process (SIGABRT) when asked for 100,000 threads: refused first."""
    with pytest.raises(InvalidInputError) as exc:
        optkit.solve(inst, "fast", threads=MAX_THREADS + 1)
    assert exc.value.field == "threads"


@pytest.mark.parametrize("decision", [None, KnapsackDecision(chosen=("a",))])
def test_evaluate_names_a_decision_of_the_wrong_type(inst, decision):
    with pytest.raises(InvalidInputError, match="takes a ContractDecision") as exc:
        optkit.evaluate(inst, decision)
    assert exc.value.field == "decision"


@pytest.mark.parametrize(
    ("family", "path", "field"),
    [
        ("contract", ("unit_cost",), "unit_cost"),
        ("contract", ("effort_max",), "effort_max"),
        ("contract", ("valuation", "kappa"), "valuation.kappa"),
        ("knapsack", ("components", 0, "price"), "components[0].price"),
        ("knapsack", ("skills", 0, "weight"), "skills[0].weight"),
    ],
)
def test_absurd_magnitudes_are_refused_naming_the_field(family, path, field):
    """1e300 made Clarabel / HiGHS fail (a bare ERROR status, exit 3): refused at load now."""
    import json

    from optkit.core.api import instance_from_dict

    inst = (
        optkit.generate("contract", seed=0)
        if family == "contract"
        else optkit.load(Path(__file__).resolve().parents[2] / "instances/knapsack/example.json")
    )
    data = json.loads(json.dumps(inst.to_dict()))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = 1e300
    with pytest.raises(InvalidInputError) as exc:
        instance_from_dict(data)
    assert exc.value.field == field and "<=" in exc.value.problem


@pytest.mark.parametrize("key", ["unit_cost", "willingness"])
def test_integer_literals_beyond_float64_name_the_field(key):
    """10**400 in a float field raised OverflowError (exit 1, "internal error")."""
    from optkit.core.api import instance_from_dict

    data = optkit.generate("contract", seed=0).to_dict()
    if key == "willingness":
        data[key][0] = 10**400
    else:
        data[key] = 10**400
    with pytest.raises(InvalidInputError, match="beyond float64") as exc:
        instance_from_dict(data)
    assert exc.value.field == key


@pytest.mark.parametrize("bad", [False, 0, "", []])
def test_knapsack_assignment_must_be_an_object(bad):
    """`"assignment": false` (or 0, "", []) was read as no assignment."""
    from optkit.families.knapsack.instance import KnapsackDecision

    inst = optkit.load(Path(__file__).resolve().parents[2] / "instances/knapsack/example.json")
    with pytest.raises(InvalidInputError) as exc:
        KnapsackDecision.from_dict({"chosen": [], "assignment": bad}, instance=inst)
    assert exc.value.field == "assignment"
