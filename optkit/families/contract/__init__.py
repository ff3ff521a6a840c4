"""Family `contract`: two-period dynamic contracts (IC/IR) for federated AI-agent construction.

See docs/contract.md and spec/contract.md. Importing this module registers the family and its
solvers by entry point; no solver backend is imported until a solver is used.
"""

from optkit.core.registry import FamilySpec, SolverSpec, register_family, register_solver
from optkit.core.status import Guarantee
from optkit.families.contract.evaluate import ContractEvaluation, evaluate
from optkit.families.contract.generate import PRESET_NAMES, generate
from optkit.families.contract.instance import (
    ContractDecision,
    ContractInstance,
    LogValuation,
    PowerValuation,
)

register_family(
    FamilySpec(
        name="contract",
        instance_type=ContractInstance,
        decision_type=ContractDecision,
        evaluate=evaluate,
        generate=generate,
        presets=PRESET_NAMES,
        default_preset="default",
        sense="max",
        default_solver="cvxpy",
        description="two-period dynamic contracts (IC/IR) for edge servers building agent modules",
        bench="optkit.families.contract.benchmark:scenarios",
    )
)
register_solver(
    SolverSpec(
        family="contract",
        name="cvxpy",
        guarantee=Guarantee.EXACT,
        entry_point="optkit.families.contract.exact_cvxpy:solve",
        description="DPP convex program (Clarabel), canonical rewards by HiGHS LP, dual bound",
    )
)
_BATCH_ENTRIES = {"fast": "fast:solve_many"}
"""Solvers that also solve a list of instances in one call (`optkit.core.api.solve_many`)."""
for _name, _guarantee, _entry, _description in (
    (
        "closed_form",
        Guarantee.EXACT_WHERE_APPLICABLE,
        "closed_form:solve",
        "static screening with ironing (any I); two types, two periods (P_HH >= P_LH)",
    ),
    (
        "fast",
        Guarantee.EXACT,
        "fast:solve",
        "batched interior point in utility coordinates, certified per instance, cvxpy fallback",
    ),
    (
        "first_best",
        Guarantee.BOUND,
        "baselines:first_best",
        "complete-information optimum: an upper bound, not incentive compatible",
    ),
    (
        "static_repeat",
        Guarantee.HEURISTIC,
        "baselines:static_repeat",
        "optimal one-period menu offered in both periods",
    ),
    ("uniform", Guarantee.HEURISTIC, "baselines:uniform", "one pooled item for every type"),
):
    register_solver(
        SolverSpec(
            family="contract",
            name=_name,
            guarantee=_guarantee,
            entry_point=f"optkit.families.contract.{_entry}",
            batch_entry_point=(
                f"optkit.families.contract.{_BATCH_ENTRIES[_name]}"
                if _name in _BATCH_ENTRIES
                else None
            ),
            description=_description,
        )
    )

__all__ = [
    "ContractDecision",
    "ContractEvaluation",
    "ContractInstance",
    "LogValuation",
    "PowerValuation",
    "evaluate",
    "generate",
]
