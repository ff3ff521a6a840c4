"""Pod-packing instances and plans (spec/podpack.md): frozen, validated on construction, JSON.

Units: cpu in millicores, memory in bytes, both integers (what Quantity.MilliValue / Value give
upstream). Names are unique; imported pods are named "namespace/name".

Eligibility (`Instance.may_place`) applies to a pod arriving on a node: the node must be
schedulable (not cordoned), every NoSchedule/NoExecute taint must be tolerated and the node must
be in the pod's `eligible_nodes` when that list is given. A running pod may always stay where it
runs: kube-scheduler checks these rules only when it binds, and nodeSelector / node affinity are
"IgnoredDuringExecution".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from optkit.core.errors import InvalidInputError
from optkit.core.fields import Fields, as_bool, as_choice, as_int

FAMILY = "podpack"
SCHEMA_VERSION = 1
# Priorities are int32 upstream (system-node-critical is 2000001000; user classes stop at 1e9).
MIN_PRIORITY, MAX_PRIORITY = -(2**31), 2**31 - 1
MAX_QUANTITY = 2**50  # 1 PiB of memory, 10**12 cores: far beyond any node
# Upstream scores in int64: (allocatable - requested) * 100 must not overflow, so every total of
# requests or allocatable stays below 2**56 (checked on the instance).
MAX_TOTAL = 2**56
TAINT_EFFECTS = ("NoSchedule", "NoExecute", "PreferNoSchedule")
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Equal", "Exists")
# Upstream non-zero defaults (pkg/scheduler/util/pod_resources.go): a container without a request
# is scored as if it asked for 100m cpu and 200 MiB memory, though it consumes nothing.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 2**20


def _name(value: Any, field_: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(field_, f"must be a non-empty string, got {value!r}")
    return value


def _quantity(value: Any, field_: str) -> int:
    return as_int(value, field_, ge=0, le=MAX_QUANTITY)


@dataclass(frozen=True)
class Taint:
    """A node taint; NoSchedule and NoExecute keep untolerating pods off (TaintToleration)."""

    key: str
    effect: str
    value: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _name(self.key, "key"))
        object.__setattr__(self, "effect", as_choice(self.effect, "effect", TAINT_EFFECTS))
        if not isinstance(self.value, str):
            raise InvalidInputError("value", "must be a string")

    def to_dict(self) -> dict[str, Any]:
        d = {"key": self.key, "effect": self.effect}
        if self.value:
            d["value"] = self.value
        return d


@dataclass(frozen=True)
class Toleration:
    """v1.Toleration: an empty key with Exists tolerates every taint; an empty effect, every
    effect (ToleratesTaint in k8s.io/api/core/v1/toleration.go)."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "operator", as_choice(self.operator, "operator", TOLERATION_OPERATORS)
        )
        if self.effect is None or not isinstance(self.effect, str):
            raise InvalidInputError("effect", "must be a string ('' tolerates every effect)")
        if self.effect:
            as_choice(self.effect, "effect", TAINT_EFFECTS)
        for k in ("key", "value"):
            if not isinstance(getattr(self, k), str):
                raise InvalidInputError(k, "must be a string")
        # the API server's ValidateTolerations (pkg/apis/core/validation), which `tolerates`
        # relies on: kubectl imports are valid already, hand-written JSON may not be
        if not self.key and self.operator != "Exists":
            raise InvalidInputError(
                "operator", "must be Exists when key is empty (it means all keys and values)"
            )
        if self.operator == "Exists" and self.value:
            raise InvalidInputError("value", "must be empty when operator is Exists")

    def tolerates(self, taint: Taint) -> bool:
        """Toleration.ToleratesTaint, rule for rule (construction applies the API's validation:
        an empty key needs operator Exists, so it needs no special case here)."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.__dict__.items() if v and not (k == "operator" and v == "Equal")
        }


UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "NoSchedule")


@dataclass(frozen=True)
class Node:
    name: str
    cpu: int
    """Allocatable cpu, millicores."""
    memory: int
    """Allocatable memory, bytes."""
    schedulable: bool = True
    """False: cordoned (spec.unschedulable); nothing new lands here, running pods stay."""
    taints: tuple[Taint, ...] = ()
    zone: str | None = None
    """The topology.kubernetes.io/zone label (PodTopologySpread's zone constraint); None:
    unlabelled, as every generated node."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _name(self.name, "name"))
        object.__setattr__(self, "cpu", _quantity(self.cpu, "cpu"))
        object.__setattr__(self, "memory", _quantity(self.memory, "memory"))
        object.__setattr__(self, "schedulable", as_bool(self.schedulable, "schedulable"))
        object.__setattr__(self, "taints", _typed(self.taints, "taints", Taint))
        if self.zone is not None and not isinstance(self.zone, str):
            raise InvalidInputError("zone", "must be a string")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "cpu": self.cpu, "memory": self.memory}
        if not self.schedulable:
            d["schedulable"] = False
        if self.taints:
            d["taints"] = [t.to_dict() for t in self.taints]
        if self.zone is not None:
            d["zone"] = self.zone
        return d

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Node:
        f = Fields(data, path)
        taints = []
        for k, t in enumerate(_list(f.get("taints", []), f.name("taints"))):
            tf = Fields(t, f"{path}.taints[{k}]")
            taints.append(
                _rename(
                    lambda tf=tf: Taint(tf.get("key"), tf.get("effect"), tf.get("value", "")),
                    f"{path}.taints[{k}]",
                )
            )
            tf.finish()
        node = _rename(
            lambda: cls(
                name=f.get("name"),
                cpu=f.get("cpu"),
                memory=f.get("memory"),
                schedulable=f.get("schedulable", True),
                taints=tuple(taints),
                zone=f.get("zone", None),
            ),
            path,
        )
        f.finish()
        return node


