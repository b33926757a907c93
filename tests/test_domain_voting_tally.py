"""Unit tests for the tallies of ``workshop.domain.voting`` and their results in words.

Ballots, progress and the rules table are in test_domain_voting.py.
"""

from __future__ import annotations

import json

import pytest

from workshop.domain import (
    CRITERIA,
    VoteMethod,
    describe_tally,
    tally,
)

from .test_domain_voting import FULL_CRITERIA

# --- Tallies --------------------------------------------------------------------------------


def test_tally_yes_no_counts_net_support_ignoring_abstentions():
    """Score ja/nej as ja minus nej; avstår counts for neither."""
    result = tally(
        VoteMethod.YES_NO,
        [1, 2, 3],
        [
            {"1": "ja", "2": "nej", "3": "avstar"},
            {"1": "ja", "2": "ja", "3": "avstar"},
            {"1": "nej", "2": "ja"},
            {"1": "avstar", "2": "ja"},
        ],
    )
    assert result.ballots == 4
    p1, p2, p3 = result.proposals
    assert p1.counts == {"ja": 2, "nej": 1, "avstar": 1}
    assert p1.responses == 4
    assert p1.score == 1
    assert p2.counts == {"ja": 3, "nej": 1, "avstar": 0}
    assert p2.score == 2
    assert p3.counts == {"ja": 0, "nej": 0, "avstar": 2}
    assert p3.score == 0.0
    assert result.leaders == [2]
    assert not result.tie


def test_tally_yes_no_equal_net_support_breaks_on_more_ja():
    """Prefer the proposal with more ja votes when ja minus nej is equal."""
    ballots = [{"1": "ja", "2": "ja"}, {"1": "nej", "2": "ja"}, {"2": "nej"}, {"2": "nej"}]
    result = tally(VoteMethod.YES_NO, [1, 2], ballots)
    # 1: 1 ja, 1 nej → 0; 2: 2 ja, 2 nej → 0 with more ja.
    assert result.for_proposal(1).score == result.for_proposal(2).score == 0
    assert result.leaders == [2]


def test_tally_yes_no_a_small_minority_does_not_beat_broad_support():
    """Rank 9 ja and 1 nej above 1 ja and 0 nej."""
    ballots = [{"1": "ja", "2": "ja"}] + [{"2": "ja"}] * 8 + [{"2": "nej"}]
    assert tally(VoteMethod.YES_NO, [1, 2], ballots).leaders == [2]


def test_tally_yes_no_needs_a_ja_to_lead():
    """Name no leader when every answer was nej or avstår."""
    ballots = [{"1": "nej", "2": "avstar"}, {"1": "avstar", "2": "nej"}]
    assert tally(VoteMethod.YES_NO, [1, 2], ballots).leaders == []


def test_tally_yes_no_tie():
    """Report a tie when two proposals have the same net support and the same ja count."""
    result = tally(
        VoteMethod.YES_NO,
        [1, 2, 3],
        [
            {"1": "ja", "2": "nej", "3": "avstar"},
            {"1": "ja", "2": "ja", "3": "avstar"},
            {"1": "nej", "2": "ja"},
        ],
    )
    assert result.leaders == [1, 2]
    assert result.tie
    assert result.to_dict()["tie"] is True


def test_tally_score_mean_and_spread():
    """Score betyg as the mean grade, with counts for every grade 1–5."""
    result = tally(
        VoteMethod.SCORE,
        [1, 2],
        [{"1": 5, "2": 3}, {"1": 4, "2": 3}, {"1": 4}],
    )
    p1, p2 = result.proposals
    assert p1.counts == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}
    assert p1.score == pytest.approx(13 / 3, abs=1e-4)
    assert p1.responses == 3
    assert p2.counts == {"1": 0, "2": 0, "3": 2, "4": 0, "5": 0}
    assert p2.score == 3.0
    assert result.leaders == [1]


def test_tally_score_tie_on_mean_breaks_on_more_responses():
    """Prefer the proposal more people graded when the means are equal."""
    result = tally(VoteMethod.SCORE, [1, 2], [{"1": 4, "2": 4}, {"2": 4}])
    assert result.leaders == [2]


def test_tally_score_tie():
    """Report every proposal sharing the best mean from as many voters."""
    result = tally(VoteMethod.SCORE, [1, 2, 3], [{"1": 5, "2": 4, "3": 2}, {"1": 3, "2": 4}])
    assert result.for_proposal(1).score == result.for_proposal(2).score == 4.0
    assert result.leaders == [1, 2]
    assert result.tie


