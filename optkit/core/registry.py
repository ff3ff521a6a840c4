"""The family and solver registry.

Families register themselves when `optkit.families` is imported; solvers register by entry-point
string ("optkit.families.contract.exact_cvxpy:solve") so that listing solvers never imports a
backend (torch in particular). Names are unique: registering one twice raises (the Jumanji habit),
and a miss lists the valid names.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from optkit.core.errors import (
    DuplicateNameError,
    InvalidInputError,
    MissingExtraError,
    UnknownNameError,
)
from optkit.core.status import Guarantee

Sense = Literal["max", "min", "lexmax", "lexmin"]

# Top-level modules each extra provides: an ImportError naming one of them is a missing extra;
# any other ImportError is a real bug and is raised as it is.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {"learn": ("torch",), "ray": ("ray",)}


@dataclass(frozen=True)
class SolverSpec:
    family: str
    name: str
    guarantee: Guarantee
    entry_point: str
    """'package.module:function'; the function has the signature of `SolverFunction`."""
    description: str = ""
    extra: str | None = None
    """The pip extra the backend needs, named in the error when its import fails."""
    batch_entry_point: str | None = None
    """Optional 'package.module:function' solving many instances of the family in one call:
    fn(instances: list, *, deadline, seed, threads, params) -> list[SolverOutput], one per
    instance and in order, with the keyword arguments of the single solver (the deadline is the
    whole batch's). It must answer each instance as the single entry point does; only timings may
    differ. Used by `optkit.core.api.solve_many`; None: solve_many loops the single solver."""

    def __post_init__(self) -> None:
        for name in ("entry_point", "batch_entry_point"):
            value = getattr(self, name)
            if value is not None and ":" not in value:
                raise ValueError(f"{name} must be 'module:function', got {value!r}")
        if self.extra is not None and self.extra not in EXTRA_MODULES:
            raise ValueError(
                f"extra {self.extra!r} is not one of optkit's extras {list(EXTRA_MODULES)}"
            )

    def missing_extra(self) -> str | None:
        """The extra this solver needs and this environment lacks, or None. Looks the extra's
        modules up without importing them (listing and planning never import torch)."""
        if self.extra is None:
            return None
        found = all(importlib.util.find_spec(m) is not None for m in EXTRA_MODULES[self.extra])
        return None if found else self.extra

    def load(self) -> Callable[..., Any]:
        """The single-instance solver function (imports its module)."""
        return self._import(self.entry_point)

    def load_batch(self) -> Callable[..., Any] | None:
        """The batch solver function, or None when the solver declares none."""
        return None if self.batch_entry_point is None else self._import(self.batch_entry_point)

    def _import(self, entry_point: str) -> Callable[..., Any]:
        module_name, attr = entry_point.split(":", 1)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing = (getattr(exc, "name", None) or "").split(".")[0]
            if self.extra and missing in EXTRA_MODULES[self.extra]:
                raise MissingExtraError(
                    f"solver {self.family}/{self.name}", self.extra, exc
                ) from exc
            raise
        return getattr(module, attr)


@dataclass(frozen=True)
class FamilySpec:
    """What a family hands the core: its types, generator, evaluator and objective sense."""

    name: str
    instance_type: type
    decision_type: type
    evaluate: Callable[[Any, Any], Any]
    """evaluate(instance, decision) -> report with .objective, .max_violation, .feasible."""
    generate: Callable[..., Any]
    """generate(preset, seed) -> instance."""
    presets: tuple[str, ...]
    default_preset: str
    sense: Sense
    default_solver: str
    description: str = ""
    from_file: Callable[[Any, Path], Any] | None = None
    """from_file(data, path) -> instance, for families whose JSON references sibling files (an
    .npz of arrays); it must confine those files to the JSON's folder. None: from_dict(data)."""
    export: str | None = None
    """'package.module:function' writing a solver-neutral model file:
    export(instance, path: Path, fmt: "lp" | "mps") -> None. None: the family has no LP/MIP."""
    bench: str | None = None
    """'package.module:function' returning the family's benchmark scenarios, a sequence of
    `optkit.core.benchmark.Scenario` (run by `optkit bench`). None: the family has none yet."""
    solvers: dict[str, SolverSpec] = field(default_factory=dict, compare=False)


_FAMILIES: dict[str, FamilySpec] = {}


def register_family(spec: FamilySpec) -> FamilySpec:
    if spec.name in _FAMILIES:
        raise DuplicateNameError(f"family {spec.name!r} is already registered")
    if spec.default_preset not in spec.presets:
        raise ValueError(f"default preset {spec.default_preset!r} not in {spec.presets}")
    _FAMILIES[spec.name] = spec
    return spec


def register_solver(spec: SolverSpec) -> SolverSpec:
    fam = get_family(spec.family)
    if spec.name in fam.solvers:
        raise DuplicateNameError(f"solver {spec.family}/{spec.name} is already registered")
    fam.solvers[spec.name] = spec
    return spec


def get_family(name: str) -> FamilySpec:
    try:
        return _FAMILIES[name]
    except KeyError:
        raise UnknownNameError("family", name, sorted(_FAMILIES)) from None


def get_solver(family: str, name: str | None = None) -> SolverSpec:
    fam = get_family(family)
    name = fam.default_solver if name is None else name
    try:
        return fam.solvers[name]
    except KeyError:
        raise UnknownNameError(f"{family} solver", name, sorted(fam.solvers)) from None


def family_names() -> list[str]:
    return sorted(_FAMILIES)


def solver_specs(family: str) -> list[SolverSpec]:
    return list(get_family(family).solvers.values())


def family_of(instance: Any) -> FamilySpec:
    for spec in _FAMILIES.values():
        if isinstance(instance, spec.instance_type):
            return spec
    raise InvalidInputError(
        "instance",
        f"{type(instance).__name__} is not an instance type of any registered family "
        f"({', '.join(sorted(_FAMILIES))}); load or generate one first",
    )
