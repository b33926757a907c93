"""Property: every part of every format states the same status for every goal.

Hypothesis builds random workshops (per goal: nothing, proposals only, proposals and rounds, a
decision of either kind with or without them) and reads each rendered format back: the decision
points, the summary, the assessment, each goal's section and its appendix entry in DOCX,
Markdown and the PDF's HTML; the goal sheet and the proposal rows in XLSX and CSV; the summary
page; the follow-up report in DOCX and HTML. The PDF itself is checked once (WeasyPrint is too
slow for every example) in ``test_the_pdf_states_every_status``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from types import SimpleNamespace

import docx
import openpyxl
from flask import Flask, render_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from workshop import documents, domain
from workshop.domain import (
    DecisionRecord,
    GoalRecord,
    GoalStatus,
    ProposalRecord,
    RoundRecord,
    VoteMethod,
    WorkshopRecord,
)

TEMPLATE = domain.KS_2019_TEMPLATE
LABELS = {status: domain.GOAL_STATUS_LABELS[status] for status in GoalStatus}
BY_LABEL = {label: status for status, label in LABELS.items()}
ACTIVITY = ("none", "proposals", "rounds")
LIST = r"(\d+(?:, \d+)*(?: och \d+)?)"
# Where a status names its goals in prose: the decision points, the summary, the assessment.
MENTIONS = {
    GoalStatus.AMBITION: re.compile(rf"Ambitionsnivå fastställs för mål {LIST}\."),
    GoalStatus.DIRECTION: re.compile(rf"Mål {LIST} behålls som inriktningsmål"),
    GoalStatus.DISCUSSED: re.compile(rf"Mål {LIST} har behandlats i dialogen utan förslag"),
    GoalStatus.NOT_DISCUSSED: re.compile(rf"Mål {LIST} har inte behandlats i dialogen"),
}
COUNTS = re.compile(
    r"(\d+) av (\d+) mål fick ett förslag till beslut i dialogen: (\d+) med ambitionsnivå och "
    r"(\d+) som inriktningsmål\."
)


# --- Random workshops -------------------------------------------------------------------------


def _goal(index: int, activity: str, decision: str | None, with_tally: bool) -> GoalRecord:
    area, number, text = TEMPLATE["goals"][index]
    goal = GoalRecord(area=area, number=number, text=text)
    if activity != "none":
        ids = [index * 10 + 1, index * 10 + 2]
        goal.proposals = [
            ProposalRecord(pid, f"F{n}", "ambitionsniva", {"what": f"Förslag {pid}"}, {})
            for n, pid in enumerate(ids, 1)
        ]
        goal.proposals[1].status = "dold"
    tally = domain.tally(VoteMethod.YES_NO, [index * 10 + 1], [{str(index * 10 + 1): "ja"}])
    labels = {index * 10 + 1: "F1"}
    if activity == "rounds":
        goal.rounds = [RoundRecord(1, "ja_nej", "stangd", tally.to_dict(), labels)]
    if decision is not None:
        fields = {"what": "Nivå"} if decision == "ambitionsniva" else {"rationale": "Riktning"}
        goal.decision = DecisionRecord(
            kind=decision,
            fields=fields,
            tally=tally.to_dict() if with_tally else None,
            tally_labels=labels if with_tally else {},
        )
    return goal


def record_of(plans: list[tuple[str, str | None, bool]]) -> WorkshopRecord:
    """The KS 2019 workshop with one goal per plan: (activity, decision kind, decision tally)."""
    return WorkshopRecord(
        title=TEMPLATE["title"],
        dnr=TEMPLATE["dnr"],
        organisation=TEMPLATE["organisation"],
        unit=TEMPLATE["unit"],
        meeting_date=TEMPLATE["meeting_date"],
        recipient=TEMPLATE["recipient"],
        send_to=TEMPLATE["send_to"],
        officer=TEMPLATE["officer"],
        follow_up_dates=domain.parse_follow_up_dates(TEMPLATE["follow_up_dates"]),
        anonymous=True,
        goals=[_goal(i, *plan) for i, plan in enumerate(plans)],
        export_date="2019-02-21",
    )


goal_plans = st.tuples(
    st.sampled_from(ACTIVITY),
    st.sampled_from([None, None, "ambitionsniva", "inriktningsmal"]),
    st.booleans(),
)
workshops = st.lists(goal_plans, min_size=1, max_size=8).map(record_of)


def expected(record: WorkshopRecord) -> dict[str, GoalStatus]:
    """What the goal is, read from the record directly (not through ``goal_status``)."""
    out = {}
    for goal in record.goals:
        if goal.decision is not None:
            out[goal.number] = GoalStatus(goal.decision.kind)
        elif goal.proposals or goal.rounds:
            out[goal.number] = GoalStatus.DISCUSSED
        else:
            out[goal.number] = GoalStatus.NOT_DISCUSSED
    return out


# --- Reading the formats back into lines of text ----------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split())


def docx_lines(body: bytes) -> list[str]:
    """Every paragraph of a DOCX in reading order, table cells included."""
    document = docx.Document(io.BytesIO(body))
    lines: list[str] = []

    def walk(container) -> None:
        for block in container.iter_inner_content():
            if isinstance(block, docx.table.Table):
                for row in block.rows:
                    for cell in row.cells:
                        walk(cell)
            else:
                lines.append(_flat(block.text))

    walk(document)
    return [line for line in lines if line]


def markdown_lines(text: str) -> list[str]:
    """Markdown blocks and list items as plain text: markers and escapes removed."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^(#+ |- |\d+\. )", "", line)
        line = re.sub(r"\\(.)", r"\1", line.replace("**", ""))
        if line.strip():
            lines.append(_flat(line))
    return lines