def test_tally_dots_totals_points():
    """Score prickar as total points, counting voters per number of points given."""
    result = tally(
        VoteMethod.DOTS,
        [1, 2, 3],
        [{"1": 2, "2": 1}, {"2": 3}, {"1": 1, "3": 2}],
        dot_budget=3,
    )
    p1, p2, p3 = result.proposals
    assert (p1.score, p1.responses, p1.counts) == (3, 2, {"2": 1, "1": 1})
    assert (p2.score, p2.responses, p2.counts) == (4, 2, {"1": 1, "3": 1})
    assert (p3.score, p3.responses, p3.counts) == (2, 1, {"2": 1})
    assert result.leaders == [2]
    assert result.dot_budget == 3


def test_tally_dots_tie():
    """Report a tie between proposals with the same points from as many voters."""
    result = tally(VoteMethod.DOTS, [1, 2], [{"1": 2, "2": 1}, {"1": 1, "2": 2}])
    assert result.leaders == [1, 2]
    assert result.tie


def test_tally_gradients_block_keeps_proposal_out_of_the_lead():
    """Leave a proposal with any "Emot — blockerar" out of the lead despite a higher mean."""
    result = tally(
        VoteMethod.GRADIENTS,
        [1, 2, 3],
        [
            {"1": 2, "2": 3, "3": 1},
            {"1": 2, "2": 3, "3": 1},
            {"1": 2, "3": 1},
            {"3": 1},
            {"3": 5},
        ],
    )
    p1, p2, p3 = result.proposals
    assert p1.counts == {"1": 0, "2": 3, "3": 0, "4": 0, "5": 0}
    assert p1.score == 4.0  # support 6 - 2 = 4 from all three
    assert p2.score == 3.0
    assert p3.counts == {"1": 4, "2": 0, "3": 0, "4": 0, "5": 1}
    assert p3.score == pytest.approx(21 / 5)  # (4 * 5 + 1) / 5
    assert p3.score > p1.score
    assert result.leaders == [1]


def test_tally_gradients_all_blocked_has_no_leader():
    """Name no leader when every proposal has a block."""
    result = tally(VoteMethod.GRADIENTS, [1, 2], [{"1": 1, "2": 5}, {"1": 5, "2": 1}])
    assert result.leaders == []
    assert not result.tie


def test_tally_gradients_tie():
    """Report a tie between unblocked proposals with the same support."""
    result = tally(VoteMethod.GRADIENTS, [1, 2], [{"1": 1, "2": 2}, {"1": 3, "2": 2}])
    assert result.for_proposal(1).score == result.for_proposal(2).score == 4.0
    assert result.leaders == [1, 2]


def test_tally_criteria_counts_per_criterion():
    """Count ja/delvis/nej per criterion and score 2/1/0 points averaged per voter."""
    result = tally(
        VoteMethod.CRITERIA,
        [1, 2],
        [
            {
                "1": {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
                "2": {"paverkbart": "nej", "matbart": "delvis", "resurser": "nej"},
            },
            {"1": {"paverkbart": "ja", "matbart": "nej", "resurser": "nej"}},
        ],
    )
    p1, p2 = result.proposals
    assert p1.criteria == {
        "paverkbart": {"ja": 2, "delvis": 0, "nej": 0},
        "matbart": {"ja": 1, "delvis": 0, "nej": 1},
        "resurser": {"ja": 0, "delvis": 1, "nej": 1},
    }
    assert p1.score == 3.5  # (5 + 2) / 2
    assert p1.responses == 2
    assert p2.criteria["matbart"] == {"ja": 0, "delvis": 1, "nej": 0}
    assert p2.score == 1.0
    assert result.leaders == [1]


def test_tally_criteria_tie():
    """Report a tie between proposals with the same criteria points."""
    result = tally(
        VoteMethod.CRITERIA,
        [1, 2],
        [{"1": dict.fromkeys(CRITERIA, "delvis"), "2": FULL_CRITERIA}],
    )
    assert result.for_proposal(1).score == result.for_proposal(2).score == 3.0
    assert result.leaders == [1, 2]


@pytest.mark.parametrize("method", list(VoteMethod))
def test_tally_without_ballots_has_no_leaders(method):
    """Name no leader and report zero counts when nobody voted."""
    result = tally(method, [1, 2], [])
    assert result.ballots == 0
    assert result.leaders == []
    assert not result.tie
    assert [p.responses for p in result.proposals] == [0, 0]
    assert [p.score for p in result.proposals] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("method", "expected_counts"),
    [
        (VoteMethod.YES_NO, {"ja": 0, "nej": 0, "avstar": 0}),
        (VoteMethod.SCORE, {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}),
        (VoteMethod.GRADIENTS, {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}),
        (VoteMethod.DOTS, {}),
    ],
)
def test_tally_fills_zero_counts(method, expected_counts):
    """Show every option with zero for a proposal nobody answered."""
    assert tally(method, [1], []).proposals[0].counts == expected_counts


