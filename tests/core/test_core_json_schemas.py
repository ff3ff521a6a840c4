"""The published JSON Schemas (docs/schemas/<family>.{instance,decision}.schema.json) against the
loaders they document.

Three directions: everything optkit ships or writes (instances/, generate().to_dict() of every
preset, decisions of optkit.solve) validates; structural bad inputs are refused by BOTH the schema
and the loader; and the schema's bounds and enums are the loader's own constants, so a change on
one side without the other fails here. Semantic checks a schema cannot state (names unique,
arrays sized by another field, rows summing to 1) are the loader's alone and listed in each
schema's top-level description.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import optkit
from optkit.core import api, fields, registry, seeding
from optkit.core.errors import InvalidInputError
from optkit.families.online_alloc import instance as oa_instance
from optkit.families.online_alloc import storage as oa_storage
from optkit.families.online_alloc.generate import OPTION_NAMES, PRESET_NAMES
from optkit.families.podpack import instance as pp_instance

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
INSTANCES = ROOT / "instances"
FAMILIES = ("contract", "knapsack", "online_alloc", "podpack")
KINDS = ("instance", "decision")
SEEDS = (0, 1, 2)
DECISION_SEEDS = (0, 1)

# A fast solver per (family, preset) that returns a decision; the decision format is the same
# for every solver of a family, so the slow exact ones on the large presets are not needed here.
DEFAULT_SOLVER = {
    "contract": "fast",
    "knapsack": "highs",
    "online_alloc": "dmd",
    "podpack": "kube_default",
}
SOLVER_FOR = {("contract", "large"): "static_repeat", ("knapsack", "large"): "retrieval_topk"}
# Extra solves whose decisions carry the optional "fractional" block (LP oracles).
EXTRA_SOLVES = (
    ("online_alloc", "small", "dual_bound"),
    ("online_alloc", "bidding-small", "dual_bound"),
)


@functools.cache
def validator(family: str, kind: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{family}.{kind}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def schema_errors(family: str, kind: str, data: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
        for e in validator(family, kind).iter_errors(data)
    ]


def write(tmp_path: Path, data: Any, name: str = "decision.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- the schema files themselves ---------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_schema_is_valid_draft_2020_12(family: str, kind: str) -> None:
    schema = validator(family, kind).schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["family"]["const"] == family
    assert schema["additionalProperties"] is False  # every loader refuses unknown top-level keys


def _property_schemas(node: Any, where: str) -> Iterator[tuple[str, dict]]:
    """Every schema that describes a named property or an array/map element, with its path
    (the `if` parts of conditionals only restate properties, so they are skipped)."""
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            yield f"{where}.{key}", sub
            yield from _property_schemas(sub, f"{where}.{key}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                yield f"{where}[{key}]", node[key]
                yield from _property_schemas(node[key], f"{where}[{key}]")
        for k, sub in enumerate(node.get("oneOf", [])):
            yield from _property_schemas(sub, f"{where}<oneOf {k}>")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_property_is_described(family: str, kind: str) -> None:
    missing = [
        where
        for where, sub in _property_schemas(validator(family, kind).schema, family)
        if not str(sub.get("description", "")).strip()
    ]
    assert missing == []


def _find(schema: dict, dotted: str) -> dict:
    node = schema
    for part in dotted.split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
    return node


def test_bounds_and_enums_are_the_loaders_constants() -> None:
    """The numbers in the schemas come from optkit's own constants, not copies that drift."""
    c = validator("contract", "instance").schema
    for key in ("unit_cost", "effort_max", "willingness.[]"):
        assert _find(c, key)["maximum"] == fields.MAX_MAGNITUDE
    assert _find(c, "n_servers")["maximum"] == fields.INT64_MAX
    for kind in c["properties"]["valuation"]["oneOf"]:
        assert kind["properties"]["omega"]["maximum"] == fields.MAX_MAGNITUDE
    k = validator("knapsack", "instance").schema
    for key in ("budget", "components.[].price", "skills.[].weight"):
        assert _find(k, key)["maximum"] == fields.MAX_MAGNITUDE
    o = validator("online_alloc", "instance").schema
    assert _find(o, "variant")["enum"] == list(oa_instance.VARIANTS)
    assert _find(o, "input_model")["enum"] == list(oa_instance.INPUT_MODELS)
    assert _find(o, "generator.preset")["enum"] == list(PRESET_NAMES)
    assert set(_find(o, "generator.options")["properties"]) == set(OPTION_NAMES)
    assert _find(o, "generator.seed")["maximum"] == seeding.MAX_SEED
    p = validator("podpack", "instance").schema
    for key in ("cpu", "memory", "score_cpu", "score_memory"):
        assert _find(p, f"pods.[].{key}")["maximum"] == pp_instance.MAX_QUANTITY
    prio = _find(p, "pods.[].priority")
    assert (prio["minimum"], prio["maximum"]) == (
        pp_instance.MIN_PRIORITY,
        pp_instance.MAX_PRIORITY,
    )
    assert _find(p, "nodes.[].taints.[].effect")["enum"] == list(pp_instance.TAINT_EFFECTS)
    assert _find(p, "pods.[].tolerations.[].operator")["enum"] == list(
        pp_instance.TOLERATION_OPERATORS
    )


