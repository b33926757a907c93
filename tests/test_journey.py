"""The whole dialogue over the real Socket.IO server: facilitator, presenter and five phones."""

from __future__ import annotations

import io
from typing import Any

import docx
import sqlalchemy as sa
from flask_socketio import SocketIOTestClient

from workshop.extensions import db
from workshop.models import Ballot

from .builders import Dialogue, emit_ack
from .conftest import Follower, received

FACILITATOR_ONLY = ("all_proposals", "live_tally", "participants", "agenda", "parking")


class Room(Dialogue):
    """Everyone in the dialogue, with what each audience has received so far."""

    screen: SocketIOTestClient

    def __init__(self, app: Any, client: Any, auth: Any) -> None:
        auth.login()
        response = client.post("/f/ny-mall")
        assert response.status_code == 302
        workshop_id = int(response.headers["Location"].split("/")[2])
        assert client.post(f"/f/{workshop_id}/status", data={"action": "start"}).status == (
            "302 FOUND"
        )
        super().__init__(app, client, workshop_id, phones=5, screen=True)
        self.seen: dict[str, list[dict[str, Any]]] = {"screen": [], "phones": [], "fac": []}
        self.followers = [Follower(self.screen)] + [
            Follower(phone.sio, {"secret": phone.secret}) for phone in self.phones
        ]
        self.collect()

    def collect(self) -> None:
        """Drain every client's inbox, checking what must never reach phones or the screen."""
        self.seen["fac"].extend(received(self.fac))
        public = [state for follower in self.followers for state in follower.collect()]
        for payload in public:
            for key in FACILITATOR_ONLY:
                assert key not in payload, f"{key} leaked to a public audience"
            vote = payload.get("vote")
            if vote and vote["open"]:
                assert payload["results"] is None, "tally shown while the vote was open"
        self.seen["phones"].extend(public)

    def do(self, event: str, **payload: Any) -> dict[str, Any]:
        ack = super().do(event, **payload)
        self.collect()
        return ack

    def state(self) -> dict[str, Any]:
        # A read only: leaves the inboxes for the next collect().
        return emit_ack(self.fac, "state:get")["state"]

    def goal_ids(self) -> list[int]:
        return [goal["id"] for goal in self.state()["agenda"]]

    def open_vote(self, goal_id: int, method: str, **extra: Any) -> dict[str, Any]:
        self.do("phase:set", goal_id=goal_id, phase="rostning", method=method, **extra)
        vote = self.phones[0].state()["state"]["vote"]
        assert vote["method"] == method and vote["open"]
        return vote

    def reveal(self, goal_id: int) -> dict[str, Any]:
        self.do("phase:set", goal_id=goal_id, phase="resultat")
        last_screen = self.seen["phones"][-1]
        assert last_screen["results"] is not None
        return last_screen["results"]


def propose_all(room: Room, goal_id: int, texts: list[str]) -> list[int]:
    ids = []
    for phone, text in zip(room.phones, texts, strict=False):
        ack = phone.propose(
            goal_id,
            text,
            indicator="Kolada N00090",
            target_value="5 %",
            target_date="2019-12-31",
            criteria={"paverkbart": "ja", "matbart": "ja"},
        )
        assert ack["ok"], ack
        ids.append(ack["proposal"]["id"])
    room.collect()
    return ids


