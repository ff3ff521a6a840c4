"""Output paths of the CLI: checked before any work starts, write failures named by their flag.

A bad --out (a folder where a file is expected, a path under a file, a read-only place) used to
surface as exit 1 "internal error: IsADirectoryError ..." after the solve had run, so the answer
was lost with the time spent on it. Each command now checks its output paths before it loads or
solves anything, and turns an OSError of the write itself into bad input naming the flag.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from optkit.core.errors import InvalidInputError


def _nearest_existing(path: Path) -> Path:
    """The path itself or its closest ancestor that exists (what a mkdir -p would start from)."""
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _check_creatable(path: Path, flag: str, shown: Path | None = None) -> None:
    """The folders up to `path` exist or can be made: the nearest existing one is a writable
    folder (not a file). Messages name `shown` (the flag's value), default `path`."""
    anchor = _nearest_existing(path)
    path = path if shown is None else shown
    if not anchor.is_dir():
        raise InvalidInputError(flag, f"{path}: {anchor} is a file, not a folder")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise InvalidInputError(flag, f"{path}: cannot write in {anchor} (permission denied)")
    # os.access says yes to root everywhere, and nothing about read-only or pseudo file systems
    # (/proc): make and remove a probe folder where the first real folder would go.
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".optkit-probe-", dir=anchor))
    except OSError as exc:
        raise InvalidInputError(
            flag, f"{path}: cannot write in {anchor} ({exc.strerror or exc})"
        ) from None


def check_out_file(path: Path, flag: str, *, overwrite: bool = True) -> None:
    """`path` may be written as a file: not a folder, not an existing file unless `overwrite`,
    and its folder exists or can be created in a writable place."""
    if path.is_dir():
        raise InvalidInputError(flag, f"{path} is a folder, expected a file name")
    if path.exists() and not overwrite:
        raise InvalidInputError(flag, f"{path} exists (pass --overwrite to replace it)")
    _check_creatable(path.parent, flag, shown=path)


def check_out_dir(path: Path, flag: str) -> None:
    """`path` is a folder, or can be created as one in a writable place."""
    if path.exists() and not path.is_dir():
        raise InvalidInputError(flag, f"{path} exists and is not a folder")
    _check_creatable(path, flag)


@contextmanager
def writing(flag: str, path: Path) -> Iterator[None]:
    """Turn an OSError of a write (disk full, read-only file system, ...) into bad input naming
    the flag. Wrap the write only: an OSError of the work before it is not the flag's fault."""
    try:
        yield
    except OSError as exc:  # exc.filename is often the temp file of an atomic write: name ours
        raise InvalidInputError(flag, f"cannot write {path}: {exc.strerror or exc}") from None
