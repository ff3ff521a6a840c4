"""The online_alloc bench hook: its scenario loads and describes its streams correctly."""

from __future__ import annotations

import optkit
from optkit.core.benchmark import load_scenarios
from optkit.core.registry import get_family


def test_scenario_items_and_methods_are_registered():
    (nrm,) = load_scenarios(get_family("online_alloc"))
    items = nrm.instances(nrm.run_seeds(quick=True), True)
    assert [i.instance_id for i in items] == [
        "iid-s0",
        "markov-s0",
        "periodic-s0",
        "adversarial-s0",
    ]
    assert all(i.decisions == i.instance.T == 500 for i in items)
    names = {s.name for s in optkit.solvers("online_alloc")}
    assert set(nrm.methods) <= names and nrm.reference in nrm.methods