def test_tally_criteria_fills_zero_counts():
    """Show every criterion with zeros for a proposal nobody rated."""
    item = tally(VoteMethod.CRITERIA, [1], []).proposals[0]
    assert item.criteria == {name: {"ja": 0, "delvis": 0, "nej": 0} for name in CRITERIA}


def test_tally_keeps_the_round_order_of_proposals():
    """List proposals in the order of the round, not the order they were voted on."""
    result = tally(VoteMethod.SCORE, [3, 1, 2], [{"2": 5}, {"1": 4}])
    assert [p.proposal_id for p in result.proposals] == [3, 1, 2]


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        (VoteMethod.YES_NO, "ja"),
        (VoteMethod.SCORE, 5),
        (VoteMethod.DOTS, 3),
        (VoteMethod.GRADIENTS, 1),
        (VoteMethod.CRITERIA, dict.fromkeys(CRITERIA, "ja")),
    ],
)
def test_tally_ignores_proposal_not_in_round(method, answer):
    """Ignore the part of a ballot about a proposal withdrawn from the round."""
    with_withdrawn = tally(method, [1, 2], [{"1": answer, "9": answer}, {"2": answer}])
    without = tally(method, [1, 2], [{"1": answer}, {"2": answer}])
    assert with_withdrawn.proposals == without.proposals
    assert with_withdrawn.leaders == without.leaders == [1, 2]
    assert [p.proposal_id for p in with_withdrawn.proposals] == [1, 2]


def test_tally_counts_a_changed_vote_once():
    """Count only the last ballot of a voter who changed their vote."""
    ballots = {
        "secret-a": {"1": "ja", "2": "nej"},
        "secret-b": {"1": "ja"},
        "secret-c": {"2": "ja"},
    }
    before = tally(VoteMethod.YES_NO, [1, 2], ballots.values())
    assert before.leaders == [1]

    ballots["secret-a"] = {"1": "nej", "2": "ja"}
    after = tally(VoteMethod.YES_NO, [1, 2], ballots.values())

    final = tally(
        VoteMethod.YES_NO,
        [1, 2],
        [{"1": "nej", "2": "ja"}, {"1": "ja"}, {"2": "ja"}],
    )
    assert after == final
    assert after.ballots == 3
    assert after.for_proposal(1).counts == {"ja": 1, "nej": 1, "avstar": 0}
    assert after.for_proposal(2).counts == {"ja": 2, "nej": 0, "avstar": 0}
    assert after.leaders == [2]
    assert after != before


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (VoteMethod.YES_NO, [{"1": "ja", "2": "avstar"}]),
        (VoteMethod.SCORE, [{"1": 4, "2": 5}, {"1": 3}]),
        (VoteMethod.DOTS, [{"1": 2, "2": 1}]),
        (VoteMethod.GRADIENTS, [{"1": 1, "2": 5}]),
        (VoteMethod.CRITERIA, [{"1": FULL_CRITERIA}]),
    ],
)
def test_tally_to_dict_is_json_serialisable(method, ballots):
    """Serialise a tally to JSON and keep its figures."""
    result = tally(method, [1, 2], ballots)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["method"] == method.value
    assert data["ballots"] == len(ballots)
    assert data["leaders"] == result.leaders
    assert data["tie"] == result.tie
    assert data["dot_budget"] == 3
    assert [p["proposal_id"] for p in data["proposals"]] == [1, 2]
    assert data["proposals"][0]["score"] == result.proposals[0].score
    assert data["proposals"][0]["counts"] == result.proposals[0].counts


def test_tally_for_proposal_unknown_id_raises_key_error():
    """Raise KeyError when asking for a proposal that is not in the tally."""
    with pytest.raises(KeyError):
        tally(VoteMethod.YES_NO, [1], []).for_proposal(2)


# --- describe_tally -------------------------------------------------------------------------

LABELS = {1: "F1", 2: "F2"}


