"""The knapsack family's benchmark scenario (`optkit bench knapsack`; FamilySpec.bench).

`compose`: one `single_agent` and one `multi_agent` inventory per seed (spec presets, frozen).
The exact MIP (`highs`, certified by HiGHS with mip_rel_gap 0; `cpsat` cross-checks it in the
same table) gives the hindsight optimum on the true success probabilities; the online composers
(`zcl`, `greedy_density`, `retrieval_topk`, `identity`) each see one seeded sandbox-test draw per
item and are reported as a gap to it. `pyomo` (the same model through Pyomo), `dp` (additive case
only) and `brute_force` (n <= 20) are test oracles, left out here.
"""

from __future__ import annotations

from optkit.core.benchmark import BenchItem, Scenario
from optkit.families.knapsack.generate import generate

PRESETS = ("single_agent", "multi_agent")


def compose_items(seeds: tuple[int, ...], quick: bool) -> list[BenchItem]:
    return [
        BenchItem(f"{preset}-s{seed}", generate(preset, seed), seed=seed)
        for seed in seeds
        for preset in PRESETS
    ]


def scenarios() -> tuple[Scenario, ...]:
    return (
        Scenario(
            name="compose",
            description=(
                "budgeted component selection, one inventory per preset "
                f"({', '.join(PRESETS)}) and seed; online composers against the exact hindsight "
                "optimum (highs)"
            ),
            instances=compose_items,
            methods=("highs", "cpsat", "zcl", "greedy_density", "retrieval_topk", "identity"),
            reference="highs",
            seeds=tuple(range(10)),
            quick_seeds=(0,),
        ),
    )
