"""The audit trail's vocabulary: every action it records, with its name on the log page."""

from __future__ import annotations

from .core import N_

# What each audited action is called on the log page and in the export's appendix.
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
    "erase": N_("Raderade deltagarnas personuppgifter"),
    "purge": N_("Gallrade deltagarnas personuppgifter automatiskt"),
    "follow_up": N_("Sparade uppföljning för ett mål"),
    "archive_import": N_("Läste in en dialog från ett arkiv"),
}
