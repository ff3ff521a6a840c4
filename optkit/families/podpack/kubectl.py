"""Import `kubectl get nodes,pods -A -o json` (a List) into a PodpackInstance.

Rules (spec/podpack.md, "Real cluster input"; Kubernetes v1.32):
- Nodes: allocatable cpu -> MilliValue, memory -> Value (rounded up); `spec.unschedulable`
  cordons; `spec.taints` kept (NoSchedule/NoExecute filter untolerating pods); the
  topology.kubernetes.io/zone label kept for PodTopologySpread's zone constraint.
- Pods: named "namespace/name"; Succeeded/Failed pods skipped; `spec.nodeName` is where the pod
  runs; priority from `spec.priority` (0 when absent, the default without a global default
  class). Pods are ordered by creationTimestamp (PrioritySort's tie-break), file order on ties.
- Request (resourcehelper.PodRequests): app containers and restartable init containers
  (sidecars, restartPolicy: Always) add up; a plain init container needs its own request plus
  the sidecars started before it; the pod needs the max of the two, plus `spec.overhead`. Sums
  are exact (Fraction) and rounded up once at the end, as Quantity.MilliValue / Value. A
  container with a limit but no request gets the limit as request (API defaulting).
- Score requests: the same with 100m cpu / 200 MiB memory for every container lacking that
  request (the scheduler's non-zero defaults); a BestEffort pod consumes nothing but is scored
  as if it asked for them.
- Protected: DaemonSet pods, static pods (owner kind Node) and mirror pods
  (kubernetes.io/config.mirror annotation) must stay where they run.
- Owner: the controller ReplicaSet / StatefulSet / ReplicationController ("namespace/name"),
  whose pods the system-default PodTopologySpread spreads. A pod with no controller is `bare`.
- Eligibility: nodeSelector and required node affinity (matchExpressions In, NotIn, Exists,
  DoesNotExist, Gt, Lt; matchFields on metadata.name) give `eligible_nodes`; tolerations are
  kept for the node taints.
- Flagged per pod, not silently ignored: host ports, extended resources (GPUs, hugepages,
  ephemeral storage), pod (anti-)affinity, explicit topologySpreadConstraints, preferred node
  affinity, terminating pods, NoExecute taints the running pod does not tolerate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from optkit.core.errors import InvalidInputError
from optkit.families.podpack.instance import (
    DEFAULT_MEMORY_REQUEST,
    DEFAULT_MILLI_CPU_REQUEST,
    TAINT_EFFECTS,
    TOLERATION_OPERATORS,
    Node,
    Pod,
    PodpackInstance,
    Taint,
    Toleration,
)
from optkit.families.podpack.quantity import milli_value, parse_quantity, value_of

RESOURCES = ("cpu", "memory")
SPREAD_OWNERS = ("ReplicaSet", "StatefulSet", "ReplicationController")
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
ZONE_LABEL = "topology.kubernetes.io/zone"
NON_ZERO = {
    "cpu": Fraction(DEFAULT_MILLI_CPU_REQUEST, 1000),
    "memory": Fraction(DEFAULT_MEMORY_REQUEST),
}


@dataclass(frozen=True)
class ImportResult:
    instance: PodpackInstance
    skipped: dict[str, str] = field(default_factory=dict)
    """Pods left out, with why (e.g. 'phase Succeeded')."""
    flags: dict[str, list[str]] = field(default_factory=dict)
    """Per pod, the constraints the model does not capture."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.instance.n_nodes,
            "pods": self.instance.n_pods,
            "pending": sum(p.node is None for p in self.instance.pods),
            "protected": sum(p.protected for p in self.instance.pods),
            "skipped": self.skipped,
            "flags": self.flags,
        }


