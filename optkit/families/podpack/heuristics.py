"""The registered kube-scheduler baselines: `kube_default` (LeastAllocated) and
`kube_mostallocated` (MostAllocated). Heuristics: status FEASIBLE, bound None.

Params: `preemption` (bool, default false, as in the paper's runs) and `tie_break` ("name",
default, or "random" drawing from the solve's seed).

A current state that no plan can repair (protected pods alone over a node's allocatable) is the
verdict INFEASIBLE; one where unprotected running pods overcommit a node is NOT_APPLICABLE here
(kube-scheduler never evicts a running pod for that, so its plan cannot be feasible; the exact
solvers can evict). Both carry the offending node and resource in the message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from optkit.core.fields import Fields, as_bool, as_choice
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.podpack.evaluate import (
    current_state,
    evaluate_indices,
    forced_infeasibility,
    objective_vector,
)
from optkit.families.podpack.instance import PodpackDecision, PodpackInstance
from optkit.families.podpack.scheduler import Scoring, schedule


def read_params(params: Mapping[str, Any]) -> dict[str, Any]:
    f = Fields(dict(params), "params")
    out = {
        "preemption": as_bool(f.get("preemption", False), "params.preemption"),
        "tie_break": as_choice(f.get("tie_break", "name"), "params.tie_break", ("name", "random")),
    }
    f.finish()
    return out


def run_kube(
    instance: PodpackInstance, scoring: Scoring, seed: int, params: Mapping[str, Any]
) -> SolverOutput:
    opts = read_params(params)
    t0 = time.perf_counter()
    forced = forced_infeasibility(instance)
    if forced:
        return SolverOutput(
            status=Status.INFEASIBLE,
            message="current state is infeasible and no plan can fix it: " + "; ".join(forced),
            solve_s=time.perf_counter() - t0,
        )
    now = current_state(instance)
    overloaded = [v for v in now.violations if v.startswith("capacity[")]
    if overloaded:
        return SolverOutput(
            status=Status.NOT_APPLICABLE,
            message=(
                "current state overcommits "
                + ", ".join(f"{v} by {now.violations[v]}" for v in overloaded)
                + "; kube-scheduler never evicts running pods for this (use an exact solver)"
            ),
            solve_s=time.perf_counter() - t0,
        )
    run = schedule(instance, scoring=scoring, seed=seed, **opts)
    decision = PodpackDecision.from_indices(
        instance, [None if n < 0 else int(n) for n in run.nodes]
    )
    report = evaluate_indices(instance, run.nodes)
    certificate = {
        "evictions": report.evictions,
        "moves": [{"pod": p, "from": a, "to": b} for p, a, b in report.moves],
        "placed": dict(zip(map(str, report.tiers), report.placed, strict=True)),
        "queue_order": [instance.pods[k].name for k in run.order],
        "preemptions": [
            {
                "preemptor": instance.pods[p.preemptor].name,
                "node": instance.nodes[p.node].name,
                "victims": [instance.pods[v].name for v in p.victims],
            }
            for p in run.preemptions
        ],
    }
    return SolverOutput(
        status=Status.FEASIBLE,
        objective=objective_vector(instance, run.nodes),
        bound=None,
        decision=decision,
        certificate=certificate,
        solve_s=time.perf_counter() - t0,
    )


def solve_default(
    instance: PodpackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: Mapping[str, Any] | None = None,
) -> SolverOutput:
    """kube_default: v1.32 default profile (LeastAllocated)."""
    return run_kube(instance, "least", seed, params or {})


def solve_mostallocated(
    instance: PodpackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: Mapping[str, Any] | None = None,
) -> SolverOutput:
    """kube_mostallocated: the same profile with the MostAllocated strategy (bin packing)."""
    return run_kube(instance, "most", seed, params or {})
