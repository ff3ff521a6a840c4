"""Family `online_alloc`: online allocation with resource budgets (dual mirror descent).

Balseiro, Lu, Mirrokni, "The Best of Many Worlds: Dual Mirror Descent for Online Allocation
Problems". See docs/online_alloc.md and spec/online_alloc.md. Importing this module registers the
family and its solvers by entry point; HiGHS is imported only when an oracle runs.
"""

from optkit.core.registry import FamilySpec, SolverSpec, register_family, register_solver
from optkit.core.status import Guarantee
from optkit.families.online_alloc.evaluate import OnlineAllocEvaluation, evaluate
from optkit.families.online_alloc.generate import PRESET_NAMES, generate
from optkit.families.online_alloc.instance import OnlineAllocDecision, OnlineAllocInstance
from optkit.families.online_alloc.storage import from_file, save

FAMILY = "online_alloc"
_PKG = "optkit.families.online_alloc"

register_family(
    FamilySpec(
        name=FAMILY,
        instance_type=OnlineAllocInstance,
        decision_type=OnlineAllocDecision,
        evaluate=evaluate,
        generate=generate,
        presets=PRESET_NAMES,
        default_preset="nrm",
        sense="max",
        default_solver="dual_bound",
        description="online allocation with budgets: dual mirror descent vs the hindsight LP",
        from_file=from_file,
        export=f"{_PKG}.export:export",
        bench=f"{_PKG}.benchmark:scenarios",
    )
)

_SOLVERS = (
    (
        "dual_bound",
        Guarantee.BOUND,
        "dual_bound:solve",
        "hindsight LP value by its dual (restricted master), certified primal/dual gap <= 1e-6",
    ),
    (
        "hindsight_lp",
        Guarantee.BOUND,
        "exact_highs:hindsight_lp",
        "hindsight LP relaxation with HiGHS dual simplex: an upper bound on any policy",
    ),
    (
        "hindsight_mip",
        Guarantee.EXACT,
        "exact_highs:hindsight_mip",
        "integral hindsight optimum with HiGHS branch and bound (small T)",
    ),
    (
        "hindsight_cvxpy",
        Guarantee.EXACT_WHERE_APPLICABLE,
        "exact_cvxpy:hindsight_cvxpy",
        "matching variant: entropic hindsight optimum (CVXPY, Clarabel), smooth-dual bound",
    ),
    (
        "dmd",
        Guarantee.ONLINE,
        "policies:solve_dmd",
        "dual mirror descent; params: reference (euclidean|scaled_euclidean|entropy), c, mu0",
    ),
    ("greedy", Guarantee.ONLINE, "policies:solve_greedy", "best positive reward while affordable"),
    (
        "fixed_dual",
        Guarantee.ONLINE,
        "policies:solve_fixed_dual",
        "fixed bid prices fitted on an independent training stream (or params.mu)",
    ),
    (
        "resolve",
        Guarantee.ONLINE,
        "policies:solve_resolve",
        "re-solve the LP on a bootstrap forecast of the rest; params: every, sample",
    ),
)
for _name, _guarantee, _entry, _description in _SOLVERS:
    register_solver(
        SolverSpec(
            family=FAMILY,
            name=_name,
            guarantee=_guarantee,
            entry_point=f"{_PKG}.{_entry}",
            description=_description,
        )
    )

__all__ = [
    "OnlineAllocDecision",
    "OnlineAllocEvaluation",
    "OnlineAllocInstance",
    "evaluate",
    "from_file",
    "generate",
    "save",
]
