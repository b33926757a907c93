"""Unit tests for the pure dialogue rules in ``workshop.domain``."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from workshop.domain import (
    CRITERIA,
    DIRECTION_FOLLOW_UP,
    JOIN_ALPHABET,
    JOIN_CODE_LENGTH,
    KS_2019_TEMPLATE,
    PROPOSAL_LIMITS,
    DecisionRecord,
    DissentRecord,
    DomainError,
    GoalInput,
    GoalRecord,
    Line,
    ParkingRecord,
    Phase,
    ProposalKind,
    ProposalRecord,
    RoundRecord,
    VoteMethod,
    WorkshopRecord,
    check_transition,
    consolidate,
    describe_tally,
    follow_up_dates,
    is_join_code,
    new_join_code,
    normalise_join_code,
    parse_follow_up_dates,
    parse_goal_lines,
    progress,
    tally,
    validate_ballot,
    validate_goal,
    validate_proposal,
)

# --- Phases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.NOT_STARTED, Phase.PROPOSALS),
        (Phase.PROPOSALS, Phase.VOTING),
        (Phase.VOTING, Phase.RESULTS),
        (Phase.RESULTS, Phase.DECIDED),
    ],
)
def test_check_transition_allows_one_step_forward(current, target):
    """Allow moving to the next phase."""
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.VOTING, Phase.PROPOSALS),
        (Phase.RESULTS, Phase.VOTING),
        (Phase.RESULTS, Phase.PROPOSALS),
        (Phase.DECIDED, Phase.RESULTS),
        (Phase.DECIDED, Phase.PROPOSALS),
    ],
)
def test_check_transition_allows_stepping_back(current, target):
    """Allow going back to any earlier started phase, e.g. to reopen a vote."""
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.NOT_STARTED, Phase.VOTING),
        (Phase.NOT_STARTED, Phase.DECIDED),
        (Phase.PROPOSALS, Phase.RESULTS),
        (Phase.PROPOSALS, Phase.DECIDED),
        (Phase.VOTING, Phase.DECIDED),
    ],
)
def test_check_transition_refuses_skipping_forward(current, target):
    """Refuse jumping over a phase, naming both phases in the error."""
    with pytest.raises(DomainError) as info:
        check_transition(current, target)
    assert info.value.code == "bad_phase"
    assert info.value.params == {"from": current.value, "to": target.value}


@pytest.mark.parametrize(
    "current", [Phase.NOT_STARTED, Phase.PROPOSALS, Phase.VOTING, Phase.RESULTS, Phase.DECIDED]
)
def test_check_transition_refuses_going_back_to_not_started(current):
    """Refuse returning a started goal to the not-started phase."""
    with pytest.raises(DomainError) as info:
        check_transition(current, Phase.NOT_STARTED)
    assert info.value.code == "bad_phase"


@pytest.mark.parametrize("phase", [Phase.PROPOSALS, Phase.VOTING, Phase.DECIDED])
def test_check_transition_refuses_staying_in_the_same_phase(phase):
    """Refuse a transition to the phase the goal is already in."""
    with pytest.raises(DomainError):
        check_transition(phase, phase)


# --- Proposals ------------------------------------------------------------------------------


def ambition(**overrides):
    """Return a valid ambition-level payload with ``overrides`` applied."""
    data = {
        "kind": "ambitionsniva",
        "what": "Fler i egen försörjning",
        "indicator": "Andel invånare med ekonomiskt bistånd (Kolada N31807)",
        "baseline_value": "4,1 %",
        "baseline_year": "2018",
        "target_value": "3,5 %",
        "target_date": "2019-12-31",
        "resources": "Inom befintlig ram",
        "responsible": "Arbetsmarknadsenheten",
        "criteria": {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
    }
    data.update(overrides)
    return data


def direction(**overrides):
    """Return a valid inriktningsmål payload with ``overrides`` applied."""
    data = {
        "kind": "inriktningsmal",
        "what": "Ökat medborgarinflytande",
        "rationale": "Svårt att mäta",
    }
    data.update(overrides)
    return data


def field_errors(raw):
    """Validate ``raw`` expecting failure and return the per-field messages."""
    with pytest.raises(DomainError) as info:
        validate_proposal(raw)
    assert info.value.code == "invalid_fields"
    return info.value.field_messages()


def test_validate_proposal_accepts_a_complete_ambition_level():
    """Keep every field of a valid ambition level."""
    result = validate_proposal(ambition())
    assert result.kind is ProposalKind.AMBITION
    assert result.what == "Fler i egen försörjning"
    assert result.baseline_year == "2018"
    assert result.target_date == "2019-12-31"
    assert result.target_value == "3,5 %"
    assert result.criteria == {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"}
    assert result.to_dict()["kind"] == "ambitionsniva"


def test_validate_proposal_defaults_to_ambition_level():
    """Treat a payload without kind as an ambition level."""
    assert validate_proposal({"what": "Fler nya företag"}).kind is ProposalKind.AMBITION


@pytest.mark.parametrize("what", [None, "", "   ", "\n\t"])
def test_validate_proposal_requires_what_for_ambition(what):
    """Refuse an ambition level that does not say what is to be achieved."""
    assert field_errors(ambition(what=what)) == {"what": "Beskriv vad som ska uppnås."}


@pytest.mark.parametrize("rationale", [None, "", "  "])
def test_validate_proposal_requires_rationale_for_direction_goal(rationale):
    """Refuse an inriktningsmål without a rationale."""
    fields = field_errors(direction(rationale=rationale))
    assert fields == {"rationale": "Motivera kort varför målet ska vara ett inriktningsmål."}


def test_validate_proposal_direction_goal_does_not_need_what():
    """Accept an inriktningsmål with only a rationale."""
    result = validate_proposal({"kind": "inriktningsmal", "rationale": "Ej mätbart i år"})
    assert result.kind is ProposalKind.DIRECTION
    assert result.what == ""


def test_validate_proposal_direction_goal_drops_target_fields():
    """Drop indicator, baseline and target from an inriktningsmål but keep its description."""
    result = validate_proposal(
        ambition(kind="inriktningsmal", rationale="Ingen prognos behövs", responsible="KLK")
    )
    assert result.kind is ProposalKind.DIRECTION
    assert result.indicator == ""
    assert result.baseline_value == ""
    assert result.baseline_year == ""
    assert result.target_value == ""
    assert result.target_date == ""
    assert result.what == "Fler i egen försörjning"
    assert result.rationale == "Ingen prognos behövs"
    assert result.resources == "Inom befintlig ram"
    assert result.responsible == "KLK"


@pytest.mark.parametrize("kind", ["", "annat", None, ["ambitionsniva"]])
def test_validate_proposal_refuses_unknown_kind(kind):
    """Ask the user to choose a kind when it is not one of the two."""
    assert "kind" in field_errors(ambition(kind=kind))


TEXT_LIMITED = [name for name in PROPOSAL_LIMITS if name not in ("baseline_year", "target_date")]


@pytest.mark.parametrize("name", TEXT_LIMITED)
def test_validate_proposal_accepts_text_at_the_limit(name):
    """Accept a field exactly as long as its limit."""
    limit = PROPOSAL_LIMITS[name]
    assert getattr(validate_proposal(ambition(**{name: "x" * limit})), name) == "x" * limit


@pytest.mark.parametrize("name", TEXT_LIMITED)
def test_validate_proposal_refuses_text_over_the_limit(name):
    """Report the limit on the field that is one character too long."""
    limit = PROPOSAL_LIMITS[name]
    fields = field_errors(ambition(**{name: "x" * (limit + 1)}))
    assert fields == {name: f"Högst {limit} tecken."}


def test_validate_proposal_reports_every_bad_field_at_once():
    """Give one message per bad field, not just the first."""
    fields = field_errors(
        ambition(
            what="",
            indicator="i" * 301,
            resources="r" * 401,
            baseline_year="18",
            target_date="2019-02-30",
        )
    )
    assert fields == {
        "what": "Beskriv vad som ska uppnås.",
        "indicator": "Högst 300 tecken.",
        "resources": "Högst 400 tecken.",
        "baseline_year": "Ange år med fyra siffror, t.ex. 2018.",
        "target_date": "Ange datum som ÅÅÅÅ-MM-DD.",
    }


def test_validate_proposal_error_has_general_message():
    """Carry a general message besides the field messages."""
    with pytest.raises(DomainError) as info:
        validate_proposal(ambition(what=""))
    assert info.value.message == "Förslaget har fel som behöver rättas."


@pytest.mark.parametrize("year", ["18", "20a8", "abcd", "2O18", "-201"])
def test_validate_proposal_refuses_bad_baseline_year(year):
    """Refuse a baseline year that is not four digits."""
    assert field_errors(ambition(baseline_year=year)) == {
        "baseline_year": "Ange år med fyra siffror, t.ex. 2018."
    }


def test_validate_proposal_refuses_too_long_baseline_year():
    """Refuse a five-character year through the length limit."""
    assert field_errors(ambition(baseline_year="20180")) == {"baseline_year": "Högst 4 tecken."}


@pytest.mark.parametrize("year", ["2018", 2018, " 2017 "])
def test_validate_proposal_accepts_baseline_year(year):
    """Accept a four-digit year given as text or number."""
    assert validate_proposal(ambition(baseline_year=year)).baseline_year == str(year).strip()


@pytest.mark.parametrize(
    "date",
    ["2019-02-30", "2019-04-31", "2019-13-01", "2019-00-10", "31 april", "2019-4-30", "19-04-30"],
)
def test_validate_proposal_refuses_bad_target_date(date):
    """Refuse a target date that is not a real ÅÅÅÅ-MM-DD date."""
    assert field_errors(ambition(target_date=date)) == {"target_date": "Ange datum som ÅÅÅÅ-MM-DD."}


def test_validate_proposal_refuses_target_date_with_year_in_words():
    """Refuse "31 april 2019", too long for a date field."""
    assert field_errors(ambition(target_date="31 april 2019")) == {
        "target_date": "Högst 10 tecken."
    }


@pytest.mark.parametrize("date", ["2020-02-29", "2019-04-30", "2019-08-31"])
def test_validate_proposal_accepts_real_target_date(date):
    """Accept real calendar dates, including a leap day."""
    assert validate_proposal(ambition(target_date=date)).target_date == date


@pytest.mark.parametrize("value", ["ja", "delvis", "nej"])
def test_validate_proposal_accepts_each_assessment(value):
    """Accept ja, delvis and nej for each criterion."""
    criteria = dict.fromkeys(CRITERIA, value)
    assert validate_proposal(ambition(criteria=criteria)).criteria == criteria


def test_validate_proposal_leaves_unanswered_criteria_out():
    """Skip criteria left empty and ignore unknown criterion names."""
    result = validate_proposal(
        ambition(criteria={"paverkbart": "nej", "matbart": "", "resurser": None, "extra": "ja"})
    )
    assert result.criteria == {"paverkbart": "nej"}


@pytest.mark.parametrize("criteria", [None, {}, []])
def test_validate_proposal_accepts_missing_criteria(criteria):
    """Accept a proposal whose criteria are not yet assessed."""
    assert validate_proposal(ambition(criteria=criteria)).criteria == {}


@pytest.mark.parametrize("value", ["JA", "kanske", "yes", 1, True, ["ja"], {"ja": 1}])
def test_validate_proposal_refuses_bad_criterion_value(value):
    """Refuse a criterion value other than ja, delvis or nej, naming the criterion."""
    fields = field_errors(ambition(criteria={"paverkbart": "ja", "matbart": value}))
    assert fields == {"criteria.matbart": "Välj ja, delvis eller nej."}


@pytest.mark.parametrize("criteria", ["ja", ["ja", "ja", "ja"], 3])
def test_validate_proposal_refuses_criteria_that_are_not_a_mapping(criteria):
    """Refuse criteria sent as something other than an object."""
    fields = field_errors(ambition(criteria=criteria))
    assert fields == {"criteria": "Bedömningen av kriterierna kunde inte läsas."}


@pytest.mark.parametrize("value", [["Fler"], {"text": "Fler"}, True, False, object()])
@pytest.mark.parametrize("name", ["what", "indicator", "target_value", "rationale"])
def test_validate_proposal_refuses_non_text_values(name, value):
    """Refuse lists, objects and booleans in a text field with a format message."""
    fields = field_errors(ambition(**{name: value}))
    assert fields == {name: "Fältet har fel format."}


def test_validate_proposal_accepts_numbers_as_text():
    """Turn numbers into their text form."""
    result = validate_proposal(ambition(baseline_value=12.5, target_value=15))
    assert (result.baseline_value, result.target_value) == ("12.5", "15")


def test_validate_proposal_strips_control_characters():
    """Remove control characters but keep tabs and newlines inside the text."""
    result = validate_proposal(ambition(what="  Öka\x00 andelen\x07\x1b\tnu\x0b  "))
    assert result.what == "Öka andelen\tnu"


def test_validate_proposal_normalises_line_endings():
    """Turn Windows and old Mac line endings into plain newlines."""
    result = validate_proposal(ambition(what="Rad ett\r\nRad två\rRad tre\n"))
    assert result.what == "Rad ett\nRad två\nRad tre"


def test_validate_proposal_counts_length_after_cleaning():
    """Measure the limit on the cleaned text, so stripped characters do not count."""
    text = "  " + "x" * PROPOSAL_LIMITS["what"] + "\x00\x00  "
    assert validate_proposal(ambition(what=text)).what == "x" * PROPOSAL_LIMITS["what"]


@pytest.mark.parametrize("raw", [None, [], ["what", "x"], "what=x", 42])
def test_validate_proposal_refuses_non_mapping_payload(raw):
    """Refuse a payload that is not an object."""
    with pytest.raises(DomainError) as info:
        validate_proposal(raw)
    assert info.value.code == "bad_payload"


# --- Ballots --------------------------------------------------------------------------------

IDS = [11, 12, 13]
FULL_CRITERIA = {"paverkbart": "ja", "matbart": "delvis", "resurser": "nej"}

VALID_BALLOTS = [
    (
        VoteMethod.YES_NO,
        {11: "ja", "12": "nej", "13": "avstar"},
        {"11": "ja", "12": "nej", "13": "avstar"},
    ),
    (VoteMethod.YES_NO, {"11": "ja", "12": None, "13": ""}, {"11": "ja"}),
    (VoteMethod.SCORE, {"11": 1, 12: "5"}, {"11": 1, "12": 5}),
    (VoteMethod.SCORE, {"13": "3"}, {"13": 3}),
    (VoteMethod.GRADIENTS, {"11": 1, "12": 5, "13": "3"}, {"11": 1, "12": 5, "13": 3}),
    (VoteMethod.DOTS, {"11": 2, "12": "1"}, {"11": 2, "12": 1}),
    (VoteMethod.DOTS, {"11": 0, "12": 3, "13": None}, {"12": 3}),
    (VoteMethod.CRITERIA, {11: FULL_CRITERIA}, {"11": FULL_CRITERIA}),
    (
        VoteMethod.CRITERIA,
        {"12": {"resurser": "ja", "matbart": "ja", "paverkbart": "ja"}, "13": None},
        {"12": {"paverkbart": "ja", "matbart": "ja", "resurser": "ja"}},
    ),
]


@pytest.mark.parametrize(("method", "raw", "expected"), VALID_BALLOTS)
def test_validate_ballot_normalises_valid_ballot(method, raw, expected):
    """Key the ballot by proposal id as text and turn scores into integers."""
    result = validate_ballot(method, IDS, raw)
    assert result == expected
    assert all(isinstance(key, str) for key in result)
    if method in (VoteMethod.SCORE, VoteMethod.GRADIENTS, VoteMethod.DOTS):
        assert all(type(value) is int for value in result.values())


ANSWER_FOR = {
    VoteMethod.YES_NO: "ja",
    VoteMethod.SCORE: 3,
    VoteMethod.GRADIENTS: 2,
    VoteMethod.DOTS: 1,
    VoteMethod.CRITERIA: FULL_CRITERIA,
}


@pytest.mark.parametrize("method", list(VoteMethod))
def test_validate_ballot_refuses_unknown_proposal(method):
    """Refuse a ballot that mentions a proposal not in the round."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, {"11": ANSWER_FOR[method], "99": ANSWER_FOR[method]})
    assert info.value.code == "bad_ballot"


