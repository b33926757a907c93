"""The proposal for decision as DOCX and Markdown: complete, shaped, and inert for hostile text."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator

import docx
import pytest
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt

from workshop import documents, domain
from workshop.documents import export_filename, md_escape, render_docx, render_markdown
from workshop.domain import (
    DecisionRecord,
    DissentRecord,
    GoalRecord,
    ParkingRecord,
    ProposalRecord,
    RoundRecord,
    VoteMethod,
    WorkshopRecord,
)

TEMPLATE = domain.KS_2019_TEMPLATE
GOAL_TEXTS = [text for _, _, text in TEMPLATE["goals"]]
AMBITION_WHAT = "Andelen invånare med egen försörjning ska öka med 2 procentenheter"
DIRECTION_WHY = "Målet beskriver en riktning; KS kan inte ensamt påverka utfallet."
PARKED = "Se över nyckeltalen för folkhälsa i Kolada"
DISSENT = "Ambitionsnivån är för låg"


def _proposal(pid: int, label: str, kind: str = "ambitionsniva", **extra) -> ProposalRecord:
    fields = {"what": f"Förslag {label}: {AMBITION_WHAT}"} if kind == "ambitionsniva" else {}
    if kind == "inriktningsmal":
        fields = {"rationale": DIRECTION_WHY}
    return ProposalRecord(id=pid, label=label, kind=kind, fields=fields, criteria={}, **extra)


def _yes_no_round() -> tuple[dict, dict[int, str]]:
    ballots = [
        {"1": "ja", "2": "nej"},
        {"1": "ja", "2": "ja"},
        {"1": "ja", "2": "avstar"},
        {"1": "nej", "2": "nej"},
        {"1": "avstar"},
    ]
    return domain.tally(VoteMethod.YES_NO, [1, 2], ballots).to_dict(), {1: "F1", 2: "F2"}


def _score_round() -> tuple[dict, dict[int, str]]:
    ballots = [{"11": 4, "12": 2}, {"11": 5, "12": 3}, {"11": 3}]
    return domain.tally(VoteMethod.SCORE, [11, 12], ballots).to_dict(), {11: "F1", 12: "F2"}


def make_record(**changes) -> WorkshopRecord:
    """Build the KS 2019 workshop: goals 2 and 5 decided, 6 an inriktningsmål, the rest open."""
    goals = [GoalRecord(area=a, number=n, text=t) for a, n, t in TEMPLATE["goals"]]
    yes_no, yes_no_labels = _yes_no_round()
    goals[1].proposals = [
        _proposal(1, "F1", author="Anna Andersson"),
        _proposal(2, "F2", merged_from=["F4"]),
        _proposal(3, "F3", status="dold", hidden_reason="Gäller inte målet"),
        _proposal(4, "F4", status="sammanslagen", merged_into="F2"),
    ]
    goals[1].rounds = [RoundRecord(1, "ja_nej", "stangd", yes_no, yes_no_labels)]
    goals[1].decision = DecisionRecord(
        kind="ambitionsniva",
        proposal_label="F1",
        fields={
            "what": AMBITION_WHAT,
            "indicator": "Andel invånare 20–64 år utan ekonomiskt bistånd (Kolada N31807)",
            "baseline_value": "91,2 %",
            "baseline_year": "2018",
            "target_value": "93,2 %",
            "target_date": "2019-12-31",
            "resources": "Inom befintlig budget",
        },
        criteria={"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
        tally=yes_no,
        tally_labels=yes_no_labels,
        dissent=[DissentRecord(DISSENT, "Bo Berg (S)")],
    )
    score, score_labels = _score_round()
    goals[4].proposals = [_proposal(11, "F1"), _proposal(12, "F2")]
    goals[4].rounds = [RoundRecord(1, "betyg", "stangd", score, score_labels)]
    goals[4].decision = DecisionRecord(
        kind="ambitionsniva",
        proposal_label="F1",
        fields={"what": "Sjukfrånvaron bland kommunens anställda ska minska till 6 %"},
        criteria={"paverkbart": "ja"},
        tally=score,
        tally_labels=score_labels,
    )
    goals[5].proposals = [_proposal(21, "F1", kind="inriktningsmal")]
    goals[5].decision = DecisionRecord(kind="inriktningsmal", fields={"rationale": DIRECTION_WHY})
    values = {
        "title": TEMPLATE["title"],
        "dnr": TEMPLATE["dnr"],
        "organisation": TEMPLATE["organisation"],
        "unit": TEMPLATE["unit"],
        "meeting_date": TEMPLATE["meeting_date"],
        "recipient": TEMPLATE["recipient"],
        "send_to": TEMPLATE["send_to"],
        "officer": TEMPLATE["officer"],
        "follow_up_dates": domain.parse_follow_up_dates(TEMPLATE["follow_up_dates"]),
        "anonymous": True,
        "goals": goals,
        "parking": [ParkingRecord(PARKED, "Mål 5"), ParkingRecord("Gemensam mall för mål")],
        "export_date": "2019-02-25",
    }
    values.update(changes)
    return WorkshopRecord(**values)


@pytest.fixture(scope="module")
def decision() -> domain.DecisionDocument:
    return domain.consolidate(make_record())


@pytest.fixture(scope="module")
def word(decision: domain.DecisionDocument) -> docx.document.Document:
    return docx.Document(io.BytesIO(render_docx(decision)))


def _blocks(container) -> Iterator[Paragraph | Table]:
    for block in container.iter_inner_content():
        yield block
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    yield from _blocks(cell)


def docx_text(document) -> str:
    """Return every paragraph's text, table cells included, one per line."""
    return "\n".join(b.text for b in _blocks(document) if isinstance(b, Paragraph))


