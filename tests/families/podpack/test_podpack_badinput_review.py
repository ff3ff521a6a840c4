"""Bad input the adversarial review found getting past the podpack constructors
(tasks/review_badinput.md): Python callers got garbage accepted or an AttributeError later."""

from __future__ import annotations

import pytest

from optkit.core.errors import InvalidInputError
from optkit.families.podpack.instance import Node, Pod, PodpackInstance, Taint, Toleration


def test_taints_as_a_string_is_refused():
    """tuple("abc") used to give the node the taints ('a', 'b', 'c')."""
    with pytest.raises(InvalidInputError, match="taints: must be a list of Taint objects"):
        Node("n", 1000, 2**30, taints="abc")


def test_taint_as_a_dict_is_refused_at_construction():
    """Used to be accepted, then raise AttributeError inside the scheduler's filter."""
    with pytest.raises(InvalidInputError, match=r"taints\[0\]: must be a Taint, got dict"):
        Node("n", 1000, 2**30, taints=({"key": "k", "effect": "NoSchedule"},))


def test_toleration_as_a_dict_is_refused():
    """Used to be accepted and silently tolerate nothing."""
    with pytest.raises(InvalidInputError, match=r"tolerations\[0\]: must be a Toleration"):
        Pod("p", 100, 2**20, tolerations=({"key": "k", "operator": "Exists"},))


def test_eligible_nodes_as_a_string_is_refused():
    """eligible_nodes="node-1" used to become the nodes 'n', 'o', 'd', 'e', '-', '1'."""
    with pytest.raises(InvalidInputError, match="eligible_nodes: must be a list of node names"):
        Pod("p", 100, 2**20, eligible_nodes="node-1")


def test_nodes_none_is_refused():
    """Used to raise TypeError: 'NoneType' object is not iterable."""
    with pytest.raises(InvalidInputError, match="nodes: must be a list"):
        PodpackInstance(nodes=None, pods=())


def test_typed_objects_still_work():
    node = Node("n", 1000, 2**30, taints=[Taint("k", "NoSchedule")])
    pod = Pod("p", 100, 2**20, tolerations=[Toleration(key="k", operator="Exists")])
    inst = PodpackInstance(nodes=[node], pods=[pod])
    assert inst.may_place(0, 0)