@pytest.mark.parametrize("method", list(VoteMethod))
@pytest.mark.parametrize("raw", [{}, {"11": None}, {"11": "", "12": None}])
def test_validate_ballot_refuses_empty_ballot(method, raw):
    """Refuse a ballot that answers nothing."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, raw)
    assert info.value.code == "empty_ballot"


@pytest.mark.parametrize("method", list(VoteMethod))
@pytest.mark.parametrize("raw", [None, [], ["11", "ja"], "11=ja"])
def test_validate_ballot_refuses_non_mapping(method, raw):
    """Refuse a ballot that is not an object."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, raw)
    assert info.value.code == "bad_ballot"


BAD_ANSWERS = [
    (VoteMethod.YES_NO, "JA"),
    (VoteMethod.YES_NO, "yes"),
    (VoteMethod.YES_NO, "avstår"),
    (VoteMethod.YES_NO, True),
    (VoteMethod.YES_NO, 1),
    (VoteMethod.YES_NO, ["ja"]),
    (VoteMethod.SCORE, 0),
    (VoteMethod.SCORE, 6),
    (VoteMethod.SCORE, "fyra"),
    (VoteMethod.SCORE, 3.5),
    (VoteMethod.SCORE, True),
    (VoteMethod.SCORE, False),
    (VoteMethod.SCORE, [3]),
    (VoteMethod.GRADIENTS, 0),
    (VoteMethod.GRADIENTS, 6),
    (VoteMethod.GRADIENTS, True),
    (VoteMethod.GRADIENTS, "5.0"),
    (VoteMethod.DOTS, -1),
    (VoteMethod.DOTS, 21),
    (VoteMethod.DOTS, True),
    (VoteMethod.DOTS, 1.0),
    (VoteMethod.DOTS, "två"),
    (VoteMethod.CRITERIA, "ja"),
    (VoteMethod.CRITERIA, {"paverkbart": "ja", "matbart": "ja"}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "extra": "ja"}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": "kanske"}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": True}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": ["ja"]}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": None}),
]