def _paragraphs(document) -> list[Paragraph]:
    return [b for b in document.iter_inner_content() if isinstance(b, Paragraph)]


# --- DOCX -------------------------------------------------------------------------------------


def test_docx_holds_the_whole_proposal(word) -> None:
    text = docx_text(word)
    for goal in GOAL_TEXTS:
        assert goal in text
    for expected in (
        "Vaggeryds kommun",
        "Kommunledningskontoret",
        "Dnr KS 2018/109",
        "Till Kommunstyrelsen",
        "Förslag till beslut",
        "Sammanfattning",
        "Ärendet",
        "Bedömning",
        AMBITION_WHAT,
        "Målvärde: 93,2 % senast 2019-12-31",
        "Utgångsvärde: 91,2 % (2018)",
        "F1: ja 3, nej 1, avstår 1.",
        "F2: ja 1, nej 2, avstår 1.",
        "5 röster lämnades.",
        "F1: medelbetyg 4 av 5",
        "Inriktningsmål — ingen prognos",
        "Ingen prognos — uppföljning genom verksamhetens aktiviteter",
        "Prognos för måluppfyllelse per 30 april 2019 (delårsrapport).",
        "Prognos för måluppfyllelse per 31 augusti 2019 (delårsrapport).",
        "Ej behandlad",
        f"Mål 5: {PARKED}",
        f"{DISSENT} — Bo Berg (S)",
        "Beslutet ska skickas till",
        "Handläggare",
        TEMPLATE["officer"],
        "Bilaga: Alla förslag och röstresultat",
        "dolt",
        "Gäller inte målet",
        "sammanslaget",
        "Sammanslaget i",
        "Anna Andersson",
    ):
        assert expected in text, expected


def test_docx_headings_follow_the_tjansteskrivelse(word, decision) -> None:
    headings = [(p.style.name, p.text) for p in _paragraphs(word) if p.style.name != "Normal"]
    headings = [h for h in headings if h[0] == "Dokumenttitel" or h[0].startswith("Heading")]
    assert headings[0] == ("Dokumenttitel", TEMPLATE["title"])
    level1 = [text for style, text in headings if style == "Heading 1"]
    assert level1 == [
        "Förslag till beslut",
        "Sammanfattning",
        "Ärendet",
        "Bedömning",
        "Frågor att ta vidare",
        "Beslutet ska skickas till",
        "Handläggare",
        "Bilaga: Alla förslag och röstresultat",
    ]
    level2 = [text for style, text in headings if style == "Heading 2"]
    goal_headings = [g.heading for g in decision.goals]
    assert level2 == goal_headings + [g.heading for g in decision.appendix]
    assert goal_headings[0] == f"Mål 1. {GOAL_TEXTS[0]}"
    assert "Reservationer/avvikande meningar" in [t for s, t in headings if s == "Heading 3"]


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _is_heading(paragraph: Paragraph) -> bool:
    return paragraph.style.name in ("Dokumenttitel", "Heading 1", "Heading 2", "Heading 3")


