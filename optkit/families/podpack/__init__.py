"""Family `podpack`: priority-aware pod packing for Kubernetes clusters (Christensen, Giallorenzo,
Mauro, arXiv 2511.08373). See docs/podpack.md and spec/podpack.md.

Importing this module registers the family and its solvers by entry point. The objective is the
lexicographic vector of evaluate.py (sense "lexmax").
"""

from optkit.core.registry import FamilySpec, SolverSpec, register_family, register_solver
from optkit.core.status import Guarantee
from optkit.families.podpack.evaluate import PodpackEvaluation, evaluate
from optkit.families.podpack.generate import DEFAULT_PRESET, PRESET_NAMES, generate
from optkit.families.podpack.instance import Node, Pod, PodpackDecision, PodpackInstance

register_family(
    FamilySpec(
        name="podpack",
        instance_type=PodpackInstance,
        decision_type=PodpackDecision,
        evaluate=evaluate,
        generate=generate,
        presets=PRESET_NAMES,
        default_preset=DEFAULT_PRESET,
        sense="lexmax",
        default_solver="kube_default",
        description="priority-aware pod packing on Kubernetes nodes (placements, moves, evictions)",
        export="optkit.families.podpack.export:export",
        bench="optkit.families.podpack.benchmark:scenarios",
    )
)
register_solver(
    SolverSpec(
        family="podpack",
        name="kube_default",
        guarantee=Guarantee.HEURISTIC,
        entry_point="optkit.families.podpack.heuristics:solve_default",
        description="kube-scheduler v1.32 default profile (LeastAllocated), optional preemption",
    )
)
register_solver(
    SolverSpec(
        family="podpack",
        name="kube_mostallocated",
        guarantee=Guarantee.HEURISTIC,
        entry_point="optkit.families.podpack.heuristics:solve_mostallocated",
        description="kube-scheduler v1.32 with the MostAllocated (bin-packing) score",
    )
)

register_solver(
    SolverSpec(
        family="podpack",
        name="cpsat",
        guarantee=Guarantee.EXACT,
        entry_point="optkit.families.podpack.exact_cpsat:solve",
        description="tiered lexicographic model, OR-Tools CP-SAT, from the current state",
    )
)
register_solver(
    SolverSpec(
        family="podpack",
        name="cpsat_fallback",
        guarantee=Guarantee.HEURISTIC,
        entry_point="optkit.families.podpack.fallback:solve",
        description="the paper's plug-in: kube_default, then cpsat from its plan if pods pend",
    )
)
register_solver(
    SolverSpec(
        family="podpack",
        name="mip",
        guarantee=Guarantee.EXACT,
        entry_point="optkit.families.podpack.exact_mip:solve",
        description="the tiered model as a Pyomo/HiGHS MIP (small instances; cross-check)",
    )
)

__all__ = [
    "Node",
    "Pod",
    "PodpackDecision",
    "PodpackEvaluation",
    "PodpackInstance",
    "evaluate",
    "generate",
]
