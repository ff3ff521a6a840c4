"""The benchmark report: DIR/index.md, DIR/index.html, DIR/plots/*.png, DIR/rows/*.parquet.

One table per family and scenario (and time limit when there are several): method, guarantee,
n, status counts, mean objective, mean gap to the certified optimum with a 95% Student-t
confidence interval over the scenario's items (instances x seeds), feasible share, median time
per decision. The raw rows are Parquet files with one schema, so
`pyarrow.parquet.read_table(DIR / "rows")` reads them all as one table. index.html is a single
self-contained file (CSS inline, plots embedded as data URIs: no network assets).
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats

from optkit.bench.harness import BenchRow, BenchRun, ModelCard, ScenarioRun
from optkit.core.benchmark import Plot
from optkit.core.errors import InvalidInputError

matplotlib.use("Agg")  # files only, never a window; set before anything draws

CONFIDENCE = 0.95
MARKER = "report.json"
"""Written into every report folder; a non-empty folder without it is not ours to overwrite."""
GAP_LINTHRESH = 1e-6
"""Gap plots use a symlog axis, linear within ±1e-6: certified gaps (~1e-9) sit on the zero
line while heuristic losses (1e-3..1) and bound excesses (negative) stay readable."""

_ARROW_TYPES = {
    "str": pa.string(),
    "int": pa.int64(),
    "bool": pa.bool_(),
    "float": pa.float64(),
    "float | None": pa.float64(),
}
ROW_SCHEMA = pa.schema([(f.name, _ARROW_TYPES[f.type]) for f in fields(BenchRow)])


@dataclass(frozen=True)
class Summary:
    """One table line: a method's rows of one scenario and time limit."""

    method: str
    guarantee: str
    time_limit_s: float | None
    n: int
    statuses: dict[str, int]
    n_objective: int
    """Rows with a decision (and so an objective)."""
    mean_objective: float | None
    n_gap: int
    """Rows with a decision and a certified optimum to compare with."""
    mean_gap: float | None
    gap_ci: float | None
    """Half-width of the 95% Student-t interval of the mean gap (None with fewer than 2 rows)."""
    feasible_share: float
    """Rows whose decision evaluate() calls feasible, over all n rows."""
    median_time_per_decision_s: float


