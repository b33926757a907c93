"""A decided KS mål 2019 workshop built through the services, as a dialogue would leave it."""

from __future__ import annotations

from typing import Any

from flask import Flask

from workshop import services
from workshop.extensions import db
from workshop.models import Workshop

HOSTILE = '=HYPERLINK("http://example.com","klicka") <script>alert(1)</script> & "citat"'
AMBITION = {
    "kind": "ambitionsniva",
    "what": "Andelen invånare med egen försörjning ska öka med 2 procentenheter",
    "indicator": "Andel invånare 20–64 år utan ekonomiskt bistånd",
    "baseline_value": "91,2 %",
    "baseline_year": "2018",
    "target_value": "93,2 %",
    "target_date": "2019-12-31",
    "resources": "Inom befintlig budget",
    "criteria": {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
}


def build_workshop(app: Flask, *, anonymous: bool = True, voters: int = 5) -> int:
    """Goal 2 decided as an ambition level after a ja/nej vote, goal 6 as an inriktningsmål
    after a criteria vote, goal 5 with a proposal but undecided; edits, a merge, a hidden and
    a parked proposal, a parking point, dissent and follow-ups. Closed at the end."""
    actor = services.Actor("samtalsledare", None)
    with app.app_context(), services.acting_as(actor):
        workshop = services.create_from_template()
        wid = workshop.id
        if not anonymous:
            services.update_workshop(wid, workshop.title, anonymous=False)
        services.start_workshop(wid)
        workshop = db.session.get(Workshop, wid)
        people = [services.join(workshop, None, f"Ledamot {n}") for n in range(voters)]
        secrets_ = [f"telefonens-hemlighet-{n:04d}-abcdef" for n in range(voters)]
        goal2, goal5, goal6 = (workshop.goals[i].id for i in (1, 4, 5))

        def propose(goal_id: int, raw: dict[str, Any], n: int | None, client: str) -> int:
            kwargs: dict[str, Any] = {"client_id": client}
            if n is not None:
                kwargs.update(participant=people[n], secret=secrets_[n])
            proposal, _new = services.add_proposal(wid, goal_id, raw, **kwargs)
            return proposal.id

        services.select_goal(wid, goal2)
        services.set_phase(wid, goal2, "forslag")
        p1 = propose(goal2, AMBITION, 0, "klient-0001")
        p2 = propose(
            goal2, {"kind": "ambitionsniva", "what": "Fler jobb via Navigator"}, 1, "klient-0002"
        )
        p3 = propose(
            goal2, {"kind": "ambitionsniva", "what": "Fler praktikplatser"}, None, "klient-0003"
        )
        p4 = propose(goal2, {"kind": "ambitionsniva", "what": HOSTILE}, 2, "klient-0004")
        p5 = propose(goal2, {"kind": "ambitionsniva", "what": "Samma som F1"}, 3, "klient-0005")
        p6 = propose(goal2, {"kind": "ambitionsniva", "what": "Utred senare"}, 4, "klient-0006")
        services.edit_proposal(wid, p1, {**AMBITION, "target_value": "93,5 %"})
        services.merge_proposals(
            wid, [p2, p3], {"kind": "ambitionsniva", "what": "Fler jobb och praktikplatser"}
        )
        services.hide_proposal(wid, p5, "Dubblett av F1")
        services.park_proposal(wid, p6)
        services.add_parking(wid, "Se över nyckeltalen i Kolada", goal2)
        services.add_parking(wid, "Gemensam mall för alla mål")
        services.set_phase(wid, goal2, "rostning", method="ja_nej")
        round_id = db.session.get(Workshop, wid).goals[1].current_round.id
        active = db.session.get(Workshop, wid).goals[1].current_round.proposal_ids
        for n, person in enumerate(people):
            answers = {str(pid): ("ja" if (pid == p1) != (n == 4) else "nej") for pid in active}
            if n == 3:
                answers[str(p4)] = "avstar"
            services.cast_vote(person, round_id, secrets_[n], answers)
        services.set_phase(wid, goal2, "resultat")
        services.record_decision(
            wid,
            goal2,
            {
                **AMBITION,
                "proposal_id": p1,
                "dissent": [
                    {"text": "Ambitionsnivån är för låg", "name": "Bo Berg (S)", "consent": True},
                    {"text": "Resurser saknas", "name": "Anonym", "consent": False},
                ],
            },
        )

        services.select_goal(wid, goal5)
        services.set_phase(wid, goal5, "forslag")
        propose(
            goal5, {"kind": "ambitionsniva", "what": "Sjukfrånvaron ska minska"}, 0, "klient-0501"
        )

        services.select_goal(wid, goal6)
        services.set_phase(wid, goal6, "forslag")
        direction = {"kind": "inriktningsmal", "rationale": "KS kan inte ensamt påverka utfallet."}
        d1 = propose(goal6, direction, None, "klient-0601")
        d2 = propose(
            goal6, {"kind": "ambitionsniva", "what": "Två medborgardialoger"}, 1, "klient-0602"
        )
        services.set_phase(wid, goal6, "rostning", method="kriterier")
        round_id = db.session.get(Workshop, wid).goals[5].current_round.id
        for n, person in enumerate(people[:3]):
            rating = {"paverkbart": "ja", "matbart": "delvis", "resurser": ["ja", "nej", "ja"][n]}
            services.cast_vote(person, round_id, secrets_[n], {str(d1): rating, str(d2): rating})
        services.set_phase(wid, goal6, "resultat")
        services.record_decision(wid, goal6, {**direction, "proposal_id": d1})

        services.save_follow_up(
            wid,
            goal2,
            {
                "checkpoint": "2019-04-30",
                "value": "91,8 %",
                "forecast": "delvis",
                "comment": "Arbetsmarknadsenheten har fler inskrivna.",
                "kolada_kpi": "N31807",
            },
        )
        services.save_follow_up(
            wid, goal2, {"checkpoint": "2019-08-31", "value": "92,6 %", "forecast": "uppfylls"}
        )
        services.save_follow_up(
            wid,
            goal6,
            {"checkpoint": "2019-08-31", "activities": "Två dialogmöten med föreningslivet."},
        )
        services.close_workshop(wid)
        return wid
