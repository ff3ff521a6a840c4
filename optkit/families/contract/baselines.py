"""Contract baselines (spec/contract.md): what a cloud gets without the dynamic optimum.

- `first_best` (guarantee bound): complete information. Each type gets its efficient effort
  G'(e) = φ and exactly its cost, R = φ e, in every period. Not incentive compatible (a willing
  type would claim a higher cost); its value bounds every IC/IR menu from above.
- `static_repeat` (heuristic): the optimal one-period menu for the prior ν (closed_form's static
  screening solution), offered again in period 2 at every history. The continuation does not
  depend on the period-1 report, so IC1 reduces to static IC and the menu is feasible.
- `uniform` (heuristic): one pooled item for every type and period; the least willing type must
  accept, so R = φ_1 e and e is type 1's efficient effort.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.contract.closed_form import best_effort, first_best_efforts, static_menu
from optkit.families.contract.evaluate import evaluate
from optkit.families.contract.instance import ContractDecision, ContractInstance

BACKEND = "numpy"


def _repeat(inst: ContractInstance, e: np.ndarray, r: np.ndarray) -> ContractDecision:
    """The one-period menu (e, R) in period 1 and again at every period-2 history."""
    if not inst.dynamic:
        return ContractDecision(effort1=e, reward1=r)
    n = inst.n_types
    return ContractDecision(
        effort1=e, reward1=r, effort2=np.tile(e, (n, 1)), reward2=np.tile(r, (n, 1))
    )


def first_best_menu(inst: ContractInstance) -> ContractDecision:
    e = first_best_efforts(inst)
    return _repeat(inst, e, inst.phi * e)


def static_repeat_menu(inst: ContractInstance) -> ContractDecision:
    return _repeat(inst, *static_menu(inst))


def uniform_menu(inst: ContractInstance) -> ContractDecision:
    n, phi_1 = inst.n_types, inst.phi[0]
    e = best_effort(inst, np.array([phi_1]))[0]
    return _repeat(inst, np.full(n, e), np.full(n, phi_1 * e))


def _solver(menu: Callable[[ContractInstance], ContractDecision], is_bound: bool):
    def solve(
        instance: ContractInstance,
        *,
        deadline: Deadline,
        seed: int = 0,
        threads: int = 1,
        params: dict[str, Any] | None = None,
    ) -> SolverOutput:
        if params:
            raise InvalidInputError("params", f"baselines take no params, got {sorted(params)}")
        t0 = time.perf_counter()
        decision = menu(instance)
        objective = evaluate(instance, decision).objective
        return SolverOutput(
            # first best solves its relaxation exactly: OPTIMAL there, and its value is the bound
            status=Status.OPTIMAL if is_bound else Status.FEASIBLE,
            objective=objective,
            bound=objective if is_bound else None,
            decision=decision,
            flags=("relaxation_not_incentive_compatible",) if is_bound else (),
            solve_s=time.perf_counter() - t0,
            backend=BACKEND,
        )

    solve.__doc__ = f"Solver entry point for {menu.__name__.removesuffix('_menu')}."
    return solve


first_best = _solver(first_best_menu, is_bound=True)
static_repeat = _solver(static_repeat_menu, is_bound=False)
uniform = _solver(uniform_menu, is_bound=False)
