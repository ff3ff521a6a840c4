"""podpack's benchmark scenarios (`optkit bench podpack`; hook: FamilySpec.bench).

- `windows`: the paper's windows (1 s and 10 s, set-up included) on failing scenarios (the
  default leaves pods pending) of the small grid cells, n4/n8 nodes x 4 pods per node x every
  priority level at utilisation 1.00 and 1.05, where `cpsat` without a limit certifies the
  optimum quickly. The gap is lexicographic (`lex_gap`). The whole grid, resumable, with the
  outcome shares the paper reports, is `python -m optkit.bench.podpack_grid` (docs/podpack.md).
- `cross-check`: the smallest cells, where `mip` (Pyomo/HiGHS) joins as an independent exact
  solver; both exact solvers must reach gap 0 against the `cpsat` optimum.

A seed k picks each cell's k-th failing scenario (seeds 0..499 scanned, as the paper's filter);
the item's id names its draw seed.
"""

from __future__ import annotations

from optkit.core.benchmark import BenchItem, Scenario
from optkit.families.podpack.generate import CELLS, draw, failing
from optkit.families.podpack.tiered import lex_gap

# The bench (and so `optkit demo`) keeps to the 4-node cells: proving the unlimited reference on
# 8-node cells can take minutes. The full grid is python -m optkit.bench.podpack_grid.
WINDOW_CELLS = tuple(f"n4-ppn4-l{lv}-u{u}" for lv in (1, 2, 4) for u in ("100", "105"))
QUICK_CELLS = ("n4-ppn4-l2-u100",)
"""The quick run (`optkit demo --quick` runs every family's) stays at a few seconds."""
CROSS_CHECK_CELLS = ("n4-ppn4-l1-u100", "n4-ppn4-l2-u105", "n4-ppn4-l4-u100")
WINDOW_METHODS = ("kube_default", "kube_mostallocated", "cpsat", "cpsat_fallback")


def _items(cells: tuple[str, ...], seeds: tuple[int, ...]) -> list[BenchItem]:
    items = []
    for cell in cells:
        found = failing(cell, max(seeds) + 1).seeds
        for k in seeds:
            if k < len(found):
                s = found[k]
                items.append(BenchItem(f"{cell}-s{s}", draw(CELLS[cell], s), seed=s))
    return items


def window_items(seeds: tuple[int, ...], quick: bool) -> list[BenchItem]:
    return _items(QUICK_CELLS if quick else WINDOW_CELLS, seeds)


def cross_check_items(seeds: tuple[int, ...], quick: bool) -> list[BenchItem]:
    return _items(CROSS_CHECK_CELLS[:1] if quick else CROSS_CHECK_CELLS, seeds)


def scenarios() -> tuple[Scenario, ...]:
    return (
        Scenario(
            name="windows",
            description=(
                "failing scenarios of the small grid cells (4 nodes, 4 pods per node, 1/2/4 "
                "priority levels, utilisation 1.00/1.05) in the paper's 1 s window; gap: "
                "lexicographic, against the unlimited cpsat optimum (the 10 s window and the full "
                "grid: python -m optkit.bench.podpack_grid, docs/podpack.md)"
            ),
            instances=window_items,
            methods=WINDOW_METHODS,
            reference="cpsat",
            # one window keeps `optkit demo` within minutes; the grid driver runs both windows
            time_limits_s=(1.0,),
            seeds=(0, 1, 2),
            quick_seeds=(0,),
            gap=lex_gap,
        ),
        Scenario(
            name="cross-check",
            description="the smallest cells: cpsat and mip (Pyomo/HiGHS) against each other",
            instances=cross_check_items,
            methods=("cpsat", "mip", "kube_default"),
            reference="cpsat",
            time_limits_s=(None,),
            seeds=(0, 1),
            quick_seeds=(0,),
            gap=lex_gap,
        ),
    )
