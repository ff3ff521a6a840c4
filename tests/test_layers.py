"""Imports point one way only (spec/architecture.md, "Layers"), lazy imports included.

core imports nothing else of optkit; families import core and themselves; learn never imports
bench or cli. Read from the source with ast, so an import inside a function counts as much as
one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import optkit

PACKAGE_DIR = Path(optkit.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module named by an import anywhere in the source (functions and classes too).

    `from optkit import families` yields optkit.families as well as optkit (the name may be a
    module); relative imports are resolved against `module`.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")
                if not is_package:
                    package.pop()
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def optkit_imports() -> dict[str, set[str]]:
    """{module: the optkit modules it imports}, over every .py file of the package."""
    table = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = module_name(path)
        names = imported_modules(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
        table[name] = {n for n in names if n == "optkit" or n.startswith("optkit.")}
    return table


IMPORTS = optkit_imports()


def in_layer(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def modules_of(layer: str) -> list[str]:
    return sorted(m for m in IMPORTS if in_layer(m, layer))


def test_walker_sees_lazy_and_relative_imports():
    """Self-check of the walker: a lazy import in a function and a relative import are found."""
    source = (
        "def f():\n"
        "    import optkit.bench.report\n"
        "    from ...learn import sac\n"
        "from . import evaluate\n"
    )
    found = imported_modules(source, "optkit.families.contract.env", is_package=False)
    assert {"optkit.bench.report", "optkit.learn.sac", "optkit.families.contract.evaluate"} <= found
    # and on the real package: core/api.py imports UnknownNameError inside generate()
    assert "optkit.core.errors.UnknownNameError" in IMPORTS["optkit.core.api"]


def test_walker_found_the_layers():
    assert modules_of("optkit.core") and modules_of("optkit.families")
    assert "optkit.cli" in IMPORTS


@pytest.mark.parametrize("module", modules_of("optkit.core"))
def test_core_imports_only_core(module):
    """core is the bottom layer: nothing of families, learn, bench or cli, even lazily."""
    bad = sorted(n for n in IMPORTS[module] if not in_layer(n, "optkit.core"))
    assert bad == [], f"{module} imports {bad}"


@pytest.mark.parametrize("module", modules_of("optkit.families"))
def test_families_import_only_core_and_families(module):
    """A family never imports learn/, bench/ or cli (they sit above it)."""
    bad = sorted(
        n
        for n in IMPORTS[module]
        if not (in_layer(n, "optkit.core") or in_layer(n, "optkit.families"))
    )
    assert bad == [], f"{module} imports {bad}"


LEARN = modules_of("optkit.learn")


@pytest.mark.skipif(not LEARN, reason="optkit/learn does not exist yet")
@pytest.mark.parametrize("module", LEARN or ["(none)"])
def test_learn_never_imports_bench_or_cli(module):
    bad = sorted(
        n for n in IMPORTS[module] if in_layer(n, "optkit.bench") or in_layer(n, "optkit.cli")
    )
    assert bad == [], f"{module} imports {bad}"


@pytest.mark.parametrize(
    "module",
    sorted(m for m in IMPORTS if not in_layer(m, "optkit.cli") and m != "optkit.__main__"),
)
def test_nothing_imports_the_cli(module):
    """cli sits on top of every layer; an import of it from below would be a cycle."""
    assert not any(in_layer(n, "optkit.cli") for n in IMPORTS[module])
