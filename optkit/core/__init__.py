"""optkit.core: types and plumbing shared by every family. Imports nothing else of optkit."""

from optkit.core.errors import (
    InvalidInputError,
    MissingExtraError,
    NoDecisionError,
    OptkitError,
    UnknownNameError,
)
from optkit.core.result import Evaluation, SolveResult, SolverInfo, SolverOutput, Timing
from optkit.core.status import Guarantee, Status

__all__ = [
    "Evaluation",
    "Guarantee",
    "InvalidInputError",
    "MissingExtraError",
    "NoDecisionError",
    "OptkitError",
    "SolveResult",
    "SolverInfo",
    "SolverOutput",
    "Status",
    "Timing",
    "UnknownNameError",
]
