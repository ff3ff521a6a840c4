"""Every contract solver on the shipped suite, as a distance to the certified optimum.

    python -m optkit.bench.contract_baselines [--suite instances/contract/suite-v1]

Prints two markdown tables for docs/contract.md:
  1. per solver: how many instances it answered, its status counts, and the relative distance
     (optimum - value) / |optimum| of evaluate()'s objective (negative for first_best, an upper
     bound), with the largest max violation it produced;
  2. per suite variant: the mean relative loss of static_repeat and uniform and the mean
     relative excess of first_best, and how often closed_form applies.
The optimum is the certified objective stored beside each instance (*.solution.json).
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

import optkit
from optkit.core.jsonio import read_json
from optkit.core.result import SolveResult
from optkit.core.status import Status

SOLVERS = ("cvxpy", "fast", "closed_form", "first_best", "static_repeat", "uniform")
DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "instances" / "contract" / "suite-v1"


def distances(suite: Path) -> list[dict]:
    rows = []
    for f in sorted(suite.glob("*.json")):
        if f.name.endswith(".solution.json"):
            continue
        inst = optkit.load(f)
        opt = SolveResult.from_dict(read_json(f.with_name(f.stem + ".solution.json"))).objective
        variant = f.stem.rsplit("-I", 1)[0]
        for solver in SOLVERS:
            res = optkit.solve(inst, solver)
            row = {"instance": f.stem, "variant": variant, "solver": solver, "status": res.status}
            if res.evaluation is not None:
                row["distance"] = (opt - res.evaluation.objective) / max(abs(opt), 1.0)
                row["max_violation"] = res.evaluation.max_violation
            rows.append(row)
    return rows


def _fmt(x: float) -> str:
    return f"{x:.2e}" if abs(x) < 1e-3 else f"{x:.4f}"


def tables(rows: list[dict]) -> str:
    out = [
        "| solver | answered | statuses | distance median | distance max | largest max violation |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for solver in SOLVERS:
        mine = [r for r in rows if r["solver"] == solver]
        answered = [r for r in mine if "distance" in r]
        counts = defaultdict(int)
        for r in mine:
            counts[r["status"].value] += 1
        status = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        d = [r["distance"] for r in answered]
        worst = max((r["max_violation"] for r in answered), default=0.0)
        out.append(
            f"| {solver} | {len(answered)}/{len(mine)} | {status} | "
            f"{_fmt(statistics.median(d)) if d else '-'} | "
            f"{_fmt(max(d, key=abs)) if d else '-'} | {worst:.1e} |"
        )
    out += [
        "",
        "| variant | static_repeat loss (mean) | uniform loss (mean) "
        "| first_best excess (mean) | closed_form applies |",
        "| --- | --- | --- | --- | --- |",
    ]
    by_variant: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_variant[r["variant"]][r["solver"]].append(r)
    for variant, per in by_variant.items():

        def mean(solver: str, sign: float = 1.0, per=per) -> str:
            d = [sign * r["distance"] for r in per[solver] if "distance" in r]
            return _fmt(statistics.fmean(d)) if d else "-"

        applies = sum(r["status"] is Status.OPTIMAL for r in per["closed_form"])
        out.append(
            f"| {variant} | {mean('static_repeat')} | {mean('uniform')} | "
            f"{mean('first_best', -1.0)} | {applies}/{len(per['closed_form'])} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    args = ap.parse_args(argv)
    print(tables(distances(args.suite)))


if __name__ == "__main__":
    main()
