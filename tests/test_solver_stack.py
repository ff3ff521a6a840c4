"""The pinned solver triple works in ONE process, whichever of ortools/highspy loads first.

ortools and highspy each ship a libhighs.so.1; with mismatched HiGHS versions the second to load
fails to import (spec/architecture.md, "Dependencies"). Each order runs in a fresh interpreter
(this test session has long imported everything) and solves one tiny model with each backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

IMPORTS = {
    "ortools": "from ortools.sat.python import cp_model",
    "highspy": "import highspy",
    "cvxpy": "import cvxpy as cp",
}

SOLVES = textwrap.dedent("""
    import json
    from importlib import metadata
    import ortools

    # CP-SAT: max 2x + y, x + y <= 3, x, y in 0..3 -> x = 3, y = 0, value 6 (x is worth more).
    m = cp_model.CpModel()
    x, y = m.NewIntVar(0, 3, "x"), m.NewIntVar(0, 3, "y")
    m.Add(x + y <= 3)
    m.Maximize(2 * x + y)
    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    st = s.Solve(m)
    cpsat = {"optimal": st == cp_model.OPTIMAL, "value": s.ObjectiveValue(),
             "bound": s.BestObjectiveBound(), "x": s.Value(x), "y": s.Value(y)}

    # HiGHS LP: max x + y, x + 2y <= 4, 3x + y <= 6, x, y >= 0 -> vertex (1.6, 1.2), value 2.8.
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    a, b = h.addVariable(lb=0), h.addVariable(lb=0)
    h.addConstr(a + 2 * b <= 4)
    h.addConstr(3 * a + b <= 6)
    h.maximize(a + b)
    highs = {"optimal": h.getModelStatus() == highspy.HighsModelStatus.kOptimal,
             "value": h.getInfo().objective_function_value,
             "x": list(h.getSolution().col_value)}

    # Clarabel exponential cone: max log(z) - z -> z = 1, value -1 (derivative 1/z - 1 = 0).
    z = cp.Variable(pos=True)
    prob = cp.Problem(cp.Maximize(cp.log(z) - z))
    prob.solve(solver=cp.CLARABEL)
    clarabel = {"status": prob.status, "value": prob.value, "z": float(z.value)}

    print(json.dumps({
        "cpsat": cpsat, "highs": highs, "clarabel": clarabel,
        "versions": {"ortools": ortools.__version__, "highspy": metadata.version("highspy"),
                     "cvxpy": cp.__version__},
    }))
""")


@pytest.mark.parametrize(
    "order",
    [("ortools", "highspy", "cvxpy"), ("highspy", "cvxpy", "ortools")],
    ids=["ortools-first", "highspy-first"],
)
def test_solver_triple_in_one_process(order):
    code = "\n".join(IMPORTS[name] for name in order) + "\n" + SOLVES
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["versions"]["ortools"] == "9.14.6206"
    assert out["versions"]["highspy"] == "1.11.0"
    assert out["versions"]["cvxpy"].startswith("1.8.")

    cpsat = out["cpsat"]
    assert cpsat["optimal"]
    assert (cpsat["value"], cpsat["bound"], cpsat["x"], cpsat["y"]) == (6, 6, 3, 0)

    highs = out["highs"]
    assert highs["optimal"]
    assert highs["value"] == pytest.approx(2.8, abs=1e-9)
    assert highs["x"] == pytest.approx([1.6, 1.2], abs=1e-9)

    clarabel = out["clarabel"]
    assert clarabel["status"] == "optimal"
    assert clarabel["value"] == pytest.approx(-1.0, abs=1e-6)
    assert clarabel["z"] == pytest.approx(1.0, abs=1e-3)
