"""The benchmark report (optkit/bench/report.py): files exist and parse, tables match the rows.

Runs the toy family of test_bench_harness (known gaps, one crashing method) and contract's
quick suite, writes reports into tmp_path and reads them back the way a user would.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_bench_harness import run, toy  # noqa: F401  (toy: the fixture registering the family)

from optkit.bench import harness, report
from optkit.core.errors import InvalidInputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def md_tables(markdown: str, heading: str) -> list[list[dict[str, str]]]:
    """The tables under `## heading` in index.md (up to the next `## `), as lists of dicts."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    tables, block = [], []
    for line in [*section.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            header, *rows = block
            tables.append([dict(zip(header, r, strict=True)) for r in rows[1:]])
            block = []
    return tables


def md_table(markdown: str, heading: str) -> list[dict[str, str]]:
    return md_tables(markdown, heading)[0]


def test_mean_ci_is_the_student_t_interval():
    """[1, 2, 3]: mean 2, s = 1, t(0.975, 2) = 4.302653 -> half-width 4.302653 / sqrt(3)."""
    mean, half = report.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert report.mean_ci([5.0]) == (5.0, None)


@pytest.fixture
def toy_report(toy, tmp_path):  # noqa: F811
    bench = run("toy/caps", "toy/noref", time_limits_s=[0.5, None])
    report.write_report(tmp_path / "rep", bench)
    return tmp_path / "rep", bench


def test_report_files_exist_and_parse(toy_report):
    folder, bench = toy_report
    md = (folder / "index.md").read_text(encoding="utf-8")
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert md.startswith("# optkit benchmark") and "## toy / caps" in md
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # self-contained: no network asset
    assert page.count("data:image/png;base64,") == len(list((folder / "plots").glob("*.png")))
    for png in (folder / "plots").glob("*.png"):
        assert png.read_bytes().startswith(PNG_SIGNATURE)
    names = {p.name for p in (folder / "plots").glob("*.png")}
    assert {"toy-caps-gaps.png", "toy-caps-gap-vs-time.png"} <= names  # two budgets: both plots
    meta = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert [s["scenario"] for s in meta["scenarios"]] == ["caps", "noref"]
    assert meta["provenance"]["versions"]["numpy"]


def test_parquet_rows_are_the_run_and_match_the_table(toy_report):
    folder, bench = toy_report
    table = pq.read_table(folder / "rows")  # every scenario's file, one schema
    assert table.num_rows == len(bench.rows)
    assert table.column_names == list(harness.ROW_FIELDS)
    rows = [r for r in table.to_pylist() if r["scenario"] == "caps" and r["time_limit_s"] is None]
    md = (folder / "index.md").read_text(encoding="utf-8")
    lines = md_tables(md, "toy / caps")[1]  # time limits 0.5 s, then none
    assert [ln["method"] for ln in lines] == ["exact", "over", "fragile", "half", "picky"]
    for line in lines:
        mine = [r for r in rows if r["method"] == line["method"]]
        gaps = [r["gap"] for r in mine if r["gap"] is not None]
        mean, half = report.mean_ci(gaps)
        assert line["n"] == str(len(mine))
        assert line["mean gap ± 95% CI"] == (
            f"{report.fmt_num(mean)} ± {report.fmt_num(half)} (n={len(gaps)})"
        )
        share = sum(r["feasible"] for r in mine) / len(mine)
        assert line["feasible share"] == f"{share:.2f}"
    fragile = next(ln for ln in lines if ln["method"] == "fragile")
    assert fragile["statuses"] == "error 2, feasible 4"  # cap 13 at both seeds
    assert "error row(s); first: fragile on c13-s0: RuntimeError" in md


def test_a_rerun_replaces_the_report_and_leaves_no_stale_rows(toy, tmp_path):  # noqa: F811
    folder = tmp_path / "rep"
    report.write_report(folder, run("toy/caps", "toy/noref"))
    report.write_report(folder, run("toy/noref"))
    assert [p.name for p in (folder / "rows").glob("*.parquet")] == ["toy-noref.parquet"]
    assert "## toy / caps" not in (folder / "index.md").read_text(encoding="utf-8")


def test_a_foreign_folder_is_refused(toy, tmp_path):  # noqa: F811
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="holds no optkit report"):
        report.write_report(tmp_path, run("toy/noref"))
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_model_cards_are_listed_or_their_absence_said(toy, tmp_path):  # noqa: F811
    bench = run("toy/noref")
    report.write_report(tmp_path / "a", bench, models=[], models_folder=Path("models"))
    assert "No trained models in models" in (tmp_path / "a" / "index.md").read_text()
    models = tmp_path / "models"
    (models / "edmsac-toy").mkdir(parents=True)
    (models / "edmsac-toy" / "card.json").write_text(
        json.dumps({"family": "toy", "solver": "edmsac", "gap": 0.01, "ignored": 1})
    )
    (models / "sac.card.md").write_text("# sac\n")
    cards = harness.model_cards(models)
    assert [c.name for c in cards] == ["edmsac-toy", "sac"]
    report.write_report(tmp_path / "b", bench, models=cards, models_folder=models)
    md = (tmp_path / "b" / "index.md").read_text(encoding="utf-8")
    assert "| edmsac-toy |" in md and "family: toy, solver: edmsac, gap: 0.01" in md
    assert "ignored" not in md


def test_family_plots_hook_adds_its_figures(toy, tmp_path, monkeypatch):  # noqa: F811
    """A scenario's plots(rows, folder) hook gets the rows as dicts; its PNG lands in the report;
    a hook that raises becomes a note."""
    import dataclasses

    from optkit.core.benchmark import Plot

    def plots(rows, folder):
        path = folder / "toy-extra.png"
        path.write_bytes(PNG_SIGNATURE + b"fake-but-named")
        assert {r["method"] for r in rows} == {"half"}
        return [Plot(path, "toy extra")]

    bench = run("toy/noref")
    run0 = bench.runs[0]
    run0.scenario = dataclasses.replace(run0.scenario, plots=plots)
    report.write_report(tmp_path / "r", bench)
    assert "![toy extra](plots/toy-extra.png)" in (tmp_path / "r" / "index.md").read_text()

    def broken(rows, folder):
        raise RuntimeError("no ink")

    run0.scenario = dataclasses.replace(run0.scenario, plots=broken)
    report.write_report(tmp_path / "r", bench)
    assert "plots hook failed: RuntimeError: no ink" in (tmp_path / "r" / "index.md").read_text()


def test_contract_quick_report_has_both_scenarios(tmp_path):
    bench = run("contract", quick=True, methods=["cvxpy", "static_repeat"])
    report.write_report(tmp_path, bench)
    md = (tmp_path / "index.md").read_text(encoding="utf-8")
    suite = md_table(md, "contract / suite")
    assert [ln["method"] for ln in suite] == ["cvxpy", "static_repeat"]
    assert suite[0]["statuses"] == "optimal 8" and suite[0]["feasible share"] == "1.00"
    assert "## contract / drawn" in md
    assert pq.read_table(tmp_path / "rows").num_rows == len(bench.rows) == 2 * (8 + 4)