@pytest.mark.parametrize(("method", "value"), BAD_ANSWERS)
def test_validate_ballot_refuses_invalid_answer(method, value):
    """Refuse answers outside the method's scale, including booleans posing as numbers."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, {"11": value}, dot_budget=20)
    assert info.value.code == "bad_ballot"


def test_validate_ballot_criteria_must_rate_all_three():
    """Refuse a criteria ballot that rates only some of the three criteria."""
    for name in CRITERIA:
        partial = {k: v for k, v in FULL_CRITERIA.items() if k != name}
        with pytest.raises(DomainError):
            validate_ballot(VoteMethod.CRITERIA, IDS, {"11": partial})


@pytest.mark.parametrize(
    ("raw", "budget", "spent"),
    [
        ({"11": 2, "12": 2}, 3, 4),
        ({"11": 4}, 3, 4),
        ({"11": 3, "12": 3, "13": 0}, 5, 6),
        ({"11": 20, "12": 1}, 20, 21),
    ],
)
def test_validate_ballot_refuses_more_dots_than_budget(raw, budget, spent):
    """Refuse spending more dots than the budget, saying how many were spent."""
    with pytest.raises(DomainError) as info:
        validate_ballot(VoteMethod.DOTS, IDS, raw, dot_budget=budget)
    assert info.value.code == "over_budget"
    assert info.value.params == {"spent": spent, "budget": budget}


@pytest.mark.parametrize(
    ("raw", "budget"), [({"11": 3}, 3), ({"11": 1, "12": 1, "13": 1}, 3), ({"11": 5}, 5)]
)
def test_validate_ballot_accepts_dots_within_budget(raw, budget):
    """Accept a dot ballot that spends exactly the budget."""
    assert sum(validate_ballot(VoteMethod.DOTS, IDS, raw, dot_budget=budget).values()) == budget


def test_validate_ballot_refuses_dot_ballot_of_only_zeros():
    """Treat a dot ballot with only zeros as empty."""
    with pytest.raises(DomainError) as info:
        validate_ballot(VoteMethod.DOTS, IDS, {"11": 0, "12": "0"})
    assert info.value.code == "empty_ballot"


# --- Tallies --------------------------------------------------------------------------------


def test_tally_yes_no_counts_net_support_ignoring_abstentions():
    """Score ja/nej as ja minus nej; avstår counts for neither."""
    result = tally(
        VoteMethod.YES_NO,
        [1, 2, 3],
        [
            {"1": "ja", "2": "nej", "3": "avstar"},
            {"1": "ja", "2": "ja", "3": "avstar"},
            {"1": "nej", "2": "ja"},
            {"1": "avstar", "2": "ja"},
        ],
    )
    assert result.ballots == 4
    p1, p2, p3 = result.proposals
    assert p1.counts == {"ja": 2, "nej": 1, "avstar": 1}
    assert p1.responses == 4
    assert p1.score == 1
    assert p2.counts == {"ja": 3, "nej": 1, "avstar": 0}
    assert p2.score == 2
    assert p3.counts == {"ja": 0, "nej": 0, "avstar": 2}
    assert p3.score == 0.0
    assert result.leaders == [2]
    assert not result.tie


def test_tally_yes_no_equal_net_support_breaks_on_more_ja():
    """Prefer the proposal with more ja votes when ja minus nej is equal."""
    ballots = [{"1": "ja", "2": "ja"}, {"1": "nej", "2": "ja"}, {"2": "nej"}, {"2": "nej"}]
    result = tally(VoteMethod.YES_NO, [1, 2], ballots)
    # 1: 1 ja, 1 nej → 0; 2: 2 ja, 2 nej → 0 with more ja.
    assert result.for_proposal(1).score == result.for_proposal(2).score == 0
    assert result.leaders == [2]


def test_tally_yes_no_a_small_minority_does_not_beat_broad_support():
    """Rank 9 ja and 1 nej above 1 ja and 0 nej."""
    ballots = [{"1": "ja", "2": "ja"}] + [{"2": "ja"}] * 8 + [{"2": "nej"}]
    assert tally(VoteMethod.YES_NO, [1, 2], ballots).leaders == [2]


def test_tally_yes_no_needs_a_ja_to_lead():
    """Name no leader when every answer was nej or avstår."""
    ballots = [{"1": "nej", "2": "avstar"}, {"1": "avstar", "2": "nej"}]
    assert tally(VoteMethod.YES_NO, [1, 2], ballots).leaders == []


def test_tally_yes_no_tie():
    """Report a tie when two proposals have the same net support and the same ja count."""
    result = tally(
        VoteMethod.YES_NO,
        [1, 2, 3],
        [
            {"1": "ja", "2": "nej", "3": "avstar"},
            {"1": "ja", "2": "ja", "3": "avstar"},
            {"1": "nej", "2": "ja"},
        ],
    )
    assert result.leaders == [1, 2]
    assert result.tie
    assert result.to_dict()["tie"] is True


def test_tally_score_mean_and_spread():
    """Score betyg as the mean grade, with counts for every grade 1–5."""
    result = tally(
        VoteMethod.SCORE,
        [1, 2],
        [{"1": 5, "2": 3}, {"1": 4, "2": 3}, {"1": 4}],
    )
    p1, p2 = result.proposals
    assert p1.counts == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}
    assert p1.score == pytest.approx(13 / 3, abs=1e-4)
    assert p1.responses == 3
    assert p2.counts == {"1": 0, "2": 0, "3": 2, "4": 0, "5": 0}
    assert p2.score == 3.0
    assert result.leaders == [1]


def test_tally_score_tie_on_mean_breaks_on_more_responses():
    """Prefer the proposal more people graded when the means are equal."""
    result = tally(VoteMethod.SCORE, [1, 2], [{"1": 4, "2": 4}, {"2": 4}])
    assert result.leaders == [2]


def test_tally_score_tie():
    """Report every proposal sharing the best mean from as many voters."""
    result = tally(VoteMethod.SCORE, [1, 2, 3], [{"1": 5, "2": 4, "3": 2}, {"1": 3, "2": 4}])
    assert result.for_proposal(1).score == result.for_proposal(2).score == 4.0
    assert result.leaders == [1, 2]
    assert result.tie


def test_tally_dots_totals_points():
    """Score prickar as total points, counting voters per number of points given."""
    result = tally(
        VoteMethod.DOTS,
        [1, 2, 3],
        [{"1": 2, "2": 1}, {"2": 3}, {"1": 1, "3": 2}],
        dot_budget=3,
    )
    p1, p2, p3 = result.proposals
    assert (p1.score, p1.responses, p1.counts) == (3, 2, {"2": 1, "1": 1})
    assert (p2.score, p2.responses, p2.counts) == (4, 2, {"1": 1, "3": 1})
    assert (p3.score, p3.responses, p3.counts) == (2, 1, {"2": 1})
    assert result.leaders == [2]
    assert result.dot_budget == 3


def test_tally_dots_tie():
    """Report a tie between proposals with the same points from as many voters."""
    result = tally(VoteMethod.DOTS, [1, 2], [{"1": 2, "2": 1}, {"1": 1, "2": 2}])
    assert result.leaders == [1, 2]
    assert result.tie


def test_tally_gradients_block_keeps_proposal_out_of_the_lead():
    """Leave a proposal with any "Emot — blockerar" out of the lead despite a higher mean."""
    result = tally(
        VoteMethod.GRADIENTS,
        [1, 2, 3],
        [
            {"1": 2, "2": 3, "3": 1},
            {"1": 2, "2": 3, "3": 1},
            {"1": 2, "3": 1},
            {"3": 1},
            {"3": 5},
        ],
    )
    p1, p2, p3 = result.proposals
    assert p1.counts == {"1": 0, "2": 3, "3": 0, "4": 0, "5": 0}
    assert p1.score == 4.0  # support 6 - 2 = 4 from all three
    assert p2.score == 3.0
    assert p3.counts == {"1": 4, "2": 0, "3": 0, "4": 0, "5": 1}
    assert p3.score == pytest.approx(21 / 5)  # (4 * 5 + 1) / 5
    assert p3.score > p1.score
    assert result.leaders == [1]


def test_tally_gradients_all_blocked_has_no_leader():
    """Name no leader when every proposal has a block."""
    result = tally(VoteMethod.GRADIENTS, [1, 2], [{"1": 1, "2": 5}, {"1": 5, "2": 1}])
    assert result.leaders == []
    assert not result.tie


def test_tally_gradients_tie():
    """Report a tie between unblocked proposals with the same support."""
    result = tally(VoteMethod.GRADIENTS, [1, 2], [{"1": 1, "2": 2}, {"1": 3, "2": 2}])
    assert result.for_proposal(1).score == result.for_proposal(2).score == 4.0
    assert result.leaders == [1, 2]


def test_tally_criteria_counts_per_criterion():
    """Count ja/delvis/nej per criterion and score 2/1/0 points averaged per voter."""
    result = tally(
        VoteMethod.CRITERIA,
        [1, 2],
        [
            {
                "1": {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
                "2": {"paverkbart": "nej", "matbart": "delvis", "resurser": "nej"},
            },
            {"1": {"paverkbart": "ja", "matbart": "nej", "resurser": "nej"}},
        ],
    )
    p1, p2 = result.proposals
    assert p1.criteria == {
        "paverkbart": {"ja": 2, "delvis": 0, "nej": 0},
        "matbart": {"ja": 1, "delvis": 0, "nej": 1},
        "resurser": {"ja": 0, "delvis": 1, "nej": 1},
    }
    assert p1.score == 3.5  # (5 + 2) / 2
    assert p1.responses == 2
    assert p2.criteria["matbart"] == {"ja": 0, "delvis": 1, "nej": 0}
    assert p2.score == 1.0
    assert result.leaders == [1]


def test_tally_criteria_tie():
    """Report a tie between proposals with the same criteria points."""
    result = tally(
        VoteMethod.CRITERIA,
        [1, 2],
        [{"1": dict.fromkeys(CRITERIA, "delvis"), "2": FULL_CRITERIA}],
    )
    assert result.for_proposal(1).score == result.for_proposal(2).score == 3.0
    assert result.leaders == [1, 2]


@pytest.mark.parametrize("method", list(VoteMethod))
def test_tally_without_ballots_has_no_leaders(method):
    """Name no leader and report zero counts when nobody voted."""
    result = tally(method, [1, 2], [])
    assert result.ballots == 0
    assert result.leaders == []
    assert not result.tie
    assert [p.responses for p in result.proposals] == [0, 0]
    assert [p.score for p in result.proposals] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("method", "expected_counts"),
    [
        (VoteMethod.YES_NO, {"ja": 0, "nej": 0, "avstar": 0}),
        (VoteMethod.SCORE, {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}),
        (VoteMethod.GRADIENTS, {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}),
        (VoteMethod.DOTS, {}),
    ],
)
def test_tally_fills_zero_counts(method, expected_counts):
    """Show every option with zero for a proposal nobody answered."""
    assert tally(method, [1], []).proposals[0].counts == expected_counts


def test_tally_criteria_fills_zero_counts():
    """Show every criterion with zeros for a proposal nobody rated."""
    item = tally(VoteMethod.CRITERIA, [1], []).proposals[0]
    assert item.criteria == {name: {"ja": 0, "delvis": 0, "nej": 0} for name in CRITERIA}


def test_tally_keeps_the_round_order_of_proposals():
    """List proposals in the order of the round, not the order they were voted on."""
    result = tally(VoteMethod.SCORE, [3, 1, 2], [{"2": 5}, {"1": 4}])
    assert [p.proposal_id for p in result.proposals] == [3, 1, 2]


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        (VoteMethod.YES_NO, "ja"),
        (VoteMethod.SCORE, 5),
        (VoteMethod.DOTS, 3),
        (VoteMethod.GRADIENTS, 1),
        (VoteMethod.CRITERIA, dict.fromkeys(CRITERIA, "ja")),
    ],
)
def test_tally_ignores_proposal_not_in_round(method, answer):
    """Ignore the part of a ballot about a proposal withdrawn from the round."""
    with_withdrawn = tally(method, [1, 2], [{"1": answer, "9": answer}, {"2": answer}])
    without = tally(method, [1, 2], [{"1": answer}, {"2": answer}])
    assert with_withdrawn.proposals == without.proposals
    assert with_withdrawn.leaders == without.leaders == [1, 2]
    assert [p.proposal_id for p in with_withdrawn.proposals] == [1, 2]


def test_tally_counts_a_changed_vote_once():
    """Count only the last ballot of a voter who changed their vote."""
    ballots = {
        "secret-a": {"1": "ja", "2": "nej"},
        "secret-b": {"1": "ja"},
        "secret-c": {"2": "ja"},
    }
    before = tally(VoteMethod.YES_NO, [1, 2], ballots.values())
    assert before.leaders == [1]

    ballots["secret-a"] = {"1": "nej", "2": "ja"}
    after = tally(VoteMethod.YES_NO, [1, 2], ballots.values())

    final = tally(
        VoteMethod.YES_NO,
        [1, 2],
        [{"1": "nej", "2": "ja"}, {"1": "ja"}, {"2": "ja"}],
    )
    assert after == final
    assert after.ballots == 3
    assert after.for_proposal(1).counts == {"ja": 1, "nej": 1, "avstar": 0}
    assert after.for_proposal(2).counts == {"ja": 2, "nej": 0, "avstar": 0}
    assert after.leaders == [2]
    assert after != before


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (VoteMethod.YES_NO, [{"1": "ja", "2": "avstar"}]),
        (VoteMethod.SCORE, [{"1": 4, "2": 5}, {"1": 3}]),
        (VoteMethod.DOTS, [{"1": 2, "2": 1}]),
        (VoteMethod.GRADIENTS, [{"1": 1, "2": 5}]),
        (VoteMethod.CRITERIA, [{"1": FULL_CRITERIA}]),
    ],
)
def test_tally_to_dict_is_json_serialisable(method, ballots):
    """Serialise a tally to JSON and keep its figures."""
    result = tally(method, [1, 2], ballots)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["method"] == method.value
    assert data["ballots"] == len(ballots)
    assert data["leaders"] == result.leaders
    assert data["tie"] == result.tie
    assert data["dot_budget"] == 3
    assert [p["proposal_id"] for p in data["proposals"]] == [1, 2]
    assert data["proposals"][0]["score"] == result.proposals[0].score
    assert data["proposals"][0]["counts"] == result.proposals[0].counts


def test_tally_for_proposal_unknown_id_raises_key_error():
    """Raise KeyError when asking for a proposal that is not in the tally."""
    with pytest.raises(KeyError):
        tally(VoteMethod.YES_NO, [1], []).for_proposal(2)


# --- Progress -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eligible", "answered", "expected"),
    [
        ({"a", "b", "c"}, set(), (0, 3)),
        ({"a", "b", "c"}, {"a", "b"}, (2, 3)),
        ({"a", "b", "c"}, {"a", "b", "c"}, (3, 3)),
        # a answered and then left: still counts as answered and as one of the voters.
        ({"b", "c"}, {"a", "b"}, (2, 3)),
        # c left without answering: no longer expected to answer.
        ({"a", "b"}, {"a"}, (1, 2)),
        # everyone left after answering.
        (set(), {"a", "b"}, (2, 2)),
        (set(), set(), (0, 0)),
        # repeated ids (several tabs of one participant) count once.
        (["a", "a", "b"], ["a", "a"], (1, 2)),
    ],
)
def test_progress_counts_answered_of_entitled(eligible, answered, expected):
    """Report "X av Y har svarat" counting departed voters by whether they answered."""
    assert progress(eligible, answered) == expected


@pytest.mark.parametrize(
    ("eligible", "answered"),
    [({1}, {1, 2, 3}), ({1, 2}, {3, 4}), (set(), {5}), ({1, 2, 3}, {2})],
)
def test_progress_never_reports_more_answers_than_voters(eligible, answered):
    """Keep X at most Y whoever comes and goes."""
    x, y = progress(eligible, answered)
    assert x <= y


# --- Join codes -----------------------------------------------------------------------------


def test_new_join_code_uses_six_unambiguous_characters():
    """Make codes of six characters from the join alphabet."""
    codes = [new_join_code() for _ in range(200)]
    for code in codes:
        assert len(code) == JOIN_CODE_LENGTH == 6
        assert set(code) <= set(JOIN_ALPHABET)
        assert is_join_code(code)
    assert len(set(codes)) > 1


@pytest.mark.parametrize("char", list("0O1IL2Z5S8B"))
def test_join_alphabet_has_no_look_alikes(char):
    """Leave out characters that are confused when read off a projector."""
    assert char not in JOIN_ALPHABET
    assert char.lower() not in JOIN_ALPHABET


def test_join_alphabet_is_uppercase_without_repeats():
    """Use each uppercase letter or digit once."""
    assert JOIN_ALPHABET == JOIN_ALPHABET.upper()
    assert len(set(JOIN_ALPHABET)) == len(JOIN_ALPHABET)
    assert JOIN_ALPHABET.isalnum()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (" ab3-k7x ", "AB3K7X"),
        ("ac3 k7x", "AC3K7X"),
        ("AC3-K7X", "AC3K7X"),
        ("ac3\tk7x\n", "AC3K7X"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_join_code(typed, expected):
    """Uppercase a typed code and drop spaces and dashes."""
    assert normalise_join_code(typed) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AC3K7X", True),
        ("YYYYYY", True),
        ("ac3k7x", False),  # not normalised
        ("AC3K7", False),
        ("AC3K7XA", False),
        ("AB3K7X", False),  # B looks like 8
        ("A03K7X", False),
        ("AC3-K7", False),
        ("", False),
    ],
)
def test_is_join_code(text, expected):
    """Accept only six characters from the join alphabet."""
    assert is_join_code(text) is expected


def test_typed_code_matches_after_normalising():
    """Accept a code typed in lower case with a dash once normalised."""
    assert is_join_code(normalise_join_code(" ac3-k7x "))


# --- Follow-up dates ------------------------------------------------------------------------


def test_follow_up_dates_are_30_april_and_31_august():
    """Use 30 April (not the non-existent 31 April) and 31 August."""
    assert follow_up_dates(2019) == [dt.date(2019, 4, 30), dt.date(2019, 8, 31)]
    assert follow_up_dates(2024) == [dt.date(2024, 4, 30), dt.date(2024, 8, 31)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-04-30, 2019-08-31", [dt.date(2019, 4, 30), dt.date(2019, 8, 31)]),
        ("2019-08-31;2019-04-30", [dt.date(2019, 4, 30), dt.date(2019, 8, 31)]),
        ("2019-04-30\n2019-08-31\n", [dt.date(2019, 4, 30), dt.date(2019, 8, 31)]),
        ("2019-04-30 2019-04-30", [dt.date(2019, 4, 30)]),
        (" 2019-12-31 ", [dt.date(2019, 12, 31)]),
    ],
)
def test_parse_follow_up_dates_good(text, expected):
    """Parse dates separated by commas, semicolons or whitespace, sorted and unique."""
    assert parse_follow_up_dates(text) == expected


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("2019-04-31", "2019-04-31"),
        ("2019-04-30, 2019-02-30", "2019-02-30"),
        ("31 april 2019", "31"),
        ("2019-4-30", "2019-4-30"),
        ("30/4/2019", "30/4/2019"),
    ],
)
def test_parse_follow_up_dates_bad(text, bad):
    """Refuse a list with a bad date, naming the bad part."""
    with pytest.raises(DomainError) as info:
        parse_follow_up_dates(text)
    assert info.value.code == "bad_dates"
    assert info.value.params == {"value": bad}


@pytest.mark.parametrize("text", ["", "   ", None, ", ;\n"])
def test_parse_follow_up_dates_empty(text):
    """Refuse an empty list of follow-up dates."""
    with pytest.raises(DomainError) as info:
        parse_follow_up_dates(text)
    assert info.value.code == "bad_dates"
    assert info.value.message == "Ange minst ett uppföljningsdatum."


# --- Goals import ---------------------------------------------------------------------------


def test_validate_goal_accepts_and_cleans():
    """Return a goal with trimmed text."""
    goal = validate_goal(
        {"area": " Kunskap och hälsa ", "number": 5, "text": "Vi skall bli en friskare kommun\r\n"}
    )
    assert goal == GoalInput(
        area="Kunskap och hälsa", number="5", text="Vi skall bli en friskare kommun"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"area": "Arbete och fritid", "number": "2"}, {"text": "Målet behöver en text."}),
        ({"number": "2", "text": "Mål"}, {"area": "Ange målområde."}),
        ({}, {"text": "Målet behöver en text.", "area": "Ange målområde."}),
        (
            {"area": "A", "number": "1" * 11, "text": "Mål"},
            {"number": "Högst 10 tecken."},
        ),
        ({"area": "A", "text": "x" * 501}, {"text": "Högst 500 tecken."}),
        ({"area": ["A"], "text": "Mål"}, {"area": "Fältet har fel format."}),
        (
            {"area": "A", "text": "Mål", "strategies": True},
            {"strategies": "Fältet har fel format."},
        ),
    ],
)
def test_validate_goal_reports_bad_fields(raw, expected):
    """Refuse a goal without text or area, or with too long or non-text fields."""
    with pytest.raises(DomainError) as info:
        validate_goal(raw)
    assert info.value.code == "invalid_fields"
    assert info.value.field_messages() == expected


def test_parse_goal_lines_semicolons():
    """Parse "område; nr; mål; strategier; mätbarhet" lines."""
    goals = parse_goal_lines(
        "Arbete och fritid; 2; Möjligheten till egen försörjning skall öka; Praktik; N31807\n"
        "Kunskap och hälsa;5;Vi skall bli en friskare kommun\n"
    )
    assert goals == [
        GoalInput(
            "Arbete och fritid",
            "2",
            "Möjligheten till egen försörjning skall öka",
            "Praktik",
            "N31807",
        ),
        GoalInput("Kunskap och hälsa", "5", "Vi skall bli en friskare kommun"),
    ]


def test_parse_goal_lines_semicolons_keep_commas_in_cells():
    """Keep commas inside cells when the lines use semicolons."""
    goals = parse_goal_lines("Demokrati, delaktighet/tillgänglighet och service;6;Ökat inflytande")
    assert goals[0].area == "Demokrati, delaktighet/tillgänglighet och service"


def test_parse_goal_lines_tabs():
    """Parse tab-separated lines pasted from a spreadsheet."""
    goals = parse_goal_lines(
        "Internt perspektiv\t8\tVi skall bli en effektivare kommun, i mål\r\n"
        "Arbete och fritid\t3\tÖkad mångfald av nya företag och näringar\r\n"
    )
    assert [(g.area, g.number, g.text) for g in goals] == [
        ("Internt perspektiv", "8", "Vi skall bli en effektivare kommun, i mål"),
        ("Arbete och fritid", "3", "Ökad mångfald av nya företag och näringar"),
    ]


def test_parse_goal_lines_comma_csv_with_quotes():
    """Parse comma CSV where quoted cells contain commas and quotes."""
    goals = parse_goal_lines(
        '"Demokrati, delaktighet/tillgänglighet och service",6,Ökat medborgarinflytande\n'
        'Arbete och fritid,4,"Ökad samverkan med ""civilsamhället"", för kvalitet",Dialog\n'
    )
    assert goals[0] == GoalInput(
        "Demokrati, delaktighet/tillgänglighet och service", "6", "Ökat medborgarinflytande"
    )
    assert goals[1].text == 'Ökad samverkan med "civilsamhället", för kvalitet'
    assert goals[1].strategies == "Dialog"


@pytest.mark.parametrize(
    "header",
    [
        "Område;Nr;Mål;Strategier;Mätbarhet",
        "område;nr;mal",
        "Area;No;Goal",
        "Område;Nummer;Text",
    ],
)
def test_parse_goal_lines_skips_header_row(header):
    """Skip a first row whose third column names the goal column."""
    goals = parse_goal_lines(f"{header}\nKunskap och hälsa;5;Vi skall bli en friskare kommun\n")
    assert len(goals) == 1
    assert goals[0].number == "5"


def test_parse_goal_lines_ignores_blank_lines():
    """Skip blank lines between goals."""
    goals = parse_goal_lines("\nA;1;Mål ett\n\n   \nB;2;Mål två\n\n")
    assert [g.number for g in goals] == ["1", "2"]


@pytest.mark.parametrize("text", ["", "\n \n\t\n", None, "Område;Nr;Mål\n"])
def test_parse_goal_lines_refuses_empty_input(text):
    """Refuse an import with no goals in it."""
    with pytest.raises(DomainError) as info:
        parse_goal_lines(text)
    assert info.value.code == "empty_import"


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [
        ("A;1;Mål ett\nB;2;\nC;3;Mål tre", 2, {"text": "Målet behöver en text."}),
        (";1;Mål ett", 1, {"area": "Ange målområde."}),
        ("Område;Nr;Mål\nA;1;Mål ett\n;2;Mål två", 3, {"area": "Ange målområde."}),
        ("A;1;Mål ett\n\n\nB;2;", 4, {"text": "Målet behöver en text."}),
        ("A;1;" + "x" * 501, 1, {"text": "Högst 500 tecken."}),
    ],
)
def test_parse_goal_lines_reports_bad_line_number(text, line, fields):
    """Name the line as pasted, and the field, of the first goal that cannot be imported."""
    with pytest.raises(DomainError) as info:
        parse_goal_lines(text)
    assert info.value.code == "bad_import"
    assert info.value.params == {"line": line}
    assert info.value.field_messages() == fields


# --- Template -------------------------------------------------------------------------------


def test_ks_2019_template_has_the_eight_goals():
    """Hold the 8 goals of KS 2018/109 in 6 areas, numbered 1 to 8."""
    goals = KS_2019_TEMPLATE["goals"]
    assert len(goals) == 8
    assert len({area for area, _, _ in goals}) == 6
    assert [number for _, number, _ in goals] == [str(n) for n in range(1, 9)]
    assert KS_2019_TEMPLATE["dnr"] == "KS 2018/109"
    assert goals[4] == ("Kunskap och hälsa", "5", "Vi skall bli en friskare kommun")
    assert goals[7][0] == "Internt perspektiv"


def test_ks_2019_template_is_valid_input():
    """Pass every template goal and its follow-up dates through the import rules."""
    for area, number, text in KS_2019_TEMPLATE["goals"]:
        assert validate_goal({"area": area, "number": number, "text": text}).text == text
    dates = parse_follow_up_dates(KS_2019_TEMPLATE["follow_up_dates"])
    assert dates == follow_up_dates(2019)
    assert dt.date.fromisoformat(KS_2019_TEMPLATE["meeting_date"]) == dt.date(2019, 2, 20)


# --- Consolidation --------------------------------------------------------------------------

AMBITION_FIELDS = {
    "what": "Fler invånare i egen försörjning",
    "indicator": "Andel invånare med ekonomiskt bistånd",
    "baseline_value": "4,1 %",
    "baseline_year": "2018",
    "target_value": "3,5 %",
    "target_date": "2019-12-31",
    "resources": "Inom befintlig ram",
    "responsible": "Arbetsmarknadsenheten",
}


def make_goal(number: int, **kwargs) -> GoalRecord:
    """Return goal ``number`` of the KS 2019 template with ``kwargs`` set."""
    area, nr, text = KS_2019_TEMPLATE["goals"][number - 1]
    return GoalRecord(area=area, number=nr, text=text, **kwargs)


def make_proposal(pid: int, **kwargs) -> ProposalRecord:
    """Return an active ambition-level proposal labelled ``F<pid>``."""
    data = {
        "id": pid,
        "label": f"F{pid}",
        "kind": "ambitionsniva",
        "fields": {"what": f"Förslag {pid}"},
        "criteria": {},
    }
    data.update(kwargs)
    return ProposalRecord(**data)


def yes_no_tally() -> dict:
    """Return a closed ja/nej round on proposals 1 and 2 as stored."""
    return tally(
        VoteMethod.YES_NO,
        [1, 2],
        [{"1": "ja", "2": "nej"}, {"1": "ja", "2": "avstar"}, {"1": "nej", "2": "ja"}],
    ).to_dict()


def make_record(goals=None, **kwargs) -> WorkshopRecord:
    """Return the KS 2019 workshop with ``goals`` (default: all 8 undecided)."""
    data = {
        "title": KS_2019_TEMPLATE["title"],
        "dnr": KS_2019_TEMPLATE["dnr"],
        "organisation": KS_2019_TEMPLATE["organisation"],
        "unit": KS_2019_TEMPLATE["unit"],
        "meeting_date": KS_2019_TEMPLATE["meeting_date"],
        "recipient": KS_2019_TEMPLATE["recipient"],
        "send_to": KS_2019_TEMPLATE["send_to"],
        "officer": KS_2019_TEMPLATE["officer"],
        "follow_up_dates": follow_up_dates(2019),
        "anonymous": True,
        "goals": goals if goals is not None else [make_goal(n) for n in range(1, 9)],
        "export_date": "2019-02-21",
    }
    data.update(kwargs)
    return WorkshopRecord(**data)


def full_record(**kwargs) -> WorkshopRecord:
    """Return a workshop where goals 2 and 5 have ambition levels, 6 is an inriktningsmål."""
    goal2 = make_goal(
        2,
        decision=DecisionRecord(
            kind="ambitionsniva",
            proposal_label="F1",
            fields=dict(AMBITION_FIELDS),
            criteria={"paverkbart": "ja", "matbart": "delvis"},
            tally=yes_no_tally(),
            tally_labels={1: "F1", 2: "F2"},
            dissent=[
                DissentRecord("Ambitionen är för låg.", name="Anna Andersson (S)"),
                DissentRecord("Resurserna räcker inte."),
            ],
        ),
        proposals=[
            make_proposal(
                1,
                author="Bertil",
                fields=dict(AMBITION_FIELDS),
                criteria={"paverkbart": "ja"},
                merged_from=["F3"],
                original={"what": "Färre med bistånd"},
            ),
            make_proposal(2, status="dold", hidden_reason="Dubblett"),
            make_proposal(3, status="sammanslagen", merged_into="F1"),
            make_proposal(4, status="parkerad"),
        ],
        rounds=[
            RoundRecord(
                number=1,
                method="ja_nej",
                status="stangd",
                tally=yes_no_tally(),
                labels={1: "F1", 2: "F2"},
            )
        ],
    )
    goal5 = make_goal(
        5,
        decision=DecisionRecord(
            kind="ambitionsniva",
            fields={"what": "Lägre sjukfrånvaro", "indicator": "N00090"},
        ),
    )
    goal6 = make_goal(
        6,
        decision=DecisionRecord(
            kind="inriktningsmal",
            proposal_label="F7",
            fields={"rationale": "Inflytande mäts bäst genom aktiviteter"},
        ),
        proposals=[
            make_proposal(7, kind="inriktningsmal", fields={"rationale": "Inflytande mäts bäst"})
        ],
    )
    goals = [make_goal(n) for n in range(1, 9)]
    goals[1], goals[4], goals[5] = goal2, goal5, goal6
    data = {
        "goals": goals,
        "parking": [
            ParkingRecord("Koppla till Agenda 2030", goal="Mål 3"),
            ParkingRecord("Bjud in civilsamhället till nästa dialog"),
        ],
    }
    data.update(kwargs)
    return make_record(**data)


def line_values(lines: list[Line]) -> dict[str, str]:
    """Return ``{label: value}`` for labelled lines."""
    return {line.label: line.value for line in lines}


def test_consolidate_lists_all_goals_in_order():
    """Show all 8 goals, in order, both in the proposal and in the appendix."""
    doc = consolidate(full_record())
    headings = [f"Mål {nr}. {text}" for _, nr, text in KS_2019_TEMPLATE["goals"]]
    assert [g.heading for g in doc.goals] == headings
    assert [a.heading for a in doc.appendix] == headings
    assert [g.area for g in doc.goals] == [area for area, _, _ in KS_2019_TEMPLATE["goals"]]
    assert [g.status for g in doc.goals] == [
        "ej_behandlad",
        "ambitionsniva",
        "ej_behandlad",
        "ej_behandlad",
        "ambitionsniva",
        "inriktningsmal",
        "ej_behandlad",
        "ej_behandlad",
    ]


def test_consolidate_header_comes_from_the_workshop():
    """Copy organisation, Dnr, title, recipient, send-to and officer into the document."""
    doc = consolidate(full_record())
    assert doc.organisation == "Vaggeryds kommun"
    assert doc.unit == "Kommunledningskontoret"
    assert doc.dnr == "KS 2018/109"
    assert doc.date == "2019-02-21"
    assert doc.title == "Kommunstyrelsens mål 2019 fortsatt arbete"
    assert doc.recipient == "Kommunstyrelsen"
    assert doc.send_to == "Kommunledningskontoret"
    assert doc.officer.startswith("Camilla Wallin Kupferberg")


def test_consolidate_decided_ambition_goal_has_its_fields():
    """Show the agreed ambition level's fields and the proposal it builds on."""
    section = consolidate(full_record()).goals[1]
    assert section.status == "ambitionsniva"
    assert section.status_text == "Ambitionsnivå"
    assert section.lines == [
        Line("Vad ska uppnås", "Fler invånare i egen försörjning"),
        Line("Indikator (hur det mäts)", "Andel invånare med ekonomiskt bistånd"),
        Line("Utgångsvärde", "4,1 % (2018)"),
        Line("Målvärde", "3,5 % senast 2019-12-31"),
        Line("Resurser", "Inom befintlig ram"),
        Line("Ansvarig", "Arbetsmarknadsenheten"),
        Line("Bygger på förslag", "F1"),
    ]
    assert section.criteria == [
        Line("Påverkbart inom KS ansvar", "Ja"),
        Line("Mätbart", "Delvis"),
        Line("Resurser finns", "ej bedömt"),
    ]


