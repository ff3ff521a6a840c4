"""The generic CLI on knapsack files: solve, check, export (LP/MPS), and bad input (exit 2)."""

from __future__ import annotations

import json
import logging

import highspy
import pytest

import optkit


@pytest.fixture
def example_file(tmp_path, example_dict):
    path = tmp_path / "example.json"
    path.write_text(json.dumps(example_dict))
    return path


def test_solve_prints_the_optimum(run_cli, example_file):
    run = run_cli("solve", example_file, "--solver", "cpsat", "--format", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["status"] == "optimal" and doc["decision"]["chosen"] == ["generalist"]
    assert abs(doc["objective"] - 3.4) < 1e-9


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_export_writes_a_model_highs_solves_to_the_optimum(run_cli, example_file, tmp_path, fmt):
    """The exported file, read back by HiGHS itself, has the optimum 3.4 of the example."""
    out = tmp_path / f"model.{fmt}"
    run = run_cli("export", example_file, "--format", fmt, "--out", out)
    assert run.code == 0, run.err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(out))
    h.run()
    assert abs(h.getInfo().objective_function_value - 3.4) < 1e-9
    again = run_cli("export", example_file, "--format", fmt, "--out", out)
    assert again.code == 2 and "--overwrite" in again.err


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_export_logs_no_pyomo_warning(example_file, tmp_path, caplog, fmt):
    """Given the format as a string, Pyomo warned "Filename ... likely does not match specified
    file format" (on stdout, through its logger)."""
    with caplog.at_level(logging.WARNING):
        optkit.export(optkit.load(example_file), tmp_path / f"m.{fmt}", fmt)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_export_of_a_contract_instance_names_the_family(run_cli, contract_file, tmp_path):
    run = run_cli("export", contract_file, "--format", "lp", "--out", tmp_path / "c.lp")
    assert run.code == 2
    assert "family" in run.err and "contract" in run.err
    assert not (tmp_path / "c.lp").exists()


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["components"][1].update(price=0), "components[1].price"),
        (lambda d: d["components"][0]["quality"].update(search=2), "components[0].quality.search"),
        (lambda d: d["components"][0]["quality"].update(ghost=0.5), "components[0].quality.ghost"),
        (lambda d: d["components"][3].update(name="coder"), "components[3].name"),
        (lambda d: d.update(conflicts=[["coder", "nobody"]]), "conflicts[0][1]"),
        (lambda d: d.update(requires=[["coder", "coder"]]), "requires[0]"),
    ],
)
@pytest.mark.parametrize("command", ["solve", "export"])
def test_bad_input_exits_2_naming_the_field(
    run_cli, tmp_path, example_dict, mutate, field, command
):
    mutate(example_dict)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(example_dict))
    run = run_cli(command, path)
    assert run.code == 2
    assert len(run.err_lines) == 1 and field in run.err and str(path) in run.err


def test_check_rescores_a_decision(run_cli, example_file, tmp_path):
    dec = tmp_path / "dec.json"
    dec.write_text(
        json.dumps({"family": "knapsack", "schema_version": 1, "chosen": ["searcher", "coder"]})
    )
    run = run_cli("check", example_file, "--decision", dec, "--format", "json")
    assert run.code == 0, run.err
    assert "2.6" in run.out


def test_generate_writes_loadable_instances(run_cli, tmp_path):
    run = run_cli("generate", "knapsack", "--preset", "multi_agent", "--n", 2, "--out", tmp_path)
    assert run.code == 0, run.err
    assert len(list(tmp_path.glob("knapsack-multi_agent-s*.json"))) == 2
    solved = run_cli("solve", tmp_path / "knapsack-multi_agent-s1.json", "--solver", "zcl")
    assert solved.code == 0, solved.err