def test_schemas_cover_every_registered_family() -> None:
    assert set(registry.family_names()) == set(FAMILIES)
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(
        f"{f}.{k}.schema.json" for f in FAMILIES for k in KINDS
    )


# -- everything optkit ships validates ---------------------------------------------------------
def _shipped() -> list[Path]:
    return sorted(INSTANCES.rglob("*.json"))


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: str(p.relative_to(INSTANCES)))
def test_shipped_file_validates(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if "family" not in data:  # a raw `kubectl get -o json` dump, the input of podpack import
        assert data.get("kind") == "List" and path.parent.name == "podpack"
        return
    if "solver" in data:  # a stored SolveResult: its decision is the decision document
        assert schema_errors(data["family"], "decision", data["decision"]) == []
        instance = optkit.load(path.with_name(path.name.replace(".solution.json", ".json")))
        api.load_decision(instance, path)
        return
    assert schema_errors(data["family"], "instance", data) == []
    optkit.load(path)


def _presets() -> list[tuple[str, str]]:
    return [(f, p) for f in FAMILIES for p in registry.get_family(f).presets]


def _ids(cases: list[tuple]) -> list[str]:
    return [":".join(str(x) for x in case if isinstance(x, str)) for case in cases]


@pytest.mark.parametrize(("family", "preset"), _presets(), ids=_ids(_presets()))
def test_generated_instances_validate(family: str, preset: str) -> None:
    for seed in SEEDS:
        data = json.loads(json.dumps(api.generate(family, preset, seed).to_dict()))
        assert schema_errors(family, "instance", data) == [], (preset, seed)


@pytest.mark.parametrize("preset", ["small", "bidding-small", "matching-small"])
def test_online_alloc_npz_header_validates(tmp_path: Path, preset: str) -> None:
    """The JSON + .npz form written by storage.save (the "arrays" branch of the schema)."""
    inst = api.generate("online_alloc", preset, 0)
    path = oa_storage.save(inst, tmp_path / f"{preset}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "arrays" in data and "generator" not in data
    assert schema_errors("online_alloc", "instance", data) == []
    assert optkit.load(path).T == inst.T


def _solves() -> list[tuple[str, str, str]]:
    out = [(f, p, SOLVER_FOR.get((f, p), DEFAULT_SOLVER[f])) for f, p in _presets()]
    return out + list(EXTRA_SOLVES)


@pytest.mark.parametrize(("family", "preset", "solver"), _solves(), ids=_ids(_solves()))
def test_solver_decisions_validate(tmp_path: Path, family: str, preset: str, solver: str) -> None:
    for seed in DECISION_SEEDS:
        inst = api.generate(family, preset, seed)
        result = api.solve(inst, solver, seed=seed)
        assert result.decision is not None, (preset, seed, result.status, result.message)
        data = json.loads(json.dumps(result.decision.to_dict()))
        assert schema_errors(family, "decision", data) == [], (preset, seed)
        api.load_decision(inst, write(tmp_path, data))  # and the loader reads it back


def test_lp_decisions_exercise_the_fractional_block(tmp_path: Path) -> None:
    """The optional "fractional" object is covered by a real decision, not only by the schema."""
    inst = api.generate("online_alloc", "small", 0)
    data = api.solve(inst, "dual_bound").decision.to_dict()
    assert data.get("fractional") and data["fractional"]["t"]
    assert schema_errors("online_alloc", "decision", data) == []


# -- structural bad inputs: refused by both ----------------------------------------------------
Mutation = Callable[[dict], None]


def _set(path: str, value: Any) -> Mutation:
    """Set a dotted path ("components.0.price"); a value of _DEL deletes the key."""

    def apply(doc: dict) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is _DEL:
            del node[last]
        else:
            node[last] = value

    return apply


_DEL = object()


@functools.cache
def _base_instance(family: str) -> Any:
    preset = {
        "contract": "default",
        "knapsack": "single_agent",
        "online_alloc": "small",
        "podpack": "n4-ppn4-l2-u100",
    }[family]
    return api.generate(family, preset, 0)


@functools.cache
def _base_decision(family: str) -> str:
    inst = _base_instance(family)
    solver = "dual_bound" if family == "online_alloc" else DEFAULT_SOLVER[family]
    return json.dumps(api.solve(inst, solver).decision.to_dict())


def _pod_protected_pending(doc: dict) -> None:
    doc["pods"][0].update(node=None, protected=True)


BAD_INSTANCES: list[tuple[str, str, Mutation]] = [
    ("contract", "missing unit_cost", _set("unit_cost", _DEL)),
    ("contract", "willingness not an array", _set("willingness", "0.6, 1.0")),
    ("contract", "unknown key", _set("cost", 1.0)),
    ("contract", "discount above 1", _set("discount", 1.5)),
    ("contract", "effort_max above MAX_MAGNITUDE", _set("effort_max", 1e13)),
    ("contract", "n_servers 0", _set("n_servers", 0)),
    ("contract", "prior entry 0", _set("prior.0", 0.0)),
    ("contract", "valuation kind unknown", _set("valuation.kind", "exp")),
    ("contract", "valuation unknown key", _set("valuation.rho", 0.5)),
    ("contract", "periods 2 without transition", _set("transition", _DEL)),
    ("contract", "limited_liability a string", _set("limited_liability", "false")),
    ("contract", "ir unknown", _set("ir", "ex_post")),
    ("knapsack", "missing budget", _set("budget", _DEL)),
    ("knapsack", "price 0", _set("components.0.price", 0)),
    ("knapsack", "budget above MAX_MAGNITUDE", _set("budget", 2e12)),
    ("knapsack", "component unknown key", _set("components.0.cost", 1.0)),
    ("knapsack", "skill unknown key", _set("skills.0.importance", 1.0)),
    ("knapsack", "no skills", _set("skills", [])),
    ("knapsack", "objective unknown", _set("objective", "max")),
    ("knapsack", "conflict of three", _set("conflicts", [["a", "b", "c"]])),
    ("knapsack", "quality not an object", _set("components.0.quality", [0.5])),
    ("knapsack", "unknown top-level key", _set("inventory", [])),
    ("online_alloc", "missing T", _set("T", _DEL)),
    ("online_alloc", "T 0", _set("T", 0)),
    ("online_alloc", "unknown key", _set("horizon", 200)),
    ("online_alloc", "neither arrays nor generator", _set("generator", _DEL)),
    ("online_alloc", "both arrays and generator", _set("arrays", "small-s0.npz")),
    ("online_alloc", "variant unknown", _set("variant", "auction")),
    ("online_alloc", "entropy on a choice stream", _set("entropy", 0.5)),
    ("online_alloc", "generator seed negative", _set("generator.seed", -1)),
    ("online_alloc", "generator unknown option", _set("generator.options", {"steps": 3})),
    ("online_alloc", "generator option out of range", _set("generator.options", {"beta": 2.0})),
    ("online_alloc", "rho entry 0", _set("rho.0", 0.0)),
    ("podpack", "missing nodes", _set("nodes", _DEL)),
    ("podpack", "no nodes", _set("nodes", [])),
    ("podpack", "negative cpu", _set("pods.0.cpu", -1)),
    ("podpack", "fractional millicores", _set("pods.0.cpu", 2.5)),
    ("podpack", "memory above MAX_QUANTITY", _set("nodes.0.memory", 2**50 + 1)),
    ("podpack", "priority beyond int32", _set("pods.0.priority", 2**31)),
    ("podpack", "pod unknown key", _set("pods.0.gpu", 1)),
    ("podpack", "taint effect unknown", _set("nodes.0.taints", [{"key": "k", "effect": "No"}])),
    ("podpack", "toleration operator", _set("pods.0.tolerations", [{"operator": "In"}])),
    ("podpack", "protected pod pending", _pod_protected_pending),
    (
        "podpack",
        "units other than millicores/bytes",
        _set("units", {"cpu": "cores", "memory": "bytes"}),
    ),
    ("podpack", "schedulable a string", _set("nodes.0.schedulable", "no")),
    ("podpack", "empty pod name", _set("pods.0.name", "")),
]

BAD_DECISIONS: list[tuple[str, str, Mutation]] = [
    ("contract", "missing reward1", _set("reward1", _DEL)),
    ("contract", "effort1 entry a string", _set("effort1.0", "1.0")),
    ("contract", "unknown key", _set("effort", [])),
    ("contract", "effort2 without reward2", _set("reward2", _DEL)),
    ("contract", "missing family", _set("family", _DEL)),
    ("knapsack", "missing chosen", _set("chosen", _DEL)),
    ("knapsack", "chosen twice", lambda d: d["chosen"].append(d["chosen"][0])),
    ("knapsack", "unknown key", _set("cost", 3.0)),
    ("knapsack", "assignment value a number", lambda d: d["assignment"].update(x=3)),
    ("knapsack", "schema_version 2", _set("schema_version", 2)),
    ("online_alloc", "neither actions nor bids", _set("actions", _DEL)),
    ("online_alloc", "action below -1", _set("actions.0", -2)),
    ("online_alloc", "negative dual", _set("duals.0", -1.0)),
    ("online_alloc", "fractional without x", lambda d: d["fractional"].pop("x")),
    ("online_alloc", "unknown key", _set("mu", [])),
    ("online_alloc", "action a string", _set("actions.0", "1")),
    ("podpack", "missing assignment", _set("assignment", _DEL)),
    (
        "podpack",
        "node a number",
        lambda d: d["assignment"].update({next(iter(d["assignment"])): 5}),
    ),
    (
        "podpack",
        "node an empty string",
        lambda d: d["assignment"].update({next(iter(d["assignment"])): ""}),
    ),
    ("podpack", "unknown key", _set("moves", [])),
    ("podpack", "assignment a list", _set("assignment", [])),
]


@pytest.mark.parametrize(("family", "label", "mutate"), BAD_INSTANCES, ids=_ids(BAD_INSTANCES))
def test_bad_instance_refused_by_schema_and_loader(family: str, label: str, mutate) -> None:
    data = copy.deepcopy(_base_instance(family).to_dict())
    assert schema_errors(family, "instance", data) == []  # the base itself is good
    mutate(data)
    assert schema_errors(family, "instance", data), f"schema accepts: {label}"
    with pytest.raises(InvalidInputError):
        api.instance_from_dict(data)


def test_unknown_generator_preset_refused_by_both() -> None:
    data = _base_instance("online_alloc").to_dict()
    data["generator"]["preset"] = "nrm-huge"
    assert schema_errors("online_alloc", "instance", data)
    with pytest.raises(InvalidInputError) as exc:  # named as the file's field
        api.instance_from_dict(data)
    assert exc.value.field == "generator.preset" and "nrm-huge" in exc.value.problem


@pytest.mark.parametrize(("family", "label", "mutate"), BAD_DECISIONS, ids=_ids(BAD_DECISIONS))
def test_bad_decision_refused_by_schema_and_loader(
    tmp_path: Path, family: str, label: str, mutate
) -> None:
    data = json.loads(_base_decision(family))
    assert schema_errors(family, "decision", data) == []
    mutate(data)
    assert schema_errors(family, "decision", data), f"schema accepts: {label}"
    with pytest.raises(InvalidInputError):
        api.load_decision(_base_instance(family), write(tmp_path, data))


# -- optional forms the spec allows: accepted by both ------------------------------------------
def _static_without_transition(doc: dict) -> None:
    doc.update(periods=1)
    del doc["transition"], doc["discount"]


GOOD_VARIANTS: list[tuple[str, str, Mutation]] = [
    ("contract", "periods 1 without transition and discount", _static_without_transition),
    (
        "contract",
        "name null, defaults omitted",
        lambda d: [d.update(name=None), d.pop("ir"), d.pop("limited_liability")],
    ),
    ("contract", "integral float n_servers", _set("n_servers", 3.0)),
    (
        "knapsack",
        "weight omitted, conflicts null, no description_score",
        lambda d: [
            d["skills"][0].pop("weight"),
            d.update(conflicts=None),
            d["components"][0].pop("description_score"),
        ],
    ),
    (
        "online_alloc",
        "seed and preset null in the header",
        lambda d: d.update(seed=None, preset=None),
    ),
    (
        "podpack",
        "units null, a toleration of every taint",
        lambda d: [d.update(units=None), d["pods"][0].update(tolerations=[{"operator": "Exists"}])],
    ),
]


@pytest.mark.parametrize(("family", "label", "mutate"), GOOD_VARIANTS, ids=_ids(GOOD_VARIANTS))
def test_optional_forms_accepted_by_both(family: str, label: str, mutate) -> None:
    data = copy.deepcopy(_base_instance(family).to_dict())
    mutate(data)
    assert schema_errors(family, "instance", data) == []
    api.instance_from_dict(data)
