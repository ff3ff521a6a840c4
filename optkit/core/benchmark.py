"""Benchmark scenarios: what a family hands `optkit bench` through `FamilySpec.bench`.

A family registers `bench="optkit.families.<name>.benchmark:scenarios"`; that function returns
`Scenario`s, plain data the harness (optkit/bench/harness.py) runs without knowing the family:

    Scenario(
        name="suite",
        description="the shipped suite against its certified solutions",
        instances=lambda seeds, quick: [BenchItem("default-I01", inst, seed=0, reference=42.0)],
        reference="cvxpy",
    )

Every method of a scenario (by default every solver registered for the family when the bench
runs, learned checkpoints included) solves the same items under the same time limits. The gap
to the certified optimum is measured against `BenchItem.reference` when the item carries it (a
stored certified objective), else against the scenario's `reference` solver, solved once per
item without a time limit and used only when its status is optimal.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optkit.core.registry import FamilySpec
from optkit.core.seeding import check_seed

Objective = float | list[float]
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
"""Scenario names end up in file names (rows/<family>-<scenario>.parquet): keep them plain."""


@dataclass(frozen=True)
class BenchItem:
    """One instance of a scenario, solved by every method."""

    instance_id: str
    """Unique within its scenario; with the seed it names the row (e.g. "default-I03", "s4")."""
    instance: Any
    seed: int = 0
    """The seed every method is called with on this item (and the draw seed of a generated one)."""
    reference: Objective | None = None
    """The certified optimum's objective when already known (a stored certified solution);
    None: the harness solves the scenario's reference solver for it."""
    decisions: int = 1
    """Decisions a method takes on this instance (1 for a contract menu, T for an online stream
    of T arrivals); the report's time per decision is wall time / decisions."""

    def __post_init__(self) -> None:
        if not self.instance_id:
            raise ValueError("BenchItem.instance_id must be a non-empty string")
        check_seed(self.seed, "BenchItem.seed")
        if isinstance(self.decisions, bool) or not isinstance(self.decisions, int):
            raise TypeError(f"BenchItem.decisions must be an int, got {self.decisions!r}")
        if self.decisions < 1:
            raise ValueError(f"BenchItem.decisions must be >= 1, got {self.decisions}")


@dataclass(frozen=True)
class Plot:
    """A PNG a family's `plots` hook wrote into the report's plot folder, with its caption."""

    path: Path
    caption: str


@dataclass(frozen=True)
class Scenario:
    """A family's benchmark scenario: which instances, which methods, against what optimum."""

    name: str
    description: str
    instances: Callable[[tuple[int, ...], bool], Sequence[BenchItem]]
    """instances(seeds, quick) -> the items; `quick` asks for a subset that runs in seconds."""
    methods: tuple[str, ...] | None = None
    """Registered solver names; None: every solver registered for the family when the bench
    runs (so a learned checkpoint registered later is benchmarked without editing this)."""
    reference: str | None = None
    """The exact solver whose optimal answer is the certified optimum; None where none exists."""
    time_limits_s: tuple[float | None, ...] = (None,)
    """Every method runs once per limit (seconds, set-up included; None: no limit)."""
    seeds: tuple[int, ...] = (0,)
    quick_seeds: tuple[int, ...] | None = None
    """Seeds of the quick run; None: the first seed only."""
    gap: Callable[[Objective, Objective], float | None] | None = None
    """gap(objective, reference) -> relative distance to the optimum, positive when worse; None:
    `gap_to_reference` with the family's sense (needed only for vector objectives)."""
    plots: Callable[[list[dict[str, Any]], Path], Sequence[Plot]] | None = None
    """plots(rows, folder) -> extra PNGs the family draws from this scenario's rows (dicts with
    the columns of optkit.bench.harness.BenchRow), written into `folder`."""

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueError(f"scenario name {self.name!r} must match {NAME_PATTERN.pattern}")
        if not callable(self.instances):
            raise TypeError(f"scenario {self.name}: instances must be callable")
        if self.methods is not None and (
            not self.methods or not all(isinstance(m, str) and m for m in self.methods)
        ):
            raise ValueError(f"scenario {self.name}: methods must be None or solver names")
        if not self.time_limits_s:
            raise ValueError(f"scenario {self.name}: time_limits_s needs at least one entry")
        for t in self.time_limits_s:
            if t is not None and not (isinstance(t, (int, float)) and math.isfinite(t) and t >= 0):
                raise ValueError(f"scenario {self.name}: time limit {t!r} is not >= 0 or None")
        for seeds in (self.seeds, self.seeds if self.quick_seeds is None else self.quick_seeds):
            if not seeds:
                raise ValueError(f"scenario {self.name}: seeds must not be empty")
            for s in seeds:
                check_seed(s, f"scenario {self.name} seeds")

    def run_seeds(self, quick: bool) -> tuple[int, ...]:
        if not quick:
            return self.seeds
        return self.quick_seeds if self.quick_seeds is not None else self.seeds[:1]


def gap_to_reference(objective: Objective, reference: Objective, sense: str) -> float | None:
    """(optimum - value) / max(|optimum|, 1) for a maximisation, mirrored for a minimisation.

    Positive when the value is worse than the certified optimum, negative for a bound that
    overstates it; the floor of 1 keeps a zero optimum finite. Vector objectives have no
    scalar gap here: a lexicographic family supplies `Scenario.gap`.
    """
    if isinstance(objective, (list, tuple)) or isinstance(reference, (list, tuple)):
        return None
    objective, reference = float(objective), float(reference)
    diff = reference - objective if sense in ("max", "lexmax") else objective - reference
    gap = diff / max(abs(reference), 1.0)
    return gap if math.isfinite(gap) else None


def load_scenarios(family: FamilySpec) -> tuple[Scenario, ...]:
    """Call the family's bench entry point and check what it returns (empty: no hook)."""
    if family.bench is None:
        return ()
    module_name, sep, attr = family.bench.partition(":")
    if not sep:
        raise ValueError(f"{family.name}: bench must be 'module:function', got {family.bench!r}")
    scenarios = tuple(getattr(importlib.import_module(module_name), attr)())
    seen: set[str] = set()
    for s in scenarios:
        if not isinstance(s, Scenario):
            raise TypeError(f"{family.bench} returned {type(s).__name__}, not a Scenario")
        if s.name in seen:
            raise ValueError(f"{family.bench} returned two scenarios named {s.name!r}")
        seen.add(s.name)
    return scenarios
