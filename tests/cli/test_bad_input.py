"""Bad input on the command line: exit 2, one line on stderr naming file, field and problem.

One case per rule of the validation list in spec/contract.md ("Instance JSON"), plus broken
files and bad flags. Each case changes one thing in the spec's example instance.
"""

from __future__ import annotations

import json

import pytest

import optkit


def setter(path: str, value):
    """Mutation setting a dotted path ("valuation.rho") to value."""

    def mutate(d):
        *parents, last = path.split(".")
        for key in parents:
            d = d[key]
        d[last] = value

    return mutate


def deleter(*keys: str):
    def mutate(d):
        for key in keys:
            del d[key]

    return mutate


def power(**values):
    """Switch to the power valuation G(e) = ω e^ρ (the only one with ρ)."""
    return setter("valuation", {"kind": "power", "omega": 10.0, "rho": 0.5, **values})


# (id, mutation of the example dict, what the message must say right after "error: FILE: ")
RULES = [
    (
        "transition-row-sum",
        setter("transition", [[0.7, 0.2, 0.1], [0.5, 0.4, 0.0], [0.1, 0.2, 0.7]]),
        "transition[1]: must sum to 1",
    ),
    ("prior-sum", setter("prior", [0.3, 0.4, 0.4]), "prior: must sum to 1"),
    (
        "willingness-not-increasing",
        setter("willingness", [0.6, 1.5, 1.0]),
        "willingness[2]: must be strictly increasing",
    ),
    (
        "willingness-repeated",
        setter("willingness", [0.6, 1.0, 1.0]),
        "willingness[2]: must be strictly increasing",
    ),
    ("willingness-zero", setter("willingness", [0.0, 1.0, 1.5]), "willingness[0]: must be > 0"),
    (
        "willingness-negative",
        setter("willingness", [-0.6, 1.0, 1.5]),
        "willingness[0]: must be > 0",
    ),
    ("prior-entry-zero", setter("prior", [0.5, 0.0, 0.5]), "prior[1]: must be > 0"),
    ("discount-0", setter("discount", 0.0), "discount: must be > 0"),
    ("discount-1.5", setter("discount", 1.5), "discount: must be <= 1"),
    ("rho-0", power(rho=0.0), "valuation.rho: must be > 0"),
    ("rho-1", power(rho=1.0), "valuation.rho: must be < 1"),
    ("omega-0", setter("valuation.omega", 0.0), "valuation.omega: must be > 0"),
    ("omega-negative-power", power(omega=-1.0), "valuation.omega: must be > 0"),
    ("kappa-0", setter("valuation.kappa", 0.0), "valuation.kappa: must be > 0"),
    ("unit-cost-0", setter("unit_cost", 0.0), "unit_cost: must be > 0"),
    ("unit-cost-negative", setter("unit_cost", -1.2), "unit_cost: must be > 0"),
    ("effort-max-0", setter("effort_max", 0.0), "effort_max: must be > 0"),
    ("prior-wrong-size", setter("prior", [0.5, 0.5]), "prior: must have shape (3,)"),
    (
        "transition-wrong-size",
        setter("transition", [[0.5, 0.5], [0.5, 0.5]]),
        "transition: must have shape (3, 3)",
    ),
    (
        "transition-short-row",
        setter("transition", [[0.7, 0.3], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7]]),
        "transition: must",
    ),
    (
        "periods-2-without-transition",
        deleter("transition"),
        "transition: is required when periods = 2",
    ),
    ("periods-2-without-discount", deleter("discount"), "discount: is required"),
    ("periods-3", setter("periods", 3), "periods: must be <= 2"),
    ("ir-unknown", setter("ir", "ex_ante"), "ir: must be one of per_period, interim"),
    (
        "limited-liability-string",
        setter("limited_liability", "False"),
        "limited_liability: must be true or false",
    ),
    ("valuation-kind", setter("valuation.kind", "linear"), "valuation.kind: must be one of"),
    ("family-unknown", setter("family", "no_such_family"), "family: must be one of contract"),
    ("schema-version-2", setter("schema_version", 2), "schema_version: instance schema_version 2"),
    ("unknown-key", setter("colour", "blue"), "colour: unknown key"),
    ("unknown-nested-key", setter("valuation.rho", 0.5), "valuation.rho: unknown key"),
    ("missing-field", deleter("unit_cost"), "unit_cost: is required"),
    ("n-servers-string", setter("n_servers", "ten"), "n_servers: must be an integer, got a string"),
    ("n-servers-bool", setter("n_servers", True), "n_servers: must be an integer, got a boolean"),
    ("n-servers-0", setter("n_servers", 0), "n_servers: must be >= 1"),
]

# Whole-file problems: (id, file text or None for a missing file, expected message start)
BROKEN_FILES = [
    ("not-json", "family: contract\n", "not valid JSON (line 1, column 1"),
    ("truncated", '{"family": "contract",', "not valid JSON"),
    ("json-array", "[1, 2, 3]", "(document): must be a JSON object, got an array"),
    ("nan-literal", None, "unit_cost: NaN is not valid JSON"),
    ("missing-file", "", "file not found"),
]


