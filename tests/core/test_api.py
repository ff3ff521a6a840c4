"""The public API: solve re-scores every answer, a backend crash is a result, versions print."""

from __future__ import annotations

import sys
from importlib import metadata

import numpy as np
import pytest

import optkit
from optkit.core import registry
from optkit.core.errors import InvalidInputError, UnknownNameError
from optkit.core.registry import SolverSpec
from optkit.core.status import Guarantee, Status
from optkit.core.tolerances import EXACT_FEASIBILITY, OBJECTIVE_MISMATCH_REL

# Throwaway solver modules: one crashes inside the backend, one reports a wrong objective for
# the all-zero menu (which is feasible with profit exactly 0: nobody works, nobody is paid).
SOLVER_MODULES = {
    "okt_exploding_solver": (
        "def solve(instance, **kwargs):\n    raise RuntimeError('backend exploded')\n"
    ),
    "okt_lying_solver": (
        "import numpy as np\n"
        "from optkit.core.result import SolverOutput\n"
        "from optkit.core.status import Status\n"
        "from optkit.families.contract import ContractDecision\n"
        "def solve(instance, **kwargs):\n"
        "    n = instance.n_types\n"
        "    z1, z2 = np.zeros(n), np.zeros((n, n))\n"
        "    dec = ContractDecision(effort1=z1, reward1=z1, effort2=z2, reward2=z2)\n"
        "    return SolverOutput(Status.FEASIBLE, objective=123.0, decision=dec)\n"
    ),
}


@pytest.fixture
def temp_solvers(tmp_path, monkeypatch, isolated_registry):
    """Register the throwaway solvers on `contract` for one test; registry and sys.modules are
    restored afterwards."""
    for mod, text in SOLVER_MODULES.items():
        (tmp_path / f"{mod}.py").write_text(text)
        registry.register_solver(
            SolverSpec(
                family="contract",
                name=mod.removeprefix("okt_").removesuffix("_solver"),
                guarantee=Guarantee.HEURISTIC,
                entry_point=f"{mod}:solve",
            )
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for mod in SOLVER_MODULES:
        sys.modules.pop(mod, None)


@pytest.fixture(scope="module")
def solved():
    """One generated default instance and its cvxpy result, shared by the re-scoring tests."""
    inst = optkit.generate("contract", seed=3)
    return inst, optkit.solve(inst)


def test_solve_rescores_with_evaluate(solved):
    """evaluation.objective is evaluate()'s own number, not the solver's, and they agree."""
    inst, res = solved
    assert res.status is Status.OPTIMAL
    report = optkit.evaluate(inst, res.decision)
    assert res.evaluation.objective == report.objective
    assert res.evaluation.max_violation == report.max_violation
    assert res.evaluation.max_violation <= EXACT_FEASIBILITY
    assert not res.evaluation.objective_mismatch
    assert "objective_mismatch" not in res.flags
    assert abs(res.objective - report.objective) <= OBJECTIVE_MISMATCH_REL * abs(report.objective)


def test_solve_records_arguments_and_timing(solved):
    """Seed, threads and the time limit are part of the result (reproducibility)."""
    _, res = solved
    assert (res.seed, res.threads, res.params["time_limit_s"]) == (0, 1, None)
    assert res.solver.name == "cvxpy" and res.solver.guarantee is Guarantee.EXACT
    assert res.timing.build_s + res.timing.solve_s <= res.timing.wall_s


def test_backend_crash_becomes_status_error(temp_solvers):
    """A RuntimeError inside a backend is a result with its message, not a dead batch."""
    inst = optkit.generate("contract", seed=1)
    res = optkit.solve(inst, solver="exploding")
    assert res.status is Status.ERROR
    assert res.message == "RuntimeError: backend exploded"
    assert not res.has_decision and res.evaluation is None
    assert res.to_dict()["status"] == "error"


def test_wrong_solver_objective_is_flagged(temp_solvers):
    """The solver claims 123 for the all-zero menu; evaluate() says 0 and the result says so."""
    inst = optkit.generate("contract", seed=1)
    res = optkit.solve(inst, solver="lying")
    assert res.objective == 123.0
    assert res.evaluation.objective == 0.0
    assert res.evaluation.objective_mismatch
    assert "objective_mismatch" in res.flags


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"threads": 0}, "threads"),
        ({"threads": True}, "threads"),
        ({"time_limit_s": -1.0}, "time_limit_s"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
    ids=["threads-0", "threads-bool", "negative-time", "negative-seed", "float-seed"],
)
def test_solve_refuses_bad_arguments(kwargs, field):
    """Bad Python arguments raise InvalidInputError naming the argument (never status error)."""
    inst = optkit.generate("contract", seed=1)
    with pytest.raises(InvalidInputError) as info:
        optkit.solve(inst, **kwargs)
    assert info.value.field == field


