"""Registers the learned solvers by entry point, so listing solvers never imports torch.

Imported by `optkit/__init__.py` after the families. Families may not import learn, but an entry
point is only a string: the solver's module (and torch) loads when the solver is first used, and
without the `learn` extra that use fails with the install hint (core's MissingExtraError).
"""

from optkit.core.registry import SolverSpec, register_solver
from optkit.core.status import Guarantee

LEARNED_SOLVERS = (
    (
        "contract",
        "edmsac",
        "optkit.learn.policy:solve_edmsac",
        "EDMSAC policy (models/contract-edmsac-v1.pt: pruned diffusion actor + its critic's step; "
        "projected map: feasible by construction)",
    ),
)

for _family, _name, _entry, _description in LEARNED_SOLVERS:
    register_solver(
        SolverSpec(
            family=_family,
            name=_name,
            guarantee=Guarantee.LEARNED,
            entry_point=_entry,
            description=_description,
            extra="learn",
        )
    )
