"""A goal's status in the documents: the one rule every section and every format reads.

A goal is exactly one of: decided with an ambition level; decided as an inriktningsmål;
*behandlad utan förslag till beslut* (it had proposals or rounds, but no decision was saved);
*ej behandlad* (nothing happened). Förslag till beslut, Sammanfattning, Bedömning, the goal
sections, the appendix, the spreadsheets and the follow-up report all take it from here, so the
same goal is never "ej behandlad" in one place and voted on in another.
"""

from __future__ import annotations

from .core import N_
from .enums import GoalStatus, ProposalKind

# The status as a label: the bold line under a goal's heading, the badge, the spreadsheet cell.
GOAL_STATUS_LABELS: dict[GoalStatus, str] = {
    GoalStatus.AMBITION: N_("Ambitionsnivå"),
    GoalStatus.DIRECTION: N_("Inriktningsmål — ingen prognos"),
    GoalStatus.DISCUSSED: N_("Behandlad utan förslag till beslut"),
    GoalStatus.NOT_DISCUSSED: N_("Ej behandlad i dialogen"),
}

# The goals of one status as a point of the Förslag till beslut; "%(goals)s" is "2, 5 och 6".
# The sentences avoid number agreement ("har behandlats", not "är behandlade/behandlat"), so
# one msgid fits one goal and many.
GOAL_STATUS_POINTS: dict[GoalStatus, str] = {
    GoalStatus.AMBITION: N_("Ambitionsnivå fastställs för mål %(goals)s."),
    GoalStatus.DIRECTION: N_("Mål %(goals)s behålls som inriktningsmål, utan prognos."),
    GoalStatus.DISCUSSED: N_(
        "Mål %(goals)s har behandlats i dialogen utan förslag till beslut och behöver beredas "
        "vidare."
    ),
    GoalStatus.NOT_DISCUSSED: N_(
        "Mål %(goals)s har inte behandlats i dialogen och behöver beredas vidare."
    ),
}


def goal_status(decision_kind: str | None, *, proposals: int, rounds: int) -> GoalStatus:
    """Return a goal's status from its saved decision's kind and how many proposals and rounds
    it had (hidden, merged and replaced ones count: something happened)."""
    if decision_kind is not None:
        if decision_kind == ProposalKind.DIRECTION:
            return GoalStatus.DIRECTION
        return GoalStatus.AMBITION
    if proposals or rounds:
        return GoalStatus.DISCUSSED
    return GoalStatus.NOT_DISCUSSED