def _keeps_with_next(paragraph: Paragraph) -> bool:
    """Direct formatting, else the style chain (as Word resolves it)."""
    if paragraph.paragraph_format.keep_with_next is not None:
        return paragraph.paragraph_format.keep_with_next
    style = paragraph.style
    while style is not None:
        if style.paragraph_format.keep_with_next is not None:
            return style.paragraph_format.keep_with_next
        style = style.base_style
    return False


def _footer_fields(document) -> list[str]:
    footer = document.sections[0].footer._element
    return [" ".join(t.text.split()) for t in footer.iter(W + "instrText")]


def test_docx_has_our_own_styles_and_page_numbers(word) -> None:
    """Sans-serif body, black headings of our own kept with the next paragraph, no "Title",
    and "Sida x (y)" in the footer with real PAGE and NUMPAGES fields."""
    paragraphs = list(_blocks(word))
    used = {p.style.name for p in paragraphs if isinstance(p, Paragraph)}
    assert "Title" not in used
    assert "Dokumenttitel" in used
    headings = [p for p in paragraphs if isinstance(p, Paragraph) and _is_heading(p)]
    assert len(headings) > 20
    assert all(_keeps_with_next(p) for p in headings)
    for name in ("Dokumenttitel", "Heading 1", "Heading 2", "Heading 3"):
        style = word.styles[name]
        fonts = style.element.rPr.find(W + "rFonts")
        assert fonts.get(W + "ascii") == "Arial" and fonts.get(W + "asciiTheme") is None, name
        assert style.font.color.rgb in (None, docx.shared.RGBColor(0, 0, 0)), name
        assert style.font.color.theme_color is None, name
    normal = word.styles["Normal"]
    assert normal.font.name == "Arial"
    assert normal.element.rPr.find(W + "rFonts").get(W + "cs") == "Arial"
    assert _footer_fields(word) == ["PAGE", "NUMPAGES"]
    footer = word.sections[0].footer.paragraphs[0]
    assert footer.text == "Sida 1 (1)"  # the fields' placeholders until Word updates them


def test_docx_keeps_each_proposal_table_on_one_page(word) -> None:
    for table in word.tables:
        rows = table._tbl.findall(W + "tr")
        assert all(row.find(W + "trPr/" + W + "cantSplit") is not None for row in rows)
        for row in table.rows[:-1]:
            assert all(p.paragraph_format.keep_with_next for c in row.cells for p in c.paragraphs)


def test_the_log_docx_repeats_its_header_row_on_every_page() -> None:
    log = domain.audit_log_document(
        make_record(
            audit=[
                domain.AuditRecord(f"2019-02-20 09:{n:02d}:00 UTC", "sl", "Bytte fas")
                for n in range(60)
            ]
        )
    )
    word = docx.Document(io.BytesIO(documents.render_log_docx(log)))
    (table,) = word.tables
    header = table.rows[0]._tr.find(W + "trPr/" + W + "tblHeader")
    assert header is not None and header.get(W + "val") in (None, "true", "1")
    assert [c.text for c in table.rows[0].cells] == ["Tid (UTC)", "Vem", "Åtgärd"]
    assert all(r._tr.find(W + "trPr/" + W + "tblHeader") is None for r in table.rows[1:])
    assert len(table.rows) == 61
    assert _footer_fields(word) == ["PAGE", "NUMPAGES"]
    assert "Title" not in {p.style.name for p in word.paragraphs}


