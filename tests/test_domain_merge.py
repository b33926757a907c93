"""merge_differences: where the sources of a merge differ, field by field."""

from __future__ import annotations

from workshop.domain import MERGE_FIELD_LABELS, MergeOption, merge_differences


def source(label, kind="ambitionsniva", criteria=None, **fields):
    return {"label": label, "kind": kind, "fields": fields, "criteria": criteria or {}}


def by_name(differences):
    return {d.name: d for d in differences}


def test_every_field_and_criterion_is_compared_in_the_form_order():
    names = [d.name for d in merge_differences([source("F1"), source("F2")])]
    assert names == list(MERGE_FIELD_LABELS)
    assert names[:2] == ["kind", "what"]
    assert names[-3:] == ["criteria.paverkbart", "criteria.matbart", "criteria.resurser"]


def test_different_targets_are_listed_with_their_sources_and_no_value_is_chosen():
    diff = by_name(
        merge_differences(
            [
                source("F1", what="Fler bostäder", target_value="100"),
                source("F2", what="Fler bostäder", target_value="90"),
            ]
        )
    )
    target = diff["target_value"]
    assert not target.agree
    assert target.value == ""
    assert target.options == (MergeOption("100", ("F1",)), MergeOption("90", ("F2",)))
    assert target.ambition_only
    assert diff["what"].agree and diff["what"].value == "Fler bostäder"
    assert not diff["what"].ambition_only


def test_agreeing_sources_are_grouped_under_one_value():
    diff = by_name(
        merge_differences(
            [
                source("F1", responsible="KS"),
                source("F3", responsible="Bygg"),
                source("F4", responsible="KS"),
            ]
        )
    )["responsible"]
    assert diff.options == (MergeOption("KS", ("F1", "F4")), MergeOption("Bygg", ("F3",)))


def test_an_empty_value_is_a_difference_not_agreement():
    diff = by_name(merge_differences([source("F1", indicator="Andel"), source("F2")]))
    assert not diff["indicator"].agree
    assert diff["indicator"].options == (MergeOption("Andel", ("F1",)), MergeOption("", ("F2",)))
    # A field both left empty agrees on empty.
    assert diff["resources"].agree and diff["resources"].value == ""


def test_whitespace_around_a_value_does_not_make_a_difference():
    diff = by_name(merge_differences([source("F1", what="Fler "), source("F2", what=" Fler")]))
    assert diff["what"].agree and diff["what"].value == "Fler"


def test_criteria_and_kind_are_compared_like_the_texts():
    diff = by_name(
        merge_differences(
            [
                source("F1", criteria={"paverkbart": "ja", "matbart": "ja"}),
                source(
                    "F2", kind="inriktningsmal", criteria={"paverkbart": "nej", "matbart": "ja"}
                ),
            ]
        )
    )
    assert diff["criteria.matbart"].agree and diff["criteria.matbart"].value == "ja"
    assert diff["criteria.paverkbart"].options == (
        MergeOption("ja", ("F1",)),
        MergeOption("nej", ("F2",)),
    )
    assert diff["criteria.resurser"].agree and diff["criteria.resurser"].value == ""
    assert diff["kind"].options == (
        MergeOption("ambitionsniva", ("F1",)),
        MergeOption("inriktningsmal", ("F2",)),
    )