@dataclass(frozen=True)
class Pod:
    name: str
    cpu: int
    """Requested cpu, millicores (consumed on the node)."""
    memory: int
    """Requested memory, bytes (consumed on the node)."""
    priority: int = 0
    node: str | None = None
    """Where the pod runs now; None: pending."""
    protected: bool = False
    """Must stay where it runs (DaemonSet, static and mirror pods on import)."""
    owner: str | None = None
    """The controller (ReplicaSet) whose pods PodTopologySpread spreads; None: a bare pod."""
    eligible_nodes: tuple[str, ...] | None = None
    """Nodes the pod may be placed on (nodeSelector / required node affinity); None: all."""
    tolerations: tuple[Toleration, ...] = ()
    score_cpu: int | None = None
    """cpu as the scorers see it (upstream non-zero defaults, 100m per container without a
    request); None: equal to `cpu`."""
    score_memory: int | None = None
    """memory as the scorers see it (200 MiB per container without a request); None: `memory`."""
    bare: bool = False
    """No controller recreates this pod (created directly): a move cannot be carried out."""

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        set_("name", _name(self.name, "name"))
        set_("cpu", _quantity(self.cpu, "cpu"))
        set_("memory", _quantity(self.memory, "memory"))
        set_("priority", as_int(self.priority, "priority", ge=MIN_PRIORITY, le=MAX_PRIORITY))
        if self.node is not None:
            set_("node", _name(self.node, "node"))
        set_("protected", as_bool(self.protected, "protected"))
        if self.protected and self.node is None:
            raise InvalidInputError("protected", "a protected pod must be running on a node")
        if self.owner is not None:
            set_("owner", _name(self.owner, "owner"))
        if self.eligible_nodes is not None:
            if isinstance(self.eligible_nodes, str):  # tuple("node-1") would be its letters
                raise InvalidInputError("eligible_nodes", "must be a list of node names")
            nodes = tuple(self.eligible_nodes)
            for k, n in enumerate(nodes):
                _name(n, f"eligible_nodes[{k}]")
            set_("eligible_nodes", nodes)
        set_("tolerations", _typed(self.tolerations, "tolerations", Toleration))
        set_("bare", as_bool(self.bare, "bare"))
        set_(
            "score_cpu",
            self.cpu if self.score_cpu is None else _quantity(self.score_cpu, "score_cpu"),
        )
        set_(
            "score_memory",
            self.memory
            if self.score_memory is None
            else _quantity(self.score_memory, "score_memory"),
        )

    def tolerates(self, taints: Iterable[Taint]) -> bool:
        """TaintToleration filter: every NoSchedule/NoExecute taint has a matching toleration."""
        return all(
            any(t.tolerates(taint) for t in self.tolerations)
            for taint in taints
            if taint.effect in BLOCKING_EFFECTS
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "cpu": self.cpu,
            "memory": self.memory,
            "priority": self.priority,
            "node": self.node,
            "protected": self.protected,
            "owner": self.owner,
        }
        if self.eligible_nodes is not None:
            d["eligible_nodes"] = list(self.eligible_nodes)
        if self.tolerations:
            d["tolerations"] = [t.to_dict() for t in self.tolerations]
        if self.bare:
            d["bare"] = True
        if self.score_cpu != self.cpu:
            d["score_cpu"] = self.score_cpu
        if self.score_memory != self.memory:
            d["score_memory"] = self.score_memory
        return d

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Pod:
        f = Fields(data, path)
        tolerations = []
        for k, t in enumerate(_list(f.get("tolerations", []), f.name("tolerations"))):
            tf = Fields(t, f"{path}.tolerations[{k}]")
            tolerations.append(
                _rename(
                    lambda tf=tf: Toleration(
                        key=tf.get("key", ""),
                        operator=tf.get("operator", "Equal"),
                        value=tf.get("value", ""),
                        effect=tf.get("effect", ""),
                    ),
                    f"{path}.tolerations[{k}]",
                )
            )
            tf.finish()
        eligible = f.get("eligible_nodes", None)
        if eligible is not None:
            eligible = _list(eligible, f.name("eligible_nodes"))
        pod = _rename(
            lambda: cls(
                name=f.get("name"),
                cpu=f.get("cpu"),
                memory=f.get("memory"),
                priority=f.get("priority", 0),
                node=f.get("node", None),
                protected=f.get("protected", False),
                owner=f.get("owner", None),
                eligible_nodes=eligible,
                tolerations=tuple(tolerations),
                score_cpu=f.get("score_cpu", None),
                score_memory=f.get("score_memory", None),
                bare=f.get("bare", False),
            ),
            path,
        )
        f.finish()
        return pod