def test_consolidate_decided_ambition_goal_has_tally_sentences():
    """Show the support in the dialogue as the tally's sentences."""
    section = consolidate(full_record()).goals[1]
    assert section.support == [
        "3 röster lämnades.",
        "F1: ja 2, nej 1, avstår 0.",
        "F2: ja 1, nej 1, avstår 1.",
        "Starkast stöd: F1.",
    ]
    assert section.support == describe_tally(yes_no_tally(), {1: "F1", 2: "F2"})


def test_consolidate_ambition_goal_without_vote_says_so():
    """Say that no vote was held when the decision has no tally."""
    section = consolidate(full_record()).goals[4]
    assert section.support == ["Ingen omröstning genomfördes för detta mål."]
    assert section.lines == [
        Line("Vad ska uppnås", "Lägre sjukfrånvaro"),
        Line("Indikator (hur det mäts)", "N00090"),
    ]


def test_consolidate_ambition_goal_has_a_follow_up_per_date():
    """Add a forecast follow-up line for each follow-up date."""
    doc = consolidate(full_record())
    expected = [
        "Prognos för måluppfyllelse per 30 april 2019 (delårsrapport).",
        "Prognos för måluppfyllelse per 31 augusti 2019 (delårsrapport).",
    ]
    assert doc.goals[1].follow_up == expected
    assert doc.goals[4].follow_up == expected


