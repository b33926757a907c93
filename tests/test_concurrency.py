"""Many writers at once on one database: no lost or duplicated votes, one round per opening.

Several server processes (as with several workers) share the session's database, each with its
own app, engine and connections, so nothing but the database keeps them apart: the in-process
``services.WRITE_LOCK`` does not reach across processes. Every vote revision is sent by two
processes (a resend racing its original) in a shuffled order (late older revisions).
"""

from __future__ import annotations

import random
import secrets
import threading
import traceback
from collections import Counter, defaultdict
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from workshop import services
from workshop.domain import DomainError
from workshop.extensions import db
from workshop.models import Ballot, Participant, VoteRound, Workshop

from .processes import TIMEOUT, run_workers, worker_app

WORKERS = 4
PHONES = 12
REVISIONS = 3


def _open_vote(app: Flask, *, phones: int) -> dict[str, Any]:
    """A started workshop, goal 1 open for a betyg vote over two proposals, and the phones."""
    with app.app_context():
        workshop = services.create_from_template()
        services.start_workshop(workshop.id)
        goal = workshop.goals[0]
        services.set_phase(workshop.id, goal.id, "forslag")
        proposals = [
            services.add_proposal(
                workshop.id,
                goal.id,
                {"kind": "ambitionsniva", "what": f"Förslag {n}"},
                client_id=secrets.token_hex(8),
            )[0].id
            for n in range(2)
        ]
        services.set_phase(workshop.id, goal.id, "rostning", method="betyg")
        round_id = db.session.scalar(sa.select(VoteRound.id).filter_by(goal_id=goal.id))
        people = [services.join(workshop, None).id for _ in range(phones)]
        seq = db.session.get(Workshop, workshop.id).seq
        workshop_id = workshop.id
        db.session.remove()
        db.engine.dispose()  # the workers must not share these connections
    return {
        "round_id": round_id,
        "proposals": proposals,
        "people": people,
        "seq": seq,
        "workshop_id": workshop_id,
    }