def test_solve_unknown_solver_lists_valid():
    inst = optkit.generate("contract", seed=1)
    with pytest.raises(UnknownNameError, match="valid: closed_form, cvxpy"):
        optkit.solve(inst, solver="gurobi")


def test_generate_is_seeded_and_refuses_unknown_preset():
    """Same seed, same instance; an unknown preset lists the valid ones."""
    a = optkit.generate("contract", seed=11)
    b = optkit.generate("contract", preset="default", seed=11)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != optkit.generate("contract", seed=12).to_dict()
    with pytest.raises(UnknownNameError) as info:
        optkit.generate("contract", preset="huge")
    assert "default" in str(info.value) and "static" in str(info.value)


def test_load_reads_the_spec_example(contract_file, contract_dict):
    """The spec's example JSON loads and writes back unchanged (up to renormalisation: the row
    0.7 + 0.2 + 0.1 sums to 1 - 1e-16 in floating point and is rescaled by an ulp)."""
    inst = optkit.load(contract_file)
    back = inst.to_dict()
    np.testing.assert_allclose(back.pop("transition"), contract_dict.pop("transition"), atol=1e-15)
    assert back == contract_dict
    assert np.all(np.diff(inst.phi) < 0)  # φ = c/θ decreasing: type 1 least willing


def test_show_versions_lists_solver_backends(capsys):
    """The three pinned backends appear with the versions pip installed."""
    optkit.show_versions()
    lines = {
        name.strip(): ver.strip()
        for name, ver in (line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    }
    for pkg in ("cvxpy", "ortools", "highspy", "optkit"):
        assert lines[pkg] == metadata.version(pkg)


def test_vector_objective_mismatch_is_flagged():
    from optkit.core.api import _objectives_differ

    assert not _objectives_differ([3, -1, 2], [3.0, -1.0, 2.0])
    assert _objectives_differ([3, -1, 2], [3, -2, 2])
    assert _objectives_differ([3, -1], [3, -1, 0])
    assert _objectives_differ(1.0, [1.0])


# ------------------------------------------------------------------------------ solve_many
def test_solve_many_of_nothing_is_nothing_and_one_family_only():
    from optkit import solve_many  # exported next to solve

    assert solve_many([], solver="fast") == []
    mixed = [optkit.generate("contract", seed=0), optkit.generate("knapsack", seed=0)]
    with pytest.raises(InvalidInputError) as info:
        solve_many(mixed)
    assert info.value.field == "instances" and "knapsack" in str(info.value)


def test_solve_many_refuses_bad_arguments_like_solve():
    from optkit.core.api import solve_many

    insts = [optkit.generate("contract", seed=s) for s in range(2)]
    with pytest.raises(InvalidInputError, match="time_limit_s"):
        solve_many(insts, solver="fast", time_limit_s=-1)
    with pytest.raises(InvalidInputError, match="params"):  # the batch entry point's own check
        solve_many(insts, solver="fast", params={"nope": 1})


def test_solver_spec_refuses_a_batch_entry_point_that_is_not_module_function():
    with pytest.raises(ValueError, match="batch_entry_point must be 'module:function'"):
        SolverSpec(
            family="contract",
            name="x",
            guarantee=Guarantee.HEURISTIC,
            entry_point="m:f",
            batch_entry_point="m.f",
        )
