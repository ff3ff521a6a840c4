"""Strict JSON reading (errors name the file) and atomic writing."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from optkit.core import jsonio
from optkit.core.errors import InvalidInputError
from optkit.core.jsonio import dumps, read_json, write_json_atomic


def read_error(path) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        read_json(path)
    return info.value


def test_read_json_round_trip(tmp_path):
    p = tmp_path / "a.json"
    p.write_text('{"x": [1, 2.5]}')
    assert read_json(p) == {"x": [1, 2.5]}


def test_missing_file_names_the_path(tmp_path):
    p = tmp_path / "nope.json"
    assert str(read_error(p)) == f"{p}: file not found"


def test_directory_is_refused(tmp_path):
    assert "is a directory" in str(read_error(tmp_path))


def test_invalid_json_gives_line_and_column(tmp_path):
    """A trailing comma on line 2: the message points at where the parser stopped."""
    p = tmp_path / "bad.json"
    p.write_text('{"a": 1,\n "b": 2,\n}\n')
    msg = str(read_error(p))
    assert msg.startswith(f"{p}: not valid JSON")
    assert "line 3, column 1" in msg


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_literals_refused(tmp_path, literal):
    """Python's json reads NaN/Infinity by default; they are not JSON and would poison a model."""
    p = tmp_path / "nan.json"
    p.write_text(f'{{"unit_cost": {literal}}}')
    msg = str(read_error(p))
    assert str(p) in msg and literal in msg


def test_dumps_refuses_nan_and_converts_numpy():
    """Nothing unreadable is ever written; numpy arrays and scalars are written as plain JSON."""
    with pytest.raises(ValueError):
        dumps({"x": math.nan})
    text = dumps({"a": np.arange(3), "b": np.float64(0.5)})
    assert json.loads(text) == {"a": [0, 1, 2], "b": 0.5}


def test_write_json_atomic_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "sub" / "out.json"
    write_json_atomic(p, {"v": 1})
    write_json_atomic(p, {"v": 2})
    assert read_json(p) == {"v": 2}
    assert os.listdir(p.parent) == ["out.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    """NaN data is refused before anything touches the disk: the old file stays intact."""
    p = tmp_path / "out.json"
    write_json_atomic(p, {"v": 1})
    with pytest.raises(ValueError):
        write_json_atomic(p, {"v": math.nan})
    assert read_json(p) == {"v": 1}
    assert os.listdir(tmp_path) == ["out.json"]


def test_failed_rename_removes_the_temp_file(tmp_path, monkeypatch):
    """A crash between write and rename leaves no temp file and does not touch the target."""
    p = tmp_path / "out.json"
    write_json_atomic(p, {"v": 1})

    def broken_replace(src, dst):
        assert os.path.basename(src).startswith(".out.json.")  # written beside the target
        raise OSError("disk gone")

    monkeypatch.setattr(jsonio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_json_atomic(p, {"v": 2})
    monkeypatch.undo()
    assert read_json(p) == {"v": 1}
    assert os.listdir(tmp_path) == ["out.json"]


def test_atomic_write_honours_the_umask(tmp_path):
    """mkstemp creates 0600 files; written JSON gets the permissions a plain open() would."""
    import os
    import stat

    from optkit.core.jsonio import write_json_atomic

    old = os.umask(0o022)
    try:
        p = write_json_atomic(tmp_path / "a.json", {"x": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644
