"""Unit tests for the vote methods in ``workshop.domain.voting``: ballots, progress, the table.

The tallies and their results in words are in test_domain_voting_tally.py.
"""

from __future__ import annotations

import pytest

from workshop.domain import (
    CRITERIA,
    MAX_DOT_BUDGET,
    METHODS,
    VOTE_METHOD_LABELS,
    BadAnswer,
    DomainError,
    MethodRules,
    VoteMethod,
    answer_labels,
    answer_text,
    describe_tally,
    progress,
    rules,
    tally,
    validate_ballot,
)

# --- Ballots --------------------------------------------------------------------------------

IDS = [11, 12, 13]
FULL_CRITERIA = {"paverkbart": "ja", "matbart": "delvis", "resurser": "nej"}

VALID_BALLOTS = [
    (
        VoteMethod.YES_NO,
        {11: "ja", "12": "nej", "13": "avstar"},
        {"11": "ja", "12": "nej", "13": "avstar"},
    ),
    (VoteMethod.YES_NO, {"11": "ja", "12": None, "13": ""}, {"11": "ja"}),
    (VoteMethod.SCORE, {"11": 1, 12: "5"}, {"11": 1, "12": 5}),
    (VoteMethod.SCORE, {"13": "3"}, {"13": 3}),
    (VoteMethod.GRADIENTS, {"11": 1, "12": 5, "13": "3"}, {"11": 1, "12": 5, "13": 3}),
    (VoteMethod.DOTS, {"11": 2, "12": "1"}, {"11": 2, "12": 1}),
    (VoteMethod.DOTS, {"11": 0, "12": 3, "13": None}, {"12": 3}),
    (VoteMethod.CRITERIA, {11: FULL_CRITERIA}, {"11": FULL_CRITERIA}),
    (
        VoteMethod.CRITERIA,
        {"12": {"resurser": "ja", "matbart": "ja", "paverkbart": "ja"}, "13": None},
        {"12": {"paverkbart": "ja", "matbart": "ja", "resurser": "ja"}},
    ),
]


@pytest.mark.parametrize(("method", "raw", "expected"), VALID_BALLOTS)
def test_validate_ballot_normalises_valid_ballot(method, raw, expected):
    """Key the ballot by proposal id as text and turn scores into integers."""
    result = validate_ballot(method, IDS, raw)
    assert result == expected
    assert all(isinstance(key, str) for key in result)
    if method in (VoteMethod.SCORE, VoteMethod.GRADIENTS, VoteMethod.DOTS):
        assert all(type(value) is int for value in result.values())


ANSWER_FOR = {
    VoteMethod.YES_NO: "ja",
    VoteMethod.SCORE: 3,
    VoteMethod.GRADIENTS: 2,
    VoteMethod.DOTS: 1,
    VoteMethod.CRITERIA: FULL_CRITERIA,
}


@pytest.mark.parametrize("method", list(VoteMethod))
def test_validate_ballot_refuses_unknown_proposal(method):
    """Refuse a ballot that mentions a proposal not in the round."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, {"11": ANSWER_FOR[method], "99": ANSWER_FOR[method]})
    assert info.value.code == "bad_ballot"


@pytest.mark.parametrize("method", list(VoteMethod))
@pytest.mark.parametrize("raw", [{}, {"11": None}, {"11": "", "12": None}])
def test_validate_ballot_refuses_empty_ballot(method, raw):
    """Refuse a ballot that answers nothing."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, raw)
    assert info.value.code == "empty_ballot"