class _Obj:
    """A JSON object read by path; every error names `items[k].<path>`."""

    def __init__(self, data: Any, path: str):
        if not isinstance(data, dict):
            raise InvalidInputError(path, "must be a JSON object")
        self.data, self.path = data, path

    def get(self, dotted: str, default: Any = None, kind: type | tuple = object) -> Any:
        node: Any = self.data
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node or node[key] is None:
                return default
            node = node[key]
        if not isinstance(node, kind):
            raise InvalidInputError(f"{self.path}.{dotted}", f"has the wrong type ({_kind(node)})")
        return node

    def name(self, dotted: str) -> str:
        return f"{self.path}.{dotted}"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def import_kubectl(data: Any, name: str | None = None) -> ImportResult:
    """The instance of a `kubectl get nodes,pods -A -o json` document."""
    if not isinstance(data, dict):
        raise InvalidInputError("(document)", "must be a kubectl JSON object (kind: List)")
    kind = data.get("kind")
    if kind != "List":
        raise InvalidInputError(
            "kind", f"must be List (kubectl get nodes,pods -A -o json), got {kind!r}"
        )
    items = data.get("items")
    if not isinstance(items, list):
        raise InvalidInputError("items", "must be an array")
    node_items, pod_items = [], []
    for k, item in enumerate(items):
        obj = _Obj(item, f"items[{k}]")
        item_kind = obj.get("kind", kind=str)
        if item_kind == "Node":
            node_items.append(obj)
        elif item_kind == "Pod":
            pod_items.append(obj)
        else:
            raise InvalidInputError(
                obj.name("kind"), f"unsupported kind {item_kind!r} (expected Node or Pod)"
            )
    nodes, labels = [], {}
    for obj in node_items:
        node = _node(obj)
        if node.name in labels:
            raise InvalidInputError(obj.name("metadata.name"), f"duplicate node {node.name!r}")
        labels[node.name] = obj.get("metadata.labels", {}, dict)
        nodes.append(node)
    if not nodes:
        raise InvalidInputError("items", "holds no Node (kubectl get nodes,pods -A -o json)")
    pods, skipped, flags, seen = [], {}, {}, set()
    order = sorted(range(len(pod_items)), key=lambda i: (_created(pod_items[i]), i))
    for i in order:
        obj = pod_items[i]
        pod_name = _pod_name(obj)
        if pod_name in seen:
            raise InvalidInputError(obj.name("metadata.name"), f"duplicate pod {pod_name!r}")
        seen.add(pod_name)
        phase = obj.get("status.phase", "", str)
        if phase in ("Succeeded", "Failed"):
            skipped[pod_name] = f"phase {phase}"
            continue
        try:
            pod, notes = _pod(obj, pod_name, nodes, labels)
        except InvalidInputError as exc:
            raise InvalidInputError(exc.field, f"{exc.problem} (pod {pod_name})") from None
        pods.append(pod)
        if notes:
            flags[pod_name] = notes
    # per-object checks passed above; what is left is the whole-cluster total (< 2**56), whose
    # message names the resource
    instance = PodpackInstance(nodes=tuple(nodes), pods=tuple(pods), name=name)
    return ImportResult(instance, skipped, flags)


def _created(obj: _Obj) -> datetime:
    stamp = obj.get("metadata.creationTimestamp", None, str)
    if stamp is None:
        return datetime.max
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            obj.name("metadata.creationTimestamp"), f"not an RFC 3339 time: {stamp!r}"
        ) from None
    # compare instants in UTC; a stamp without an offset is read as UTC (kubectl writes "Z")
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _node(obj: _Obj) -> Node:
    name = obj.get("metadata.name", None, str)
    if not name:
        raise InvalidInputError(obj.name("metadata.name"), "is required")
    alloc = obj.get("status.allocatable", None, dict) or obj.get("status.capacity", None, dict)
    if alloc is None:
        raise InvalidInputError(obj.name("status.allocatable"), f"is required (node {name!r})")
    values = {}
    for r in RESOURCES:
        where = obj.name(f"status.allocatable.{r}")
        if r not in alloc:
            raise InvalidInputError(where, f"is required (node {name!r})")
        q = parse_quantity(alloc[r], where)
        if q < 0:
            raise InvalidInputError(where, f"must be >= 0, got {alloc[r]!r} (node {name!r})")
        values[r] = milli_value(q) if r == "cpu" else value_of(q)
    taints = []
    for k, t in enumerate(obj.get("spec.taints", [], list)):
        where = obj.name(f"spec.taints[{k}]")
        if not isinstance(t, dict) or t.get("effect") not in TAINT_EFFECTS or not t.get("key"):
            raise InvalidInputError(where, f"must have a key and an effect in {TAINT_EFFECTS}")
        taints.append(Taint(t["key"], t["effect"], t.get("value", "") or ""))
    zone = obj.get("metadata.labels", {}, dict).get(ZONE_LABEL)
    return Node(
        name=name,
        cpu=values["cpu"],
        memory=values["memory"],
        schedulable=not obj.get("spec.unschedulable", False, bool),
        taints=tuple(taints),
        zone=zone if isinstance(zone, str) else None,
    )


def _pod_name(obj: _Obj) -> str:
    name = obj.get("metadata.name", None, str)
    if not name:
        raise InvalidInputError(obj.name("metadata.name"), "is required")
    return f"{obj.get('metadata.namespace', 'default', str)}/{name}"


