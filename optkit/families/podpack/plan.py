"""A plan for people: ordered kubectl actions and why each pending pod stays pending.

Actions come in the order they can be applied: evictions first (least important pod first), then
placements in PrioritySort order. A move is an eviction plus a placement of the controller's
replacement pod pinned to the target node; a bare pod (no controller) cannot be moved that way
(deleting it loses it), so such a move is flagged. A placement is a Binding (what kube-scheduler
itself posts): `kubectl create -f -` of {"kind": "Binding", "target": {"kind": "Node", ...}}.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import numpy as np

from optkit.families.podpack.evaluate import evaluate_indices
from optkit.families.podpack.instance import (
    FAMILY,
    SCHEMA_VERSION,
    UNSCHEDULABLE_TAINT,
    PodpackDecision,
    PodpackInstance,
)
from optkit.families.podpack.quantity import format_bytes


def _split(pod_name: str) -> tuple[str, str]:
    """("namespace", "name") of an imported "namespace/name"; generated pods: "default"."""
    ns, _, name = pod_name.rpartition("/")
    return ns or "default", name


def evict_command(pod_name: str) -> str:
    ns, name = _split(pod_name)
    return f"kubectl delete pod --namespace {shlex.quote(ns)} {shlex.quote(name)}"


def bind_command(pod_name: str, node: str) -> str:
    ns, name = _split(pod_name)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name, "namespace": ns},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }
    return f"echo {shlex.quote(json.dumps(binding, separators=(',', ':')))} | kubectl create -f -"


def explain_pending(inst: PodpackInstance, nodes: np.ndarray, pod: int) -> dict[str, Any]:
    """Why pod stays pending in the plan: per node, the filter that rejects it, in the words of
    the scheduler's FitError ("0/3 nodes are available: 2 Insufficient cpu, ...")."""
    p = inst.pods[pod]
    used_cpu = [0] * inst.n_nodes
    used_mem = [0] * inst.n_nodes
    for k, n in enumerate(nodes.tolist()):
        if n >= 0:
            used_cpu[n] += inst.pods[k].cpu
            used_mem[n] += inst.pods[k].memory
    per_node: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for j, node in enumerate(inst.nodes):
        reasons = []
        if not node.schedulable and not p.tolerates((UNSCHEDULABLE_TAINT,)):
            reasons.append("node is cordoned (unschedulable)")
        for t in node.taints:
            if not p.tolerates((t,)) and t.effect in ("NoSchedule", "NoExecute"):
                reasons.append(f"untolerated taint {t.key}:{t.effect}")
        if p.eligible_nodes is not None and node.name not in p.eligible_nodes:
            reasons.append("node selector / required node affinity does not match")
        free_cpu, free_mem = node.cpu - used_cpu[j], node.memory - used_mem[j]
        if p.cpu > 0 and p.cpu > free_cpu:
            reasons.append(f"Insufficient cpu: needs {p.cpu}m, {free_cpu}m free")
        if p.memory > 0 and p.memory > free_mem:
            reasons.append(
                f"Insufficient memory: needs {format_bytes(p.memory)}, "
                f"{format_bytes(free_mem)} free"
            )
        if not reasons:
            reasons.append("fits, but the plan leaves the room to other pods")
        per_node[node.name] = reasons
        # the FitError summary counts each node once, by its first failing filter in upstream
        # order: NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit
        head = reasons[0].split(":")[0]
        counts[head] = counts.get(head, 0) + 1
    summary = f"0/{inst.n_nodes} nodes are available: " + ", ".join(
        f"{c} {head}" for head, c in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    )
    evicted = p.node is not None
    return {
        "priority": p.priority,
        "evicted_by_plan": evicted,
        "summary": summary,
        "nodes": per_node,
    }


def build_plan(inst: PodpackInstance, decision: PodpackDecision) -> dict[str, Any]:
    """The reviewable plan: assignment, objective, ordered kubectl actions, explanations."""
    idx = decision.indices(inst)
    nodes = np.array([-1 if i is None else i for i in idx], dtype=np.int64)
    report = evaluate_indices(inst, nodes)
    pods = {p.name: k for k, p in enumerate(inst.pods)}
    actions: list[dict[str, Any]] = []
    moved = {pod: (src, dst) for pod, src, dst in report.moves}
    leaving = sorted(
        report.evictions + list(moved),
        key=lambda name: (inst.pods[pods[name]].priority, pods[name]),
    )
    for name in leaving:
        p = inst.pods[pods[name]]
        flags = []
        if name in moved and p.bare:
            flags.append("bare pod: no controller recreates it, so it cannot be moved")
        actions.append(
            {
                "action": "evict",
                "pod": name,
                "node": p.node,
                "reason": "move" if name in moved else "eviction",
                "command": evict_command(name),
                "flags": flags,
            }
        )
    arriving = [
        k for k, p in enumerate(inst.pods) if nodes[k] >= 0 and (p.node is None or p.name in moved)
    ]
    arriving.sort(key=lambda k: (-inst.pods[k].priority, k))
    for k in arriving:
        p, target = inst.pods[k], inst.nodes[nodes[k]].name
        if p.name in moved:
            ns, _ = _split(p.name)
            actions.append(
                {
                    "action": "bind",
                    "pod": p.name,
                    "node": target,
                    "reason": "move",
                    "command": (
                        f"# bind the replacement of {p.name} (owner {p.owner or 'its controller'}"
                        f") to {target} once it is pending:\n"
                        + bind_command(f"{ns}/<replacement-of-{_split(p.name)[1]}>", target)
                    ),
                    "flags": ["pinned to the target node (replacement pod)"]
                    + (["bare pod: cannot be recreated"] if p.bare else []),
                }
            )
        else:
            actions.append(
                {
                    "action": "bind",
                    "pod": p.name,
                    "node": target,
                    "reason": "placement",
                    "command": bind_command(p.name, target),
                    "flags": [],
                }
            )
    for step, a in enumerate(actions, 1):
        a["step"] = step
    return {
        "family": FAMILY,
        "schema_version": SCHEMA_VERSION,
        "instance": inst.name,
        "assignment": dict(decision.assignment),
        "objective": report.objective,
        "tiers": report.tiers,
        "placed": report.placed,
        "feasible": report.feasible,
        "violations": report.violations,
        "evictions": report.evictions,
        "moves": [{"pod": p, "from": a, "to": b} for p, a, b in report.moves],
        "actions": actions,
        "pending": {
            inst.pods[k].name: explain_pending(inst, nodes, k) for k in np.flatnonzero(nodes < 0)
        },
    }


def actions_script(plan: dict[str, Any]) -> str:
    """The actions as a reviewable shell script (one numbered comment per step)."""
    lines = [
        "#!/bin/sh",
        f"# optkit podpack plan for {plan.get('instance') or 'instance'}: objective "
        f"{plan['objective']}; review before running. Evictions first, then placements.",
        "set -e",
    ]
    for a in plan["actions"]:
        lines.append(f"# step {a['step']}: {a['action']} {a['pod']} ({a['reason']}, {a['node']})")
        lines += [f"# FLAG: {f}" for f in a["flags"]]
        lines.append(a["command"])
    return "\n".join(lines) + "\n"
