"""Shared fixtures: one small hand-written contract instance and an isolated registry."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from optkit.core import registry

# The example of spec/contract.md ("Instance JSON"): I = 3 types, two periods, log valuation.
# Hand-written rather than generated so that the bad-input tests mutate one known field at a
# time and nothing else about the file changes with a generator's draw order.
CONTRACT_EXAMPLE = json.loads(
    (Path(__file__).parent / "data" / "contract-example.json").read_text()
)


@pytest.fixture
def contract_dict() -> dict:
    """A fresh deep copy of the spec's example instance (tests mutate it freely)."""
    return copy.deepcopy(CONTRACT_EXAMPLE)


@pytest.fixture
def contract_file(tmp_path: Path, contract_dict: dict) -> Path:
    """The spec's example instance written to tmp_path/example.json."""
    path = tmp_path / "example.json"
    path.write_text(json.dumps(contract_dict), encoding="utf-8")
    return path


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Swap the module-level family table for a copy for the length of one test.

    Each FamilySpec is copied with its own solvers dict, so families and solvers a test
    registers (on purpose or by a failing duplicate) vanish when monkeypatch undoes the swap.
    """
    table = {
        name: dataclasses.replace(spec, solvers=dict(spec.solvers))
        for name, spec in registry._FAMILIES.items()
    }
    monkeypatch.setattr(registry, "_FAMILIES", table)
    return table


@dataclasses.dataclass
class CliRun:
    """Exit code and captured streams of one in-process `optkit` call."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Call `optkit.cli.main(argv)` in-process (what the console script runs) and capture output."""
    from optkit.cli import main

    def run(*argv: object) -> CliRun:
        capsys.readouterr()  # drop anything printed before this call
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run