def assert_one_error_line(r, path, expected: str) -> None:
    """Exit 2, exactly one stderr line "error: FILE: <expected>...", and no traceback."""
    assert r.code == 2, (r.out, r.err)
    assert "Traceback" not in r.err
    assert len(r.err_lines) == 1, r.err
    prefix = f"error: {path}: "
    assert r.err_lines[0].startswith(prefix), r.err_lines[0]
    assert r.err_lines[0][len(prefix) :].startswith(expected), r.err_lines[0]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in RULES], ids=[c[0] for c in RULES])
def test_invalid_instance_field(run_cli, tmp_path, contract_dict, mutate, expected):
    """Every validation rule refuses the file with one line naming the file and the field."""
    mutate(contract_dict)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(contract_dict))
    assert_one_error_line(run_cli("solve", path), path, expected)


@pytest.mark.parametrize(
    "text, expected", [c[1:] for c in BROKEN_FILES], ids=[c[0] for c in BROKEN_FILES]
)
def test_broken_file(run_cli, tmp_path, contract_dict, text, expected):
    """Files that are not an instance object at all: still one line naming the file."""
    path = tmp_path / "bad.json"
    if text is None:
        text = json.dumps(contract_dict).replace('"unit_cost": 1.2', '"unit_cost": NaN')
    if text:
        path.write_text(text)
    assert_one_error_line(run_cli("solve", path), path, expected)


def test_nan_literal_names_the_field(run_cli, tmp_path, contract_dict):
    """A NaN literal anywhere in a large file must be findable from the message alone
    (by its field, or at least by its line)."""
    path = tmp_path / "bad.json"
    text = json.dumps(contract_dict, indent=2).replace('"unit_cost": 1.2', '"unit_cost": NaN')
    line = 1 + next(k for k, t in enumerate(text.splitlines()) if "NaN" in t)
    path.write_text(text)
    r = run_cli("solve", path)
    assert r.code == 2
    message = r.err_lines[0].removeprefix(f"error: {path}: ")
    assert "unit_cost" in message or f"line {line}," in message


def test_accepted_edge_values(run_cli, tmp_path, contract_dict):
    """The boundaries the spec includes: δ = 1, a 0.333/0.333/0.334 prior, zeros inside P."""
    contract_dict.update(
        discount=1.0,
        prior=[0.333, 0.333, 0.334],
        transition=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 0.5]],
    )
    path = tmp_path / "edge.json"
    path.write_text(json.dumps(contract_dict))
    r = run_cli("solve", path, "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["status"] == "optimal"


def test_periods_one_without_transition_and_discount_is_accepted(run_cli, tmp_path, contract_dict):
    """The one rule that accepts rather than refuses: periods = 1 needs neither field."""
    del contract_dict["transition"], contract_dict["discount"]
    contract_dict["periods"] = 1
    path = tmp_path / "static.json"
    path.write_text(json.dumps(contract_dict))
    r = run_cli("solve", path)
    assert r.code == 0, r.err
    assert r.err == ""


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--threads", "x"], "Invalid value for '--threads'"),
        (["--threads", "0"], "Invalid value for '--threads'"),
        (["--time-limit", "-1"], "Invalid value for '--time-limit'"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
        (["--format", "yaml"], "Invalid value for '--format'"),
        (["--bogus"], "No such option: --bogus"),
    ],
    ids=[
        "threads-x",
        "threads-0",
        "time-limit-negative",
        "seed-negative",
        "format-yaml",
        "unknown-option",
    ],
)
def test_bad_flags(run_cli, contract_file, flags, expected):
    """Typed flags: a bad value is refused before anything runs, with one line."""
    r = run_cli("solve", contract_file, *flags)
    assert r.code == 2
    assert r.out == ""
    assert len(r.err_lines) == 1
    assert r.err_lines[0].startswith("error: ")
    assert expected in r.err_lines[0]


def test_unknown_solver_lists_valid_names(run_cli, contract_file):
    r = run_cli("solve", contract_file, "--solver", "gurobi")
    assert r.code == 2
    valid = ", ".join(sorted(s.name for s in optkit.solvers("contract")))
    assert r.err_lines == [f"error: unknown contract solver 'gurobi'; valid: {valid}"]


def test_unknown_family_lists_valid_names(run_cli, tmp_path):
    r = run_cli("generate", "no_such_family", "--out", tmp_path)
    assert r.code == 2
    valid = ", ".join(optkit.families())
    assert r.err_lines == [f"error: unknown family 'no_such_family'; valid: {valid}"]


def test_unknown_command(run_cli):
    r = run_cli("sovle")
    assert r.code == 2
    assert len(r.err_lines) == 1 and r.err_lines[0].startswith("error: ")