def test_docx_decision_points_are_a_numbered_list(word, decision) -> None:
    paragraphs = _paragraphs(word)
    start = next(i for i, p in enumerate(paragraphs) if p.text == "Förslag till beslut")
    points = []
    for paragraph in paragraphs[start + 1 :]:
        if paragraph.style.name.startswith("Heading"):
            break
        points.append(paragraph)
    assert [p.text for p in points] == decision.decision_points
    assert len(points) == 4  # approve; ambition for 2 and 5; 6 as inriktningsmål; the rest open
    assert {p.style.name for p in points} == {"List Number"}
    assert points[0].style.element.pPr.numPr is not None


def test_docx_labels_are_bold_and_status_stands_out(word) -> None:
    paragraphs = _paragraphs(word)
    line = next(p for p in paragraphs if p.text.startswith("Vad ska uppnås: "))
    assert line.runs[0].bold and not line.runs[1].bold
    status = next(p for p in paragraphs if p.text == "Ambitionsnivå")
    assert status.runs[0].bold


def test_docx_appendix_starts_a_page_and_uses_tables(word) -> None:
    paragraphs = _paragraphs(word)
    appendix = next(p for p in paragraphs if p.text == "Bilaga: Alla förslag och röstresultat")
    assert appendix.paragraph_format.page_break_before
    tables = word.tables
    assert len(tables) == 7  # every proposal in goals 2, 5 and 6
    first = {row.cells[0].text: row.cells[1].text for row in tables[0].rows}
    assert first["Typ"] == "Ambitionsnivå"
    assert first["Status"] == "aktivt"
    hidden = {row.cells[0].text: row.cells[1].text for row in tables[2].rows}
    assert hidden["Status"] == "dolt"
    assert hidden["Skäl"] == "Gäller inte målet"
    merged = {row.cells[0].text: row.cells[1].text for row in tables[3].rows}
    assert merged["Status"] == "sammanslaget"
    assert merged["Sammanslaget i"] == "F2"
    assert "Omröstning 1 (Ja / nej / avstår per förslag, avslutad)" in docx_text(word)


def test_docx_properties_and_language(word) -> None:
    props = word.core_properties
    assert props.title == TEMPLATE["title"]
    assert props.language == "sv-SE"
    assert props.author == "Vaggeryds kommun"
    assert props.identifier == "KS 2018/109"
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    langs = word.styles.element.xpath("w:docDefaults/w:rPrDefault/w:rPr/w:lang")
    assert langs[0].get(w + "val") == "sv-SE"
    assert "Vaggeryds kommun" in word.sections[0].header.paragraphs[0].text
    assert round(word.sections[0].page_width.cm, 1) == 21.0  # A4
    assert round(word.sections[0].page_height.cm, 1) == 29.7


def test_the_decision_document_holds_no_audit_entries() -> None:
    """The log is its own document: no entry, heading or column of it in the decision."""
    entries = [
        domain.AuditRecord("2019-02-20 09:00:00 UTC", "samtalsledare", "Startade dialogen"),
        domain.AuditRecord("2019-02-20 09:05:00 UTC", "samtalsledare", "Bytte fas: Mål 2"),
    ]
    decision = domain.consolidate(make_record(audit=entries))
    word = docx.Document(io.BytesIO(render_docx(decision)))
    texts = (docx_text(word), render_markdown(decision), documents.render_html(decision))
    for text in texts:
        for needle in ("UTC", "Startade dialogen", "Bytte fas", "Logg över", "samtalsledare"):
            assert needle not in text, needle


def test_docx_without_parking_says_so() -> None:
    decision = domain.consolidate(make_record(parking=[]))
    text = docx_text(docx.Document(io.BytesIO(render_docx(decision))))
    assert "Inga frågor att ta vidare." in text


def test_docx_drops_characters_xml_cannot_hold() -> None:
    hostile = "Före\x00\x08\x1b\ufffe\ud800 efter"
    parking = [ParkingRecord(hostile), ParkingRecord("rad\x0bbrytning")]
    record = make_record(parking=parking, title="Mål\x01 2019")
    record.goals[1].decision.dissent.append(DissentRecord(hostile, "X\x1f"))
    data = render_docx(domain.consolidate(record))
    word = docx.Document(io.BytesIO(data))
    text = docx_text(word)
    assert "Före efter" in text
    assert "Före efter — X" in text
    assert "rad\nbrytning" in text  # Word's manual line break (VT) stays a line break
    assert word.core_properties.title == "Mål 2019"


