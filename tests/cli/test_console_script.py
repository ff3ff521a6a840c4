"""The installed `optkit` console script, run as a real process (once): what a shell user sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_console_script_bad_input_and_good_solve(tmp_path, contract_dict):
    """Bad input exits 2 with one line and no traceback through sys.exit(main()); a good file
    prints one JSON document on stdout and nothing on stderr."""
    script = Path(sys.executable).parent / "optkit"
    assert script.exists(), f"console script not installed next to {sys.executable}"

    good = tmp_path / "good.json"
    good.write_text(json.dumps(contract_dict))
    contract_dict["n_servers"] = "ten"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(contract_dict))

    proc = subprocess.run(
        [str(script), "solve", str(bad)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}: n_servers: must be an integer, got a string"
    ]
    assert proc.stdout == ""

    proc = subprocess.run(
        [str(script), "solve", str(good), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout)["status"] == "optimal"
