"""Family `knapsack`: budgeted composition of agentic components (Yuan et al., arXiv 2510.16499).

See docs/knapsack.md and spec/knapsack.md. Importing this module registers the family and its
solvers by entry point; no solver backend (OR-Tools, highspy, Pyomo) is imported until used.
"""

from optkit.core.registry import FamilySpec, SolverSpec, register_family, register_solver
from optkit.core.status import Guarantee
from optkit.families.knapsack.evaluate import KnapsackEvaluation, evaluate
from optkit.families.knapsack.generate import PRESET_NAMES, generate
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance

register_family(
    FamilySpec(
        name="knapsack",
        instance_type=KnapsackInstance,
        decision_type=KnapsackDecision,
        evaluate=evaluate,
        generate=generate,
        presets=PRESET_NAMES,
        default_preset="single_agent",
        sense="max",
        default_solver="highs",
        description="budgeted composition of agentic components (coverage knapsack, online ZCL)",
        export="optkit.families.knapsack.export:export",
        bench="optkit.families.knapsack.benchmark:scenarios",
    )
)

_SOLVERS = (
    ("cpsat", Guarantee.EXACT, "exact_cpsat:solve", "CP-SAT on the integer-scaled MIP, re-scored"),
    ("highs", Guarantee.EXACT, "exact_highs:solve", "HiGHS MIP via highspy, mip_rel_gap = 0"),
    ("pyomo", Guarantee.EXACT, "exact_pyomo:solve", "the same MIP through Pyomo (appsi_highs)"),
    (
        "dp",
        Guarantee.EXACT_WHERE_APPLICABLE,
        "exact_dp:solve",
        "0-1 knapsack DP when the value is additive (no shared skill, no conflict/requirement)",
    ),
    ("brute_force", Guarantee.EXACT, "brute_force:solve", "enumerates every subset (n <= 20)"),
    (
        "zcl",
        Guarantee.ONLINE,
        "online:solve_zcl",
        "online ZCL threshold on tested marginal density",
    ),
    (
        "greedy_density",
        Guarantee.ONLINE,
        "online:solve_greedy_density",
        "test every component, then greedy by estimated marginal gain per price",
    ),
    (
        "retrieval_topk",
        Guarantee.ONLINE,
        "online:solve_retrieval_topk",
        "take components in description-score order while they fit (no tests)",
    ),
    ("identity", Guarantee.ONLINE, "online:solve_identity", "take what fits in inventory order"),
)
for _name, _guarantee, _entry, _description in _SOLVERS:
    register_solver(
        SolverSpec(
            family="knapsack",
            name=_name,
            guarantee=_guarantee,
            entry_point=f"optkit.families.knapsack.{_entry}",
            description=_description,
        )
    )

__all__ = [
    "KnapsackDecision",
    "KnapsackEvaluation",
    "KnapsackInstance",
    "evaluate",
    "generate",
]
