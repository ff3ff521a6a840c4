"""Registry: unique names, misses listing valid names, lazy solver loading with honest errors."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
import textwrap
import types

import pytest

import optkit
from optkit.core import registry
from optkit.core.errors import DuplicateNameError, MissingExtraError, UnknownNameError
from optkit.core.registry import SolverSpec
from optkit.core.status import Guarantee


def learned_spec(module: str = "okt_fake_learned", extra: str | None = "learn") -> SolverSpec:
    return SolverSpec(
        family="contract",
        name="fake_learned",
        guarantee=Guarantee.LEARNED,
        entry_point=f"{module}:solve",
        extra=extra,
    )


def test_families_lists_contract():
    """`optkit.families()` is the registered family names, sorted."""
    assert "contract" in optkit.families()
    assert optkit.families() == sorted(optkit.families())


def test_registering_a_family_twice_raises(isolated_registry):
    """The Jumanji habit: a second registration under a taken name is refused, not an overwrite."""
    original = registry.get_family("contract")
    with pytest.raises(DuplicateNameError, match="contract"):
        registry.register_family(dataclasses.replace(original, solvers={}))
    assert registry.get_family("contract") is original


def test_registering_a_solver_twice_raises(isolated_registry):
    """Same for solver names within a family; the first registration stays."""
    first = registry.get_solver("contract", "cvxpy")
    with pytest.raises(DuplicateNameError, match="contract/cvxpy"):
        registry.register_solver(dataclasses.replace(first, description="impostor"))
    assert registry.get_solver("contract", "cvxpy") is first


def test_new_family_registers_and_disappears_after_the_test(isolated_registry):
    """A test family lands in the swapped table only (the fixture keeps other tests clean)."""
    spec = dataclasses.replace(registry.get_family("contract"), name="zz_test_family", solvers={})
    registry.register_family(spec)
    assert "zz_test_family" in registry.family_names()


def test_test_family_left_no_trace():
    """Runs after the test above (file order): the real table never saw the test family."""
    assert "zz_test_family" not in registry.family_names()


def test_unknown_family_lists_valid_names():
    """A miss names the bad name and every registered family."""
    with pytest.raises(UnknownNameError) as info:
        registry.get_family("knapsak")
    msg = str(info.value)
    assert "'knapsak'" in msg
    assert "contract" in msg
    assert info.value.valid == registry.family_names()


def test_unknown_solver_lists_valid_names():
    """A solver miss lists that family's solvers (the CLI prints this line as it is)."""
    with pytest.raises(UnknownNameError) as info:
        registry.get_solver("contract", "gurobi")
    assert "'gurobi'" in str(info.value)
    assert "cvxpy" in str(info.value)
    assert info.value.valid == sorted(s.name for s in registry.solver_specs("contract"))


def test_unknown_name_error_is_not_quoted_like_keyerror():
    """KeyError's str() wraps the message in quotes; UnknownNameError prints it plainly."""
    err = UnknownNameError("family", "x", ["a", "b"])
    assert str(err) == "unknown family 'x'; valid: a, b"


def test_solver_spec_refuses_an_extra_that_does_not_exist():
    """An install hint naming an extra that does not exist is one of STYLE.md's listed failures."""
    with pytest.raises(ValueError, match="learn"):
        SolverSpec("contract", "x", Guarantee.LEARNED, "m:f", extra="torch")


def test_missing_extra_names_the_pip_extra(monkeypatch, tmp_path):
    """A solver whose backend module (torch) is absent fails with the extra to install.

    With torch installed (the CI set-up) the import failure is simulated at import_module;
    without it, a throwaway module really imports torch.
    """
    if importlib.util.find_spec("torch") is None:
        (tmp_path / "okt_fake_learned.py").write_text("import torch\n\ndef solve(): pass\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, "okt_fake_learned", raising=False)
    else:

        def fake_import(name, package=None):
            raise ModuleNotFoundError("No module named 'torch'", name="torch")

        monkeypatch.setattr(registry, "importlib", types.SimpleNamespace(import_module=fake_import))
    with pytest.raises(MissingExtraError) as info:
        learned_spec().load()
    msg = str(info.value)
    assert "pip install 'optkit[learn]'" in msg
    assert "contract/fake_learned" in msg
    assert "torch" in msg  # the real import error is carried, not replaced
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    assert info.value.extra == "learn"


def test_missing_submodule_of_an_extra_counts_as_the_extra(monkeypatch):
    """`torch.nn` missing is still the torch extra (the top-level name decides)."""

    def fake_import(name, package=None):
        raise ModuleNotFoundError("No module named 'torch.nn'", name="torch.nn")

    monkeypatch.setattr(registry, "importlib", types.SimpleNamespace(import_module=fake_import))
    with pytest.raises(MissingExtraError, match=r"optkit\[learn\]"):
        learned_spec().load()


def test_unrelated_import_error_propagates_unchanged(monkeypatch, tmp_path):
    """A solver module that fails on some other missing module is a bug, not "not installed".

    A throwaway module really imports a module that does not exist; the same ModuleNotFoundError
    must reach the caller (STYLE.md: no baseline silently turning into "not installed").
    """
    (tmp_path / "okt_broken_solver.py").write_text(
        "import okt_no_such_dependency_xyz\n\ndef solve(): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "okt_broken_solver", raising=False)
    with pytest.raises(ModuleNotFoundError) as info:
        learned_spec("okt_broken_solver").load()
    assert not isinstance(info.value, MissingExtraError)
    assert info.value.name == "okt_no_such_dependency_xyz"
    sys.modules.pop("okt_broken_solver", None)


def test_import_error_without_a_declared_extra_propagates(monkeypatch):
    """Only a solver that declares an extra may turn a missing torch into an install hint."""

    def fake_import(name, package=None):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(registry, "importlib", types.SimpleNamespace(import_module=fake_import))
    with pytest.raises(ModuleNotFoundError) as info:
        learned_spec(extra=None).load()
    assert not isinstance(info.value, MissingExtraError)


def test_listing_solvers_does_not_import_the_solver_module():
    """Solvers register by entry-point string: listing them must not import any backend.

    A fresh interpreter is needed because this test session has long imported everything.
    """
    code = textwrap.dedent("""
        import sys
        import optkit
        specs = optkit.solvers('contract')
        assert [s.name for s in specs], specs
        for mod in ('optkit.families.contract.exact_cvxpy', 'torch'):
            print(mod, mod in sys.modules)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == [
        "optkit.families.contract.exact_cvxpy False",
        "torch False",
    ]