def test_whole_dialogue(app: Any, client: Any, auth: Any) -> None:
    """Play all 8 goals with every vote method and export the proposal for decision."""
    room = Room(app, client, auth)
    goals = room.goal_ids()
    assert len(goals) == 8
    phones = room.phones
    assert room.state()["people"]["count"] == 5

    # --- Goal 1: ja/nej, with the officials' draft and a changed vote -----------------------
    g1 = goals[0]
    room.do("phase:set", goal_id=g1, phase="forslag")
    assert phones[0].state()["state"]["goal"]["phase"] == "forslag"
    p1, p2 = propose_all(room, g1, ["Minst 200 nya bostäder 2019", "Ny pendelparkering"])
    official = room.do(
        "proposal:add",
        goal_id=g1,
        client_id="tjansteperson-1",
        proposal={"kind": "ambitionsniva", "what": "Detaljplan för 3 nya områden"},
    )["proposal"]["id"]
    # Proposals stay on the console until the facilitator publishes them.
    assert room.seen["phones"][-1]["proposals"] == []
    assert {p["id"] for p in room.state()["all_proposals"]} == {p1, p2, official}
    room.do("proposal:publish", ids=[p1, p2, official], published=True)
    assert len(room.seen["phones"][-1]["proposals"]) == 3
    # The phone gets its own proposal back after a reload.
    assert [p["id"] for p in phones[0].state()["own"]["my_proposals"]] == [p1]

    vote = room.open_vote(g1, "ja_nej")
    rid = vote["round_id"]
    answers = ["ja", "ja", "ja", "nej", "avstar"]
    for phone, answer in zip(phones, answers, strict=True):
        assert phone.vote(rid, {str(p1): answer, str(p2): "nej"})["ok"]
        room.collect()
    progress = room.seen["phones"][-1]["vote"]
    assert (progress["answered"], progress["total"]) == (5, 5)
    assert room.state()["live_tally"]["proposals"][0]["counts"]["ja"] == 3
    # Phone 4 changes its mind; the last ballot counts and nothing is added.
    changed = phones[3].vote(rid, {str(p1): "ja", str(p2): "nej"})
    assert changed.pop("seq") > 0  # the seq of a snapshot that includes it
    assert changed == {"ok": True, "changed": True, "duplicate": False, "stale": False, "rev": 2}
    assert phones[3].state()["own"]["my_ballot"] == {str(p1): "ja", str(p2): "nej"}
    room.collect()
    results = room.reveal(g1)
    p1_counts = next(p for p in results["proposals"] if p["proposal_id"] == p1)["counts"]
    assert p1_counts == {"ja": 4, "nej": 0, "avstar": 1}
    assert results["ballots"] == 5 and results["leaders"] == [p1]
    assert any("ja 4, nej 0, avstår 1" in line for line in results["text"])
    room.do(
        "decision:record",
        goal_id=g1,
        kind="ambitionsniva",
        proposal_id=p1,
        what="Minst 200 nya bostäder färdigställs under 2019",
        indicator="Antal färdigställda bostäder",
        baseline_value="120",
        baseline_year="2018",
        target_value="200",
        target_date="2019-12-31",
        resources="Inom befintlig ram",
        criteria={"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
        dissent=[
            {"text": "Målet är för lågt satt", "name": "Anna Ek (C)", "consent": True},
            {"text": "Resurser saknas", "name": "Ska inte synas", "consent": False},
        ],
    )
    assert room.seen["phones"][-1]["decision"]["fields"]["target_value"] == "200"

    # --- Goal 2: betyg 1–5 after merging two proposals ---------------------------------------
    g2 = goals[1]
    room.do("goal:select", goal_id=g2)
    room.do("phase:set", goal_id=g2, phase="forslag")
    a, b, c = propose_all(room, g2, ["Fler i arbete", "Fler i praktik", "Färre med bidrag"])
    merged = room.do(
        "proposal:merge",
        ids=[a, b],
        proposal={"kind": "ambitionsniva", "what": "Fler i arbete eller praktik"},
    )["proposal"]["id"]
    vote = room.open_vote(g2, "betyg")
    assert {p["id"] for p in vote["proposals"]} == {merged, c}
    for phone, score in zip(phones, [5, 4, 4, 3, 5], strict=True):
        assert phone.vote(vote["round_id"], {str(merged): score, str(c): 2})["ok"]
    room.collect()
    results = room.reveal(g2)
    assert next(p for p in results["proposals"] if p["proposal_id"] == merged)["score"] == 4.2
    room.do(
        "decision:record",
        goal_id=g2,
        kind="ambitionsniva",
        proposal_id=merged,
        what="Andelen invånare med egen försörjning ökar till 90 %",
    )

    # --- Goal 3: dot voting; a ballot over the budget is refused and changes nothing --------
    g3 = goals[2]
    room.do("goal:select", goal_id=g3)
    room.do("phase:set", goal_id=g3, phase="forslag")
    d, e = propose_all(room, g3, ["30 nya företag", "Företagslots"])
    vote = room.open_vote(g3, "prickar", dot_budget=3)
    over = phones[0].vote(vote["round_id"], {str(d): 3, str(e): 1})
    assert over["ok"] is False and over["code"] == "over_budget"
    assert "3" in over["error"]
    assert phones[0].state()["own"]["my_ballot"] is None
    for phone, split in zip(phones, [(3, 0), (2, 1), (1, 2), (3, 0), (0, 3)], strict=True):
        assert phone.vote(vote["round_id"], {str(d): split[0], str(e): split[1]})["ok"]
    room.collect()
    results = room.reveal(g3)
    assert {p["proposal_id"]: p["score"] for p in results["proposals"]} == {d: 9, e: 6}
    room.do(
        "decision:record",
        goal_id=g3,
        kind="ambitionsniva",
        proposal_id=d,
        what="30 nya företag per år",
        indicator="N00999",
    )

    # --- Goal 4: gradients of agreement, after hiding a duplicate and parking a point -------
    g4 = goals[3]
    room.do("goal:select", goal_id=g4)
    room.do("phase:set", goal_id=g4, phase="forslag")
    f, dup, side = propose_all(
        room, g4, ["Avtal med föreningar", "Avtal med föreningar", "Bygg ny sporthall"]
    )
    room.do("proposal:hide", id=dup, reason="Dubblett")
    room.do("proposal:park", id=side)
    room.do("parking:add", text="Se över lokalbidragen", goal_id=g4)
    vote = room.open_vote(g4, "gradering")
    assert [p["id"] for p in vote["proposals"]] == [f]
    for phone, step in zip(phones, [1, 2, 2, 3, 1], strict=True):
        assert phone.vote(vote["round_id"], {str(f): step})["ok"]
    room.collect()
    room.reveal(g4)
    room.do(
        "decision:record",
        goal_id=g4,
        kind="ambitionsniva",
        proposal_id=f,
        what="Överenskommelse med civilsamhället tecknas 2019",
    )

    # --- Goal 5: criteria rating, after the facilitator edits a proposal -----------------------
    g5 = goals[4]
    room.do("goal:select", goal_id=g5)
    room.do("phase:set", goal_id=g5, phase="forslag")
    (h,) = propose_all(room, g5, ["Sjukfrånvaron minskar"])
    room.do(
        "proposal:edit",
        id=h,
        proposal={
            "kind": "ambitionsniva",
            "what": "Sjukfrånvaron minskar till 6 %",
            "indicator": "N00090",
        },
    )
    assert room.state()["all_proposals"][0]["original"]["what"] == "Sjukfrånvaron minskar"
    vote = room.open_vote(g5, "kriterier")
    for phone in phones:
        ack = phone.vote(
            vote["round_id"], {str(h): {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"}}
        )
        assert ack["ok"], ack
    room.collect()
    results = room.reveal(g5)
    assert results["proposals"][0]["criteria"]["resurser"]["delvis"] == 5
    room.do(
        "decision:record",
        goal_id=g5,
        kind="ambitionsniva",
        proposal_id=h,
        what="Sjukfrånvaron minskar till 6 %",
        indicator="N00090",
    )

    # --- Goal 6: stays an inriktningsmål, without a vote -------------------------------------
    g6 = goals[5]
    room.do("goal:select", goal_id=g6)
    room.do("phase:set", goal_id=g6, phase="forslag")
    ack = phones[0].emit(
        "proposal:add",
        {
            "goal_id": g6,
            "client_id": "inriktning-1",
            "secret": phones[0].secret,
            "proposal": {"kind": "inriktningsmal", "rationale": "Svårt att mäta inflytande"},
        },
    )
    assert ack["ok"], ack
    room.do(
        "decision:record",
        goal_id=g6,
        kind="inriktningsmal",
        rationale="Medborgarinflytande är svårt att mäta på ett år",
    )

    # --- Goal 7: ja/nej while two people leave mid-vote --------------------------------------
    g7 = goals[6]
    room.do("goal:select", goal_id=g7)
    room.do("phase:set", goal_id=g7, phase="forslag")
    (k,) = propose_all(room, g7, ["Två EU-projekt per år"])
    vote = room.open_vote(g7, "ja_nej")
    for phone in phones[:3]:
        assert phone.vote(vote["round_id"], {str(k): "ja"})["ok"]
    # Phone 3 votes and then leaves; phone 4 leaves without voting.
    assert phones[3].vote(vote["round_id"], {str(k): "nej"})["ok"]
    assert phones[3].emit("participant:leave")["ok"]
    assert phones[4].emit("participant:leave")["ok"]
    room.collect()
    progress = room.seen["phones"][-1]["vote"]
    assert (progress["answered"], progress["total"]) == (4, 4)
    refused = phones[4].vote(vote["round_id"], {str(k): "ja"})
    assert refused["ok"] is False
    results = room.reveal(g7)
    assert results["proposals"][0]["counts"] == {"ja": 3, "nej": 1, "avstar": 0}
    room.do(
        "decision:record",
        goal_id=g7,
        kind="ambitionsniva",
        proposal_id=k,
        what="Två EU-projekt per år",
    )

    # --- Goal 8: proposals, but never decided -------------------------------------------------
    g8 = goals[7]
    room.do("goal:select", goal_id=g8)
    room.do("phase:set", goal_id=g8, phase="forslag")
    ack = phones[0].propose(g8, "Digitalisera tre processer")
    assert ack["ok"]

    # Anonymous by default: no ballot row names a participant.
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Ballot)
                .where(Ballot.participant_id.isnot(None))
            )
            == 0
        )

    # --- Export -------------------------------------------------------------------------------
    response = client.get(f"/f/{room.workshop_id}/export.docx")
    assert response.status_code == 200
    assert "KS-2018-109" in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.data))
    text = "\n".join(
        [p.text for p in document.paragraphs]
        + [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    )
    for goal in room.state()["agenda"]:
        assert goal["text"] in text
    assert "Minst 200 nya bostäder färdigställs under 2019" in text
    assert "ja 4, nej 0, avstår 1" in text
    assert "Målet är för lågt satt — Anna Ek (C)" in text
    assert "Ska inte synas" not in text
    assert "Ingen prognos — uppföljning genom verksamhetens aktiviteter" in text
    assert "30 april 2019" in text and "31 augusti 2019" in text
    assert "Se över lokalbidragen" in text
    assert "Bygg ny sporthall" in text  # the parked proposal
    # Goal 8 had a proposal but no decision: said so in every part, never "ej behandlad".
    assert text.count("Behandlad utan förslag till beslut") == 2  # its section and appendix
    assert "Mål 8 har behandlats i dialogen utan förslag till beslut" in text
    assert "Ej behandlad" not in text and "har inte behandlats" not in text
    assert "Dubblett" in text and "sammanslaget" in text
    assert "Sjukfrånvaron minskar" in text  # original wording before the edit

    markdown = client.get(f"/f/{room.workshop_id}/export.md")
    assert markdown.status_code == 200
    assert "Digitalisera tre processer" in markdown.get_data(as_text=True)