def _typed(items: Any, field_: str, kind: type) -> tuple:
    """A tuple of `kind` objects (Python callers): a string or a dict in place of a Taint is
    refused here rather than failing later inside a scheduler filter."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise InvalidInputError(field_, f"must be a list of {kind.__name__} objects")
    out = tuple(items)
    for k, item in enumerate(out):
        if not isinstance(item, kind):
            raise InvalidInputError(
                f"{field_}[{k}]", f"must be a {kind.__name__}, got {type(item).__name__}"
            )
    return out


def _list(value: Any, field_: str) -> list:
    if not isinstance(value, list):
        raise InvalidInputError(field_, "must be an array")
    return value


def _rename(build, prefix: str):
    """Run a constructor; an error naming a bare field ('cpu') is re-raised as 'pods[3].cpu'."""
    try:
        return build()
    except InvalidInputError as exc:
        if exc.field.startswith(prefix):
            raise
        raise InvalidInputError(f"{prefix}.{exc.field}", exc.problem) from None


@dataclass(frozen=True)
class PodpackInstance:
    """Nodes and pods; pods in file order (= creation order, the PrioritySort tie-break)."""

    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...]
    name: str | None = None
    node_index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    pod_index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for what in ("nodes", "pods"):
            value = getattr(self, what)
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                raise InvalidInputError(what, "must be a list")
        nodes, pods = tuple(self.nodes), tuple(self.pods)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "pods", pods)
        if not nodes:
            raise InvalidInputError("nodes", "must list at least one node")
        node_index: dict[str, int] = {}
        for k, n in enumerate(nodes):
            if not isinstance(n, Node):
                raise InvalidInputError(f"nodes[{k}]", "must be a Node")
            if n.name in node_index:
                raise InvalidInputError(f"nodes[{k}].name", f"duplicate node name {n.name!r}")
            node_index[n.name] = k
        pod_index: dict[str, int] = {}
        for k, p in enumerate(pods):
            if not isinstance(p, Pod):
                raise InvalidInputError(f"pods[{k}]", "must be a Pod")
            if p.name in pod_index:
                raise InvalidInputError(f"pods[{k}].name", f"duplicate pod name {p.name!r}")
            pod_index[p.name] = k
            if p.node is not None and p.node not in node_index:
                raise InvalidInputError(f"pods[{k}].node", f"unknown node {p.node!r}")
            for j, n in enumerate(p.eligible_nodes or ()):
                if n not in node_index:
                    raise InvalidInputError(f"pods[{k}].eligible_nodes[{j}]", f"unknown node {n!r}")
        for what, items in (("nodes", nodes), ("pods", pods)):
            for r in ("cpu", "memory") + (("score_cpu", "score_memory") if what == "pods" else ()):
                if sum(getattr(x, r) for x in items) >= MAX_TOTAL:
                    raise InvalidInputError(what, f"total {r} must stay below 2**56")
        if self.name is not None and not isinstance(self.name, str):
            raise InvalidInputError("name", "must be a string")
        object.__setattr__(self, "node_index", MappingProxyType(node_index))
        object.__setattr__(self, "pod_index", MappingProxyType(pod_index))
        # rows of may_place, [pod] -> (nodes,) bools, filled on first use: a large imported
        # cluster pays only for the pods a caller asks about
        object.__setattr__(self, "_eligible_rows", {})

    def _may_place(self, pod: Pod, node: Node) -> bool:
        # NodeUnschedulable lets a pod onto a cordoned node only if it tolerates the
        # node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do).
        return (
            (node.schedulable or pod.tolerates((UNSCHEDULABLE_TAINT,)))
            and (pod.eligible_nodes is None or node.name in pod.eligible_nodes)
            and pod.tolerates(node.taints)
        )

    def may_place(self, pod: int, node: int) -> bool:
        """May pod (index) arrive on node (index): NodeUnschedulable, TaintToleration and the
        pod's eligible_nodes all pass."""
        rows: dict[int, tuple[bool, ...]] = self._eligible_rows  # type: ignore[attr-defined]
        row = rows.get(pod)
        if row is None:
            row = rows[pod] = tuple(self._may_place(self.pods[pod], n) for n in self.nodes)
        return row[node]

    def may_use(self, pod: int, node: int) -> bool:
        """May the plan put the pod on this node: it already runs there, or it may arrive."""
        current = self.pods[pod].node
        return (current is not None and self.node_index[current] == node) or self.may_place(
            pod, node
        )

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_pods(self) -> int:
        return len(self.pods)

    def current(self) -> tuple[int | None, ...]:
        """The node index of every pod now (None: pending)."""
        return tuple(None if p.node is None else self.node_index[p.node] for p in self.pods)

    def tiers(self) -> tuple[int, ...]:
        """The distinct priorities, highest first."""
        return tuple(sorted({p.priority for p in self.pods}, reverse=True))

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"family": FAMILY, "schema_version": SCHEMA_VERSION}
        if self.name is not None:
            d["name"] = self.name
        d["units"] = {"cpu": "millicores", "memory": "bytes"}
        d["nodes"] = [n.to_dict() for n in self.nodes]
        d["pods"] = [p.to_dict() for p in self.pods]
        return d

    @classmethod
    def from_dict(cls, data: Any) -> PodpackInstance:
        f = Fields(data)
        f.get("family", None)
        f.get("schema_version", None)  # checked by core.api.check_header
        units = f.get("units", None)
        if units is not None and units != {"cpu": "millicores", "memory": "bytes"}:
            raise InvalidInputError(
                "units", 'must be {"cpu": "millicores", "memory": "bytes"} when given'
            )
        nodes = [
            Node.from_dict(n, f"nodes[{k}]") for k, n in enumerate(_list(f.get("nodes"), "nodes"))
        ]
        pods = [Pod.from_dict(p, f"pods[{k}]") for k, p in enumerate(_list(f.get("pods"), "pods"))]
        inst = cls(nodes=tuple(nodes), pods=tuple(pods), name=f.get("name", None))
        f.finish()
        return inst


