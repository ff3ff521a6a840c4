"""The paper's grid for podpack: `cpsat_fallback` on the failing scenarios, resumable.

    .venv/bin/python -m optkit.bench.podpack_grid --window 1 --seeds 20 --out runs/podpack-w1
    .venv/bin/python -m optkit.bench.podpack_grid --window 10 --seeds 8 --out runs/podpack-w10 \\
        --cells n4-ppn4-l2-u100 n8-ppn8-l4-u095
    .venv/bin/python -m optkit.bench.podpack_grid --window 1 --seeds 20 --out runs/podpack-w1 \\
        --report-only

Per cell (spec/podpack.md, "Generator"): the first `--seeds` seeds among 0..499 whose scenario
kube_default leaves with some pod pending (a cell with fewer says how many it had), written as
instance JSON under OUT/instances/<cell>/, then solved by `cpsat_fallback` with `--window`
seconds (set-up included) and `--threads` CP-SAT workers through the resumable ground-truth
engine (optkit.bench.baseline): one baseline data set per cell at OUT/rows/<cell>/, so a rerun
skips what is done, a Ctrl-C loses nothing finished and the grid can grow a cell at a time. The
same seeds serve every window (the 10 s run's 8 are the 1 s run's first 8).

Report (markdown on stdout, `--markdown FILE` too): overall, per priority-level and utilisation
slice, and per cell: the outcome shares (improved / default_optimal / undecided, from the
solver's certificate: judged on the cluster after the default, the plug-in's view); the extra
pods placed over the default summed over scenarios, per vector entry placed(>= t_k) with t_1
the highest priority (cumulative, so with L levels entry L counts every pod); evictions and
moves summed (against the default's bindings); the mean over scenarios of the per-resource
imbalance across nodes (std of requested/allocatable); the median time to the first
improvement (seconds from the call, the default's replay included). Every plan is re-scored
with evaluate() on the instance: a row with any violation is counted and listed, never hidden.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import optkit.families  # noqa: F401  (registers the families)
from optkit.bench.baseline import BaselineConfig, BaselineInterrupted, run_baseline
from optkit.core.jsonio import write_json_atomic
from optkit.families.podpack.evaluate import evaluate
from optkit.families.podpack.fallback import OUTCOMES
from optkit.families.podpack.generate import CELLS, GRID_LEVELS, FailingSeeds, draw, failing
from optkit.families.podpack.instance import PodpackDecision, PodpackInstance

SOLVER = "cpsat_fallback"
TARGETS = {1.0: (0.50, 0.25), 10.0: (0.75, 0.05)}
"""window s -> (improved at least, undecided at most), spec/podpack.md "Targets"."""
MAX_TIERS = max(GRID_LEVELS)


def cell_names(patterns: list[str] | None) -> list[str]:
    """Cells selected by name or substring ("l4", "u105", "n8-ppn4"), in the order of the
    patterns (then grid order): the order they run in. None: all 96 in grid order."""
    if not patterns:
        return list(CELLS)
    chosen = list(dict.fromkeys(c for p in patterns for c in CELLS if p in c))
    if not chosen:
        raise SystemExit(f"no cell matches {patterns}; names look like n8-ppn4-l2-u095")
    return chosen


def write_instances(out: Path, cell: str, seeds: int) -> tuple[Path, FailingSeeds]:
    """The cell's first `seeds` failing scenarios as instance JSON in OUT/instances/<cell>/
    (written once; the draw is seeded, so a rerun writes the same bytes)."""
    fs = failing(cell, seeds)
    folder = out / "instances" / cell
    folder.mkdir(parents=True, exist_ok=True)
    for s in fs.seeds:
        path = folder / f"{cell}-s{s}.json"
        if not path.exists():
            write_json_atomic(path, draw(CELLS[cell], s).to_dict())
    return folder, fs


def run_cell(out: Path, cell: str, seeds: int, window: float, threads: int, workers: int) -> None:
    folder, fs = write_instances(out, cell, seeds)
    config = BaselineConfig(
        solver=SOLVER, input_dir=folder, time_limit_s=window, threads=threads, solver_seed=0
    )
    summary = run_baseline(config, out / "rows" / cell, backend="local", workers=workers)
    short = f" (only {len(fs.seeds)} failing among seeds 0..{fs.scanned - 1})" if fs.short else ""
    print(f"{cell}: {summary.line()}{short}", file=sys.stderr, flush=True)


@dataclass
class Tally:
    n: int = 0
    outcomes: Counter = field(default_factory=Counter)
    errors: int = 0
    violating: list[str] = field(default_factory=list)
    extra_placed: np.ndarray = field(default_factory=lambda: np.zeros(MAX_TIERS, np.int64))
    tier_improved: np.ndarray = field(default_factory=lambda: np.zeros(MAX_TIERS, np.int64))
    evictions: int = 0
    moves: int = 0
    cpu_std: list[float] = field(default_factory=list)
    mem_std: list[float] = field(default_factory=list)
    first_s: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.n += other.n
        self.outcomes += other.outcomes
        self.errors += other.errors
        self.violating += other.violating
        self.extra_placed += other.extra_placed
        self.tier_improved += other.tier_improved
        self.evictions += other.evictions
        self.moves += other.moves
        self.cpu_std += other.cpu_std
        self.mem_std += other.mem_std
        self.first_s += other.first_s

    def share(self, outcome: str) -> float:
        return self.outcomes[outcome] / self.n if self.n else float("nan")


def tally_rows(rows: list[dict[str, Any]]) -> Tally:
    t = Tally()
    for row in rows:
        t.n += 1
        cert = json.loads(row["certificate"]) if row.get("certificate") else None
        if row["decision"] is None or cert is None or "outcome" not in cert:
            t.errors += 1
            t.outcomes["undecided"] += 1  # no answer in the window is no decision either
            continue
        inst = PodpackInstance.from_dict(json.loads(row["instance"]))
        report = evaluate(inst, PodpackDecision.from_dict(json.loads(row["decision"]), inst))
        if not report.feasible:
            t.violating.append(row["id"])
        t.outcomes[cert["outcome"]] += 1
        default, plan = cert["default_objective"], cert["plan_objective"]
        for k in range(len(default) // 2):
            gain = plan[2 * k] - default[2 * k]
            t.extra_placed[k] += gain
            t.tier_improved[k] += gain > 0
        t.evictions += len(cert["evictions"])
        t.moves += len(cert["moves"])
        t.cpu_std.append(report.imbalance["cpu"]["std"])
        t.mem_std.append(report.imbalance["memory"]["std"])
        if cert["outcome"] == "improved" and cert.get("first_improvement_s") is not None:
            t.first_s.append(cert["first_improvement_s"])
    return t


def read_cell(out: Path, cell: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    folder = out / "rows" / cell
    if not any(folder.glob("part-*.parquet")):
        return []
    return pq.read_table(folder).to_pylist()


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.0f}%"


def _mean(xs: list[float], fmt: str = "{:.3f}") -> str:
    return fmt.format(statistics.fmean(xs)) if xs else "-"


def table(tallies: dict[str, Tally], title: str) -> list[str]:
    head = (
        f"| {title} | n | improved | default_optimal | undecided | "
        "extra placed(>=t_1) / ... / (>=t_4) | evictions | moves | std cpu | std mem | "
        "first impr. s (median) | violations |"
    )
    lines = [head, "|" + " --- |" * 12]
    for name, t in tallies.items():
        tiers = " / ".join(str(int(v)) for v in t.extra_placed)
        median = f"{statistics.median(t.first_s):.2f}" if t.first_s else "-"
        lines.append(
            f"| {name} | {t.n} | {_pct(t.share('improved'))} | "
            f"{_pct(t.share('default_optimal'))} | {_pct(t.share('undecided'))} | {tiers} | "
            f"{t.evictions} | {t.moves} | {_mean(t.cpu_std)} | {_mean(t.mem_std)} | {median} | "
            f"{len(t.violating)} |"
        )
    return lines


def report(out: Path, cells: list[str], window: float, seeds: int) -> str:
    per_cell = {c: tally_rows(read_cell(out, c)) for c in cells}
    done = {c: t for c, t in per_cell.items() if t.n}
    overall = Tally()
    for t in done.values():
        overall.add(t)
    by_level: dict[str, Tally] = {}
    for c, t in done.items():
        for key in (f"levels {CELLS[c].levels}", f"util {CELLS[c].utilisation:.2f}"):
            by_level.setdefault(key, Tally()).add(t)
    lines = [
        f"## podpack grid: `{SOLVER}`, window {window:g} s, up to {seeds} failing seeds per cell",
        "",
        f"{len(done)} of {len(cells)} selected cells have rows ({overall.n} scenarios); "
        f"cells without rows: {', '.join(c for c in cells if c not in done) or 'none'}.",
        "",
        *table({"overall": overall}, "scope"),
        "",
        *table(dict(sorted(by_level.items())), "slice"),
        "",
        *table(done, "cell"),
    ]
    target = TARGETS.get(window)
    if target is not None and overall.n:
        imp, und = overall.share("improved"), overall.share("undecided")
        met = imp >= target[0] and und <= target[1]
        # a cell is complete with a row for each of its failing scenarios (a short cell has
        # fewer than `seeds` among seeds 0..499, and says so when it runs)
        full = len(done) == len(CELLS) and all(
            t.n >= len(list((out / "instances" / c).glob("*.json"))) for c, t in done.items()
        )
        scope = "the full grid" if full else f"a SUBSET ({len(done)} of {len(CELLS)} cells)"
        lines += [
            "",
            f"Target (window {window:g} s): improved >= {_pct(target[0])} and undecided <= "
            f"{_pct(target[1])}; measured on {scope}: improved {_pct(imp)}, undecided "
            f"{_pct(und)} -> {'met' if met else 'NOT met'}"
            + ("" if full else " on this subset (not a claim about the grid)")
            + ".",
        ]
    if overall.violating:
        lines += ["", f"Plans with violations: {', '.join(overall.violating)}"]
    if overall.errors:
        lines += ["", f"Rows without a plan or certificate (counted undecided): {overall.errors}"]
    assert set(overall.outcomes) <= set(OUTCOMES)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--window", type=float, required=True, help="seconds per scenario")
    ap.add_argument("--seeds", type=int, required=True, help="failing seeds per cell")
    ap.add_argument("--cells", nargs="*", help="cell names or substrings (default: all 96)")
    ap.add_argument("--out", type=Path, required=True, help="folder of this window's run")
    ap.add_argument("--threads", type=int, default=2, help="CP-SAT workers (spec: 2)")
    ap.add_argument("--workers", type=int, default=1, help="scenarios solved in parallel")
    ap.add_argument("--report-only", action="store_true", help="print the tables, solve nothing")
    ap.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = ap.parse_args(argv)
    cells = cell_names(args.cells)
    if not args.report_only:
        try:
            for cell in cells:
                run_cell(args.out, cell, args.seeds, args.window, args.threads, args.workers)
        except BaselineInterrupted as exc:
            print(f"interrupted: {exc}; rerun the same command to resume", file=sys.stderr)
    text = report(args.out, cells, args.window, args.seeds)
    print(text)
    if args.markdown is not None:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
