"""Bad input the adversarial review found getting past the CLI (tasks/review_badinput.md).

House rule: bad input gets one clear message naming the field (exit 2, no traceback), nothing
already written is lost, a batch never dies for one item. Each test is a case that used to give
exit 1 "internal error", a lost or overwritten result, a file written outside its folder, a
dead batch, or ran out of memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO / "models" / "contract-bc-projected-s0.pt"  # shipped: I = 3, periods = 2


def one_error(r, flag_or_field: str) -> str:
    """Exit 2, one stderr line starting "error: ", naming the flag or field; returns the line."""
    assert r.code == 2, (r.code, r.out, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err, r.err
    assert len(r.err_lines) == 1, r.err
    line = r.err_lines[0]
    assert line.startswith("error: ") and flag_or_field in line, line
    return line


def write(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


# -- --out paths: refused before any work, naming the flag -----------------------------------
def test_generate_out_is_a_file(run_cli, tmp_path):
    """Used to be exit 1 FileExistsError."""
    target = write(tmp_path / "taken", "keep me")
    one_error(run_cli("generate", "contract", "--out", target), "--out")
    assert target.read_text() == "keep me"


def test_solve_out_under_a_file_is_refused_before_solving(run_cli, contract_file, tmp_path):
    """Used to solve, then die with exit 1 NotADirectoryError (the answer lost)."""
    blocker = write(tmp_path / "blocker", "x")
    line = one_error(run_cli("solve", contract_file, "--out", blocker / "r.json"), "--out")
    assert "is a file, not a folder" in line


def test_solve_out_is_a_folder(run_cli, contract_file, tmp_path):
    """Used to be exit 1 IsADirectoryError after the solve."""
    line = one_error(run_cli("solve", contract_file, "--out", tmp_path), "--out")
    assert "is a folder" in line


def test_solve_keeps_an_existing_result(run_cli, contract_file, tmp_path):
    """A rerun with a zero budget used to replace an optimal result by a time_limit one."""
    res = tmp_path / "res.json"
    assert run_cli("solve", contract_file, "--out", res).code == 0
    before = res.read_text()
    assert json.loads(before)["status"] == "optimal"
    one_error(run_cli("solve", contract_file, "--out", res, "--time-limit", 0), "--out")
    assert res.read_text() == before
    r = run_cli("solve", contract_file, "--out", res, "--time-limit", 0, "--overwrite")
    assert r.code == 3 and json.loads(res.read_text())["status"] == "time_limit"


def test_solve_folder_of_one_writes_into_the_out_folder(run_cli, contract_dict, tmp_path):
    """A folder holding one instance used to write --out as a file (IsADirectoryError when the
    folder exists): a folder's results go into the --out folder whatever their number."""
    write(tmp_path / "in" / "only.json", contract_dict)
    (tmp_path / "res").mkdir()
    assert run_cli("solve", tmp_path / "in", "--out", tmp_path / "res").code == 0
    assert [p.name for p in (tmp_path / "res").iterdir()] == ["only.solution.json"]


def test_solve_folder_mixed_families_with_solver_keeps_going(run_cli, contract_dict, tmp_path):
    """--solver cvxpy on a folder holding a knapsack instance used to kill the whole batch
    ("unknown knapsack solver"); now that item is an error row and the others are solved."""
    from optkit import generate

    write(tmp_path / "in" / "a.json", contract_dict)
    write(tmp_path / "in" / "b.json", generate("knapsack", seed=0).to_dict())
    r = run_cli("solve", tmp_path / "in", "--solver", "cvxpy", "--format", "json")
    assert r.code == 2, r.err
    docs = json.loads(r.out)
    assert docs[0]["status"] == "optimal"
    assert "unknown knapsack solver 'cvxpy'" in docs[1]["error"]


def test_export_out_is_a_folder(run_cli, tmp_path):
    """Used to be exit 1 IsADirectoryError (with --overwrite)."""
    from optkit import generate

    inst = write(tmp_path / "k.json", generate("knapsack", seed=0).to_dict())
    (tmp_path / "dir").mkdir()
    one_error(run_cli("export", inst, "--out", tmp_path / "dir", "--overwrite"), "--out")