def _vote_worker(
    url: str, tasks: list[dict[str, Any]], barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    try:
        app = worker_app(url)
        outcomes = []
        with app.app_context():
            barrier.wait(timeout=TIMEOUT)
            for task in tasks:
                for _attempt in range(10):  # a phone resends after an error, as phones do
                    try:
                        participant = db.session.get(Participant, task["participant"])
                        outcome = services.cast_vote(
                            participant,
                            task["round_id"],
                            task["secret"],
                            task["answers"],
                            vote_id=task["vote_id"],
                            rev=task["rev"],
                        )
                    except DomainError as error:
                        if error.code != "conflict":
                            raise
                        outcomes.append({**task, "conflict": True})
                        continue
                    finally:
                        db.session.remove()
                    outcomes.append({**task, **outcome.ack(), "stored": outcome.stored})
                    break
                else:
                    raise AssertionError(f"no answer for {task} after 10 attempts")
            db.engine.dispose()
        results.put(("ok", outcomes))
    except BaseException:  # noqa: BLE001 - report to the parent
        results.put(("error", traceback.format_exc()))


def test_simultaneous_votes_and_resends_lose_and_duplicate_nothing(
    app: Flask, database_url: str
) -> None:
    opened = _open_vote(app, phones=PHONES)
    secret = {person: secrets.token_urlsafe(24) for person in opened["people"]}
    with app.app_context():
        for person in opened["people"]:
            services.bind_secret(person, secret[person])  # each phone's first state:get
        db.session.remove()
        db.engine.dispose()  # as _open_vote: the forked workers must not inherit connections
    sends = []
    for person in opened["people"]:
        for rev in range(1, REVISIONS + 1):
            grade = (person + rev) % 5 + 1
            task = {
                "participant": person,
                "round_id": opened["round_id"],
                "secret": secret[person],
                "answers": {str(p): grade for p in opened["proposals"]},
                "vote_id": secrets.token_hex(8),
                "rev": rev,
            }
            sends += [task, task]  # every revision twice: the original and a resend
    rng = random.Random(6)
    rng.shuffle(sends)
    jobs = [(database_url, sends[i::WORKERS]) for i in range(WORKERS)]
    outcomes = [o for worker in run_workers(_vote_worker, jobs) for o in worker]

    answered = [o for o in outcomes if not o.get("conflict")]
    assert len(answered) == len(sends)
    stored = Counter((o["participant"], o["rev"]) for o in answered if o["stored"])
    assert all(count == 1 for count in stored.values()), "a revision was stored twice"
    highest_acked: dict[int, int] = defaultdict(int)
    for o in answered:
        highest_acked[o["participant"]] = max(highest_acked[o["participant"]], o["rev"])
        assert not (o["duplicate"] and o["stale"])
    # Each batch of stored votes (group commit) advanced the workshop's seq once, in SQL: no
    # increment was lost, and a batch's votes share its seq.
    seqs = [o["seq"] for o in answered if o["stored"]]
    assert all(opened["seq"] < seq <= opened["seq"] + len(seqs) for seq in seqs)

    with app.app_context():
        db.session.remove()
        ballots = db.session.scalars(sa.select(Ballot).filter_by(round_id=opened["round_id"])).all()
        bound = dict(
            db.session.execute(
                sa.select(Participant.id, Participant.secret_hash).where(
                    Participant.id.in_(opened["people"])
                )
            ).all()
        )
        workshop_seq = db.session.scalar(
            sa.select(Workshop.seq).join(Participant).filter(Participant.id == opened["people"][0])
        )
    # The votes wrote nothing about the people: each still holds its phone's bound secret.
    assert bound == {p: services.phone_hash(opened["workshop_id"], secret[p]) for p in bound}
    by_key = {b.key: b for b in ballots}
    assert len(ballots) == len(by_key) == PHONES
    newest = {(t["participant"], t["rev"]): t for t in sends}
    for person in opened["people"]:
        key = services.hash_parts("ballot", opened["round_id"], secret[person])
        ballot = by_key[key]
        assert ballot.rev == REVISIONS == highest_acked[person]
        task = newest[(person, REVISIONS)]
        assert (ballot.answers, ballot.vote_id) == (task["answers"], task["vote_id"])
    assert len(set(seqs)) <= workshop_seq - opened["seq"] <= len(seqs)
    assert max(seqs) <= workshop_seq


def _phase_worker(
    url: str, workshop_id: int, goal_id: int, barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    try:
        app = worker_app(url)
        with app.app_context():
            barrier.wait(timeout=TIMEOUT)
            try:
                services.set_phase(workshop_id, goal_id, "rostning", method="ja_nej")
                outcome = "opened"
            except DomainError as error:
                outcome = f"refused: {error.code}"
            finally:
                db.session.remove()
                db.engine.dispose()
        results.put(("ok", outcome))
    except BaseException:  # noqa: BLE001 - report to the parent
        results.put(("error", traceback.format_exc()))


def _phase_threads(app: Flask, workshop_id: int, goal_id: int) -> list[str]:
    """The same, as threads of one server process (one app, a session per app context)."""
    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []

    def open_vote() -> None:
        with app.app_context():
            barrier.wait(timeout=TIMEOUT)
            try:
                services.set_phase(workshop_id, goal_id, "rostning", method="ja_nej")
                outcomes.append("opened")
            except DomainError as error:
                outcomes.append(f"refused: {error.code}")
            except Exception:  # noqa: BLE001 - reported below
                outcomes.append(traceback.format_exc())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=open_vote) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert len(outcomes) == WORKERS, outcomes
    return outcomes


@pytest.mark.parametrize("attempt", range(2))
@pytest.mark.parametrize("writers", ["processes", "threads"])
def test_simultaneous_vote_openings_open_one_round(
    app: Flask, database_url: str, writers: str, attempt: int
) -> None:
    with app.app_context():
        workshop = services.create_from_template()
        services.start_workshop(workshop.id)
        goal_id = workshop.goals[1].id
        services.set_phase(workshop.id, goal_id, "forslag")
        services.add_proposal(
            workshop.id,
            goal_id,
            {"kind": "ambitionsniva", "what": "Ett förslag"},
            client_id=secrets.token_hex(8),
        )
        workshop_id = workshop.id
        db.session.remove()
        db.engine.dispose()
    if writers == "threads":
        outcomes = _phase_threads(app, workshop_id, goal_id)
    else:
        outcomes = run_workers(
            _phase_worker, [(database_url, workshop_id, goal_id) for _ in range(WORKERS)]
        )
    assert outcomes.count("opened") == 1, outcomes
    with app.app_context():
        db.session.remove()
        rounds = db.session.scalars(sa.select(VoteRound).filter_by(goal_id=goal_id)).all()
        goal_phase = services.goal_in(workshop_id, goal_id).phase
    assert [(r.number, r.status) for r in rounds] == [(1, "oppen")]
    assert goal_phase == "rostning"