class _Blocks(HTMLParser):
    BLOCKS = frozenset({"h1", "h2", "h3", "h4", "p", "li", "th", "td", "dt", "dd", "summary"})

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.badges: list[tuple[str, str]] = []  # (class modifier, text) in order
        self._open: list[str] = []
        self._badge: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        badge = [c.removeprefix("badge--") for c in classes if c.startswith("badge--")]
        if tag == "span" and badge:
            self._badge = badge[0]
            self.badges.append((badge[0], ""))
        if tag in self.BLOCKS:
            self._open.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._badge = None
        if tag in self.BLOCKS and self._open:
            text = _flat(self._open.pop())
            if text:
                self.lines.append(text)

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1] += data
        if self._badge is not None:
            cls, text = self.badges[-1]
            self.badges[-1] = (cls, text + data)


def html_blocks(html: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(html)
    return parser


def sheet_rows(body: bytes, sheet: str) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(body))[sheet].iter_rows(values_only=True))


# --- The checks -------------------------------------------------------------------------------


def _numbers(text: str) -> set[str]:
    return set(re.split(r", | och ", text))


def check_prose(lines: Iterable[str], want: dict[str, GoalStatus], where: str) -> None:
    """Decision points, summary and assessment name exactly the goals of each status."""
    text = " ".join(lines)
    for status, pattern in MENTIONS.items():
        goals = {n for n, s in want.items() if s == status}
        found = pattern.findall(text)
        # A status with goals is named in the points; the two undecided ones also in the summary
        # and the assessment.
        times = (
            0 if not goals else (1 if status in (GoalStatus.AMBITION, GoalStatus.DIRECTION) else 3)
        )
        assert len(found) == times, (where, status, found)
        for listed in found:
            assert _numbers(listed) == goals, (where, status, listed)
    counts = COUNTS.search(text)
    assert counts, where
    decided, total, ambition, direction = (int(x) for x in counts.groups())
    values = list(want.values())
    assert total == len(values)
    assert ambition == values.count(GoalStatus.AMBITION)
    assert direction == values.count(GoalStatus.DIRECTION)
    assert decided == ambition + direction


