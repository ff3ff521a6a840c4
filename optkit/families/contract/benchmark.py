"""The contract family's benchmark scenarios (`optkit bench contract`; hook: FamilySpec.bench).

- `suite`: the shipped canonical suite (instances/contract/suite-v1, 70 instances, I = 1..10,
  seven variants), measured against the certified optimum stored beside each instance
  (`*.solution.json`, written by optkit.bench.contract_suite only when certified), so the
  reference is read, never re-solved.
- `drawn`: fresh instances, one per preset (default, interim, power, static) and seed; the
  reference is the `cvxpy` optimum solved by the harness.

Every registered contract solver runs (`methods=None`), so a solver registered later (`fast`, a
learned checkpoint) joins both tables without an edit here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optkit.core.benchmark import BenchItem, Scenario
from optkit.core.jsonio import read_json
from optkit.core.tolerances import CERTIFIED_GAP_REL, EXACT_FEASIBILITY
from optkit.families.contract.generate import generate
from optkit.families.contract.instance import ContractInstance

SUITE = Path(__file__).resolve().parents[3] / "instances" / "contract" / "suite-v1"
DRAWN_PRESETS = ("default", "interim", "power", "static")
QUICK_SUITE_STRIDE = 9
"""Quick run: every 9th suite file, 8 instances covering all seven variants and sizes 1..10."""


def certified_objective(solution: Any) -> float | None:
    """The re-scored objective of a stored solution if it is certified, else None.

    Certified as in optkit.bench.contract_suite: status optimal, evaluate() max violation within
    the exact feasibility tolerance, dual-bound gap within the certified gap tolerance.
    """
    if not isinstance(solution, dict) or solution.get("status") != "optimal":
        return None
    evaluation, gap = solution.get("evaluation") or {}, solution.get("gap")
    violation, objective = evaluation.get("max_violation"), evaluation.get("objective")
    if not all(isinstance(x, (int, float)) for x in (gap, violation, objective)):
        return None
    if violation > EXACT_FEASIBILITY or gap > CERTIFIED_GAP_REL:
        return None
    return float(objective)


def suite_items(seeds: tuple[int, ...], quick: bool, folder: Path = SUITE) -> list[BenchItem]:
    """Each suite instance once per seed, with its stored certified objective as reference."""
    files = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".solution.json"))
    if not files:
        raise FileNotFoundError(f"no contract suite instances in {folder}")
    if quick:
        files = files[::QUICK_SUITE_STRIDE]
    items = []
    for path in files:
        instance = ContractInstance.from_dict(read_json(path))
        solution_path = path.with_name(path.stem + ".solution.json")
        reference = (
            certified_objective(read_json(solution_path)) if solution_path.exists() else None
        )
        items += [BenchItem(path.stem, instance, seed=s, reference=reference) for s in seeds]
    return items


def drawn_items(seeds: tuple[int, ...], quick: bool) -> list[BenchItem]:
    """One instance per preset and seed (the quick run differs only by its seeds)."""
    return [
        BenchItem(f"{preset}-s{seed}", generate(preset, seed), seed=seed)
        for seed in seeds
        for preset in DRAWN_PRESETS
    ]


def scenarios() -> tuple[Scenario, ...]:
    return (
        Scenario(
            name="suite",
            description=(
                "shipped suite instances/contract/suite-v1 (I = 1..10; per-period and interim IR, "
                "log and power valuations, one and two periods, limited liability) against the "
                "certified optimum stored beside each instance"
            ),
            instances=suite_items,
            reference="cvxpy",
        ),
        Scenario(
            name="drawn",
            description=(
                f"one fresh instance per preset ({', '.join(DRAWN_PRESETS)}) and seed, against "
                "the cvxpy optimum"
            ),
            instances=drawn_items,
            reference="cvxpy",
            seeds=(0, 1, 2, 3, 4),
            quick_seeds=(0,),
        ),
    )