@pytest.mark.parametrize("method", list(VoteMethod))
@pytest.mark.parametrize("raw", [None, [], ["11", "ja"], "11=ja"])
def test_validate_ballot_refuses_non_mapping(method, raw):
    """Refuse a ballot that is not an object."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, raw)
    assert info.value.code == "bad_ballot"


BAD_ANSWERS = [
    (VoteMethod.YES_NO, "JA"),
    (VoteMethod.YES_NO, "yes"),
    (VoteMethod.YES_NO, "avstår"),
    (VoteMethod.YES_NO, True),
    (VoteMethod.YES_NO, 1),
    (VoteMethod.YES_NO, ["ja"]),
    (VoteMethod.SCORE, 0),
    (VoteMethod.SCORE, 6),
    (VoteMethod.SCORE, "fyra"),
    (VoteMethod.SCORE, 3.5),
    (VoteMethod.SCORE, True),
    (VoteMethod.SCORE, False),
    (VoteMethod.SCORE, [3]),
    (VoteMethod.GRADIENTS, 0),
    (VoteMethod.GRADIENTS, 6),
    (VoteMethod.GRADIENTS, True),
    (VoteMethod.GRADIENTS, "5.0"),
    (VoteMethod.DOTS, -1),
    (VoteMethod.DOTS, 21),
    (VoteMethod.DOTS, True),
    (VoteMethod.DOTS, 1.0),
    (VoteMethod.DOTS, "två"),
    (VoteMethod.CRITERIA, "ja"),
    (VoteMethod.CRITERIA, {"paverkbart": "ja", "matbart": "ja"}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "extra": "ja"}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": "kanske"}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": True}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": ["ja"]}),
    (VoteMethod.CRITERIA, {**FULL_CRITERIA, "resurser": None}),
]


@pytest.mark.parametrize(("method", "value"), BAD_ANSWERS)
def test_validate_ballot_refuses_invalid_answer(method, value):
    """Refuse answers outside the method's scale, including booleans posing as numbers."""
    with pytest.raises(DomainError) as info:
        validate_ballot(method, IDS, {"11": value}, dot_budget=20)
    assert info.value.code == "bad_ballot"


def test_validate_ballot_criteria_must_rate_all_three():
    """Refuse a criteria ballot that rates only some of the three criteria."""
    for name in CRITERIA:
        partial = {k: v for k, v in FULL_CRITERIA.items() if k != name}
        with pytest.raises(DomainError):
            validate_ballot(VoteMethod.CRITERIA, IDS, {"11": partial})


@pytest.mark.parametrize(
    ("raw", "budget", "spent"),
    [
        ({"11": 2, "12": 2}, 3, 4),
        ({"11": 4}, 3, 4),
        ({"11": 3, "12": 3, "13": 0}, 5, 6),
        ({"11": 20, "12": 1}, 20, 21),
    ],
)
def test_validate_ballot_refuses_more_dots_than_budget(raw, budget, spent):
    """Refuse spending more dots than the budget, saying how many were spent."""
    with pytest.raises(DomainError) as info:
        validate_ballot(VoteMethod.DOTS, IDS, raw, dot_budget=budget)
    assert info.value.code == "over_budget"
    assert info.value.params == {"spent": spent, "budget": budget}


@pytest.mark.parametrize(
    ("raw", "budget"), [({"11": 3}, 3), ({"11": 1, "12": 1, "13": 1}, 3), ({"11": 5}, 5)]
)
def test_validate_ballot_accepts_dots_within_budget(raw, budget):
    """Accept a dot ballot that spends exactly the budget."""
    assert sum(validate_ballot(VoteMethod.DOTS, IDS, raw, dot_budget=budget).values()) == budget


def test_validate_ballot_refuses_dot_ballot_of_only_zeros():
    """Treat a dot ballot with only zeros as empty."""
    with pytest.raises(DomainError) as info:
        validate_ballot(VoteMethod.DOTS, IDS, {"11": 0, "12": "0"})
    assert info.value.code == "empty_ballot"


# --- Progress -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eligible", "ballots", "expected"),
    [
        (3, 0, (0, 3)),
        (3, 2, (2, 3)),
        (3, 3, (3, 3)),
        # someone answered and then left: their ballot still counts, and Y is never below X.
        (2, 3, (3, 3)),
        (0, 2, (2, 2)),
        (0, 0, (0, 0)),
    ],
)
def test_progress_counts_ballots_of_entitled(eligible, ballots, expected):
    """Report "X av Y har svarat" from the ballots, as no row records who answered."""
    assert progress(eligible, ballots) == expected


@pytest.mark.parametrize(("eligible", "ballots"), [(1, 3), (2, 4), (0, 5), (3, 1)])
def test_progress_never_reports_more_answers_than_voters(eligible, ballots):
    """Keep X at most Y whoever comes and goes."""
    x, y = progress(eligible, ballots)
    assert x <= y


