"""The paper's scenario grid (spec/podpack.md, "Generator") and its `failing` filter.

Cells: nodes {4, 8, 16, 32} x pods per node {4, 8} x priority levels {1, 2, 4} x target
utilisation {0.90, 0.95, 1.00, 1.05}; preset names "n{nodes}-ppn{pods}-l{levels}-u{100·util}",
e.g. "n8-ppn4-l2-u095". Draw order, per ReplicaSet until every pod exists: size U{1..4}
(the last one truncated), cpu U[100, 1000] millicores, memory U[100, 1000] MiB, priority
U{1..levels}. Nodes are identical, K millicores and K MiB each, with
K = ceil(max(total cpu m, total memory MiB) / (nodes · utilisation)): the tighter resource is
requested at the target utilisation (a hair below it after rounding K up). All pods start
pending. Changing the draw order changes every instance, so it would be a new preset name.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from optkit.core.errors import InvalidInputError
from optkit.core.fields import as_int
from optkit.core.seeding import check_seed, make_rng
from optkit.families.podpack.instance import Node, Pod, PodpackInstance

MIB = 2**20
GRID_NODES = (4, 8, 16, 32)
GRID_PODS_PER_NODE = (4, 8)
GRID_LEVELS = (1, 2, 4)
GRID_UTILISATION = (0.90, 0.95, 1.00, 1.05)
REQUEST_RANGE = (100, 1000)  # millicores, and MiB
MAX_REPLICAS = 4
FAILING_SEED_SCAN = 500  # the `failing` filter scans seeds 0..499 of a cell


@dataclass(frozen=True)
class Cell:
    nodes: int
    pods_per_node: int
    levels: int
    utilisation: float

    @property
    def name(self) -> str:
        util = round(self.utilisation * 100)
        return f"n{self.nodes}-ppn{self.pods_per_node}-l{self.levels}-u{util:03d}"


CELLS: dict[str, Cell] = {
    c.name: c
    for c in (
        Cell(*args)
        for args in itertools.product(GRID_NODES, GRID_PODS_PER_NODE, GRID_LEVELS, GRID_UTILISATION)
    )
}
PRESET_NAMES = tuple(CELLS)
DEFAULT_PRESET = "n4-ppn4-l2-u100"


def generate(preset: str, seed: int, **options: object) -> PodpackInstance:
    """One scenario of a grid cell. Options: none (the cell fixes every size)."""
    if options:
        raise InvalidInputError(next(iter(options)), "podpack presets take no options")
    try:
        cell = CELLS[preset]
    except KeyError:
        raise InvalidInputError("preset", f"unknown podpack preset {preset!r}") from None
    return draw(cell, check_seed(seed))


def draw(cell: Cell, seed: int) -> PodpackInstance:
    rng = make_rng(seed)
    n_pods = cell.nodes * cell.pods_per_node
    pods: list[Pod] = []
    rs = 0
    while len(pods) < n_pods:
        size = min(int(rng.integers(1, MAX_REPLICAS + 1)), n_pods - len(pods))
        cpu = int(rng.integers(REQUEST_RANGE[0], REQUEST_RANGE[1] + 1))
        memory_mib = int(rng.integers(REQUEST_RANGE[0], REQUEST_RANGE[1] + 1))
        priority = int(rng.integers(1, cell.levels + 1))
        owner = f"rs-{rs}"
        pods += [
            Pod(f"{owner}-{r}", cpu, memory_mib * MIB, priority, owner=owner) for r in range(size)
        ]
        rs += 1
    tighter = max(sum(p.cpu for p in pods), sum(p.memory for p in pods) // MIB)
    k = math.ceil(tighter / (cell.nodes * cell.utilisation))
    nodes = tuple(Node(f"node-{j}", k, k * MIB) for j in range(cell.nodes))
    return PodpackInstance(nodes=nodes, pods=tuple(pods), name=f"{cell.name}-s{seed}")


@dataclass(frozen=True)
class FailingSeeds:
    cell: str
    seeds: tuple[int, ...]
    asked: int
    scanned: int

    @property
    def short(self) -> bool:
        """Fewer failing seeds than asked for: report `len(seeds)` with the cell."""
        return len(self.seeds) < self.asked


def failing(preset: str, count: int, scan: int = FAILING_SEED_SCAN) -> FailingSeeds:
    """The first `count` seeds among 0..scan-1 whose scenario `kube_default` (no preemption)
    leaves with some pod pending: the scenarios the paper scores."""
    from optkit.families.podpack.scheduler import schedule

    count = as_int(count, "count", ge=1)
    scan = as_int(scan, "scan", ge=1)
    if preset not in CELLS:
        raise InvalidInputError("preset", f"unknown podpack preset {preset!r}")
    seeds = []
    for seed in range(scan):
        if (schedule(draw(CELLS[preset], seed)).nodes < 0).any():
            seeds.append(seed)
            if len(seeds) == count:
                break
    return FailingSeeds(preset, tuple(seeds), count, seed + 1)
