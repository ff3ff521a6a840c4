"""`optkit demo --quick` is the main job's smoke run; CI runs it here (spec/bench.md)."""

from optkit.cli import main


def test_demo_quick_solves_the_shipped_suite(capsys):
    code = main(["demo", "--quick"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "8 instances, 8 optimal" in out
