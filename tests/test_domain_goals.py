"""Unit tests for setting a workshop up in ``workshop.domain.goals``.

Join codes, follow-up dates, goals import and the KS mål 2019 template.
"""

from __future__ import annotations

import datetime as dt

import pytest

from workshop.domain import (
    JOIN_ALPHABET,
    JOIN_CODE_LENGTH,
    KS_2019_TEMPLATE,
    DomainError,
    GoalInput,
    follow_up_dates,
    is_join_code,
    new_join_code,
    normalise_join_code,
    parse_follow_up_dates,
    parse_goal_lines,
    validate_goal,
)

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
