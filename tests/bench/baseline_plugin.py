"""A test-only solver for the baseline harness, registered by plugin (``--plugin baseline_plugin``).

Importing this module registers ``contract/baseline_probe``: it answers with the real `uniform`
heuristic, but its params can make it misbehave on named instances, which no production solver
may be made to do:
    sleep_s   seconds to sleep before answering (a run slow enough to interrupt mid-way)
    crash_on  instance names whose worker process dies (os._exit(3)) instead of answering
    hang_on   instance names on which it ignores its deadline and never answers
Its message says which process answered and how many items that process has solved so far
("pid 123 item 4"), so tests can see that workers live on between items (and so keep what
they cache, such as the contract cvxpy solver's compiled models).
The harness imports plugin modules in every worker; tests put tests/bench on sys.path (spawned
workers inherit it; a subprocess gets PYTHONPATH).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time

from optkit.core import registry
from optkit.core.registry import SolverSpec, register_solver
from optkit.core.status import Guarantee

NAME = "baseline_probe"
_items = itertools.count(1)

register_solver(
    SolverSpec(
        family="contract",
        name=NAME,
        guarantee=Guarantee.HEURISTIC,
        entry_point="baseline_plugin:solve",
        description="test only: uniform, with sleeps, crashes and hangs on request",
    )
)


def solve(instance, *, deadline, seed, threads, params):
    params = dict(params)
    time.sleep(float(params.pop("sleep_s", 0.0)))
    name = instance.name
    if name in params.pop("crash_on", []):
        os._exit(3)
    if name in params.pop("hang_on", []):
        time.sleep(3600.0)
    uniform = registry.get_solver("contract", "uniform").load()
    out = uniform(instance, deadline=deadline, seed=seed, threads=threads, params=params)
    return dataclasses.replace(out, message=f"pid {os.getpid()} item {next(_items)}")
