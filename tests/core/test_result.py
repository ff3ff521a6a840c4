"""SolveResult: JSON round trip, NaN handling, and the decision guard (check status first)."""

from __future__ import annotations

import json
import math

import pytest

from optkit.core.errors import InvalidInputError, NoDecisionError
from optkit.core.jsonio import dumps
from optkit.core.result import Evaluation, SolveResult, SolverInfo, Timing
from optkit.core.status import Guarantee, Status
from optkit.families.contract import ContractDecision

DECISION = ContractDecision(
    effort1=[1.0, 2.0],
    reward1=[1.5, 2.5],
    effort2=[[1.0, 2.0], [1.0, 3.0]],
    reward2=[[1.2, 2.4], [1.1, 3.3]],
)


def make_result(**overrides) -> SolveResult:
    """A fully populated result; each test overrides the one thing it is about."""
    kwargs = dict(
        family="contract",
        solver=SolverInfo("toy", Guarantee.HEURISTIC, "numpy", "2.0"),
        status=Status.FEASIBLE,
        objective=12.5,
        bound=13.0,
        gap=0.04,
        decision=DECISION,
        evaluation=Evaluation(objective=12.5, max_violation=0.0, feasible=True),
        timing=Timing(build_s=0.1, solve_s=0.2, wall_s=0.4),
        seed=7,
        threads=2,
        params={"time_limit_s": 5.0},
        certificate={"dual_bound": 13.0},
        flags=("note",),
        message="hello",
    )
    kwargs.update(overrides)
    return SolveResult(**kwargs)


def through_json(result: SolveResult) -> dict:
    """What a reader of the CLI's JSON gets: to_dict, serialised strictly, parsed back."""
    return json.loads(dumps(result.to_dict()))


def test_to_dict_spells_status_and_guarantee_in_lower_case():
    """The JSON is read by other tools: enums appear as their lower-case values."""
    d = through_json(make_result())
    assert d["status"] == "feasible"
    assert d["solver"] == {
        "name": "toy",
        "guarantee": "heuristic",
        "backend": "numpy",
        "backend_version": "2.0",
    }


@pytest.mark.parametrize(
    "objective, bound",
    [
        (12.5, 13.0),
        ([3.0, -1.5], [3.0, -1.0]),
        (12.5, None),
    ],
    ids=["scalar", "vector", "null-bound"],
)
def test_round_trip_keeps_every_field(objective, bound):
    """from_dict inverts to_dict: scalar, lexicographic (vector) objectives and a null bound."""
    original = make_result(objective=objective, bound=bound, gap=None if bound is None else 0.04)
    d = through_json(original)
    back = SolveResult.from_dict(d, decode_decision=ContractDecision.from_dict)
    assert back.to_dict() == d
    assert back.objective == objective
    assert back.bound == bound
    assert back.status is Status.FEASIBLE
    assert back.solver.guarantee is Guarantee.HEURISTIC


def test_nan_objective_becomes_null():
    """NaN has no JSON spelling: it is written as null, and the strict dumps accepts the dict."""
    d = through_json(make_result(objective=math.nan, gap=math.inf))
    assert d["objective"] is None
    assert d["gap"] is None
    assert SolveResult.from_dict(d).objective is None


def test_decision_kept_raw_without_decoder():
    """Without a decoder the decision stays the JSON dict it was (no family import needed)."""
    d = through_json(make_result())
    back = SolveResult.from_dict(d)
    assert not isinstance(back.decision, ContractDecision)
    assert back.decision.to_dict() == d["decision"]
    assert back.to_dict() == d


def test_decision_decoded_with_family_decoder():
    """With ContractDecision.from_dict the decision comes back typed and equal."""
    back = SolveResult.from_dict(
        through_json(make_result()), decode_decision=ContractDecision.from_dict
    )
    assert isinstance(back.decision, ContractDecision)
    assert back.decision.reward2.tolist() == DECISION.reward2.tolist()


def test_from_dict_unknown_status_names_the_field():
    """A bad status in a result file is bad input naming `status`, not a bare ValueError."""
    d = through_json(make_result())
    d["status"] = "solved"
    with pytest.raises(InvalidInputError) as info:
        SolveResult.from_dict(d)
    assert info.value.field == "status"
    assert "optimal" in str(info.value)


def test_from_dict_refuses_unknown_key():
    """A misspelt key is refused rather than silently dropped."""
    d = through_json(make_result())
    d["objectiv"] = 1.0
    with pytest.raises(InvalidInputError, match="objectiv"):
        SolveResult.from_dict(d)


@pytest.mark.parametrize(
    "status",
    [Status.INFEASIBLE, Status.UNBOUNDED, Status.ERROR, Status.NOT_APPLICABLE],
    ids=lambda s: s.value,
)
def test_decisionless_status_refuses_a_decision(status):
    """A proved-infeasible result carrying a menu would be a contradiction: refused at once."""
    with pytest.raises(ValueError, match=status.value):
        make_result(status=status)


def test_reading_missing_decision_raises_with_status():
    """Reading .decision when there is none raises NoDecisionError naming status and message."""
    res = make_result(
        status=Status.TIME_LIMIT,
        decision=None,
        evaluation=None,
        message="time limit reached while building",
    )
    assert not res.has_decision
    with pytest.raises(NoDecisionError) as info:
        _ = res.decision
    assert "'time_limit'" in str(info.value)
    assert "time limit reached while building" in str(info.value)
    assert res.to_dict()["decision"] is None


def test_status_must_be_the_enum():
    """A bare string status would bypass the lower-case spelling and the decision guard."""
    with pytest.raises(TypeError):
        make_result(status="optimal")


def test_vector_objective_keeps_integer_counts_in_json():
    """Lexicographic objectives (podpack) count pods: they stay integers through JSON."""
    res = SolveResult.from_dict(json.loads(json.dumps(make_result(objective=[3, -1, 7]).to_dict())))
    assert res.objective == [3, -1, 7] and all(type(v) is int for v in res.objective)