def test_docx_sends_fixed_text_through_gettext(decision) -> None:
    def gettext(message: str) -> str:
        return "«" + message + "»"

    translated = domain.consolidate(make_record(), gettext)
    text = docx_text(docx.Document(io.BytesIO(render_docx(translated, gettext))))
    for msgid in (
        "Förslag till beslut",
        "Sammanfattning",
        "Ärendet",
        "Bedömning",
        "Frågor att ta vidare",
        "Beslutet ska skickas till",
        "Handläggare",
        "Bilaga: Alla förslag och röstresultat",
        "Bedömning mot kriterierna",
        "Stöd i dialogen",
        "Reservationer/avvikande meningar",
        "Uppföljning",
        "Dnr KS 2018/109",
        "Till Kommunstyrelsen",
    ):
        assert f"«{msgid}»" in text, msgid
    assert "«Målområde»: " in text


# --- Markdown ---------------------------------------------------------------------------------

HOSTILE = [
    "# Rubrik",
    "## Rubrik ##",
    "Rubrik\n===",
    "[klick](http://evil)",
    "[x]: http://evil",
    "![x](y)",
    "<script>alert(1)</script>",
    "<http://evil>",
    "<!-- kommentar -->",
    "* lista",
    "- lista",
    "+ lista",
    "1. lista",
    "1) lista",
    "**fet**",
    "_kursiv_",
    "`kod`",
    "```\nkod\n```",
    "    indragen kod",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "~~struken~~",
    "> citat",
    "---",
    "text\n# heading",
    "&lt;b&gt; &amp; &#60;",
    "snedstreck \\ och \\*",
    "a\u2028# b\x0b- c\x85> d",
]


