"""`optkit demo --quick` is the main job's smoke run; CI runs it here (spec/bench.md).

Acceptance of the main job: on a fresh clone it writes a report that contains every family and
every model that exists (families without bench scenarios and an empty models/ are said so).
"""

import pyarrow.parquet as pq

import optkit
from optkit.cli import main


def test_demo_quick_solves_the_shipped_suite_and_writes_the_report(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default report folder is reports/demo under the cwd
    code = main(["demo", "--quick"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "8 instances, 8 optimal" in out
    assert "largest relative difference to the certified objective" in out
    folder = tmp_path / "reports" / "demo"
    assert f"report: {folder.relative_to(tmp_path) / 'index.md'}" in out
    md = (folder / "index.md").read_text(encoding="utf-8")
    assert (folder / "index.html").exists()
    assert "## Main job: the shipped contract suite (quick subset)" in md
    for family in optkit.families():  # benchmarked, or listed as having no scenarios
        assert f"## {family} / " in md or f"- {family}: " in md, family
    assert "## contract / suite" in md and "## contract / drawn" in md
    cards = optkit.bench.harness.model_cards(optkit.bench.harness.REPO_ROOT / "models")
    if not cards:
        assert "No trained models in" in md
    for card in cards:  # every shipped model is in the report
        assert card.name in md, card.name
    rows = pq.read_table(folder / "rows").to_pylist()
    assert {r["family"] for r in rows} >= {"contract"}
    assert {r["method"] for r in rows if r["family"] == "contract"} == {
        s.name for s in optkit.solvers("contract")
    }


def test_demo_refuses_a_foreign_report_folder_before_solving(run_cli, tmp_path):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    r = run_cli("demo", "--quick", "--report", tmp_path)
    assert r.code == 2 and len(r.err_lines) == 1 and "holds no optkit report" in r.err
    assert "instances" not in r.out  # nothing solved