def _pod(
    obj: _Obj, pod_name: str, nodes: list[Node], labels: dict[str, dict]
) -> tuple[Pod, list[str]]:
    notes: list[str] = []
    node = obj.get("spec.nodeName", None, str)
    if node is not None and node not in labels:
        raise InvalidInputError(obj.name("spec.nodeName"), f"unknown node {node!r}")
    requests, nonzero = pod_requests(obj, pod_name, notes)
    owner_refs = obj.get("metadata.ownerReferences", [], list)
    controller = next((r for r in owner_refs if isinstance(r, dict) and r.get("controller")), None)
    ckind = controller.get("kind") if controller else None
    annotations = obj.get("metadata.annotations", {}, dict)
    protected = node is not None and (
        ckind in ("DaemonSet", "Node") or MIRROR_ANNOTATION in annotations
    )
    namespace = obj.get("metadata.namespace", "default", str)
    owner = f"{namespace}/{controller.get('name')}" if ckind in SPREAD_OWNERS else None
    tolerations = _tolerations(obj)
    eligible = _eligible_nodes(obj, nodes, labels, notes)
    _flag_unsupported(obj, notes)
    if obj.get("metadata.deletionTimestamp", None, str) is not None:
        notes.append("terminating: still counted on its node")
    priority = obj.get("spec.priority", 0, int)
    if isinstance(priority, bool):
        raise InvalidInputError(obj.name("spec.priority"), "must be an integer")
    if obj.get("spec.priorityClassName", None, str) and obj.get("spec.priority") is None:
        notes.append("priorityClassName without spec.priority: priority 0 assumed")
    try:
        pod = Pod(
            name=pod_name,
            cpu=milli_value(requests["cpu"]),
            memory=value_of(requests["memory"]),
            priority=priority,
            node=node,
            protected=protected,
            owner=owner,
            eligible_nodes=eligible,
            tolerations=tolerations,
            score_cpu=milli_value(nonzero["cpu"]),
            score_memory=value_of(nonzero["memory"]),
            bare=controller is None and not protected,
        )
    except InvalidInputError as exc:
        where = {"priority": "spec.priority", "node": "spec.nodeName"}.get(exc.field, exc.field)
        raise InvalidInputError(f"{obj.path}.{where}", exc.problem) from None
    if node is not None:
        for t in next(n for n in nodes if n.name == node).taints:
            if t.effect == "NoExecute" and not pod.tolerates((t,)):
                notes.append(f"runs on {node} without tolerating NoExecute taint {t.key}")
    return pod, notes


def _container_requests(c: _Obj, notes: list[str]) -> tuple[dict, dict]:
    """(requests, requests with the non-zero defaults) of one container, exact."""
    req, nz = {}, {}
    requests = c.get("resources.requests", {}, dict)
    limits = c.get("resources.limits", {}, dict)
    for r in RESOURCES:
        raw, where = requests.get(r), c.name(f"resources.requests.{r}")
        if raw is None and r in limits:  # API defaulting: a limit without request sets it
            raw, where = limits[r], c.name(f"resources.limits.{r}")
        if raw is None:
            req[r], nz[r] = Fraction(0), NON_ZERO[r]
            continue
        q = parse_quantity(raw, where)
        if q < 0:
            raise InvalidInputError(where, f"must be >= 0, got {raw!r}")
        req[r] = nz[r] = q
    for r in sorted(set(requests) | set(limits)):
        if r not in RESOURCES:
            notes.append(f"resource {r} not modelled (container {c.get('name', '?')})")
    return req, nz


def pod_requests(obj: _Obj, pod_name: str, notes: list[str]) -> tuple[dict, dict]:
    """resourcehelper.PodRequests (v1.32), exact; with and without the non-zero defaults."""
    total = {r: Fraction(0) for r in RESOURCES}
    total_nz = dict(total)
    for k, c in enumerate(obj.get("spec.containers", [], list)):
        req, nz = _container_requests(_Obj(c, obj.name(f"spec.containers[{k}]")), notes)
        for r in RESOURCES:
            total[r] += req[r]
            total_nz[r] += nz[r]
    sidecars = {r: Fraction(0) for r in RESOURCES}
    sidecars_nz = dict(sidecars)
    init_max = dict(sidecars)
    init_max_nz = dict(sidecars)
    for k, c in enumerate(obj.get("spec.initContainers", [], list)):
        co = _Obj(c, obj.name(f"spec.initContainers[{k}]"))
        req, nz = _container_requests(co, notes)
        if co.get("restartPolicy", None, str) == "Always":  # a sidecar runs alongside the app
            for r in RESOURCES:
                total[r] += req[r]
                total_nz[r] += nz[r]
                sidecars[r] += req[r]
                sidecars_nz[r] += nz[r]
            need, need_nz = dict(sidecars), dict(sidecars_nz)
        else:  # a plain init container runs with the sidecars started before it
            need = {r: req[r] + sidecars[r] for r in RESOURCES}
            need_nz = {r: nz[r] + sidecars_nz[r] for r in RESOURCES}
        for r in RESOURCES:
            init_max[r] = max(init_max[r], need[r])
            init_max_nz[r] = max(init_max_nz[r], need_nz[r])
    overhead = obj.get("spec.overhead", {}, dict)
    for r in RESOURCES:
        total[r] = max(total[r], init_max[r])
        total_nz[r] = max(total_nz[r], init_max_nz[r])
        if r in overhead:
            where = obj.name(f"spec.overhead.{r}")
            q = parse_quantity(overhead[r], where)
            if q < 0:
                raise InvalidInputError(where, f"must be >= 0, got {overhead[r]!r}")
            total[r] += q
            total_nz[r] += q
    return total, total_nz