@dataclass(frozen=True)
class Section:
    """Extra text (and an optional table) a caller adds after the benchmark tables."""

    title: str
    text: str
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float | None]:
    """Mean and the half-width of its Student-t confidence interval (None below 2 values)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None
    sem = statistics.stdev(values) / math.sqrt(len(values))
    return mean, float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * sem)


def summarise(run: ScenarioRun) -> list[Summary]:
    """Table lines in run order: time limits as given, methods exact first."""
    out = []
    for limit in run.time_limits_s:
        for method, guarantee in run.methods:
            rows = [r for r in run.rows if r.method == method and r.time_limit_s == limit]
            if not rows:
                continue
            objectives = [r.objective for r in rows if r.objective is not None]
            gaps = [r.gap for r in rows if r.gap is not None]
            mean_gap, ci = mean_ci(gaps) if gaps else (None, None)
            out.append(
                Summary(
                    method=method,
                    guarantee=guarantee,
                    time_limit_s=limit,
                    n=len(rows),
                    statuses=dict(sorted(Counter(r.status for r in rows).items())),
                    n_objective=len(objectives),
                    mean_objective=statistics.fmean(objectives) if objectives else None,
                    n_gap=len(gaps),
                    mean_gap=mean_gap,
                    gap_ci=ci,
                    feasible_share=sum(r.feasible for r in rows) / len(rows),
                    median_time_per_decision_s=statistics.median(
                        r.time_per_decision_s for r in rows
                    ),
                )
            )
    return out


# --- formatting ------------------------------------------------------------------------------
def fmt_num(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    return f"{x:.2e}" if abs(x) < 1e-3 or abs(x) >= 1e6 else f"{x:.4f}"


def fmt_objective(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def fmt_seconds(s: float) -> str:
    if s >= 1.0:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{1e3 * s:.3g} ms"
    return f"{1e6 * s:.3g} µs"


def fmt_limit(limit: float | None) -> str:
    return "none" if limit is None else f"{limit:g} s"


def fmt_gap(s: Summary) -> str:
    if s.mean_gap is None:
        return "-"
    ci = "" if s.gap_ci is None else f" ± {fmt_num(s.gap_ci)}"
    return f"{fmt_num(s.mean_gap)}{ci} (n={s.n_gap})"


TABLE_HEADER = (
    "method",
    "guarantee",
    "n",
    "statuses",
    "mean objective",
    "mean gap ± 95% CI",
    "feasible share",
    "time / decision (median)",
)


def table_cells(s: Summary) -> tuple[str, ...]:
    return (
        s.method,
        s.guarantee,
        str(s.n),
        ", ".join(f"{k} {v}" for k, v in s.statuses.items()),
        fmt_objective(s.mean_objective)
        + ("" if s.n_objective in (0, s.n) else f" (n={s.n_objective})"),
        fmt_gap(s),
        f"{s.feasible_share:.2f}",
        fmt_seconds(s.median_time_per_decision_s),
    )


# --- plots -----------------------------------------------------------------------------------
def _figure(width: float = 7.0, height: float = 4.0):
    from matplotlib.figure import Figure  # the OO API: no pyplot global state

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Any, path: Path) -> Path:
    _atomic(path, lambda tmp: fig.savefig(tmp, format="png", metadata={"Software": None}))
    return path


def gap_plot(run: ScenarioRun, folder: Path) -> Plot | None:
    """Distribution of gaps per method at the largest time budget (None counts as largest)."""
    limit = max(run.time_limits_s, key=lambda t: math.inf if t is None else t)
    per = [
        (
            m,
            [
                r.gap
                for r in run.rows
                if r.method == m and r.time_limit_s == limit and r.gap is not None
            ],
        )
        for m, _ in run.methods
    ]
    per = [(m, g) for m, g in per if g]
    if not per:
        return None
    fig = _figure(max(5.0, 1.2 * len(per) + 2), 4.2)
    ax = fig.add_subplot()
    ax.boxplot([g for _, g in per], showfliers=False, widths=0.5)
    jitter = np.random.default_rng(0)  # fixed: the same rows draw the same picture
    for k, (_, g) in enumerate(per, start=1):
        ax.scatter(k + jitter.uniform(-0.15, 0.15, len(g)), g, s=9, alpha=0.6, color="tab:blue")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_yscale("symlog", linthresh=GAP_LINTHRESH)
    ax.set_xticks(range(1, len(per) + 1), [m for m, _ in per], rotation=20)
    ax.set_ylabel("gap to certified optimum (relative)")
    ax.set_title(f"{run.label}: gaps per method (time limit {fmt_limit(limit)})")
    path = _save(fig, folder / f"{run.family}-{run.scenario.name}-gaps.png")
    return Plot(
        path,
        f"{run.label}: distribution of the gap to the certified optimum per method "
        f"(symlog axis, linear within ±{GAP_LINTHRESH:g}; negative = a bound above it)",
    )


def gap_vs_time_plot(run: ScenarioRun, folder: Path) -> Plot | None:
    """Mean gap and feasible share per method against the time budget, where several budgets
    ran ("none", no limit, is drawn a decade right of the largest finite budget). The share
    panel matters: a mean gap over the rows that got a decision hides the ones that did not."""
    if len(run.time_limits_s) < 2:
        return None
    finite = sorted(t for t in run.time_limits_s if t is not None)
    unlimited_x = 10.0 * finite[-1] if finite else 1.0
    limits = finite + ([None] if None in run.time_limits_s else [])
    xs = {t: unlimited_x if t is None else t for t in limits}
    fig = _figure(8.0, 6.0)
    gap_ax, share_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    drawn = False
    for method, _ in run.methods:
        gap_points, share_points = [], []
        for t in limits:
            rows = [r for r in run.rows if r.method == method and r.time_limit_s == t]
            gaps = [r.gap for r in rows if r.gap is not None]
            if gaps:
                gap_points.append((xs[t], statistics.fmean(gaps)))
            if rows:
                share_points.append((xs[t], sum(r.feasible for r in rows) / len(rows)))
        gap_x, gap_y = zip(*gap_points, strict=True) if gap_points else ((), ())
        (line,) = gap_ax.plot(gap_x, gap_y, marker="o", label=method)  # one colour per method
        if share_points:
            share_ax.plot(*zip(*share_points, strict=True), marker="o", color=line.get_color())
        drawn = drawn or bool(gap_points)
    if not drawn:
        return None
    share_ax.set_xscale("log")
    share_ax.set_xticks([xs[t] for t in limits], [fmt_limit(t) for t in limits])
    share_ax.minorticks_off()
    gap_ax.set_yscale("symlog", linthresh=GAP_LINTHRESH)
    gap_ax.axhline(0.0, color="grey", lw=0.8)
    share_ax.set_xlabel("time limit (set-up included)")
    gap_ax.set_ylabel("mean gap to certified optimum")
    share_ax.set_ylabel("feasible share")
    share_ax.set_ylim(-0.05, 1.05)
    gap_ax.set_title(f"{run.label}: gap and feasible share vs time budget")
    gap_ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    path = _save(fig, folder / f"{run.family}-{run.scenario.name}-gap-vs-time.png")
    return Plot(
        path,
        f"{run.label}: mean gap (over the rows with a decision) and feasible share (over all "
        "rows) against the time budget; intervals in the tables",
    )


def scenario_plots(run: ScenarioRun, folder: Path) -> tuple[list[Plot], list[str]]:
    """The harness's plots plus the family's own (a failing family hook becomes a note)."""
    plots = [p for p in (gap_plot(run, folder), gap_vs_time_plot(run, folder)) if p]
    notes = []
    if run.scenario.plots is not None and run.rows:
        try:
            plots += list(run.scenario.plots([asdict(r) for r in run.rows], folder))
        except Exception as exc:
            notes.append(f"the family's plots hook failed: {type(exc).__name__}: {exc}")
    return plots, notes


# --- files -----------------------------------------------------------------------------------
def _atomic(path: Path, write) -> None:
    """write(tmp_path) then rename over `path`: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # open() keeps the umask's mode
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def rows_table(rows: Sequence[BenchRow]) -> pa.Table:
    return pa.Table.from_pylist([asdict(r) for r in rows], schema=ROW_SCHEMA)


