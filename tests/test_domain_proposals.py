"""Unit tests for proposal validation in ``workshop.domain.proposals``."""

from __future__ import annotations

import pytest

from workshop import domain
from workshop.domain import (
    CRITERIA,
    PROPOSAL_LIMITS,
    DomainError,
    ProposalKind,
    validate_proposal,
)

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


# --- Caps -------------------------------------------------------------------------------------


def test_the_caps_refuse_at_their_limit_naming_the_phones_own_first() -> None:
    caps = domain.ProposalCaps(per_phone_goal=5, per_phone=30, per_goal=100, per_workshop=400)
    domain.check_proposal_caps(domain.ProposalCounts(4, 29, 99, 399), caps)  # one more is fine
    for counts, code in (
        (domain.ProposalCounts(5, 30, 100, 400), "too_many_mine_goal"),
        (domain.ProposalCounts(0, 30, 100, 400), "too_many_mine"),
        (domain.ProposalCounts(0, 0, 100, 400), "too_many_goal"),
        (domain.ProposalCounts(0, 0, 0, 400), "too_many_workshop"),
    ):
        with pytest.raises(domain.DomainError) as refused:
            domain.check_proposal_caps(counts, caps)
        assert refused.value.code == code
        assert "%(limit)s" in refused.value.message and refused.value.params["limit"] > 0


def test_a_cap_of_zero_is_no_cap() -> None:
    none = domain.ProposalCaps(per_phone_goal=0, per_phone=0, per_goal=0, per_workshop=-1)
    domain.check_proposal_caps(domain.ProposalCounts(10**6, 10**6, 10**6, 10**6), none)
