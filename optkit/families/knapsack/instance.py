"""Knapsack instances and decisions (spec/knapsack.md): frozen, validated on construction, JSON.

An instance is an inventory of n components (tools, APIs, sub-agents) and S skills a task needs.
The arrays are the primary representation (the solvers and evaluate() read them); names map them
to the JSON, where every component is an object keyed by skill name:

    {"name": "web_search", "price": 3.5, "quality": {"search": 0.9},
     "description_score": {"search": 0.8}}

A component *offers* the skills named in its `quality`; `description_score` is what a retrieval
baseline sees and may name any declared skill (a description can promise what a tool cannot do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import MAX_MAGNITUDE, Fields, as_array, as_choice, as_float

FAMILY = "knapsack"
SCHEMA_VERSION = 1
OBJECTIVES = ("weighted", "all_skills")


def _names(value: Any, field_name: str, suffix: str = "") -> tuple[str, ...]:
    """A sequence of distinct non-empty strings; a duplicate is named by its position
    (`skills[3].name` with suffix ".name")."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInputError(field_name, "must be a list of names")
    seen: dict[str, int] = {}
    for k, name in enumerate(value):
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"{field_name}[{k}]{suffix}", "must be a non-empty string")
        if name in seen:
            raise InvalidInputError(
                f"{field_name}[{k}]{suffix}", f"duplicate name {name!r} (also at [{seen[name]}])"
            )
        seen[name] = k
    return tuple(value)


