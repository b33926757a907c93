"""Unit tests for the decision document in ``workshop.domain.documents``: consolidate()."""

from __future__ import annotations

import datetime as dt

import pytest

from workshop.domain import (
    DIRECTION_FOLLOW_UP,
    KS_2019_TEMPLATE,
    DecisionRecord,
    DissentRecord,
    GoalRecord,
    GoalStatus,
    Line,
    ParkingRecord,
    ProposalRecord,
    RoundRecord,
    VoteMethod,
    WorkshopRecord,
    consolidate,
    describe_tally,
    follow_up_dates,
    goal_status,
    tally,
)

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
    assert section.status_text == "Inriktningsmål — ingen prognos"
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
        assert section.status_text == "Ej behandlad i dialogen"
        assert section.lines == section.support == section.follow_up == []
    assert doc.decision_points == [
        "Kommunstyrelsens arbetsutskott föreslår kommunstyrelsen att godkänna "
        "ambitionsnivån för kommunstyrelsens mål enligt detta förslag.",
        "Ambitionsnivå fastställs för mål 2 och 5.",
        "Mål 6 behålls som inriktningsmål, utan prognos.",
        "Mål 1, 3, 4, 7 och 8 har inte behandlats i dialogen och behöver beredas vidare.",
    ]
    assert doc.assessment[1] == (
        "Mål 1, 3, 4, 7 och 8 har inte behandlats i dialogen och bör beredas vidare."
    )


def discussed_record() -> WorkshopRecord:
    """The issue's case: goal 8 had proposals and a vote but no decision; goal 7 a proposal."""
    record = full_record()
    record.goals[7].proposals = [make_proposal(8), make_proposal(9)]
    record.goals[7].rounds = [
        RoundRecord(1, "ja_nej", "stangd", yes_no_tally(), {1: "F8", 2: "F9"})
    ]
    record.goals[6].proposals = [make_proposal(10, status="dold", hidden_reason="Dubblett")]
    return record


def test_a_goal_with_a_vote_but_no_decision_is_discussed_everywhere():
    """Say "behandlad utan förslag till beslut" for goal 8 in every part, never "ej behandlad"."""
    doc = consolidate(discussed_record())
    assert [g.status for g in doc.goals][6:] == ["behandlad_utan_beslut"] * 2
    assert [a.status for a in doc.appendix] == [g.status for g in doc.goals]
    assert doc.decision_points[3:] == [
        "Mål 7 och 8 har behandlats i dialogen utan förslag till beslut och behöver beredas "
        "vidare.",
        "Mål 1, 3 och 4 har inte behandlats i dialogen och behöver beredas vidare.",
    ]
    assert doc.summary[1].endswith(
        "Mål 7 och 8 har behandlats i dialogen utan förslag till beslut. "
        "Mål 1, 3 och 4 har inte behandlats i dialogen."
    )
    assert doc.assessment[1].startswith(
        "Mål 7 och 8 har behandlats i dialogen utan förslag till beslut."
    )
    assert doc.assessment[2].startswith("Mål 1, 3 och 4 har inte behandlats")
    section = doc.goals[7]
    assert section.status_text == doc.appendix[7].status_text
    assert section.status_text == "Behandlad utan förslag till beslut"
    assert section.lines == [Line("Antal förslag", "2"), Line("Antal omröstningar", "1")]
    assert section.support == ["Förslagen och röstresultaten redovisas i bilagan."]
    assert section.follow_up == section.criteria == section.dissent == []
    assert {r.goal_status for r in doc.proposal_rows if r.goal == "8"} == {
        "Behandlad utan förslag till beslut"
    }


@pytest.mark.parametrize(
    ("kind", "proposals", "rounds", "status"),
    [
        (None, 0, 0, GoalStatus.NOT_DISCUSSED),
        (None, 1, 0, GoalStatus.DISCUSSED),
        (None, 0, 1, GoalStatus.DISCUSSED),
        (None, 3, 2, GoalStatus.DISCUSSED),
        ("ambitionsniva", 0, 0, GoalStatus.AMBITION),
        ("ambitionsniva", 2, 1, GoalStatus.AMBITION),
        ("inriktningsmal", 0, 0, GoalStatus.DIRECTION),
        ("inriktningsmal", 1, 1, GoalStatus.DIRECTION),
    ],
)
def test_goal_status_is_decided_by_the_decision_then_by_activity(kind, proposals, rounds, status):
    """A saved decision decides; without one, any proposal or round means it was discussed."""
    assert goal_status(kind, proposals=proposals, rounds=rounds) is status


def test_consolidate_with_nothing_decided():
    """Name all goals as not discussed when no goal got a decision."""
    doc = consolidate(make_record())
    assert len(doc.goals) == 8
    assert {g.status for g in doc.goals} == {"ej_behandlad"}
    assert doc.decision_points[1:] == [
        "Mål 1, 2, 3, 4, 5, 6, 7 och 8 har inte behandlats i dialogen och behöver beredas vidare."
    ]
    assert doc.summary[1].startswith("0 av 8 mål fick ett förslag till beslut i dialogen")


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
        "3 av 8 mål fick ett förslag till beslut i dialogen: 2 med ambitionsnivå och 1 som "
        "inriktningsmål. Mål 1, 3, 4, 7 och 8 har inte behandlats i dialogen.",
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
    assert parked["Status"] == "tas vidare"
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
    assert doc.goals[0].status_text == "«Ej behandlad i dialogen»"
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
        "Ej behandlad i dialogen": "Not discussed in the dialogue.",
        "Ambitionsnivå fastställs för mål %(goals)s.": "Ambition level set for goal %(goals)s.",
        "%(n)s röster lämnades.": "%(n)s ballots were cast.",
    }
    doc = consolidate(full_record(), lambda msg: catalogue.get(msg, msg))
    assert doc.goals[0].status_text == "Not discussed in the dialogue."
    assert doc.decision_points[1].startswith("Ambition level set for goal 2")
    assert doc.goals[1].support[0] == "3 ballots were cast."
