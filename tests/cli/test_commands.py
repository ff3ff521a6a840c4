"""The `optkit` commands on good input: versions, families, generate, solve, check."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

import optkit
from optkit.core.tolerances import EXACT_FEASIBILITY


def test_version_flag(run_cli):
    r = run_cli("--version")
    assert r.code == 0
    assert r.out.strip() == f"optkit {optkit.__version__}"


def test_versions_lists_every_backend(run_cli):
    """The three pinned solvers appear with the versions installed."""
    r = run_cli("versions")
    assert r.code == 0
    lines = dict(line.split(":", 1) for line in r.out.splitlines())
    lines = {k.strip(): v.strip() for k, v in lines.items()}
    for pkg in ("optkit", "cvxpy", "ortools", "highspy"):
        assert lines[pkg] == metadata.version(pkg)


def test_families_table(run_cli):
    r = run_cli("families")
    assert r.code == 0
    assert "contract" in r.out
    assert "cvxpy (default)" in r.out
    assert "exact" in r.out
    assert "contract presets: default, static" in r.out


def test_families_json(run_cli):
    """--format json: one JSON document, one row per (family, solver), guarantees lower case."""
    r = run_cli("families", "--format", "json")
    assert r.code == 0
    rows = json.loads(r.out)
    cvx = next(row for row in rows if (row["family"], row["solver"]) == ("contract", "cvxpy"))
    assert cvx["guarantee"] == "exact"
    assert cvx["default"] is True
    assert "default" in cvx["presets"]


# -- generate ---------------------------------------------------------------------------------
def generate(run_cli, out_dir, *extra):
    return run_cli("generate", "contract", "--n", 3, "--seed", 7, "--out", out_dir, *extra)


def test_generate_writes_n_seeded_files(run_cli, tmp_path):
    """Instance k uses seed + k; each file is a loadable instance named after its file."""
    r = generate(run_cli, tmp_path / "a")
    assert r.code == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [f"contract-default-s{s}.json" for s in (7, 8, 9)]
    inst = optkit.load(tmp_path / "a" / names[0])
    assert inst.name == "contract-default-s7"
    fresh = optkit.generate("contract", seed=7)
    assert inst.to_dict()["willingness"] == fresh.to_dict()["willingness"]


def test_generate_is_reproducible_byte_for_byte(run_cli, tmp_path):
    """The same seed writes the same bytes (ground-truth data sets depend on it)."""
    assert generate(run_cli, tmp_path / "a").code == 0
    assert generate(run_cli, tmp_path / "b").code == 0
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes()


def test_generate_refuses_to_overwrite(run_cli, tmp_path):
    """An existing file is never clobbered without --overwrite, and nothing else is written."""
    out = tmp_path / "a"
    out.mkdir()
    existing = out / "contract-default-s8.json"
    existing.write_text("hand edited\n")
    r = generate(run_cli, out)
    assert r.code == 2
    assert len(r.err_lines) == 1
    assert r.err_lines[0].startswith("error: --out:")
    assert str(existing) in r.err and "--overwrite" in r.err
    assert existing.read_text() == "hand edited\n"
    assert sorted(p.name for p in out.iterdir()) == [existing.name]  # checked before writing

    assert generate(run_cli, out, "--overwrite").code == 0
    assert optkit.load(existing).name == "contract-default-s8"


# -- solve ------------------------------------------------------------------------------------
def test_solve_json_is_one_document(run_cli, contract_file):
    """--format json prints exactly one JSON document on stdout (json.loads refuses extra text)."""
    r = run_cli("solve", contract_file, "--format", "json")
    assert r.code == 0
    doc = json.loads(r.out)
    assert doc["status"] == "optimal"
    assert doc["family"] == "contract"
    assert doc["evaluation"]["max_violation"] <= EXACT_FEASIBILITY
    assert doc["evaluation"]["feasible"] is True
    assert len(doc["decision"]["effort1"]) == 3
    assert len(doc["decision"]["reward2"]) == 3


def test_solve_periods_one_file_without_transition(run_cli, tmp_path, contract_dict):
    """spec: with periods = 1, `transition` and `discount` may be omitted (static screening)."""
    del contract_dict["transition"], contract_dict["discount"]
    contract_dict["periods"] = 1
    path = tmp_path / "static.json"
    path.write_text(json.dumps(contract_dict))
    r = run_cli("solve", path, "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["status"] == "optimal"
    assert "effort2" not in doc["decision"]


@pytest.fixture
def folder_with_bad_file(run_cli, tmp_path):
    """Two generated instances and one file missing its schema_version, in one folder."""
    folder = tmp_path / "batch"
    assert run_cli("generate", "contract", "--n", 2, "--seed", 1, "--out", folder).code == 0
    (folder / "broken.json").write_text('{"family": "contract"}')
    return folder


def test_solve_folder_goes_on_after_a_bad_file(run_cli, folder_with_bad_file):
    """One bad item is recorded in its row; the other rows are still solved (batch goes on)."""
    r = run_cli("solve", folder_with_bad_file)  # exit code: test_solve_folder_..._exits_2
    assert "Traceback" not in r.err
    assert r.out.count("optimal") == 2
    assert "broken.json" in r.out and "invalid" in r.out


def test_solve_folder_json_records_the_error(run_cli, folder_with_bad_file):
    r = run_cli("solve", folder_with_bad_file, "--format", "json")
    docs = json.loads(r.out)
    assert len(docs) == 3
    errors = [d for d in docs if "error" in d]
    assert len(errors) == 1
    assert errors[0]["file"].endswith("broken.json")
    assert "schema_version" in errors[0]["error"]
    assert sorted(d["status"] for d in docs if "status" in d) == ["optimal", "optimal"]


def test_solve_folder_with_a_bad_file_exits_2(run_cli, folder_with_bad_file):
    """spec: 2 = bad input; a batch with an invalid item says so in its exit code."""
    assert run_cli("solve", folder_with_bad_file).code == 2


def test_solve_folder_out_writes_one_solution_per_instance(run_cli, tmp_path):
    folder, results = tmp_path / "batch", tmp_path / "results"
    assert run_cli("generate", "contract", "--n", 2, "--seed", 1, "--out", folder).code == 0
    results.mkdir()
    assert run_cli("solve", folder, "--out", results).code == 0
    assert sorted(p.name for p in results.iterdir()) == [
        "contract-default-s1.solution.json",
        "contract-default-s2.solution.json",
    ]


def test_time_limit_zero_gives_no_answer(run_cli, contract_file):
    """A zero budget is spent before the solver starts (set-up counts): time_limit, no decision."""
    r = run_cli("solve", contract_file, "--time-limit", 0, "--format", "json")
    doc = json.loads(r.out)
    assert doc["status"] == "time_limit"
    assert doc["decision"] is None
    assert doc["evaluation"] is None
    assert doc["params"]["time_limit_s"] == 0.0


def test_time_limit_zero_exits_3(run_cli, contract_file):
    """spec: 3 = the solver gave no usable answer (time limit without incumbent)."""
    assert run_cli("solve", contract_file, "--time-limit", 0).code == 3


# -- check ------------------------------------------------------------------------------------
@pytest.fixture
def result_file(run_cli, contract_file, tmp_path):
    """`optkit solve FILE --out result.json` on the spec example."""
    path = tmp_path / "result.json"
    r = run_cli("solve", contract_file, "--out", path)
    assert r.code == 0, r.err
    return path


def write_decision(tmp_path, result_file, change) -> object:
    """The decision of result_file, changed by `change(decision_dict)`, as its own JSON file."""
    decision = json.loads(result_file.read_text())["decision"]
    change(decision)
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(decision))
    return path


def test_check_solved_result_is_feasible(run_cli, contract_file, result_file):
    """The result JSON is accepted as a decision file; its menu re-scores as feasible."""
    r = run_cli("check", contract_file, "--decision", result_file, "--format", "json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["feasible"] is True
    assert report["violations"] == {}
    saved = json.loads(result_file.read_text())
    assert report["objective"] == saved["evaluation"]["objective"]


def test_check_table(run_cli, contract_file, result_file):
    r = run_cli("check", contract_file, "--decision", result_file)
    assert r.code == 0
    assert "feasible       true" in r.out


def test_check_reports_a_violation(run_cli, tmp_path, contract_file, result_file):
    """Paying every period-1 type 1 less breaks IR1 by 1 where it binds: reported, exit 0.

    A shift of all R1 leaves every IC1 difference unchanged, so IR1 is the only group hit.
    """

    def cut(d):
        d["reward1"] = [x - 1.0 for x in d["reward1"]]

    path = write_decision(tmp_path, result_file, cut)
    r = run_cli("check", contract_file, "--decision", path, "--format", "json")
    assert r.code == 0
    report = json.loads(r.out)
    assert report["feasible"] is False
    assert report["max_violation"] == pytest.approx(1.0, abs=1e-6)
    assert report["worst"].startswith("ir1[")
    assert all(name.startswith("ir1[") for name in report["violations"])


def test_check_decision_for_fewer_types_names_effort1(
    run_cli, tmp_path, contract_file, result_file
):
    """A well-formed 2-type menu against a 3-type instance: refused naming effort1."""

    def shrink(d):
        d["effort1"], d["reward1"] = d["effort1"][:2], d["reward1"][:2]
        d["effort2"] = [row[:2] for row in d["effort2"][:2]]
        d["reward2"] = [row[:2] for row in d["reward2"][:2]]

    path = write_decision(tmp_path, result_file, shrink)
    r = run_cli("check", contract_file, "--decision", path)
    assert r.code == 2
    assert len(r.err_lines) == 1
    assert r.err_lines[0].startswith(f"error: {path}: effort1: must have shape (3,), got (2,)")


def test_check_short_effort1_names_effort1(run_cli, tmp_path, contract_file, result_file):
    """Only effort1 is too short: the message must point at effort1, not at its neighbours."""

    def shorten(d):
        d["effort1"] = d["effort1"][:2]

    path = write_decision(tmp_path, result_file, shorten)
    r = run_cli("check", contract_file, "--decision", path)
    assert r.code == 2
    assert len(r.err_lines) == 1
    # the tmp folder's name holds the test's name: look only after the file name
    assert r.err_lines[0].removeprefix(f"error: {path}: ").startswith("effort1")


def test_check_result_without_decision(run_cli, tmp_path, contract_file):
    """A time_limit result file has no decision to check: bad input naming `decision`."""
    res = tmp_path / "res.json"
    run_cli("solve", contract_file, "--time-limit", 0, "--out", res)
    r = run_cli("check", contract_file, "--decision", res)
    assert r.code == 2
    assert r.err_lines == [f"error: {res}: decision: the result file carries no decision"]


def test_check_prints_a_vector_objective(run_cli, tmp_path):
    """Lexicographic families (podpack) re-score to a vector; the table shows it as a list."""
    from pathlib import Path

    inst = Path(__file__).resolve().parents[2] / "instances" / "podpack" / "running-example.json"
    out = tmp_path / "res.json"
    assert run_cli("solve", inst, "--solver", "kube_default", "--out", out).code == 0
    r = run_cli("check", inst, "--decision", out)
    assert r.code == 0, r.err
    assert "objective      [" in r.out
