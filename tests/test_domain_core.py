"""Unit tests for the shared rules in ``workshop.domain.core``: the phases."""

from __future__ import annotations

import pytest

from workshop.domain import (
    DomainError,
    Phase,
    check_transition,
)

# --- Phases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.NOT_STARTED, Phase.PROPOSALS),
        (Phase.PROPOSALS, Phase.VOTING),
        (Phase.VOTING, Phase.RESULTS),
        (Phase.RESULTS, Phase.DECIDED),
    ],
)
def test_check_transition_allows_one_step_forward(current, target):
    """Allow moving to the next phase."""
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.VOTING, Phase.PROPOSALS),
        (Phase.RESULTS, Phase.VOTING),
        (Phase.RESULTS, Phase.PROPOSALS),
        (Phase.DECIDED, Phase.RESULTS),
        (Phase.DECIDED, Phase.PROPOSALS),
    ],
)
def test_check_transition_allows_stepping_back(current, target):
    """Allow going back to any earlier started phase, e.g. to reopen a vote."""
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.NOT_STARTED, Phase.VOTING),
        (Phase.NOT_STARTED, Phase.DECIDED),
        (Phase.PROPOSALS, Phase.RESULTS),
        (Phase.PROPOSALS, Phase.DECIDED),
        (Phase.VOTING, Phase.DECIDED),
    ],
)
def test_check_transition_refuses_skipping_forward(current, target):
    """Refuse jumping over a phase, naming both phases in the error."""
    with pytest.raises(DomainError) as info:
        check_transition(current, target)
    assert info.value.code == "bad_phase"
    assert info.value.params == {"from": current.value, "to": target.value}


@pytest.mark.parametrize(
    "current", [Phase.NOT_STARTED, Phase.PROPOSALS, Phase.VOTING, Phase.RESULTS, Phase.DECIDED]
)
def test_check_transition_refuses_going_back_to_not_started(current):
    """Refuse returning a started goal to the not-started phase."""
    with pytest.raises(DomainError) as info:
        check_transition(current, Phase.NOT_STARTED)
    assert info.value.code == "bad_phase"


@pytest.mark.parametrize("phase", [Phase.PROPOSALS, Phase.VOTING, Phase.DECIDED])
def test_check_transition_refuses_staying_in_the_same_phase(phase):
    """Refuse a transition to the phase the goal is already in."""
    with pytest.raises(DomainError):
        check_transition(phase, phase)