def _pairs(value: Any, field_name: str, n: int) -> np.ndarray:
    """Index pairs (m, 2) into 0..n-1, no pair naming the same component twice."""
    arr = np.zeros((0, 2), dtype=np.int64) if value is None else np.asarray(value)
    if arr.size == 0:
        arr = np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise InvalidInputError(field_name, "must be a list of [i, k] integer index pairs")
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        j, c = np.argwhere(bad)[0]
        raise InvalidInputError(
            f"{field_name}[{j}][{c}]", f"unknown component index {int(arr[j, c])} (n = {n})"
        )
    same = arr[:, 0] == arr[:, 1]
    if same.any():
        raise InvalidInputError(
            f"{field_name}[{int(np.argmax(same))}]", "names one component twice"
        )
    out = arr.astype(np.int64)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class KnapsackInstance:
    """Budgeted composition: pick components under a budget to serve the task's skills."""

    skill_names: tuple[str, ...]
    """S distinct names."""
    weights: np.ndarray
    """w, shape (S,), > 0: importance of each skill (value units per unit of success rate)."""
    component_names: tuple[str, ...]
    """n distinct names."""
    prices: np.ndarray
    """c, shape (n,), > 0, money."""
    quality: np.ndarray
    """q, shape (n, S), in [0, 1]: true success probability of component i on skill s
    (0 where i does not offer s)."""
    offers: np.ndarray
    """shape (n, S) bool: component i offers skill s (has a quality entry for it)."""
    description: np.ndarray
    """shape (n, S), in [0, 1]: the noisy description score a retriever sees (0 where absent)."""
    budget: float
    """B > 0, money."""
    conflicts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    """shape (m, 2) component indices that cannot both be chosen."""
    requires: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    """shape (r, 2): [i, k] means choosing i needs k."""
    objective: str = "weighted"
    """'weighted': Σ_s w_s max_{i∈X} q_is; 'all_skills': Σ_s log max_{i∈X} q_is, all covered."""
    name: str | None = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        skills = _names(self.skill_names, "skill_names")
        comps = _names(self.component_names, "component_names")
        S, n = len(skills), len(comps)
        if S < 1:
            raise InvalidInputError("skills", "must declare at least one skill")
        if n < 1:
            raise InvalidInputError("components", "must list at least one component")
        set_("skill_names", skills)
        set_("component_names", comps)
        set_("weights", as_array(self.weights, "weights", (S,), gt=0, le=MAX_MAGNITUDE))
        set_("prices", as_array(self.prices, "prices", (n,), gt=0, le=MAX_MAGNITUDE))
        set_("quality", as_array(self.quality, "quality", (n, S), ge=0, le=1))
        set_("description", as_array(self.description, "description", (n, S), ge=0, le=1))
        offers = np.asarray(self.offers)
        if offers.shape != (n, S) or offers.dtype != bool:
            raise InvalidInputError("offers", f"must be a boolean array of shape ({n}, {S})")
        offers = offers.copy()
        offers.setflags(write=False)
        set_("offers", offers)
        stray = (~offers) & (self.quality > 0)
        if stray.any():
            i, s = np.argwhere(stray)[0]
            raise InvalidInputError(f"quality[{i}, {s}]", "is > 0 for a skill not offered")
        set_("budget", as_float(self.budget, "budget", gt=0, le=MAX_MAGNITUDE))
        set_("conflicts", _pairs(self.conflicts, "conflicts", n))
        set_("requires", _pairs(self.requires, "requires", n))
        set_("objective", as_choice(self.objective, "objective", OBJECTIVES))
        if self.name is not None and not isinstance(self.name, str):
            raise InvalidInputError("name", "must be a string")
        index = {c: i for i, c in enumerate(comps)}
        object.__setattr__(self, "_index", index)

    @property
    def n_components(self) -> int:
        return len(self.component_names)

    @property
    def n_skills(self) -> int:
        return len(self.skill_names)

    def index_of(self, component: str, field_name: str) -> int:
        try:
            return self._index[component]  # type: ignore[attr-defined]
        except (KeyError, TypeError):
            raise InvalidInputError(field_name, f"unknown component {component!r}") from None

    @property
    def value_matrix(self) -> np.ndarray:
        """v_is, shape (n, S): what serving skill s by component i adds to the objective.

        weighted: w_s q_is; all_skills: log q_is (-inf where i cannot serve s: not offered or
        q = 0, a success probability of 0)."""
        if self.objective == "weighted":
            return self.weights[None, :] * self.quality
        with np.errstate(divide="ignore"):
            return np.where(self.offers & (self.quality > 0), np.log(self.quality), -np.inf)

    @property
    def servable(self) -> np.ndarray:
        """shape (n, S) bool: pairs (i, s) worth a z variable (positive quality)."""
        return self.offers & (self.quality > 0)

    def retrieval_scores(self) -> np.ndarray:
        """shape (n,): Σ_s w_s d_is, the standalone value a retriever reads off the descriptions."""
        return self.description @ self.weights

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"family": FAMILY, "schema_version": SCHEMA_VERSION}
        if self.name is not None:
            d["name"] = self.name
        skills = self.skill_names
        d["skills"] = [
            {"name": s, "weight": float(w)} for s, w in zip(skills, self.weights, strict=True)
        ]
        comps = []
        for i, c in enumerate(self.component_names):
            offered = np.flatnonzero(self.offers[i])
            described = np.flatnonzero(self.description[i] > 0)
            comps.append(
                {
                    "name": c,
                    "price": float(self.prices[i]),
                    "quality": {skills[s]: float(self.quality[i, s]) for s in offered},
                    "description_score": {
                        skills[s]: float(self.description[i, s]) for s in described
                    },
                }
            )
        d["components"] = comps
        names = self.component_names
        d["conflicts"] = [[names[a], names[b]] for a, b in self.conflicts.tolist()]
        d["requires"] = [[names[a], names[b]] for a, b in self.requires.tolist()]
        d["budget"] = self.budget
        d["objective"] = self.objective
        return d

    @classmethod
    def from_dict(cls, data: Any) -> KnapsackInstance:
        f = Fields(data)
        f.get("family")
        f.get("schema_version")  # checked by core.api.check_header
        raw_skills = f.get("skills")
        if not isinstance(raw_skills, list):
            raise InvalidInputError("skills", "must be a list of {name, weight} objects")
        skill_names, weights = [], []
        for k, item in enumerate(raw_skills):
            sf = Fields(item, f"skills[{k}]")
            skill_names.append(sf.get("name"))
            weights.append(
                as_float(sf.get("weight", 1.0), f"skills[{k}].weight", gt=0, le=MAX_MAGNITUDE)
            )
            sf.finish()
        skill_names_t = _names(skill_names, "skills", ".name")
        raw_comps = f.get("components")
        if not isinstance(raw_comps, list):
            raise InvalidInputError("components", "must be a list of component objects")
        comps = [parse_component(item, f"components[{k}]") for k, item in enumerate(raw_comps)]
        inst = from_components(
            skills=dict(zip(skill_names_t, weights, strict=True)),
            components=comps,
            budget=f.get("budget"),
            conflicts=f.get("conflicts", []),
            requires=f.get("requires", []),
            objective=f.get("objective", "weighted"),
            name=f.get("name", None),
        )
        f.finish()
        return inst