def _tolerations(obj: _Obj) -> tuple[Toleration, ...]:
    out = []
    for k, t in enumerate(obj.get("spec.tolerations", [], list)):
        where = obj.name(f"spec.tolerations[{k}]")
        if not isinstance(t, dict):
            raise InvalidInputError(where, "must be an object")
        op = t.get("operator") or "Equal"
        if op not in TOLERATION_OPERATORS:
            raise InvalidInputError(f"{where}.operator", f"must be Equal or Exists, got {op!r}")
        effect = t.get("effect") or ""
        if effect and effect not in TAINT_EFFECTS:
            raise InvalidInputError(f"{where}.effect", f"unknown effect {effect!r}")
        out.append(Toleration(t.get("key") or "", op, t.get("value") or "", effect))
    return tuple(out)


def _eligible_nodes(
    obj: _Obj, nodes: list[Node], labels: dict[str, dict], notes: list[str]
) -> tuple[str, ...] | None:
    """Nodes passing nodeSelector and requiredDuringScheduling node affinity; None: no rule."""
    selector = obj.get("spec.nodeSelector", None, dict)
    affinity = obj.get("spec.affinity.nodeAffinity", None, dict)
    required = None
    if affinity is not None:
        req = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        if req is not None:
            required = req.get("nodeSelectorTerms") if isinstance(req, dict) else None
            if not isinstance(required, list):
                raise InvalidInputError(
                    obj.name(
                        "spec.affinity.nodeAffinity.requiredDuringScheduling"
                        "IgnoredDuringExecution.nodeSelectorTerms"
                    ),
                    "must be an array",
                )
        if affinity.get("preferredDuringSchedulingIgnoredDuringExecution"):
            notes.append("preferred node affinity not modelled")
    if selector is None and required is None:
        return None
    out = []
    for n in nodes:
        lab = labels[n.name]
        if selector is not None and any(lab.get(k) != v for k, v in selector.items()):
            continue
        if required is not None and not any(_term_matches(t, lab, n.name) for t in required):
            continue
        out.append(n.name)
    return tuple(out)


def _term_matches(term: Any, labels: dict, node_name: str) -> bool:
    """A NodeSelectorTerm: its expressions AND together (an empty term matches nothing)."""
    if not isinstance(term, dict):
        return False
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    return all(_expr_matches(e, labels) for e in exprs) and all(
        _expr_matches(e, {"metadata.name": node_name}) for e in fields
    )


def _expr_matches(expr: Any, labels: dict) -> bool:
    if not isinstance(expr, dict):
        return False
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    has, value = key in labels, labels.get(key)
    if op == "In":
        return has and value in values
    if op == "NotIn":
        return not has or value not in values
    if op == "Exists":
        return has
    if op == "DoesNotExist":
        return not has
    if op in ("Gt", "Lt"):
        try:
            lhs, rhs = int(value), int(values[0])
        except (TypeError, ValueError, IndexError):
            return False
        return lhs > rhs if op == "Gt" else lhs < rhs
    return False


def _flag_unsupported(obj: _Obj, notes: list[str]) -> None:
    for group in ("containers", "initContainers"):
        for c in obj.get(f"spec.{group}", [], list):
            for port in (c.get("ports") or []) if isinstance(c, dict) else []:
                if isinstance(port, dict) and port.get("hostPort"):
                    notes.append(f"hostPort {port['hostPort']} not modelled (NodePorts filter)")
    affinity = obj.get("spec.affinity", {}, dict)
    for key in ("podAffinity", "podAntiAffinity"):
        if affinity.get(key):
            notes.append(f"{key} not modelled")
    if obj.get("spec.topologySpreadConstraints", None, list):
        notes.append("explicit topologySpreadConstraints not modelled (system default used)")
