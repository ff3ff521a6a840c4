"""show_versions(): optkit and every backend's version, read from package metadata (no imports)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

PACKAGES = (
    "optkit",
    "numpy",
    "scipy",
    "cvxpy",
    "clarabel",
    "ortools",
    "highspy",
    "pyomo",
    "pyarrow",
    "gymnasium",
    "typer",
    "rich",
    "torch",
    "ray",
)


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0], "platform": platform.platform()}
    out.update({name: package_version(name) for name in PACKAGES})
    return out


def show_versions() -> None:
    """Print every version, one per line ("not installed" where absent)."""
    for name, ver in versions().items():
        print(f"{name:>10}: {ver or 'not installed'}")
