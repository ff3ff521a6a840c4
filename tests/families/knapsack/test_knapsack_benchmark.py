"""The knapsack bench hook: its scenario loads and names registered solvers."""

from __future__ import annotations

import optkit
from optkit.core.benchmark import load_scenarios
from optkit.core.registry import get_family


def test_scenario_items_and_methods_are_registered():
    (compose,) = load_scenarios(get_family("knapsack"))
    items = compose.instances(compose.run_seeds(quick=True), True)
    assert [i.instance_id for i in items] == ["single_agent-s0", "multi_agent-s0"]
    names = {s.name for s in optkit.solvers("knapsack")}
    assert set(compose.methods) <= names and compose.reference in compose.methods


def test_export_is_public_api(tmp_path):
    inst = optkit.generate("knapsack", "single_agent", 0)
    path = optkit.export(inst, tmp_path / "m.lp", "lp")
    assert path.exists() and path.stat().st_size > 0
