"""The audit trail: every action it records, with its name on the log page, and the log as a
document of its own ("Logg"), apart from the proposal for decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .core import N_, fill
from .documents import AuditRecord, WorkshopRecord, file_stem

# What each audited action is called on the log page and in the log export.
AUDIT_ACTIONS: dict[str, str] = {
    "login": N_("Loggade in"),
    "login_failed": N_("Misslyckad inloggning"),
    "login_locked": N_("Inloggning spärrad efter för många försök"),
    "logout": N_("Loggade ut"),
    "workshop_create": N_("Skapade dialogen"),
    "workshop_update": N_("Ändrade dialogens uppgifter"),
    "workshop_start": N_("Startade dialogen"),
    "workshop_close": N_("Avslutade dialogen"),
    "workshop_reopen": N_("Öppnade dialogen igen"),
    "workshop_delete": N_("Raderade dialogen"),
    "goal_add": N_("Lade till mål"),
    "goal_update": N_("Ändrade ett mål"),
    "goal_move": N_("Flyttade ett mål"),
    "goal_delete": N_("Tog bort ett mål"),
    "goal_select": N_("Valde mål"),
    "phase_set": N_("Bytte fas"),
    "reveal": N_("Visade resultatet"),
    "timer": N_("Ändrade timern"),
    "plan_set": N_("Ändrade tiden för dialogen"),
    "plan_goal": N_("Ändrade tiden för ett mål"),
    "proposal_add": N_("Lade till ett eget förslag"),
    "proposal_edit": N_("Redigerade ett förslag"),
    "proposal_merge": N_("Slog samman förslag"),
    "proposal_hide": N_("Dolde ett förslag"),
    "proposal_restore": N_("Återställde ett förslag"),
    "proposal_park": N_("Flyttade ett förslag till frågor att ta vidare"),
    "proposal_publish": N_("Ändrade vilka förslag som visas"),
    "parking_add": N_("Lade till en fråga att ta vidare"),
    "decision": N_("Sparade beslut för ett mål"),
    "participant_update": N_("Ändrade en deltagare"),
    "export": N_("Exporterade förslaget till beslut"),
    "log_export": N_("Exporterade loggen"),
    "erase": N_("Raderade deltagarnas personuppgifter"),
    "purge": N_("Gallrade deltagarnas personuppgifter automatiskt"),
    "follow_up": N_("Sparade uppföljning för ett mål"),
    "archive_import": N_("Läste in en dialog från ett arkiv"),
}


@dataclass
class AuditLogDocument:
    """The log export: who did what in the tool, for audit; never part of the decision."""

    organisation: str
    unit: str
    dnr: str
    date: str
    title: str
    intro: list[str]
    entries: list[AuditRecord]
    filename_stem: str


def audit_log_document(record: WorkshopRecord, gettext: Any = N_) -> AuditLogDocument:
    """Build the log document from the workshop's record (its ``audit`` entries, oldest first)."""
    _ = gettext
    return AuditLogDocument(
        organisation=record.organisation,
        unit=record.unit,
        dnr=record.dnr,
        date=record.export_date,
        title=fill(_("Logg: %(title)s"), title=record.title),
        intro=[
            _(
                "Varje åtgärd som samtalsledaren gjort i dialogen, med tid (UTC) och vem. "
                "Deltagarnas röster och vem som röstat vad loggas aldrig."
            )
        ],
        entries=list(record.audit),
        filename_stem=file_stem("logg", record.dnr, record.export_date),
    )
