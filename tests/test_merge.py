"""Merging without loss: the facilitator's choices per field and criterion are kept, the
sources keep their own texts and point at the merged proposal, and the export shows them."""

from __future__ import annotations

import io

from docx import Document
from flask import Flask
from flask.testing import FlaskClient

from workshop.extensions import db
from workshop.models import Proposal

from .builders import Dialogue, login, refused, start_workshop

FIRST = {
    "what": "Fler bostäder i centrum",
    "target_value": "100",
    "target_date": "2020-12-31",
    "criteria": {"paverkbart": "ja", "matbart": "ja", "resurser": "nej"},
}
SECOND = {
    "what": "Fler bostäder i centrum",
    "target_value": "90",
    "responsible": "Samhällsbyggnad",
    "criteria": {"paverkbart": "delvis", "matbart": "ja", "resurser": "ja"},
}


def two_proposals(app: Flask, client: FlaskClient) -> tuple[Dialogue, list[int]]:
    login(client)
    dialogue = Dialogue(app, client, start_workshop(app), phones=2)
    goal_id = dialogue.open_proposals()
    ids = []
    for phone, fields in zip(dialogue.phones, (FIRST, SECOND), strict=True):
        fields = dict(fields)
        ack = phone.propose(goal_id, fields.pop("what"), **fields)
        assert ack["ok"], ack
        ids.append(ack["proposal"]["id"])
    return dialogue, ids


def test_the_preview_names_every_difference_and_every_agreement(app, client) -> None:
    dialogue, ids = two_proposals(app, client)
    ack = dialogue.do("proposal:merge_preview", ids=ids)
    assert [s["label"] for s in ack["sources"]] == ["F1", "F2"]
    fields = {f["name"]: f for f in ack["fields"]}
    assert fields["target_value"]["agree"] is False
    assert fields["target_value"]["label"] == "Målvärde"
    assert [(o["value"], o["sources"]) for o in fields["target_value"]["options"]] == [
        ("100", ["F1"]),
        ("90", ["F2"]),
    ]
    assert fields["what"]["agree"] is True
    assert fields["what"]["value"] == "Fler bostäder i centrum"
    assert fields["criteria.matbart"]["agree"] is True
    assert fields["criteria.resurser"]["agree"] is False
    assert fields["responsible"]["options"][0] == {"value": "", "sources": ["F1"]}


def test_the_preview_refuses_what_a_merge_refuses(app, client) -> None:
    dialogue, ids = two_proposals(app, client)
    refused(
        dialogue,
        "proposal:merge_preview",
        "bad_merge",
        "Välj minst två förslag att slå samman.",
        ids=ids[:1],
    )


def test_a_phone_cannot_ask_for_a_merge_preview(app, client) -> None:
    dialogue, ids = two_proposals(app, client)
    ack = dialogue.phones[0].emit("proposal:merge_preview", {"ids": ids})
    assert ack["ok"] is False and ack["code"] == "forbidden"


def test_the_merge_keeps_what_the_facilitator_picked_and_every_source(app, client) -> None:
    dialogue, ids = two_proposals(app, client)
    # The facilitator picks the second's target and criteria, the first's date.
    merged = dialogue.do(
        "proposal:merge",
        ids=ids,
        proposal={
            "kind": "ambitionsniva",
            "what": "Fler bostäder i centrum",
            "target_value": "90",
            "target_date": "2020-12-31",
            "responsible": "Samhällsbyggnad",
            "criteria": SECOND["criteria"],
        },
    )["proposal"]
    assert merged["fields"]["target_value"] == "90"
    assert merged["fields"]["target_date"] == "2020-12-31"
    assert merged["criteria"] == SECOND["criteria"]
    assert merged["merged_from"] == ["F1", "F2"]
    shown = {p["label"]: p for p in dialogue.state()["all_proposals"]}
    assert shown["F3"]["merged_from"] == ["F1", "F2"]
    assert [shown[label]["merged_into"] for label in ("F1", "F2")] == ["F3", "F3"]
    with app.app_context():
        first, second = (db.session.get(Proposal, pid) for pid in ids)
        # The sources keep their own texts and criteria, untouched by the merge.
        assert (first.fields["target_value"], first.criteria) == ("100", FIRST["criteria"])
        assert (second.fields["target_value"], second.criteria) == ("90", SECOND["criteria"])
        assert first.merged_into_id == second.merged_into_id == merged["id"]


def test_the_export_lists_both_sources_with_their_full_texts(app, client) -> None:
    dialogue, ids = two_proposals(app, client)
    dialogue.do(
        "proposal:merge",
        ids=ids,
        proposal={"kind": "ambitionsniva", "what": "Ihop", "target_value": "90"},
    )
    wid = dialogue.workshop_id
    # Markdown escapes punctuation ("2020\\-12\\-31"); compare the text a reader sees.
    markdown = client.get(f"/f/{wid}/export.md").get_data(as_text=True).replace("\\", "")
    word = Document(io.BytesIO(client.get(f"/f/{wid}/export.docx").data))
    cells = [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    for text in (markdown, "\n".join(cells)):
        assert "Källa F1" in text and "Källa F2" in text
        assert "Målvärde: 100 senast 2020-12-31" in text
        assert "Målvärde: 90" in text and "Ansvarig: Samhällsbyggnad" in text
        assert "Resurser finns: Nej" in text and "Resurser finns: Ja" in text
    source_cells = [c for c in cells if c.startswith("Ambitionsnivå; Vad ska uppnås")]
    assert len(source_cells) == 2