def test_consolidate_follow_up_uses_the_workshop_dates():
    """Follow the workshop's own follow-up dates, not a fixed pair."""
    record = full_record(follow_up_dates=[dt.date(2020, 4, 30)])
    doc = consolidate(record)
    assert doc.goals[1].follow_up == [
        "Prognos för måluppfyllelse per 30 april 2020 (delårsrapport)."
    ]
    assert "30 april 2020." in doc.summary[2]


def test_consolidate_direction_goal_has_no_forecast():
    """Show an inriktningsmål as such, followed up by activities, without forecast."""
    section = consolidate(full_record()).goals[5]
    assert section.status == "inriktningsmal"
    assert section.status_text == "Inriktningsmål — ingen prognos."
    assert section.follow_up == [DIRECTION_FOLLOW_UP]
    assert section.follow_up == ["Ingen prognos — uppföljning genom verksamhetens aktiviteter."]
    assert Line("Motivering", "Inflytande mäts bäst genom aktiviteter") in section.lines
    assert not any("Prognos för måluppfyllelse" in text for text in section.follow_up)


def test_consolidate_undecided_goals_are_marked_and_named():
    """Mark goals without a decision as not discussed and name them in the decision points."""
    doc = consolidate(full_record())
    for index in (0, 2, 3, 6, 7):
        section = doc.goals[index]
        assert section.status == "ej_behandlad"
        assert section.status_text == "Ej behandlad i dialogen."
        assert section.lines == section.support == section.follow_up == []
    assert doc.decision_points == [
        "Kommunstyrelsens arbetsutskott föreslår kommunstyrelsen att godkänna "
        "ambitionsnivån för kommunstyrelsens mål enligt detta förslag.",
        "Ambitionsnivå fastställs för mål 2 och 5.",
        "Mål 6 behålls som inriktningsmål, utan prognos.",
        "Mål 1, 3, 4, 7 och 8 är ej behandlade i dialogen och behöver beredas vidare.",
    ]
    assert "(1, 3, 4, 7 och 8)" in doc.assessment[1]