def check_folder(folder: Path) -> None:
    """Refuse a file, or a non-empty folder that holds no optkit report (never overwritten).

    Callers check before the first solve so a bad --report costs nothing.
    """
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError("--report", f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise InvalidInputError(
            "--report", f"{folder} is not empty and holds no optkit report; choose another folder"
        )


def _prepare(folder: Path) -> None:
    """Create the folder (checked first); clear our old rows and plots so a rerun with fewer
    scenarios leaves no stale file behind."""
    check_folder(folder)
    for sub, pattern in (("rows", "*.parquet"), ("plots", "*.png")):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        for old in (folder / sub).glob(pattern):
            old.unlink()


@dataclass(frozen=True)
class ScenarioReport:
    """A scenario run with what the report shows of it."""

    run: ScenarioRun
    summaries: list[Summary]
    plots: list[Plot]
    notes: list[str]
    rows_file: Path | None


def write_report(
    folder: Path,
    bench: BenchRun,
    models: Sequence[ModelCard] = (),
    models_folder: Path | None = None,
    sections: Sequence[Section] = (),
    title: str = "optkit benchmark",
) -> Path:
    """Write the whole report into `folder`; returns the path of index.html."""
    folder = Path(folder)
    _prepare(folder)
    parts = []
    for run in bench.runs:
        plots, notes = scenario_plots(run, folder / "plots")
        rows_file = None
        if run.rows:
            rows_file = folder / "rows" / f"{run.family}-{run.scenario.name}.parquet"
            table = rows_table(run.rows)
            _atomic(rows_file, lambda tmp, table=table: pq.write_table(table, tmp))
        parts.append(ScenarioReport(run, summarise(run), plots, run.notes + notes, rows_file))
    doc = _document(folder, bench, parts, models, models_folder, sections, title)
    _write_text(folder / "index.md", render_markdown(doc))
    _write_text(folder / "index.html", render_html(doc))
    _write_text(folder / MARKER, json.dumps(_machine(bench, parts, models), indent=2) + "\n")
    return folder / "index.html"


# --- the document: a list of blocks both renderers share -------------------------------------
# ("h1"|"h2"|"h3", text) | ("p", text) | ("list", [text]) | ("table", header, rows)
# | ("img", path, caption) | ("code", text)


def _document(
    folder: Path,
    bench: BenchRun,
    parts: list[ScenarioReport],
    models: Sequence[ModelCard],
    models_folder: Path | None,
    sections: Sequence[Section],
    title: str,
) -> list[tuple]:
    prov = bench.provenance
    doc: list[tuple] = [("h1", title)]
    commit = prov.get("git_commit") or "unknown (not run from a git checkout)"
    if prov.get("git_dirty"):
        commit += " (with uncommitted changes)"
    doc.append(
        (
            "table",
            ("provenance", ""),
            [
                ("date", prov["date_utc"]),
                ("command", prov["command"]),
                ("optkit", prov["optkit"]),
                ("git commit", commit),
                ("host", f"{prov['host']} ({prov['cpus']} CPUs, load {prov['load_average']})"),
                (
                    "versions",
                    ", ".join(f"{k} {v}" for k, v in prov["versions"].items() if k != "optkit"),
                ),
            ],
        )
    )
    doc.append(
        (
            "p",
            "Gap = (certified optimum − value) / max(|optimum|, 1) of the objective evaluate() "
            "re-computes for the method's decision (mirrored for minimisation): positive is "
            "worse than the optimum, negative means a bound above it. The mean gap's 95% "
            "interval is a Student-t interval over the scenario's items (instances × seeds); "
            "it is taken over rows with a decision, infeasible ones included (see feasible "
            "share). Feasible share counts every row. Times are wall clock per decision, "
            "set-up included, in this process on this machine.",
        )
    )
    doc.append(("h2", "Families"))
    benched = sorted({p.run.family for p in parts})
    items = [f"benchmarked: {', '.join(benched) or 'none'}"] + list(bench.notes)
    doc.append(("list", items))

    doc.append(("h2", "Models"))
    where = models_folder or Path("models")
    if models:
        doc.append(
            (
                "table",
                ("model", "card", "summary"),
                [
                    (
                        m.name,
                        m.path.as_posix(),
                        ", ".join(f"{k}: {v}" for k, v in m.summary.items()) or "-",
                    )
                    for m in models
                ],
            )
        )
    else:
        doc.append(
            (
                "p",
                f"No trained models in {where} (none shipped yet). A learned policy is a "
                "registered solver with guarantee `learned`: once registered it appears in "
                "every table of its family.",
            )
        )

    for part in parts:
        run, sc = part.run, part.run.scenario
        doc.append(("h2", f"{run.family} / {sc.name}"))
        doc.append(("p", sc.description))
        ref = sc.reference or "none"
        facts = [
            f"items: {run.n_items} (seeds {', '.join(map(str, run.seeds))})",
            f"time limits: {', '.join(fmt_limit(t) for t in run.time_limits_s)}",
            f"certified optimum: {ref}"
            + (
                " (stored certified solutions)"
                if any(r.reference_source == "stored" for r in run.rows)
                else ""
            ),
            f"methods: {', '.join(m for m, _ in run.methods) or 'none'}",
        ]
        if part.rows_file is not None:
            facts.append(f"rows: {part.rows_file.relative_to(folder).as_posix()}")
        doc.append(("list", facts))
        several = len(run.time_limits_s) > 1
        for limit in run.time_limits_s:
            lines = [s for s in part.summaries if s.time_limit_s == limit]
            if not lines:
                continue
            if several:
                doc.append(("h3", f"time limit {fmt_limit(limit)}"))
            doc.append(("table", TABLE_HEADER, [table_cells(s) for s in lines]))
        errors = [r for r in run.rows if r.status == "error"]
        notes = list(part.notes)
        if errors:
            notes.append(
                f"{len(errors)} error row(s); first: "
                + "; ".join(f"{r.method} on {r.instance_id}: {r.message}" for r in errors[:3])
            )
        if notes:
            doc.append(("list", notes))
        for plot in part.plots:
            doc.append(("img", plot.path, plot.caption))

    for s in sections:
        doc.append(("h2", s.title))
        if s.text:
            doc.append(("p", s.text))
        if s.header:
            doc.append(("table", s.header, list(s.rows)))

    doc.append(("h2", "Raw rows"))
    doc.append(
        (
            "p",
            "One Parquet file per scenario in rows/, one schema (one row per item, seed, method "
            "and time limit, with provenance columns); read them all at once with:",
        )
    )
    doc.append(("code", 'import pyarrow.parquet as pq\nrows = pq.read_table("rows").to_pandas()'))
    return doc


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: list[tuple]) -> str:
    out: list[str] = []
    for block in doc:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out += ["#" * int(kind[1]) + " " + block[1], ""]
        elif kind == "p":
            out += [block[1], ""]
        elif kind == "list":
            out += [f"- {_md_cell(x)}" for x in block[1]] + [""]
        elif kind == "table":
            header, rows = block[1], block[2]
            out.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("")
        elif kind == "img":
            out += [f"![{block[2]}](plots/{block[1].name})", "", f"*{block[2]}*", ""]
        elif kind == "code":
            out += ["```python", block[1], "```", ""]
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f2f2f2; }
td { font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
figure { margin: 1rem 0; }
figcaption { font-size: 0.9rem; color: #555; }
pre { background: #f6f6f6; padding: 0.6rem; }
"""


def render_html(doc: list[tuple]) -> str:
    e = html.escape
    body: list[str] = []
    title = next((b[1] for b in doc if b[0] == "h1"), "optkit report")
    for block in doc:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{e(block[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{e(block[1])}</p>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{e(str(x))}</li>" for x in block[1]) + "</ul>")
        elif kind == "table":
            header, rows = block[1], block[2]
            head = (
                ""
                if not any(header)
                else ("<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
            )
            cells = "".join(
                "<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows
            )
            body.append(f"<table>{head}{cells}</table>")
        elif kind == "img":
            data = base64.b64encode(block[1].read_bytes()).decode("ascii")
            body.append(
                f'<figure><img alt="{e(block[2])}" src="data:image/png;base64,{data}">'
                f"<figcaption>{e(block[2])}</figcaption></figure>"
            )
        elif kind == "code":
            body.append(f"<pre><code>{e(block[1])}</code></pre>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _machine(bench: BenchRun, parts: list[ScenarioReport], models: Sequence[ModelCard]) -> dict:
    """report.json: provenance and every table line, for scripts (and the overwrite marker)."""
    return {
        "provenance": bench.provenance,
        "notes": bench.notes,
        "models": [{"name": m.name, "card": str(m.path), **m.summary} for m in models],
        "scenarios": [
            {
                "family": p.run.family,
                "scenario": p.run.scenario.name,
                "items": p.run.n_items,
                "seeds": list(p.run.seeds),
                "time_limits_s": list(p.run.time_limits_s),
                "reference": p.run.scenario.reference,
                "notes": p.notes,
                "rows_file": None if p.rows_file is None else p.rows_file.name,
                "summary": [asdict(s) for s in p.summaries],
            }
            for p in parts
        ],
    }
