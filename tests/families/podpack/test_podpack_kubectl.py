"""`optkit podpack import`: the kubectl fixture gives the documented instance; bad input exits 2
naming the object and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from optkit.core.errors import InvalidInputError
from optkit.families.podpack.kubectl import import_kubectl

DUMP = json.loads((Path(__file__).parent / "data" / "kubectl-dump.json").read_text())
MIB, GIB = 2**20, 2**30

# The documented instance of data/kubectl-dump.json (docs/podpack.md, "Import"), pods in
# creationTimestamp order (PrioritySort's tie-break), file order on equal stamps.
EXPECTED_NODES = [
    # allocatable 3920m; 15105036Ki = 15105036 * 1024 bytes; zone label kept
    {"name": "worker-a", "cpu": 3920, "memory": 15105036 * 1024, "zone": "eu-west-1a"},
    # "1.93" cpu -> 1930m, "7.5Gi" -> 7.5 * 2^30; spec.unschedulable: cordoned
    {
        "name": "worker-b",
        "cpu": 1930,
        "memory": 8053063680,
        "schedulable": False,
        "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
    },
    {
        "name": "gpu-c",
        "cpu": 7910,
        "memory": 31 * GIB,
        "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule", "value": "present"}],
    },
]
EXPECTED_PODS = [
    # mirror pod of a static pod (owner kind Node, config.mirror annotation): protected
    {
        "name": "kube-system/etcd-worker-a",
        "cpu": 100,
        "memory": 100 * MIB,
        "priority": 2000001000,
        "node": "worker-a",
        "protected": True,
        "owner": None,
    },
    # DaemonSet pod: protected; no memory request: consumes 0, scored as 200 MiB
    {
        "name": "kube-system/kube-proxy-8fj2k",
        "cpu": 100,
        "memory": 0,
        "priority": 2000001000,
        "node": "worker-a",
        "protected": True,
        "owner": None,
        "tolerations": [{"operator": "Exists"}],
        "score_memory": 200 * MIB,
    },
    # bare pod on the cordoned node: "0.5" cpu -> 500m, "1.5" bytes -> 2 (Value rounds up)
    {
        "name": "default/debug-shell",
        "cpu": 500,
        "memory": 2,
        "priority": 0,
        "node": "worker-b",
        "protected": False,
        "owner": None,
        "bare": True,
    },
    # init migrate (1 cpu, 1Gi) runs before the envoy sidecar (100m, 64Mi); app 500m / 512Mi.
    # max(app + sidecar = 600m / 576Mi, migrate = 1000m / 1024Mi) + overhead 250m / 120Mi
    # = 1250m / 1144Mi
    {
        "name": "shop/web-7d9f8c-x2x9z",
        "cpu": 1250,
        "memory": 1144 * MIB,
        "priority": 1000,
        "node": "worker-a",
        "protected": False,
        "owner": "shop/web-7d9f8c",
    },
    # pending replica; nodeSelector disktype=ssd: worker-a and gpu-c
    {
        "name": "shop/web-7d9f8c-kq4lm",
        "cpu": 500,
        "memory": 512 * MIB,
        "priority": 1000,
        "node": None,
        "protected": False,
        "owner": "shop/web-7d9f8c",
        "eligible_nodes": ["worker-a", "gpu-c"],
    },
    # BestEffort Job pod, two containers: consumes nothing, scored as 2 x (100m, 200 MiB)
    {
        "name": "batch/report-28712",
        "cpu": 0,
        "memory": 0,
        "priority": 0,
        "node": None,
        "protected": False,
        "owner": None,
        "score_cpu": 200,
        "score_memory": 400 * MIB,
    },
    # StatefulSet pod, required node affinity accelerator In [...]: gpu-c only, tolerates its taint
    {
        "name": "ml/train-0",
        "cpu": 2000,
        "memory": 8 * GIB,
        "priority": 500,
        "node": None,
        "protected": False,
        "owner": "ml/train",
        "eligible_nodes": ["gpu-c"],
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    },
]


def test_dump_gives_the_documented_instance():
    result = import_kubectl(copy.deepcopy(DUMP), name="kubectl-dump")
    data = result.instance.to_dict()
    assert data["nodes"] == EXPECTED_NODES
    assert data["pods"] == EXPECTED_PODS
    assert result.skipped == {"batch/nightly-28711": "phase Succeeded"}
    assert result.flags == {
        "ml/train-0": [
            "resource nvidia.com/gpu not modelled (container train)",
            "hostPort 6006 not modelled (NodePorts filter)",
        ]
    }


def test_imported_eligibility():
    """web-kq4lm may go to worker-a only (gpu-c's taint is not tolerated, worker-b is outside
    its selector and cordoned); train-0 to gpu-c only; kube-proxy tolerates everything,
    including the cordon."""
    inst = import_kubectl(copy.deepcopy(DUMP)).instance
    allowed = {
        p.name: [n.name for j, n in enumerate(inst.nodes) if inst.may_place(k, j)]
        for k, p in enumerate(inst.pods)
    }
    assert allowed["shop/web-7d9f8c-kq4lm"] == ["worker-a"]
    assert allowed["ml/train-0"] == ["gpu-c"]
    assert allowed["kube-system/kube-proxy-8fj2k"] == ["worker-a", "worker-b", "gpu-c"]
    assert allowed["batch/report-28712"] == ["worker-a"]


def item(data, name):
    return next(i for i in data["items"] if i["metadata"]["name"] == name)


def web(d):
    return item(d, "web-7d9f8c-x2x9z")


BAD = [
    (
        "unknown-node",
        lambda d: web(d)["spec"].update(nodeName="worker-z"),
        "items[3].spec.nodeName",
        "unknown node 'worker-z'",
    ),
    (
        "negative",
        lambda d: web(d)["spec"]["containers"][0]["resources"]["requests"].update(cpu="-1"),
        "items[3].spec.containers[0].resources.requests.cpu",
        "must be >= 0",
    ),
    (
        "unparsable",
        lambda d: web(d)["spec"]["containers"][0]["resources"]["requests"].update(memory="12 GB"),
        "items[3].spec.containers[0].resources.requests.memory",
        "unparsable quantity",
    ),
    (
        "bad-overhead",
        lambda d: web(d)["spec"]["overhead"].update(cpu="1x"),
        "items[3].spec.overhead.cpu",
        "unknown suffix",
    ),
    (
        "node-quantity",
        lambda d: item(d, "gpu-c")["status"]["allocatable"].update(memory="-31Gi"),
        "items[2].status.allocatable.memory",
        "must be >= 0",
    ),
    (
        "duplicate-pod",
        lambda d: d["items"].append(copy.deepcopy(web(d))),
        "items[11].metadata.name",
        "duplicate pod 'shop/web-7d9f8c-x2x9z'",
    ),
    (
        "duplicate-node",
        lambda d: d["items"].append(copy.deepcopy(item(d, "gpu-c"))),
        "items[11].metadata.name",
        "duplicate node 'gpu-c'",
    ),
    (
        "item-kind",
        lambda d: d["items"].append({"kind": "Service", "metadata": {"name": "s"}}),
        "items[11].kind",
        "unsupported kind 'Service'",
    ),
    ("document-kind", lambda d: d.update(kind="PodList"), "kind", "must be List"),
]


@pytest.mark.parametrize("name, mutate, field, problem", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_object_and_field(name, mutate, field, problem):
    data = copy.deepcopy(DUMP)
    mutate(data)
    with pytest.raises(InvalidInputError) as info:
        import_kubectl(data)
    assert info.value.field == field and problem in info.value.problem


@pytest.mark.parametrize("name, mutate, field, problem", BAD[:3], ids=[b[0] for b in BAD[:3]])
def test_cli_bad_input_exits_2_with_one_line(run_cli, tmp_path, name, mutate, field, problem):
    data = copy.deepcopy(DUMP)
    mutate(data)
    src = tmp_path / "dump.json"
    src.write_text(json.dumps(data))
    r = run_cli("podpack", "import", src, "--out", tmp_path / "inst.json")
    assert r.code == 2 and len(r.err_lines) == 1
    assert r.err_lines[0].startswith(f"error: {src}: {field}: ") and problem in r.err_lines[0]
    assert "shop/web-7d9f8c-x2x9z" in r.err_lines[0]  # the object, by name
    assert not (tmp_path / "inst.json").exists()


def test_wrong_document_kind_on_cli(run_cli, tmp_path):
    src = tmp_path / "pod.json"
    src.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}))
    r = run_cli("podpack", "import", src, "--out", tmp_path / "inst.json")
    assert r.code == 2 and "kind: must be List" in r.err and "'Pod'" in r.err


def pod_item(name, created=None, **spec):
    meta = {"name": name, "namespace": "t"}
    if created:
        meta["creationTimestamp"] = created
    return {"kind": "Pod", "metadata": meta, "spec": {"containers": [], **spec}}


def minimal(*pods):
    node = {
        "kind": "Node",
        "metadata": {"name": "n"},
        "status": {"allocatable": {"cpu": "8", "memory": "32Gi"}},
    }
    return {"kind": "List", "items": [node, *pods]}


def test_creation_order_compares_instants():
    """10:00+02:00 is 08:00Z, before 09:00Z; a pod without a stamp goes last."""
    inst = import_kubectl(
        minimal(
            pod_item("none"),
            pod_item("nine", "2026-01-01T09:00:00Z"),
            pod_item("eight", "2026-01-01T10:00:00+02:00"),
        )
    ).instance
    assert [p.name for p in inst.pods] == ["t/eight", "t/nine", "t/none"]


def test_sidecar_before_plain_init_and_limit_defaulting():
    """initContainers: sidecar (200m, restartPolicy Always) then a plain init asking 1 cpu: the
    init runs beside the sidecar, needing 1200m; app 500m + sidecar 200m = 700m; pod: 1200m.
    Memory: the app has only a limit of 1Gi, so its request is 1Gi (API defaulting); the
    sidecar asks nothing (scored 200 MiB); the init asks nothing: max(1Gi, 0) = 1Gi."""
    spec = {
        "initContainers": [
            {
                "name": "proxy",
                "restartPolicy": "Always",
                "resources": {"requests": {"cpu": "200m"}},
            },
            {"name": "init", "resources": {"requests": {"cpu": "1"}}},
        ],
        "containers": [
            {"name": "app", "resources": {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}}
        ],
    }
    pod = import_kubectl(minimal(pod_item("p", **spec))).instance.pods[0]
    assert (pod.cpu, pod.memory) == (1200, GIB)
    # scored: app 1Gi + sidecar 200 MiB; init (non-zero 200 MiB) + sidecar 200 MiB = 400 MiB
    assert (pod.score_cpu, pod.score_memory) == (1200, GIB + 200 * MIB)