def test_consolidate_with_nothing_decided():
    """Name all goals as not discussed when no goal got a decision."""
    doc = consolidate(make_record())
    assert len(doc.goals) == 8
    assert {g.status for g in doc.goals} == {"ej_behandlad"}
    assert doc.decision_points[1:] == [
        "Mål 1, 2, 3, 4, 5, 6, 7 och 8 är ej behandlade i dialogen och behöver beredas vidare."
    ]
    assert doc.summary[1].startswith("0 av 8 mål fick ett förslag i dialogen")


def test_consolidate_with_everything_decided_has_no_undecided_point():
    """Leave out the not-discussed point when every goal has a decision."""
    goals = [
        make_goal(n, decision=DecisionRecord(kind="ambitionsniva", fields={"what": f"Nivå {n}"}))
        for n in range(1, 9)
    ]
    doc = consolidate(make_record(goals))
    assert doc.decision_points[1:] == [
        "Ambitionsnivå fastställs för mål 1, 2, 3, 4, 5, 6, 7 och 8."
    ]
    assert len(doc.assessment) == 1


def test_consolidate_summary_counts_goals_and_dates():
    """Summarise the meeting date, the counts per outcome and the follow-up dates."""
    doc = consolidate(full_record())
    assert doc.summary == [
        "Kommunstyrelsens arbetsutskott förde en dialog den 20 februari 2019 i syfte att ta "
        "fram förslag till ambitionsnivå för kommunstyrelsens 8 mål.",
        "3 av 8 mål fick ett förslag i dialogen: 2 med ambitionsnivå och 1 som "
        "inriktningsmål. 5 mål är ej behandlade.",
        "Prognos för måluppfyllelse redovisas i delårsrapporterna per 30 april 2019, "
        "31 augusti 2019.",
    ]


