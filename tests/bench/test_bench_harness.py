"""The benchmark harness (optkit/bench/harness.py) on a toy family and on contract.

The toy family `toy` is registered in an isolated registry only for the test that asks for it:
maximise x subject to 0 <= x <= cap. Its optimum is x = cap, so every method's gap is known by
hand: `half` (x = cap/2) is 0.5 from the optimum, `over` (x = 1.5 cap, a bound) is -0.5 and
infeasible. `fragile` crashes on cap 13 and `picky` refuses it as bad input: both must give an
error row for that item only. The harness is never told the family's name.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from optkit.bench import harness
from optkit.core import registry
from optkit.core.benchmark import BenchItem, Scenario
from optkit.core.errors import InvalidInputError
from optkit.core.jsonio import read_json
from optkit.core.result import SolverOutput
from optkit.core.status import Guarantee, Status

TIMING_COLUMNS = {"wall_s", "build_s", "solve_s", "time_per_decision_s"}
BAD_CAP = 13.0


@dataclasses.dataclass(frozen=True)
class ToyInstance:
    cap: float


@dataclasses.dataclass(frozen=True)
class ToyDecision:
    x: float

    def to_dict(self) -> dict:
        return {"x": self.x}


@dataclasses.dataclass(frozen=True)
class ToyEvaluation:
    objective: float
    max_violation: float
    feasible: bool


def toy_evaluate(instance: ToyInstance, decision: ToyDecision) -> ToyEvaluation:
    violation = max(0.0, decision.x - instance.cap, -decision.x)
    return ToyEvaluation(decision.x, violation, violation <= 1e-6)


def solve_exact(instance, deadline, seed, threads, params):
    return SolverOutput(Status.OPTIMAL, instance.cap, instance.cap, ToyDecision(instance.cap))


def solve_half(instance, deadline, seed, threads, params):
    return SolverOutput(Status.FEASIBLE, instance.cap / 2, None, ToyDecision(instance.cap / 2))


def solve_over(instance, deadline, seed, threads, params):
    x = 1.5 * instance.cap
    return SolverOutput(Status.OPTIMAL, x, x, ToyDecision(x), flags=("relaxation",))


def solve_fragile(instance, deadline, seed, threads, params):
    if instance.cap == BAD_CAP:
        raise RuntimeError("fragile breaks on 13")
    return solve_half(instance, deadline, seed, threads, params)


def solve_picky(instance, deadline, seed, threads, params):
    if instance.cap == BAD_CAP:
        raise InvalidInputError("cap", "picky refuses 13")
    return solve_half(instance, deadline, seed, threads, params)


def toy_items(seeds, quick):
    """caps 2, 13, 40 per seed (scaled by seed + 1); cap 40's optimum is stored, its decision
    count is 4 (an online-style item)."""
    items = []
    for s in seeds:
        items += [
            BenchItem(f"c2-s{s}", ToyInstance(2.0 * (s + 1)), seed=s),
            BenchItem(f"c13-s{s}", ToyInstance(BAD_CAP), seed=s),
            BenchItem(f"c40-s{s}", ToyInstance(40.0), seed=s, reference=40.0, decisions=4),
        ]
    return items[:2] if quick else items


def toy_scenarios():
    return (
        Scenario("caps", "toy caps", toy_items, reference="exact", seeds=(0, 1)),
        Scenario("noref", "no optimum known", toy_items, methods=("half",), reference=None),
    )


TOY_SOLVERS = {
    "exact": Guarantee.EXACT,
    "over": Guarantee.BOUND,
    "half": Guarantee.HEURISTIC,
    "fragile": Guarantee.HEURISTIC,
    "picky": Guarantee.HEURISTIC,
}


@pytest.fixture
def toy(isolated_registry):
    """Register `toy` (with its bench hook) in the isolated registry; returns its name."""
    registry.register_family(
        registry.FamilySpec(
            name="toy",
            instance_type=ToyInstance,
            decision_type=ToyDecision,
            evaluate=toy_evaluate,
            generate=lambda preset, seed: ToyInstance(1.0),
            presets=("default",),
            default_preset="default",
            sense="max",
            default_solver="exact",
            bench=f"{__name__}:toy_scenarios",
        )
    )
    for name, guarantee in TOY_SOLVERS.items():
        registry.register_solver(
            registry.SolverSpec("toy", name, guarantee, f"{__name__}:solve_{name}")
        )
    return "toy"


def run(*targets, **options) -> harness.BenchRun:
    quick = options.pop("quick", False)
    return harness.run_bench(harness.plan(targets, quick=quick, **options), quick=quick)


def by_key(bench: harness.BenchRun, scenario: str = "caps") -> dict:
    return {
        (r.instance_id, r.method): r
        for r in bench.rows
        if r.scenario == scenario and r.time_limit_s is None
    }


def test_a_registered_hook_is_benchmarked_without_naming_the_family(toy):
    """plan() with no target finds toy through the registry; the harness has no family names."""
    planned = harness.plan()
    assert "toy/caps" in {r.label for r in planned.runs}
    source = Path(harness.__file__).read_text(encoding="utf-8")
    for family in registry.family_names():
        assert f'"{family}"' not in source and f"'{family}'" not in source


def test_every_method_runs_on_every_item_with_hand_computed_gaps(toy):
    rows = by_key(run("toy/caps"))
    ids = [f"c{c}-s{s}" for s in (0, 1) for c in (2, 13, 40)]
    assert set(rows) == {(i, m) for i in ids for m in TOY_SOLVERS}
    for i in ids:
        assert rows[i, "half"].gap == pytest.approx(0.5)
        assert rows[i, "exact"].gap == 0.0
        assert rows[i, "over"].gap == pytest.approx(-0.5)
        assert rows[i, "over"].feasible is False and rows[i, "half"].feasible is True
        assert rows[i, "over"].flags == "relaxation"
    assert rows["c13-s0", "half"].gap == pytest.approx(0.5)  # half of 13: (13 - 6.5) / 13


def test_a_method_failing_on_one_item_gives_an_error_row_and_the_run_goes_on(toy):
    rows = by_key(run("toy/caps", seeds=[0]))
    crash, refusal = rows["c13-s0", "fragile"], rows["c13-s0", "picky"]
    assert crash.status == refusal.status == "error"
    assert "RuntimeError: fragile breaks on 13" in crash.message
    assert "InvalidInputError: cap: picky refuses 13" in refusal.message
    assert crash.objective is None and crash.gap is None and crash.feasible is False
    for other in ("c2-s0", "c40-s0"):  # the same methods answer the other items
        assert rows[other, "fragile"].status == rows[other, "picky"].status == "feasible"


def test_references_stored_or_solved_and_time_per_decision(toy):
    rows = by_key(run("toy/caps", seeds=[1]))
    assert rows["c40-s1", "half"].reference_source == "stored"
    assert rows["c2-s1", "half"].reference_source == "solved:exact"
    assert rows["c2-s1", "half"].reference == 4.0  # cap 2 * (seed + 1)
    r = rows["c40-s1", "half"]
    assert r.decisions == 4 and r.time_per_decision_s == pytest.approx(r.wall_s / 4)
    assert {r.seed for r in rows.values()} == {1}


def test_reference_solved_separately_when_it_is_not_among_the_methods(toy):
    bench = run("toy/caps", methods=["half"], seeds=[0])
    assert {r.method for r in bench.rows} == {"half"}
    rows = by_key(bench)
    assert rows["c2-s0", "half"].reference == 2.0 and rows["c2-s0", "half"].gap == 0.5


def test_without_a_certified_optimum_gaps_are_blank(toy):
    """`noref` names no reference solver: only the item that carries a stored optimum (c40)
    gets a gap; the others are blank rather than measured against anything else."""
    rows = by_key(run("toy/noref"), "noref")
    assert rows["c2-s0", "half"].gap is None and rows["c2-s0", "half"].reference is None
    assert rows["c40-s0", "half"].gap == pytest.approx(0.5)
    assert rows["c40-s0", "half"].reference_source == "stored"


def test_a_failed_reference_leaves_gaps_blank_and_says_so(toy, monkeypatch):
    """The reference solver must be optimal to certify an optimum; here it errors on cap 2."""

    exact = solve_exact

    def exact_but_not_on_two(instance, deadline, seed, threads, params):
        if instance.cap == 2.0:
            return SolverOutput(Status.ERROR, message="no")
        return exact(instance, deadline, seed, threads, params)

    monkeypatch.setattr(f"{__name__}.solve_exact", exact_but_not_on_two)
    bench = run("toy/caps", seeds=[0], methods=["half"])
    rows = by_key(bench)
    assert rows["c2-s0", "half"].gap is None
    assert rows["c13-s0", "half"].gap == pytest.approx(0.5)
    assert any("1 of 3 item(s) have no certified optimum" in n for n in bench.runs[0].notes)


def test_time_limits_make_one_row_per_limit(toy):
    bench = run("toy/caps", seeds=[0], time_limits_s=[0.5, None], methods=["half", "exact"])
    assert sorted({r.time_limit_s for r in bench.rows}, key=str) == [0.5, None]
    assert len(bench.rows) == 3 * 2 * 2


def test_quick_uses_the_scenarios_quick_subset(toy):
    bench = run("toy/caps", quick=True)
    assert {r.instance_id for r in bench.rows} == {"c2-s0", "c13-s0"}


def test_bad_names_fail_before_any_solve(toy):
    with pytest.raises(InvalidInputError, match="unknown method 'nope'"):
        harness.plan(["toy"], methods=["nope"])
    with pytest.raises(InvalidInputError, match="no scenario 'nope'; valid: caps, noref"):
        harness.plan(["toy/nope"])
    with pytest.raises(Exception, match="unknown family 'nope'"):
        harness.plan(["nope"])


def test_a_method_whose_extra_is_missing_is_skipped_with_one_note(toy, monkeypatch):
    """A solver needing an extra this environment lacks (edmsac without torch) gives one note
    and no rows; named with --methods it is refused before any solve, with the install hint."""
    registry.register_solver(
        registry.SolverSpec(
            "toy", "needs_ray", Guarantee.LEARNED, f"{__name__}:solve_half", extra="ray"
        )
    )
    real_find_spec = harness.registry.importlib.util.find_spec
    monkeypatch.setattr(
        registry.importlib.util, "find_spec",
        lambda name, *a: None if name == "ray" else real_find_spec(name, *a),
    )  # fmt: skip
    assert registry.get_family("toy").solvers["needs_ray"].missing_extra() == "ray"
    assert registry.get_family("toy").solvers["exact"].missing_extra() is None
    bench = run("toy/caps")
    assert "needs_ray" not in {r.method for r in bench.rows}
    assert set(TOY_SOLVERS) == {r.method for r in bench.rows}
    notes = bench.runs[0].notes
    assert any("'needs_ray' needs the optional 'ray' extra" in n for n in notes), notes
    with pytest.raises(InvalidInputError, match=r"pip install 'optkit\[ray\]'") as info:
        harness.plan(["toy"], methods=["needs_ray"])
    assert info.value.field == "--methods"
    monkeypatch.setattr(registry.importlib.util, "find_spec", real_find_spec)
    assert "needs_ray" in {m for m, _ in harness.plan(["toy/caps"]).runs[0].methods}


def test_a_family_without_hook_is_a_note_unless_named(toy):
    nohook = dataclasses.replace(registry.get_family("toy"), name="nohook", bench=None, solvers={})
    registry.register_family(nohook)
    assert any(n.startswith("nohook: no bench scenarios") for n in harness.plan().notes)
    with pytest.raises(InvalidInputError, match="'nohook' has no bench scenarios"):
        harness.plan(["nohook"])


def test_a_broken_hook_is_a_note_not_a_dead_run(toy):
    broken = dataclasses.replace(
        registry.get_family("toy"), name="broken", bench=f"{__name__}:missing", solvers={}
    )
    registry.register_family(broken)
    planned = harness.plan()
    assert any(n.startswith("broken: bench hook") for n in planned.notes)
    assert "toy/caps" in {r.label for r in planned.runs}


# --- contract, the reference family ------------------------------------------------------------
SUITE = Path(__file__).resolve().parents[2] / "instances" / "contract" / "suite-v1"


def test_contract_suite_gaps_use_the_stored_certified_objectives():
    """Quick suite rows: reference = the stored solution's re-scored objective, and
    gap = (optimum - value) / max(|optimum|, 1) recomputed here from optkit.solve."""
    import optkit

    bench = run("contract/suite", quick=True, methods=["static_repeat", "uniform"])
    assert len(bench.rows) == 2 * 8
    for r in bench.rows:
        stored = read_json(SUITE / f"{r.instance_id}.solution.json")["evaluation"]["objective"]
        assert r.reference == stored and r.reference_source == "stored"
        value = optkit.solve(optkit.load(SUITE / f"{r.instance_id}.json"), r.method)
        expected = (stored - value.evaluation.objective) / max(abs(stored), 1.0)
        assert r.gap == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert r.gap >= -1e-9  # a feasible heuristic cannot beat the certified optimum


def test_contract_numbers_are_deterministic_with_fixed_seeds():
    """Two runs, same seeds: every column but the timings is identical (cvxpy is kept out:
    its answers may differ below 1e-6 between a process's first and later solves)."""
    methods = ["closed_form", "first_best", "static_repeat", "uniform"]

    def strip(bench):
        return [
            {k: v for k, v in dataclasses.asdict(r).items() if k not in TIMING_COLUMNS}
            for r in bench.rows
            if r.scenario == "suite"
        ]

    first = run("contract/suite", "contract/drawn", quick=True, methods=methods, seeds=[7])
    second = run("contract/suite", "contract/drawn", quick=True, methods=methods, seeds=[7])
    assert strip(first) == strip(second)
    drawn = [[r for r in b.rows if r.scenario == "drawn"] for b in (first, second)]
    assert [r.instance_id for r in drawn[0]] == [r.instance_id for r in drawn[1]]
    for a, b in zip(*drawn, strict=True):
        assert a.objective_json == b.objective_json and a.status == b.status
        assert a.reference == pytest.approx(b.reference, rel=1e-6)  # cvxpy's optimum
    assert json.loads(drawn[0][0].objective_json) == drawn[0][0].objective


def test_model_cards_follow_the_checkpoint_convention(tmp_path):
    """models/<name>.pt with its <name>.md card is listed; a lone .md (a README) is not."""
    from optkit.bench.harness import model_cards

    (tmp_path / "contract-edmsac-v1.pt").write_bytes(b"x")
    (tmp_path / "contract-edmsac-v1.md").write_text("# card\n")
    (tmp_path / "README.md").write_text("# not a card\n")
    assert [c.name for c in model_cards(tmp_path)] == ["contract-edmsac-v1"]