def test_podpack_import_out_is_a_folder(run_cli, tmp_path):
    """Used to be exit 1 IsADirectoryError (with --overwrite)."""
    dump = REPO / "instances" / "podpack" / "kubectl-dump.json"
    (tmp_path / "dir").mkdir()
    r = run_cli("podpack", "import", dump, "--out", tmp_path / "dir", "--overwrite")
    one_error(r, "--out")


def test_plan_export_script_under_a_file_is_refused_before_the_plan(run_cli, tmp_path):
    """Used to write the plan, then die with exit 1 on the script (a plan without its script)."""
    inst = REPO / "instances" / "podpack" / "running-example.json"
    blocker = write(tmp_path / "blocker", "x")
    plan = tmp_path / "plan.json"
    r = run_cli("podpack", "plan-export", inst, "--out", plan, "--script", blocker / "a.sh")
    one_error(r, "--script")
    assert not plan.exists()


# -- generate -------------------------------------------------------------------------------
def test_generate_seed_range_past_max_writes_nothing(run_cli, tmp_path):
    """--seed 2**63-1 --n 2 used to write the first file, then fail on the second seed."""
    r = run_cli("generate", "contract", "--seed", 2**63 - 1, "--n", 2, "--out", tmp_path / "g")
    one_error(r, "--seed")
    assert not (tmp_path / "g").exists()


def test_generate_n_types_on_a_family_without_it_names_the_flag(run_cli, tmp_path):
    """knapsack has no n_types: used to be exit 1 TypeError (unexpected keyword argument)."""
    r = run_cli("generate", "knapsack", "--n-types", 3, "--out", tmp_path)
    line = one_error(r, "--n-types")
    assert "unknown option" in line


def test_generate_refuses_an_existing_file_by_its_seed(run_cli, tmp_path):
    """The existence check now reads the folder instead of building the list of n paths (which
    --n 10**12 filled memory with before writing anything; not run here, it would take the
    machine down on the old code): it must still find a clash in the middle of the range."""
    assert run_cli("generate", "contract", "--seed", 5, "--out", tmp_path).code == 0
    kept = tmp_path / "contract-default-s5.json"
    before = kept.read_text()
    line = one_error(
        run_cli("generate", "contract", "--seed", 3, "--n", 4, "--out", tmp_path), "--out"
    )
    assert "contract-default-s5.json exists" in line
    assert kept.read_text() == before and not (tmp_path / "contract-default-s3.json").exists()


# -- bench flags ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seeds", "needle"),
    [
        ("0-1000000000000", "more than"),  # used to be expanded in memory (OOM kill)
        (",", "no value"),  # used to mean "the scenario's own seeds" silently
        ("-1", "non-negative"),
    ],
)
def test_bench_seeds(run_cli, tmp_path, seeds, needle):
    r = run_cli("bench", "contract", "--seeds", seeds, "--report", tmp_path / "rep")
    assert needle in one_error(r, "--seeds")
    assert not (tmp_path / "rep").exists()


# -- baseline: a flag every item would fail on is refused before the data set exists ----------
@pytest.mark.parametrize(
    ("flag", "value", "needle"),
    [
        ("--param", "nope=1", "params.nope: unknown key"),
        ("--param", "canonical=maybe", "params.canonical"),
        ("--gen-option", "colour=1", "colour: unknown option"),
    ],
)
def test_baseline_bad_flag_for_every_item(run_cli, tmp_path, flag, value, needle):
    """Used to finish "2 instances ...: 2 error" with exit 0 and leave a data set whose recorded
    configuration then refused the corrected rerun."""
    out = tmp_path / "gt"
    r = run_cli(
        "baseline", "--family", "contract", "--n", 2, "--solver", "fast", flag, value,
        "--workers", 1, "--out", out,
    )  # fmt: skip
    assert needle in one_error(r, flag)
    assert not out.exists()


# -- learn commands ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../escaped", "a/b", ".hidden", ".."])
def test_train_name_must_stay_inside_models_and_runs(run_cli, tmp_path, name):
    """--name ../../etc/evil used to write the checkpoint two folders above --models."""
    r = run_cli(
        "train", "contract", "--name", name, "--env-steps", 1,
        "--models", tmp_path / "m" / "models", "--runs", tmp_path / "m" / "runs",
    )  # fmt: skip
    one_error(r, "--name")
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "m").exists()


def test_train_config_is_a_folder(run_cli, tmp_path):
    """Used to be exit 1 IsADirectoryError."""
    r = run_cli("train", "contract", "--config", tmp_path, "--runs", tmp_path / "r")
    one_error(r, "--config")


