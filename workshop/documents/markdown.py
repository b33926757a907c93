"""Render the proposal for decision (``domain.DecisionDocument``) as Markdown."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain import N_, AppendixGoal, DecisionDocument, GoalSection, Line
from .common import Gettext, proposal_heading, xml_safe

# Backslash-escaped: every ASCII punctuation character that CommonMark, GFM or common extensions
# give a meaning (emphasis, links, headings, lists, code, tables, strikethrough, autolinks, math,
# footnotes, entities). "<" and ">" become entities so no HTML or autolink can form.
_MD_ESCAPED = frozenset("\\`*_{}[]()#+-.!|~=:@&^$")
_MD_ENTITIES = {"<": "&lt;", ">": "&gt;"}


def md_escape(text: str) -> str:
    """Escape ``text`` so Markdown shows it literally, on one line, as part of a paragraph."""
    lines = (xml_safe(line).strip() for line in str(text).splitlines())
    flat = " / ".join(line for line in lines if line)
    out = []
    for ch in flat:
        if ch in _MD_ENTITIES:
            out.append(_MD_ENTITIES[ch])
        elif ch in _MD_ESCAPED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def render_markdown(doc: DecisionDocument, gettext: Gettext = N_) -> str:
    """Render ``doc`` as Markdown with every value from the model escaped as plain text."""
    _ = gettext
    blocks: list[str] = []
    add = blocks.append

    if doc.organisation:
        add(_md_bold(doc.organisation))
    if doc.unit:
        add(md_escape(doc.unit))
    if doc.dnr:
        add(md_escape(_("Dnr %(dnr)s") % {"dnr": doc.dnr}))
    if doc.date:
        add(_md_line(_("Datum"), doc.date))
    if doc.recipient:
        add(md_escape(_("Till %(recipient)s") % {"recipient": doc.recipient}))

    add("# " + md_escape(doc.title))

    add("## " + md_escape(_("Förslag till beslut")))
    add("\n".join(f"{n}. {md_escape(p)}" for n, p in enumerate(doc.decision_points, 1)))

    _md_section(blocks, _("Sammanfattning"), doc.summary)
    _md_section(blocks, _("Ärendet"), doc.background)
    for goal in doc.goals:
        _md_goal(blocks, goal, _)
    _md_section(blocks, _("Bedömning"), doc.assessment)

    add("## " + md_escape(_("Frågor att ta vidare")))
    add(_md_list(doc.parking) if doc.parking else md_escape(_("Inga frågor att ta vidare.")))

    _md_section(blocks, _("Beslutet ska skickas till"), [doc.send_to])
    _md_section(blocks, _("Handläggare"), [doc.officer])

    add("## " + md_escape(_("Bilaga: Alla förslag och röstresultat")))
    if doc.time_plan:
        add(md_escape(doc.time_plan))
    for goal in doc.appendix:
        _md_appendix_goal(blocks, goal, _)

    return "\n\n".join(block for block in blocks if block) + "\n"


def _md_bold(text: str) -> str:
    escaped = md_escape(text)
    return f"**{escaped}**" if escaped else ""


def _md_line(label: str, value: str) -> str:
    label = md_escape(label)
    return f"**{label}:** {md_escape(value)}" if label else md_escape(value)


def _md_list(items: Iterable[str]) -> str:
    return "\n".join(f"- {md_escape(item)}" for item in items)


def _md_lines(lines: Iterable[Line]) -> str:
    return "\n".join(f"- {_md_line(line.label, line.value)}" for line in lines)


def _md_section(blocks: list[str], heading: str, paragraphs: Iterable[str]) -> None:
    blocks.append("## " + md_escape(heading))
    blocks.extend(md_escape(text) for text in paragraphs)


def _md_goal(blocks: list[str], goal: GoalSection, _: Gettext) -> None:
    add = blocks.append
    add("### " + md_escape(goal.heading))
    add(_md_line(_("Målområde"), goal.area))
    add(_md_bold(goal.status_text))
    add(_md_lines(goal.lines))
    for heading, body in (
        (_("Bedömning mot kriterierna"), _md_lines(goal.criteria)),
        (_("Stöd i dialogen"), _md_list(goal.support)),
        (_("Reservationer/avvikande meningar"), _md_list(goal.dissent)),
        (_("Uppföljning"), _md_list(goal.follow_up)),
    ):
        if body:
            add("#### " + md_escape(heading))
            add(body)


def _md_appendix_goal(blocks: list[str], goal: AppendixGoal, _: Gettext) -> None:
    add = blocks.append
    add("### " + md_escape(goal.heading))
    add(_md_bold(goal.status_text))
    if goal.time:
        add(md_escape(goal.time))
    if not goal.proposals:
        add(md_escape(_("Inga förslag lämnades.")))
    for lines in goal.proposals:
        heading, rest = proposal_heading(lines, _)
        add("#### " + md_escape(heading))
        add(_md_lines(rest))
    if not goal.rounds:
        add(md_escape(_("Ingen omröstning genomfördes.")))
    for round_lines in goal.rounds:
        if round_lines:
            add("#### " + md_escape(round_lines[0]))
            add(_md_list(round_lines[1:]))
