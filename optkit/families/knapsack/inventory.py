"""Import a component inventory from CSV or YAML (spec: "Import an inventory from CSV or YAML").

YAML holds the instance JSON's keys (family and schema_version optional); `skills` may also be
a mapping {name: weight}:

    skills: {search: 2.0, summarise: 1.0}
    budget: 50
    components:
      - {name: web_search, price: 3.5, quality: {search: 0.9}, description_score: {search: 0.8}}
    conflicts: [[web_search, bing_search]]

CSV has one row per component: `name`, `price`, then `quality.<skill>` and optionally
`description_score.<skill>` columns (an empty cell: the component does not offer / describe the
skill), and optional `conflicts` / `requires` columns listing other components' names separated
by ";". Skills are the `quality.*` columns in order; the budget, the skill weights (default 1)
and the objective come as arguments, since a per-component table has no room for them.
Errors name the row and column: `rows[3].price`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optkit.core.errors import InvalidInputError
from optkit.core.fields import Fields, as_float
from optkit.families.knapsack.instance import (
    FAMILY,
    SCHEMA_VERSION,
    KnapsackInstance,
    from_components,
    parse_component,
)


def read_inventory(
    path: str | os.PathLike[str],
    *,
    budget: float | None = None,
    weights: Mapping[str, float] | None = None,
    objective: str | None = None,
    name: str | None = None,
) -> KnapsackInstance:
    """An instance from a .csv, .yaml or .yml inventory; arguments override the file's values."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(p, budget, weights, objective or "weighted", name)
        if suffix in (".yaml", ".yml"):
            return _read_yaml(p, budget, weights, objective, name)
        raise InvalidInputError("", f"unknown inventory format {suffix!r} (use .csv, .yaml, .yml)")
    except InvalidInputError as exc:
        raise exc.with_source(str(p)) from None


def _read_text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError("", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError("", f"cannot read: {exc}") from None


def _read_yaml(p: Path, budget, weights, objective, name) -> KnapsackInstance:
    import yaml

    try:
        data = yaml.safe_load(_read_text(p))
    except yaml.YAMLError as exc:
        raise InvalidInputError("", f"not valid YAML: {exc}") from None
    f = Fields(data)
    family = f.get("family", FAMILY)
    if family != FAMILY:
        raise InvalidInputError("family", f"must be {FAMILY!r}, got {family!r}")
    version = f.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InvalidInputError("schema_version", f"must be {SCHEMA_VERSION}, got {version!r}")
    skills = _skills(f.get("skills"))
    if weights is not None:
        skills = {s: as_float(weights.get(s, w), f"weights.{s}", gt=0) for s, w in skills.items()}
    raw = f.get("components")
    if not isinstance(raw, list):
        raise InvalidInputError("components", "must be a list of component objects")
    comps = [parse_component(item, f"components[{k}]") for k, item in enumerate(raw)]
    inst = from_components(
        skills=skills,
        components=comps,
        budget=budget if budget is not None else f.get("budget"),
        conflicts=f.get("conflicts", []),
        requires=f.get("requires", []),
        objective=objective or f.get("objective", "weighted"),
        name=name or f.get("name", None),
    )
    f.finish()
    return inst


def _skills(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        return {str(s): as_float(w, f"skills.{s}", gt=0) for s, w in value.items()}
    if not isinstance(value, list):
        raise InvalidInputError("skills", "must be a list of {name, weight} or {name: weight}")
    out: dict[str, float] = {}
    for k, item in enumerate(value):
        sf = Fields(item, f"skills[{k}]")
        skill = sf.get("name")
        if not isinstance(skill, str) or not skill:
            raise InvalidInputError(f"skills[{k}].name", "must be a non-empty string")
        if skill in out:
            raise InvalidInputError(f"skills[{k}].name", f"duplicate skill {skill!r}")
        out[skill] = as_float(sf.get("weight", 1.0), f"skills[{k}].weight", gt=0)
        sf.finish()
    return out


def _read_csv(p: Path, budget, weights, objective, name) -> KnapsackInstance:
    if budget is None:
        raise InvalidInputError("budget", "is required for a CSV inventory (pass budget=...)")
    rows = list(csv.DictReader(_read_text(p).splitlines()))
    header = list(rows[0].keys()) if rows else []
    known = {"name", "price", "conflicts", "requires"}
    skills: list[str] = []
    for col in header:
        kind, _, skill = col.partition(".")
        if col in known or (kind in ("quality", "description_score") and skill):
            if kind == "quality" and skill:
                skills.append(skill)
        else:
            raise InvalidInputError(
                f"columns.{col}",
                "unknown column (name, price, quality.<skill>, description_score.<skill>, "
                "conflicts, requires)",
            )
    weights = dict(weights or {})
    for s in weights:
        if s not in skills:
            raise InvalidInputError(f"weights.{s}", "names no quality.<skill> column")
    comps, conflicts, requires = [], [], []
    for k, row in enumerate(rows):
        where = f"rows[{k}]"
        item: dict[str, Any] = {
            "name": row.get("name") or "",
            "price": _number(row.get("price"), f"{where}.price"),
            "quality": {},
            "description_score": {},
        }
        for col, cell in row.items():
            kind, _, skill = col.partition(".")
            if kind in ("quality", "description_score") and cell not in (None, ""):
                item[kind][skill] = _number(cell, f"{where}.{col}")
        comps.append(parse_component(item, where))
        for key, target in (("conflicts", conflicts), ("requires", requires)):
            for other in filter(None, (row.get(key) or "").split(";")):
                target.append([item["name"], other.strip()])
    return from_components(
        skills={s: as_float(weights.get(s, 1.0), f"weights.{s}", gt=0) for s in skills},
        components=comps,
        budget=budget,
        conflicts=conflicts,
        requires=requires,
        objective=objective,
        name=name or p.stem,
        where="rows",
    )


def _number(cell: Any, field_name: str) -> float:
    try:
        return float(cell)
    except (TypeError, ValueError):
        raise InvalidInputError(field_name, f"must be a number, got {cell!r}") from None