Component = tuple[str, float, dict[str, float], dict[str, float]]
"""(name, price, quality by skill, description score by skill), as parsed from JSON/CSV/YAML."""


def parse_component(item: Any, where: str) -> Component:
    """One component object; errors name `components[k].price`, `components[k].quality.x`."""
    cf = Fields(item, where)
    name = cf.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{where}.name", "must be a non-empty string")
    price = as_float(cf.get("price"), f"{where}.price", gt=0, le=MAX_MAGNITUDE)
    quality = _score_map(cf.get("quality"), f"{where}.quality")
    desc = _score_map(cf.get("description_score", {}), f"{where}.description_score")
    cf.finish()
    return name, price, quality, desc


def _score_map(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(where, "must be an object {skill: number in [0, 1]}")
    return {str(k): as_float(v, f"{where}.{k}", ge=0, le=1) for k, v in value.items()}


def from_components(
    *,
    skills: Mapping[str, float],
    components: Sequence[Component],
    budget: Any,
    conflicts: Any = (),
    requires: Any = (),
    objective: str = "weighted",
    name: str | None = None,
    where: str = "components",
) -> KnapsackInstance:
    """Build an instance from named parts (the JSON, CSV and YAML readers all end here).

    Errors name the JSON field: an undeclared skill in `components[3].quality.foo`, an unknown
    component in `conflicts[2][1]`, a self-conflict in `conflicts[2]`.
    """
    skill_names = list(skills)
    s_index = {s: k for k, s in enumerate(skill_names)}
    n, S = len(components), len(skill_names)
    if S < 1:
        raise InvalidInputError("skills", "must declare at least one skill")
    if n < 1:
        raise InvalidInputError(where, "must list at least one component")
    prices = np.empty(n)
    quality = np.zeros((n, S))
    offers = np.zeros((n, S), dtype=bool)
    desc = np.zeros((n, S))
    c_index: dict[str, int] = {}
    for i, (cname, price, q, d) in enumerate(components):
        if cname in c_index:
            raise InvalidInputError(
                f"{where}[{i}].name",
                f"duplicate component name {cname!r} (also at [{c_index[cname]}])",
            )
        c_index[cname] = i
        prices[i] = price
        for key, table, target in (("quality", q, quality), ("description_score", d, desc)):
            for skill, value in table.items():
                if skill not in s_index:
                    raise InvalidInputError(
                        f"{where}[{i}].{key}.{skill}",
                        f"names undeclared skill {skill!r} (declared: {', '.join(skill_names)})",
                    )
                target[i, s_index[skill]] = value
                if key == "quality":
                    offers[i, s_index[skill]] = True
    return KnapsackInstance(
        skill_names=tuple(skill_names),
        weights=np.array([skills[s] for s in skill_names], dtype=float),
        component_names=tuple(c[0] for c in components),
        prices=prices,
        quality=quality,
        offers=offers,
        description=desc,
        budget=budget,
        conflicts=_named_pairs(conflicts, "conflicts", c_index),
        requires=_named_pairs(requires, "requires", c_index),
        objective=objective,
        name=name,
    )


def _named_pairs(value: Any, field_name: str, index: Mapping[str, int]) -> np.ndarray:
    if value is None:
        value = []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInputError(field_name, "must be a list of [name, name] pairs")
    out = np.zeros((len(value), 2), dtype=np.int64)
    for j, pair in enumerate(value):
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InvalidInputError(f"{field_name}[{j}]", "must be a pair [name, name]")
        for c, nm in enumerate(pair):
            if not isinstance(nm, str) or nm not in index:
                raise InvalidInputError(f"{field_name}[{j}][{c}]", f"unknown component {nm!r}")
            out[j, c] = index[nm]
        if out[j, 0] == out[j, 1]:
            raise InvalidInputError(f"{field_name}[{j}]", f"names {pair[0]!r} twice (itself)")
    return out


@dataclass(frozen=True)
class KnapsackDecision:
    """A chosen set and which chosen component serves each skill (None: uncovered)."""

    chosen: tuple[str, ...]
    assignment: Mapping[str, str | None] = field(default_factory=dict)
    """{skill: component}; evaluate() scores the best chosen component per skill regardless
    and reports an assignment naming an unchosen component, or one not offering the skill."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "chosen", _names(self.chosen, "chosen"))
        if not isinstance(self.assignment, Mapping):
            raise InvalidInputError("assignment", "must be an object {skill: component | null}")
        for skill, comp in self.assignment.items():
            if comp is not None and not isinstance(comp, str):
                raise InvalidInputError(f"assignment.{skill}", "must be a component name or null")
        object.__setattr__(self, "assignment", dict(self.assignment))

    @classmethod
    def from_mask(cls, instance: KnapsackInstance, mask: np.ndarray) -> KnapsackDecision:
        """The chosen set `mask` (n,) with each skill served by its best chosen component."""
        mask = np.asarray(mask, dtype=bool)
        names = instance.component_names
        chosen = tuple(names[i] for i in np.flatnonzero(mask))
        assignment: dict[str, str | None] = {}
        v = np.where(mask[:, None] & instance.servable, instance.value_matrix, -np.inf)
        for s, skill in enumerate(instance.skill_names):
            i = int(np.argmax(v[:, s]))
            assignment[skill] = names[i] if np.isfinite(v[i, s]) else None
        return cls(chosen=chosen, assignment=assignment)

    def mask(self, instance: KnapsackInstance) -> np.ndarray:
        """shape (n,) bool; unknown names raise naming `chosen[k]`."""
        out = np.zeros(instance.n_components, dtype=bool)
        for k, c in enumerate(self.chosen):
            out[instance.index_of(c, f"chosen[{k}]")] = True
        return out

    def check_fits(self, instance: KnapsackInstance) -> None:
        self.mask(instance)
        skills = set(instance.skill_names)
        for skill, comp in self.assignment.items():
            if skill not in skills:
                raise InvalidInputError(f"assignment.{skill}", "is not a declared skill")
            if comp is not None:
                instance.index_of(comp, f"assignment.{skill}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": FAMILY,
            "schema_version": SCHEMA_VERSION,
            "chosen": list(self.chosen),
            "assignment": dict(self.assignment),
        }

    @classmethod
    def from_dict(cls, data: Any, instance: KnapsackInstance | None = None) -> KnapsackDecision:
        f = Fields(data)
        f.get("family", None)
        f.get("schema_version", None)
        chosen = f.get("chosen")
        if isinstance(chosen, str) or not isinstance(chosen, Sequence):
            raise InvalidInputError("chosen", "must be a list of component names")
        assignment = f.get("assignment", None)  # an object, or absent / null for none
        dec = cls(chosen=tuple(chosen), assignment={} if assignment is None else assignment)
        f.finish()
        if instance is not None:
            dec.check_fits(instance)
        return dec