@pytest.mark.parametrize(("anonymous", "mode"), [(True, "anonym"), (False, "öppen, med namn")])
def test_consolidate_states_whether_voting_was_anonymous(anonymous, mode):
    """Tell the reader whether the opinion poll was anonymous or named."""
    doc = consolidate(full_record(anonymous=anonymous))
    assert f"Åsiktsmätningen i dialogen var {mode}." in doc.background[2]


def test_consolidate_dissent_with_and_without_name():
    """Record dissent with the name in brackets when given."""
    section = consolidate(full_record()).goals[1]
    assert section.dissent == [
        "Ambitionen är för låg. — Anna Andersson (S)",
        "Resurserna räcker inte.",
    ]


def test_consolidate_parking_lines():
    """List parked points, prefixed with their goal when they have one."""
    doc = consolidate(full_record())
    assert doc.parking == [
        "Mål 3: Koppla till Agenda 2030",
        "Bjud in civilsamhället till nästa dialog",
    ]


def test_consolidate_appendix_lists_every_proposal_with_status():
    """List hidden, merged and parked proposals in the appendix with their status."""
    appendix = consolidate(full_record()).appendix[1]
    assert len(appendix.proposals) == 4
    first, hidden, merged, parked = (line_values(p) for p in appendix.proposals)
    assert first["Förslag"] == "F1"
    assert first["Typ"] == "Ambitionsnivå"
    assert first["Status"] == "aktivt"
    assert first["Förslagsställare"] == "Bertil"
    assert first["Sammanslaget av"] == "F3"
    assert hidden["Förslag"] == "F2"
    assert hidden["Status"] == "dolt"
    assert hidden["Skäl"] == "Dubblett"
    assert merged["Status"] == "sammanslaget"
    assert merged["Sammanslaget i"] == "F1"
    assert parked["Status"] == "parkerat"
    assert "Förslagsställare" not in hidden


def test_consolidate_appendix_proposal_has_fields_and_criteria():
    """Show each proposal's fields and its assessment of the three criteria."""
    lines = line_values(consolidate(full_record()).appendix[1].proposals[0])
    assert lines["Vad ska uppnås"] == "Fler invånare i egen försörjning"
    assert lines["Målvärde"] == "3,5 % senast 2019-12-31"
    assert lines["Påverkbart inom KS ansvar"] == "Ja"
    assert lines["Mätbart"] == "ej bedömt"


def test_consolidate_appendix_shows_original_text_of_edited_proposal():
    """Keep the proposal's text from before the facilitator edited it."""
    appendix = consolidate(full_record()).appendix[1]
    edited = line_values(appendix.proposals[0])
    assert edited["Ursprunglig lydelse före redigering"] == "Vad ska uppnås: Färre med bistånd"
    assert "Ursprunglig lydelse före redigering" not in line_values(appendix.proposals[1])


def test_consolidate_appendix_direction_proposal_type():
    """Label an inriktningsmål proposal by its type in the appendix."""
    appendix = consolidate(full_record()).appendix[5]
    assert line_values(appendix.proposals[0])["Typ"] == "Inriktningsmål"


def test_consolidate_appendix_lists_rounds_with_raw_tallies():
    """List every round with method, status and its tally sentences."""
    appendix = consolidate(full_record()).appendix
    assert appendix[1].rounds == [
        [
            "Omröstning 1 (Ja / nej / avstår per förslag, avslutad)",
            "3 röster lämnades.",
            "F1: ja 2, nej 1, avstår 0.",
            "F2: ja 1, nej 1, avstår 1.",
            "Starkast stöd: F1.",
        ]
    ]
    assert appendix[0].proposals == appendix[0].rounds == []