def check_headed(
    lines: list[str],
    record: WorkshopRecord,
    want: dict[str, GoalStatus],
    offsets: list[int],
    where: str,
) -> None:
    """Each goal's heading occurs once per part (``offsets``: where the status line follows it),
    and the line at that offset is exactly the goal's status."""
    for goal in record.goals:
        heading = f"Mål {goal.number}. {goal.text}"
        at = [i for i, line in enumerate(lines) if line == heading]
        assert len(at) == len(offsets), (where, heading, len(at))
        for index, offset in zip(at, offsets, strict=True):
            assert BY_LABEL.get(lines[index + offset]) == want[goal.number], (
                where,
                heading,
                lines[index + offset],
            )


def check_everything(app: Flask, record: WorkshopRecord) -> None:
    want = expected(record)
    doc = domain.consolidate(record)
    # The domain's own structures.
    assert [g.status for g in doc.goals] == [want[g.number] for g in record.goals]
    assert [a.status for a in doc.appendix] == [g.status for g in doc.goals]

    # DOCX: the section (heading, Målområde, status) and the appendix (heading, status).
    lines = docx_lines(documents.render_docx(doc))
    check_prose(lines, want, "docx")
    check_headed(lines, record, want, [2, 1], "docx")

    lines = markdown_lines(documents.render_markdown(doc))
    check_prose(lines, want, "markdown")
    check_headed(lines, record, want, [2, 1], "markdown")

    lines = html_blocks(documents.render_html(doc)).lines
    check_prose(lines, want, "pdf html")
    check_headed(lines, record, want, [2, 1], "pdf html")

    # XLSX: the goal sheet has every goal; every proposal row carries its goal's status.
    body = documents.render_xlsx(doc)
    goals = sheet_rows(body, "Mål")[1:]
    assert [(row[0], BY_LABEL[row[3]]) for row in goals] == list(want.items())
    for row in sheet_rows(body, "Förslag")[1:]:
        assert BY_LABEL[row[1]] == want[row[0]]
    text = documents.render_csv(doc).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert {row[0] for row in rows} == {g.number for g in record.goals if g.proposals}
    for row in rows:
        assert BY_LABEL[row[1]] == want[row[0]]

    # The summary page: one badge per goal section, then one per appendix entry.
    with app.test_request_context("/"):
        page = render_template(
            "summary.html", workshop=SimpleNamespace(id=1, erased_at=None), doc=doc
        )
    blocks = html_blocks(page)
    check_prose(blocks.lines, want, "summary page")
    statuses = [want[g.number] for g in record.goals]
    assert [(GoalStatus(cls), BY_LABEL[t.strip()]) for cls, t in blocks.badges] == [
        (s, s) for s in statuses + statuses
    ]

    # The follow-up report: each goal once per checkpoint (heading, Målområde, status).
    report = domain.follow_up_report(record)
    checkpoints = [2] * len(report.checkpoints)
    check_headed(
        docx_lines(documents.render_follow_up_docx(report)),
        record,
        want,
        checkpoints,
        "follow-up docx",
    )
    check_headed(
        html_blocks(documents.render_follow_up_html(report)).lines,
        record,
        want,
        checkpoints,
        "follow-up html",
    )


def test_every_format_states_the_same_status_for_every_goal(app: Flask) -> None:
    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(workshops)
    def run(record: WorkshopRecord) -> None:
        check_everything(app, record)

    run()


# Goals 1–4: an ambition level, an inriktningsmål, a vote without decision, nothing.
ALL_FOUR = [
    ("rounds", "ambitionsniva", True),
    ("proposals", "inriktningsmal", False),
    ("rounds", None, False),
    ("none", None, False),
]


def test_the_pdf_states_every_status() -> None:
    """The PDF itself (WeasyPrint), once: the same prose and each label once per part. (The
    follow-up PDF's text: tests/test_follow_up.py.)"""
    record = record_of(ALL_FOUR)
    want = expected(record)
    doc = domain.consolidate(record)
    text = _flat(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(documents.render_pdf(doc))).pages)
    )
    check_prose([text], want, "pdf")
    for status in (GoalStatus.DIRECTION, GoalStatus.DISCUSSED, GoalStatus.NOT_DISCUSSED):
        assert text.count(LABELS[status]) == 2, status  # the goal's section and its appendix
