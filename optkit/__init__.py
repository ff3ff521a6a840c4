"""optkit: solver-backed optimisation for edge/cloud AI-agent resource allocation.

import optkit
inst = optkit.generate("contract", preset="default", seed=0)
res = optkit.solve(inst)            # the family's default exact solver
res.status, res.objective, res.bound, res.gap
many = optkit.solve_many(insts, solver="fast")   # one batched call where the solver has one
"""

from importlib import metadata as _metadata

from optkit import families  # registers the families; `optkit.families()` lists them
from optkit.core.api import evaluate, export, generate, load, load_decision, solve, solve_many
from optkit.core.errors import InvalidInputError, NoDecisionError, OptkitError
from optkit.core.registry import solver_specs as solvers
from optkit.core.result import SolveResult
from optkit.core.status import Guarantee, Status
from optkit.core.versions import show_versions
from optkit.learn import registry as _learned  # noqa: F401  (learned solvers, by entry point)

try:
    __version__ = _metadata.version("optkit")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "Guarantee",
    "InvalidInputError",
    "NoDecisionError",
    "OptkitError",
    "SolveResult",
    "Status",
    "__version__",
    "evaluate",
    "export",
    "families",
    "generate",
    "load",
    "load_decision",
    "show_versions",
    "solve",
    "solve_many",
    "solvers",
]