@dataclass(frozen=True)
class PodpackDecision:
    """A plan: for every pod, a node or None (pending / evicted)."""

    assignment: Mapping[str, str | None]

    def __post_init__(self) -> None:
        if not isinstance(self.assignment, Mapping):
            raise InvalidInputError("assignment", "must be an object {pod: node or null}")
        for pod, node in self.assignment.items():
            if node is not None and (not isinstance(node, str) or not node):
                raise InvalidInputError(
                    f"assignment.{pod}", f"must be a node name or null, got {node!r}"
                )
        object.__setattr__(self, "assignment", MappingProxyType(dict(self.assignment)))

    @classmethod
    def from_indices(
        cls, instance: PodpackInstance, nodes: Iterable[int | None]
    ) -> PodpackDecision:
        return cls(
            {
                p.name: None if n is None else instance.nodes[n].name
                for p, n in zip(instance.pods, nodes, strict=True)
            }
        )

    def indices(self, instance: PodpackInstance) -> tuple[int | None, ...]:
        """The node index of every pod in instance order; raises naming a bad entry."""
        self.check_fits(instance)
        a = self.assignment
        return tuple(
            None if a[p.name] is None else instance.node_index[a[p.name]] for p in instance.pods
        )

    def check_fits(self, instance: PodpackInstance) -> None:
        for pod, node in self.assignment.items():
            if pod not in instance.pod_index:
                raise InvalidInputError(f"assignment.{pod}", "unknown pod")
            if node is not None and node not in instance.node_index:
                raise InvalidInputError(f"assignment.{pod}", f"unknown node {node!r}")
        for p in instance.pods:
            if p.name not in self.assignment:
                raise InvalidInputError(f"assignment.{p.name}", "missing (use null for no node)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": FAMILY,
            "schema_version": SCHEMA_VERSION,
            "assignment": dict(self.assignment),
        }

    @classmethod
    def from_dict(cls, data: Any, instance: PodpackInstance | None = None) -> PodpackDecision:
        f = Fields(data)
        f.get("family", None)
        f.get("schema_version", None)
        dec = cls(assignment=f.get("assignment"))
        f.finish()
        if instance is not None:
            dec.check_fits(instance)
        return dec