def commonmark() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _flat(text: str) -> str:
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escape_keeps_hostile_text_plain(text: str) -> None:
    escaped = md_escape(text)
    assert "\n" not in escaped
    rendered = commonmark().render(escaped)
    assert rendered.startswith("<p>") and rendered.endswith("</p>\n")
    inner = rendered[3:-5]
    for tag in ("<a", "<img", "<h1", "<h2", "<script", "<em>", "<strong>", "<code>", "<table>"):
        assert tag not in inner
    assert "<li>" not in rendered and "<" not in inner
    assert html.unescape(inner) == _flat(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escape_is_inert_inside_a_list_item_and_heading(text: str) -> None:
    rendered = commonmark().render(f"- **Etikett:** {md_escape(text)}\n\n### {md_escape(text)}\n")
    assert rendered.count("<li>") == 1
    assert rendered.count("<h3>") == 1
    assert "<a" not in rendered and "<em>" not in rendered and "<code>" not in rendered
    assert rendered.count("<strong>") == 1


def test_md_escape_leaves_ordinary_text_readable() -> None:
    assert md_escape("Ökad samverkan med civilsamhället") == "Ökad samverkan med civilsamhället"
    assert md_escape("rad ett\n\n  rad två  ") == "rad ett / rad två"


def _hostile_record() -> WorkshopRecord:
    record = make_record(parking=[ParkingRecord(t) for t in HOSTILE])
    goal = record.goals[1]
    goal.decision.fields["what"] = "\n".join(HOSTILE)
    goal.decision.dissent = [DissentRecord(t, t) for t in HOSTILE]
    goal.proposals.append(
        ProposalRecord(
            id=9,
            label="F9",
            kind="ambitionsniva",
            fields={name: HOSTILE[i] for i, name in enumerate(domain.TEXT_FIELDS)},
            criteria={},
            author="[Eve](http://evil)",
            status="dold",
            hidden_reason="<img src=x onerror=alert(1)>",
            original={"what": "# före"},
        )
    )
    return record


def test_markdown_has_the_tjansteskrivelse_shape(decision) -> None:
    text = render_markdown(decision)
    tokens = commonmark().parse(text)
    headings = [
        (tok.tag, "".join(c.content for c in tokens[i + 1].children or []))
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open"
    ]
    assert headings[0] == ("h1", TEMPLATE["title"])
    assert [c for tag, c in headings if tag == "h2"] == [
        "Förslag till beslut",
        "Sammanfattning",
        "Ärendet",
        "Bedömning",
        "Frågor att ta vidare",
        "Beslutet ska skickas till",
        "Handläggare",
        "Bilaga: Alla förslag och röstresultat",
    ]
    h3 = [c for tag, c in headings if tag == "h3"]
    assert h3 == [g.heading for g in decision.goals] + [g.heading for g in decision.appendix]
    assert [t.type for t in tokens].count("ordered_list_open") == 1
    html_out = commonmark().render(text)
    for expected in (
        "Dnr KS 2018/109",
        "F1: ja 3, nej 1, avstår 1.",
        "Inriktningsmål — ingen prognos",
        "Ingen prognos — uppföljning genom verksamhetens aktiviteter",
        "Ej behandlad",
        f"Mål 5: {PARKED}",
        "<strong>Målvärde:</strong> 93,2 % senast 2019-12-31",
        "dolt",
        "sammanslaget",
    ):
        assert expected in html_out, expected
    assert "1. Kommunstyrelsens arbetsutskott föreslår" in text


def test_markdown_without_parking_says_so() -> None:
    text = render_markdown(domain.consolidate(make_record(parking=[])))
    assert "## Frågor att ta vidare\n\nInga frågor att ta vidare\\." in text


def test_markdown_of_hostile_workshop_is_only_text() -> None:
    record = _hostile_record()
    plain = commonmark().parse(render_markdown(domain.consolidate(make_record())))
    tokens = commonmark().parse(render_markdown(domain.consolidate(record)))
    allowed_blocks = {
        "heading_open",
        "heading_close",
        "paragraph_open",
        "paragraph_close",
        "ordered_list_open",
        "ordered_list_close",
        "bullet_list_open",
        "bullet_list_close",
        "list_item_open",
        "list_item_close",
        "inline",
    }
    assert {t.type for t in tokens} <= allowed_blocks
    children = {c.type for t in tokens if t.type == "inline" for c in t.children or []}
    assert children <= {"text", "strong_open", "strong_close"}
    # Hostile text adds list items (one per parked point or dissent) but never headings.
    count = [t.type for t in tokens].count
    assert count("heading_open") == [t.type for t in plain].count("heading_open") + 1
    rendered = commonmark().render(render_markdown(domain.consolidate(record)))
    assert html.escape("<script>alert(1)</script>", quote=False) in rendered
    assert "[klick](http://evil)" in rendered
    for tag in ("<a", "<img", "<script", "<em>", "<code>", "<table>", "<pre>", "<s>", "<hr"):
        assert tag not in rendered


def test_markdown_and_docx_accept_a_translation() -> None:
    def gettext(message: str) -> str:
        return message.replace("Förslag till beslut", "Proposal for decision")

    decision = domain.consolidate(make_record(), gettext)
    assert "## Proposal for decision" in render_markdown(decision, gettext)
    word = docx.Document(io.BytesIO(render_docx(decision, gettext)))
    assert "Proposal for decision" in docx_text(word)


# --- File name --------------------------------------------------------------------------------


def test_export_filename_is_ascii_and_names_the_case(decision) -> None:
    name = export_filename(decision, "docx")
    assert "KS-2018-109" in name
    assert name == "forslag-till-beslut-KS-2018-109-2019-02-25.docx"
    assert name.isascii()
    assert export_filename(decision, "md").endswith(".md")


def test_export_filename_survives_an_odd_stem(decision) -> None:
    odd = domain.DecisionDocument(**{**vars(decision), "filename_stem": '../Förslag "x"/åäö'})
    name = export_filename(odd, ".docx")
    assert name.isascii() and "/" not in name and '"' not in name
    assert name.endswith(".docx") and not name.startswith(".")