def test_consolidate_filename_stem_has_safe_dnr_and_date():
    """Name the file after the Dnr, made filename-safe, and the export date."""
    doc = consolidate(full_record())
    assert doc.filename_stem == "forslag-till-beslut-KS-2018-109-2019-02-21"
    assert "KS-2018-109" in doc.filename_stem
    assert "/" not in doc.filename_stem and " " not in doc.filename_stem


@pytest.mark.parametrize(
    ("dnr", "export_date", "stem"),
    [
        ("", "2019-02-21", "forslag-till-beslut-2019-02-21"),
        ("KS 2018/109", "", "forslag-till-beslut-KS-2018-109"),
        (" /KS 2018/109/ ", "2019-02-21", "forslag-till-beslut-KS-2018-109-2019-02-21"),
        ("", "", "forslag-till-beslut"),
    ],
)
def test_consolidate_filename_stem_without_dnr_or_date(dnr, export_date, stem):
    """Build a tidy file name when the Dnr or export date is missing or messy."""
    assert consolidate(make_record(dnr=dnr, export_date=export_date)).filename_stem == stem


def marked(message: str) -> str:
    """Translate by wrapping the msgid in markers, keeping its placeholders."""
    return f"«{message}»"


def test_consolidate_applies_gettext_to_fixed_text():
    """Pass fixed text through the given gettext, leaving user text untouched."""
    doc = consolidate(full_record(), marked)
    assert all(p.startswith("«") and p.endswith("»") for p in doc.decision_points)
    # The list's "och" and the month names are fixed text too.
    assert doc.decision_points[1] == "«Ambitionsnivå fastställs för mål «2 och 5».»"
    assert all(s.startswith("«") for s in doc.summary)
    assert all(b.startswith("«") for b in doc.background)
    assert "«anonym»" in doc.background[2]
    assert doc.goals[0].status_text == "«Ej behandlad i dialogen.»"
    ambition_section = doc.goals[1]
    assert ambition_section.status_text == "«Ambitionsnivå»"
    assert ambition_section.lines[0] == Line("«Vad ska uppnås»", "Fler invånare i egen försörjning")
    assert ambition_section.criteria[1] == Line("«Mätbart»", "«Delvis»")
    assert ambition_section.criteria[2] == Line("«Resurser finns»", "«ej bedömt»")
    assert ambition_section.support[0] == "«3 röster lämnades.»"
    assert ambition_section.support[-1] == "«Starkast stöd: F1.»"
    assert ambition_section.follow_up[0] == (
        "«Prognos för måluppfyllelse per «30 «april» 2019» (delårsrapport).»"
    )
    assert doc.goals[5].follow_up == [f"«{DIRECTION_FOLLOW_UP}»"]
    assert doc.goals[4].support == ["«Ingen omröstning genomfördes för detta mål.»"]
    assert ambition_section.dissent[1] == "Resurserna räcker inte."
    hidden = line_values(doc.appendix[1].proposals[1])
    assert hidden["«Status»"] == "«dolt»"
    assert hidden["«Skäl»"] == "Dubblett"
    assert doc.appendix[1].rounds[0][0] == (
        "«Omröstning 1 («Ja / nej / avstår per förslag», «avslutad»)»"
    )
    assert doc.parking[0] == "Mål 3: Koppla till Agenda 2030"


def test_consolidate_uses_a_real_translation():
    """Use translated strings from a catalogue and fill their placeholders."""
    catalogue = {
        "Ej behandlad i dialogen.": "Not discussed in the dialogue.",
        "Ambitionsnivå fastställs för mål %(goals)s.": "Ambition level set for goal %(goals)s.",
        "%(n)s röster lämnades.": "%(n)s ballots were cast.",
    }
    doc = consolidate(full_record(), lambda msg: catalogue.get(msg, msg))
    assert doc.goals[0].status_text == "Not discussed in the dialogue."
    assert doc.decision_points[1].startswith("Ambition level set for goal 2")
    assert doc.goals[1].support[0] == "3 ballots were cast."


# --- describe_tally -------------------------------------------------------------------------

LABELS = {1: "F1", 2: "F2"}


@pytest.mark.parametrize(
    ("method", "ballots", "expected"),
    [
        (
            VoteMethod.YES_NO,
            [{"1": "ja", "2": "nej"}, {"1": "ja", "2": "avstar"}],
            [
                "2 röster lämnades.",
                "F1: ja 2, nej 0, avstår 0.",
                "F2: ja 0, nej 1, avstår 1.",
                "Starkast stöd: F1.",
            ],
        ),
        (
            VoteMethod.SCORE,
            [{"1": 5, "2": 2}, {"1": 4, "2": 2}, {"1": 4}],
            [
                "3 röster lämnades.",
                "F1: medelbetyg 4,3 av 5 (1: 0, 2: 0, 3: 0, 4: 2, 5: 1).",
                "F2: medelbetyg 2 av 5 (1: 0, 2: 2, 3: 0, 4: 0, 5: 0).",
                "Starkast stöd: F1.",
            ],
        ),
        (
            VoteMethod.DOTS,
            [{"1": 2, "2": 1}, {"2": 3}],
            [
                "2 röster lämnades.",
                "F1: 2 poäng från 1 personer.",
                "F2: 4 poäng från 2 personer.",
                "Starkast stöd: F2.",
            ],
        ),
        (
            VoteMethod.GRADIENTS,
            [{"1": 2, "2": 1}, {"1": 2, "2": 5}],
            [
                "2 röster lämnades.",
                "F1: Helt för 0; För, med vissa förbehåll 2; Kan leva med det 0; "
                "Tveksam, vill diskutera mer 0; Emot — blockerar 0.",
                "F2: Helt för 1; För, med vissa förbehåll 0; Kan leva med det 0; "
                "Tveksam, vill diskutera mer 0; Emot — blockerar 1.",
                "Starkast stöd: F1.",
            ],
        ),
        (
            VoteMethod.CRITERIA,
            [
                {"1": dict.fromkeys(CRITERIA, "ja"), "2": FULL_CRITERIA},
                {"1": {"paverkbart": "ja", "matbart": "nej", "resurser": "delvis"}},
            ],
            [
                "2 röster lämnades.",
                "F1: Påverkbart inom KS ansvar ja 2 / delvis 0 / nej 0; "
                "Mätbart ja 1 / delvis 0 / nej 1; Resurser finns ja 1 / delvis 1 / nej 0.",
                "F2: Påverkbart inom KS ansvar ja 1 / delvis 0 / nej 0; "
                "Mätbart ja 0 / delvis 1 / nej 0; Resurser finns ja 0 / delvis 0 / nej 1.",
                "Starkast stöd: F1.",
            ],
        ),
    ],
)
def test_describe_tally_one_line_per_proposal_and_leader(method, ballots, expected):
    """Describe the count, each proposal's result and the strongest support in sentences."""
    data = tally(method, [1, 2], ballots).to_dict()
    assert describe_tally(data, LABELS) == expected
    # The same sentences come out of a tally stored as JSON.
    assert describe_tally(json.loads(json.dumps(data)), LABELS) == expected


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (VoteMethod.YES_NO, [{"1": "ja", "2": "ja"}]),
        (VoteMethod.SCORE, [{"1": 4, "2": 4}]),
        (VoteMethod.DOTS, [{"1": 1, "2": 1}]),
        (VoteMethod.GRADIENTS, [{"1": 1, "2": 1}]),
        (VoteMethod.CRITERIA, [{"1": FULL_CRITERIA, "2": FULL_CRITERIA}]),
    ],
)
def test_describe_tally_names_a_tie(method, ballots):
    """End with a shared-first-place line naming every leader."""
    lines = describe_tally(tally(method, [1, 2], ballots).to_dict(), LABELS)
    assert len(lines) == 4
    assert lines[-1] == "Delad förstaplats: F1, F2."


@pytest.mark.parametrize("method", list(VoteMethod))
def test_describe_tally_without_votes_has_no_leader_line(method):
    """Describe each proposal but name no leader when nobody voted."""
    lines = describe_tally(tally(method, [1, 2], []).to_dict(), LABELS)
    assert lines[0] == "0 röster lämnades."
    assert len(lines) == 3
    assert lines[1].startswith("F1: ") and lines[2].startswith("F2: ")
    assert not any(line.startswith(("Starkast", "Delad")) for line in lines)


def test_describe_tally_falls_back_to_proposal_id_without_label():
    """Use the proposal id when no label is known."""
    lines = describe_tally(tally(VoteMethod.YES_NO, [7], [{"7": "ja"}]).to_dict(), {})
    assert lines == ["1 röster lämnades.", "7: ja 1, nej 0, avstår 0.", "Starkast stöd: 7."]