def test_evaluate_policy_batch_survives_bad_items(run_cli, tmp_path, contract_dict):
    """A broken file, another family or another size in the folder used to end the command
    (the first with exit 2 and no results, the second with exit 1 AttributeError); --format
    json on a single scored instance used to crash on its NaN confidence interval."""
    folder = tmp_path / "in"
    write(folder / "a.json", contract_dict)
    write(folder / "b.json", '{"family": "contract",')
    from optkit import generate

    write(folder / "c.json", generate("knapsack", seed=0).to_dict())
    four = dict(contract_dict, willingness=[0.5, 1.0, 1.5, 2.0], prior=[0.25] * 4)
    write(folder / "d.json", dict(four, transition=[[0.25] * 4] * 4))
    r = run_cli("evaluate-policy", CHECKPOINT, folder, "--format", "json")
    assert r.code == 2, r.err
    doc = json.loads(r.out)
    assert [row["instance"] for row in doc["instances"]] == ["a.json"]
    assert doc["summary"]["n"] == 1 and doc["summary"]["ci95"] is None
    errors = {e["instance"]: e["error"] for e in doc["errors"]}
    assert "not valid JSON" in errors["b.json"]
    assert "family: the checkpoint is for contract, got knapsack" in errors["c.json"]
    assert "'n_types': 4" in errors["d.json"]


# -- messages -------------------------------------------------------------------------------
def test_null_document_says_null(run_cli, tmp_path):
    """The message spoke Python ("got NoneType") about a JSON null."""
    path = write(tmp_path / "n.json", "null")
    assert one_error(run_cli("solve", path), "(document)").endswith("got null")


# -- batches: one bad item is one row -----------------------------------------------------------
def _folder_with_bad_items(folder: Path, contract_dict: dict) -> Path:
    """a.json valid; b.json truncated; c.json another family; d.json a value that looks like rich
    markup (its message quotes it)."""
    from optkit import generate

    write(folder / "a.json", contract_dict)
    write(folder / "b.json", '{"family": "contract",')
    write(folder / "c.json", generate("knapsack", seed=0).to_dict())
    write(folder / "d.json", dict(contract_dict, ir="[/bold]"))
    return folder


def test_solve_batch_message_with_markup_prints(run_cli, tmp_path, contract_dict):
    """The results table rendered messages as rich markup: a quoted "[/bold]" raised MarkupError,
    exit 1, and the whole batch's table was lost."""
    folder = _folder_with_bad_items(tmp_path / "in", contract_dict)
    r = run_cli("solve", folder)
    assert r.code == 2, r.err
    assert "internal error" not in r.err
    assert "got '[/bold]'" in r.out and "optimal" in r.out


def test_demo_suite_with_bad_items_keeps_going(run_cli, tmp_path, contract_dict):
    """A broken file in --suite used to end the demo before its table (exit 2, nothing shown);
    a knapsack file made it exit 1 (AttributeError n_types); --suite FILE ran the demo."""
    folder = _folder_with_bad_items(tmp_path / "suite", contract_dict)
    one_error(
        run_cli("demo", "--quick", "--suite", folder / "a.json", "--report", tmp_path), "--suite"
    )
    report = tmp_path / "report"
    r = run_cli("demo", "--quick", "--suite", folder, "--report", report)
    assert r.code == 2, r.err
    assert "internal error" not in r.err
    assert "3 invalid file(s) skipped" in r.out
    assert "the demo suite holds contract instances, got knapsack" in r.out
    assert (report / "index.md").exists()


def test_threads_beyond_the_cap_is_refused(run_cli, contract_file):
    """--threads 100000 on a HiGHS solver used to abort the process (SIGABRT, no message)."""
    assert "--threads" in one_error(
        run_cli("solve", contract_file, "--threads", 100000), "--threads"
    )


def test_integer_beyond_64_bits_names_the_field(run_cli, tmp_path, contract_dict):
    """n_servers = 10**400 (valid JSON) used to load and come back as status error "int too
    large to convert to float" (exit 3) instead of bad input naming the field."""
    text = json.dumps(contract_dict).replace('"n_servers": 10', '"n_servers": 1' + "0" * 400)
    path = write(tmp_path / "big.json", text)
    line = one_error(run_cli("solve", path), "n_servers")
    assert "must fit in 64 bits" in line
