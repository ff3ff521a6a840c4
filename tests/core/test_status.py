"""Status and Guarantee: the lower-case JSON spelling and what each status promises."""

from __future__ import annotations

import pytest

from optkit.core.status import Guarantee, Status

VERDICTS = {
    Status.OPTIMAL,
    Status.FEASIBLE,
    Status.INFEASIBLE,
    Status.UNBOUNDED,
    Status.NOT_APPLICABLE,
}
WITH_DECISION = {Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT}


def test_json_values_are_lower_case_names():
    """JSON spells statuses in lower case (spec: "optimal"); the value is what to_dict writes."""
    assert [s.value for s in Status] == [
        "optimal",
        "feasible",
        "time_limit",
        "infeasible",
        "unbounded",
        "not_applicable",
        "error",
    ]
    for s in Status:
        assert s.value == s.name.lower()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("optimal", Status.OPTIMAL),
        ("OPTIMAL", Status.OPTIMAL),
        ("Time_Limit", Status.TIME_LIMIT),
        ("NOT_APPLICABLE", Status.NOT_APPLICABLE),
    ],
    ids=["lower", "upper", "mixed", "not-applicable"],
)
def test_parse_is_case_insensitive(text, expected):
    """Hand-written files and other tools write "OPTIMAL"; parse() must read any case."""
    assert Status.parse(text) is expected


def test_parse_accepts_a_status_member():
    """Status subclasses str, so parse() typed `text: str` must accept a member unchanged."""
    assert Status.parse(Status.ERROR) is Status.ERROR


def test_parse_unknown_lists_valid_statuses():
    """A miss names the bad value and every valid one, so the reader can fix the file."""
    with pytest.raises(ValueError) as info:
        Status.parse("optimal_inaccurate")
    msg = str(info.value)
    assert "'optimal_inaccurate'" in msg
    for s in Status:
        assert s.value in msg


@pytest.mark.parametrize("status", list(Status), ids=[s.value for s in Status])
def test_is_verdict(status):
    """Proved answers (exit 0 on the CLI) are verdicts; time limit and error are not."""
    assert status.is_verdict is (status in VERDICTS)


@pytest.mark.parametrize("status", list(Status), ids=[s.value for s in Status])
def test_may_have_decision(status):
    """Only optimal, feasible and time_limit (an incumbent) may carry a decision."""
    assert status.may_have_decision is (status in WITH_DECISION)


def test_guarantee_values():
    """The six guarantees of spec/architecture.md, spelled as the JSON writes them."""
    assert {g.value for g in Guarantee} == {
        "exact",
        "exact_where_applicable",
        "bound",
        "heuristic",
        "online",
        "learned",
    }