# --- The rules table ------------------------------------------------------------------------

# Per method: one answer the method accepts, what tallying that one ballot gives, and answers
# it refuses.
TABLE_CASES = [
    (VoteMethod.YES_NO, "ja", {"ja": 1, "nej": 0, "avstar": 0}, 1.0, ["kanske", 1, True]),
    (VoteMethod.SCORE, "4", {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}, 4.0, [0, 6, "fyra", 2.5]),
    (VoteMethod.DOTS, 2, {"2": 1}, 2.0, [-1, MAX_DOT_BUDGET + 1, "två", []]),
    (VoteMethod.GRADIENTS, 1, {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0}, 5.0, [0, 6, "helt"]),
    (
        VoteMethod.CRITERIA,
        FULL_CRITERIA,
        {},
        3.0,
        ["ja", {"paverkbart": "ja"}, {**FULL_CRITERIA, "matbart": "kanske"}],
    ),
]


def test_every_vote_method_has_rules_with_its_label():
    assert set(METHODS) == set(VoteMethod)
    for method in VoteMethod:
        method_rules = rules(method)
        assert isinstance(method_rules, MethodRules)
        assert method_rules.label == VOTE_METHOD_LABELS[method]
        assert rules(method.value) is method_rules
    assert list(VOTE_METHOD_LABELS) == list(VoteMethod)
    assert [m for m in VoteMethod if rules(m).uses_budget] == [VoteMethod.DOTS]


def test_rules_of_an_unknown_method_raise():
    with pytest.raises(ValueError):
        rules("lottning")


@pytest.mark.parametrize(("method", "answer", "counts", "score", "bad"), TABLE_CASES)
def test_each_method_refuses_an_invalid_answer(method, answer, counts, score, bad):
    for value in bad:
        with pytest.raises(BadAnswer):
            rules(method).answer(value)
        with pytest.raises(DomainError) as caught:
            validate_ballot(method, IDS, {"11": value})
        assert caught.value.code == "bad_ballot"


@pytest.mark.parametrize(("method", "answer", "counts", "score", "bad"), TABLE_CASES)
def test_each_method_tallies_a_valid_answer(method, answer, counts, score, bad):
    ballot = validate_ballot(method, IDS, {"11": answer})
    assert list(ballot) == ["11"]
    result = tally(method, IDS, [ballot])
    item = result.for_proposal(11)
    assert result.ballots == 1
    assert item.responses == 1
    assert item.counts == counts
    assert item.score == score
    assert result.leaders == [11]
    assert result.for_proposal(12).responses == 0
    if method is VoteMethod.CRITERIA:
        assert item.criteria["matbart"] == {"ja": 0, "delvis": 1, "nej": 0}
    sentences = describe_tally(result.to_dict(), {11: "F1", 12: "F2", 13: "F3"})
    assert sentences[0] == "1 röster lämnades."
    assert sentences[1].startswith("F1: ")
    assert sentences[-1] == "Starkast stöd: F1."


@pytest.mark.parametrize(("method", "answer", "counts", "score", "bad"), TABLE_CASES)
def test_each_method_names_its_answers_for_the_exports(method, answer, counts, score, bad):
    ballot = validate_ballot(method, IDS, {"11": answer})
    item = tally(method, IDS, [ballot]).for_proposal(11).to_dict()
    pairs = answer_labels(method, item)
    assert sum(count for _, count in pairs) == (3 if method is VoteMethod.CRITERIA else 1)
    assert all(isinstance(label, str) and label for label, _ in pairs)


@pytest.mark.parametrize(
    ("method", "value", "text"),
    [
        (VoteMethod.YES_NO, "avstar", "Avstår"),
        (VoteMethod.SCORE, 4, "4"),
        (VoteMethod.DOTS, 2, "2"),
        (VoteMethod.GRADIENTS, "5", "Emot — blockerar"),
        (
            VoteMethod.CRITERIA,
            FULL_CRITERIA,
            "Påverkbart inom KS ansvar Ja, Mätbart Delvis, Resurser finns Nej",
        ),
    ],
)
def test_each_method_puts_one_answer_in_words(method, value, text):
    assert answer_text(method, value) == text
    assert answer_text(method, value, lambda s: s.upper()) == text.upper()