@pytest.mark.parametrize(
    ("method", "ballots", "expected"),
    [
        (
            VoteMethod.YES_NO,
            [{"1": "ja", "2": "nej"}, {"1": "ja", "2": "avstar"}],
            [
                "2 röster lämnades.",
                "F1: ja 2, nej 0, avstår 0.",
                "F2: ja 0, nej 1, avstår 1.",
                "Starkast stöd: F1.",
            ],
        ),
        (
            VoteMethod.SCORE,
            [{"1": 5, "2": 2}, {"1": 4, "2": 2}, {"1": 4}],
            [
                "3 röster lämnades.",
                "F1: medelbetyg 4,3 av 5 (1: 0, 2: 0, 3: 0, 4: 2, 5: 1).",
                "F2: medelbetyg 2 av 5 (1: 0, 2: 2, 3: 0, 4: 0, 5: 0).",
                "Starkast stöd: F1.",
            ],
        ),
        (
            VoteMethod.DOTS,
            [{"1": 2, "2": 1}, {"2": 3}],
            [
                "2 röster lämnades.",
                "F1: 2 poäng från 1 personer.",
                "F2: 4 poäng från 2 personer.",
                "Starkast stöd: F2.",
            ],
        ),
        (
            VoteMethod.GRADIENTS,
            [{"1": 2, "2": 1}, {"1": 2, "2": 5}],
            [
                "2 röster lämnades.",
                "F1: Helt för 0; För, med vissa förbehåll 2; Kan leva med det 0; "
                "Tveksam, vill diskutera mer 0; Emot — blockerar 0.",
                "F2: Helt för 1; För, med vissa förbehåll 0; Kan leva med det 0; "
                "Tveksam, vill diskutera mer 0; Emot — blockerar 1.",
                "Starkast stöd: F1.",
            ],
        ),
        (
            VoteMethod.CRITERIA,
            [
                {"1": dict.fromkeys(CRITERIA, "ja"), "2": FULL_CRITERIA},
                {"1": {"paverkbart": "ja", "matbart": "nej", "resurser": "delvis"}},
            ],
            [
                "2 röster lämnades.",
                "F1: Påverkbart inom KS ansvar ja 2 / delvis 0 / nej 0; "
                "Mätbart ja 1 / delvis 0 / nej 1; Resurser finns ja 1 / delvis 1 / nej 0.",
                "F2: Påverkbart inom KS ansvar ja 1 / delvis 0 / nej 0; "
                "Mätbart ja 0 / delvis 1 / nej 0; Resurser finns ja 0 / delvis 0 / nej 1.",
                "Starkast stöd: F1.",
            ],
        ),
    ],
)
def test_describe_tally_one_line_per_proposal_and_leader(method, ballots, expected):
    """Describe the count, each proposal's result and the strongest support in sentences."""
    data = tally(method, [1, 2], ballots).to_dict()
    assert describe_tally(data, LABELS) == expected
    # The same sentences come out of a tally stored as JSON.
    assert describe_tally(json.loads(json.dumps(data)), LABELS) == expected


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (VoteMethod.YES_NO, [{"1": "ja", "2": "ja"}]),
        (VoteMethod.SCORE, [{"1": 4, "2": 4}]),
        (VoteMethod.DOTS, [{"1": 1, "2": 1}]),
        (VoteMethod.GRADIENTS, [{"1": 1, "2": 1}]),
        (VoteMethod.CRITERIA, [{"1": FULL_CRITERIA, "2": FULL_CRITERIA}]),
    ],
)
def test_describe_tally_names_a_tie(method, ballots):
    """End with a shared-first-place line naming every leader."""
    lines = describe_tally(tally(method, [1, 2], ballots).to_dict(), LABELS)
    assert len(lines) == 4
    assert lines[-1] == "Delad förstaplats: F1, F2."


@pytest.mark.parametrize("method", list(VoteMethod))
def test_describe_tally_without_votes_has_no_leader_line(method):
    """Describe each proposal but name no leader when nobody voted."""
    lines = describe_tally(tally(method, [1, 2], []).to_dict(), LABELS)
    assert lines[0] == "0 röster lämnades."
    assert len(lines) == 3
    assert lines[1].startswith("F1: ") and lines[2].startswith("F2: ")
    assert not any(line.startswith(("Starkast", "Delad")) for line in lines)


def test_describe_tally_falls_back_to_proposal_id_without_label():
    """Use the proposal id when no label is known."""
    lines = describe_tally(tally(VoteMethod.YES_NO, [7], [{"7": "ja"}]).to_dict(), {})
    assert lines == ["1 röster lämnades.", "7: ja 1, nej 0, avstår 0.", "Starkast stöd: 7."]
