"""The paper's grid generator and the `failing` filter."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

import optkit
from optkit.core.errors import InvalidInputError
from optkit.families.podpack.generate import CELLS, PRESET_NAMES, failing
from optkit.families.podpack.scheduler import schedule

MIB = 2**20


def test_grid_has_every_cell():
    assert len(PRESET_NAMES) == 4 * 2 * 3 * 4
    assert "n32-ppn8-l4-u105" in CELLS and "n4-ppn4-l1-u090" in CELLS


@pytest.mark.parametrize("preset", ["n4-ppn4-l1-u090", "n8-ppn8-l4-u105", "n16-ppn4-l2-u100"])
def test_cell_shape(preset):
    """Pod count, replica sets of 1-4 sharing requests and priority, ranges, identical nodes
    whose tighter resource is requested at (just under) the target utilisation, all pending."""
    cell = CELLS[preset]
    inst = optkit.generate("podpack", preset, seed=5)
    assert inst.n_nodes == cell.nodes and inst.n_pods == cell.nodes * cell.pods_per_node
    groups = defaultdict(list)
    for p in inst.pods:
        assert p.node is None and not p.protected and p.owner is not None
        assert 100 <= p.cpu <= 1000 and 100 * MIB <= p.memory <= 1000 * MIB
        assert p.memory % MIB == 0 and 1 <= p.priority <= cell.levels
        groups[p.owner].append(p)
    for members in groups.values():
        assert 1 <= len(members) <= 4
        assert len({(p.cpu, p.memory, p.priority) for p in members}) == 1
    k = inst.nodes[0].cpu
    assert all(n.cpu == k and n.memory == k * MIB for n in inst.nodes)
    tighter = max(sum(p.cpu for p in inst.pods), sum(p.memory for p in inst.pods) // MIB)
    assert k == math.ceil(tighter / (cell.nodes * cell.utilisation))
    assert cell.utilisation - 1e-3 < tighter / (cell.nodes * k) <= cell.utilisation


def test_same_seed_same_instance_and_seeds_differ():
    a = optkit.generate("podpack", "n8-ppn4-l2-u095", seed=11)
    assert a == optkit.generate("podpack", "n8-ppn4-l2-u095", seed=11)
    assert a != optkit.generate("podpack", "n8-ppn4-l2-u095", seed=12)


def test_failing_filter_keeps_exactly_the_failing_seeds():
    """Every kept seed leaves a pod pending under kube_default; every skipped seed below the
    last one scanned places every pod."""
    result = failing("n4-ppn4-l2-u090", 5)
    assert len(result.seeds) == 5 and not result.short
    for seed in range(result.scanned):
        pending = (schedule(optkit.generate("podpack", "n4-ppn4-l2-u090", seed)).nodes < 0).any()
        assert pending == (seed in result.seeds)


def test_failing_filter_reports_a_short_cell():
    """A cell scanned over too few seeds reports how many it found."""
    result = failing("n4-ppn4-l1-u090", 50, scan=10)
    assert result.scanned == 10 and result.short and len(result.seeds) < 50


def test_bad_preset_and_options():
    with pytest.raises(Exception, match="preset"):
        optkit.generate("podpack", "n5-ppn4-l1-u090")
    with pytest.raises(InvalidInputError, match="n_types"):
        optkit.generate("podpack", "n4-ppn4-l1-u090", n_types=3)
