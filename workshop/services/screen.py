"""What the projector shows of a long list: its page, one proposal in focus, auto-advance.

The page size is the presenter's to decide (it measures what fits), so only a page number is
stored here; the presenter clamps it to the pages it has. Paging is not audited: it changes
what is on the wall, never what is recorded.
"""

from __future__ import annotations

from typing import Any

from ..domain import N_, DomainError
from ..domain.enums import ProposalStatus
from ..models import Workshop
from ._unit import bump, unit_of_work
from .common import get_workshop, proposal_in, require_running

# More pages than any room will page through; keeps a runaway client from storing nonsense.
MAX_SCREEN_PAGE = 999


def _bad(message: str) -> DomainError:
    return DomainError(message, code="bad_payload")


def reset_screen(workshop: Workshop) -> None:
    """Start the projector at the first page, without focus (a new goal or phase).

    Called inside another unit of work (``select_goal``, ``set_phase``), which bumps and commits.
    """
    workshop.screen_page = 0
    workshop.screen_focus_id = None


@unit_of_work
def set_screen_page(workshop_id: int, page: Any = None, delta: Any = None) -> Workshop:
    """Show page ``page`` (0-based), or move ``delta`` (+1 or -1) pages from the current one."""
    workshop = get_workshop(workshop_id)
    require_running(workshop.status)
    if page is not None and delta is None:
        if isinstance(page, bool) or not isinstance(page, int) or not 0 <= page <= MAX_SCREEN_PAGE:
            raise _bad(N_("Ogiltigt sidnummer."))
        target = page
    elif delta is not None and page is None:
        if isinstance(delta, bool) or delta not in (1, -1):
            raise _bad(N_("Ogiltigt sidnummer."))
        target = min(MAX_SCREEN_PAGE, max(0, workshop.screen_page + delta))
    else:
        raise _bad(N_("Ogiltigt sidnummer."))
    workshop.screen_page = target
    workshop.screen_focus_id = None  # paging leaves the focused proposal
    bump(workshop)
    return workshop


@unit_of_work
def set_screen_focus(workshop_id: int, proposal_id: Any) -> Workshop:
    """Show one proposal of the current goal as the whole slide, or (None) the list again."""
    workshop = get_workshop(workshop_id)
    require_running(workshop.status)
    if proposal_id is None:
        workshop.screen_focus_id = None
    else:
        proposal = proposal_in(workshop_id, proposal_id)
        if proposal.goal_id != workshop.current_goal_id:
            raise DomainError(N_("Förslaget hör inte till det aktuella målet."), code="not_current")
        if proposal.status != ProposalStatus.ACTIVE or not proposal.published:
            raise DomainError(
                N_("Bara publicerade förslag kan visas på skärmen."), code="not_published"
            )
        workshop.screen_focus_id = proposal.id
    bump(workshop)
    return workshop


@unit_of_work
def set_screen_auto(workshop_id: int, on: Any) -> Workshop:
    """Let the presenter advance the pages by itself, or stop it."""
    workshop = get_workshop(workshop_id)
    if not isinstance(on, bool):
        raise _bad(N_("Ange på eller av."))
    workshop.screen_auto = on
    bump(workshop)
    return workshop
