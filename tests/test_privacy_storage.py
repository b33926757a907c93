"""Anonymity against a reader of the database files: the WAL replay and the page-order attacks.

Someone who can copy the instance folder (an operator, a backup, a stolen disk) gets the
database file, its write-ahead log and any ``.backup`` copy. Two attacks paired 40 of 40 phones
with their ballots when a vote also wrote "who has answered" (issue 14):

- **WAL replay**: rebuild the database as it was after each commit in the log and see what each
  commit changed. A commit that adds a ballot and touches a person pairs them.
- **Page order**: where each row's bytes sit in the file follows the order rows were written;
  rank the ballots and the people by position and pair them rank by rank.

40 phones join, each binds its secret at its first state:get (as the real phone does), then vote
in an order that has nothing to do with the order they joined in. The attacks must pair no more
people than guessing does (a random pairing of 40 gets 1 right on average; see ``CHANCE``). A
control shows the replay is real: it does see each vote's commit, so it can tell the order the
ballots came in, which names no one.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import struct
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from workshop import services
from workshop.extensions import db
from workshop.models import Participant

from .builders import open_vote, start_dialogue
from .conftest import Phone

PHONES = 40
# Most correct pairs allowed. A random pairing of 40 gets k right with about Poisson(1)'s odds:
# 8 or more in 1 of 100,000; the page-order attack tries 8 rankings, so about 1 in 10,000.
CHANCE = 7

WAL_HEADER, FRAME_HEADER = 32, 24


class Person(NamedTuple):
    """What the files hold about a participant: its id, its phone's token, its bound hash."""

    id: int
    token: str
    secret_hash: str


def _voted_dialogue(app: Flask, client: FlaskClient) -> tuple[Any, list[Phone], dict[str, Person]]:
    """40 phones vote (a few change their vote); return the dialogue, the phones and the truth
    the attacker wants: each ballot's key and whose it is."""
    dialogue = start_dialogue(app, client)
    phones = []
    for _ in range(PHONES):
        phone = Phone(app, dialogue.workshop_id)
        phone.state()  # the phone's first state:get binds its secret
        phones.append(phone)
    _goal_id, round_id, (proposal,) = open_vote(dialogue.fac, "ja_nej", count=1)
    order = list(range(PHONES))
    random.Random(20190220).shuffle(order)
    for n in order + order[:5]:  # five change their vote at the end
        answer = random.Random(n).choice(["ja", "nej", "avstar"])
        ack = phones[n].vote(round_id, {str(proposal): answer})
        assert ack["ok"], ack
    with app.app_context():
        truth = {
            services.hash_parts("ballot", round_id, phone.secret): _person(phone)
            for phone in phones
        }
    return dialogue, phones, truth


def _person(phone: Phone) -> Person:
    phone_hash = services.phone_hash(phone.workshop_id, phone.secret)
    row = db.session.execute(
        sa.select(Participant.id, Participant.token).where(Participant.secret_hash == phone_hash)
    ).one()
    return Person(row.id, row.token, phone_hash)


def _copy_files(app: Flask, into: Path) -> Path:
    """Copy the database file and its -wal as they are on disk (the app still connected)."""
    with app.app_context():
        path = Path(db.engine.url.database or "")
    into.mkdir()
    for name in (path.name, path.name + "-wal"):
        shutil.copyfile(path.with_name(name), into / name)
    return into / path.name


# --- WAL replay --------------------------------------------------------------------------------


def _commits(database: Path) -> list[dict[int, bytes]]:
    """The pages each commit in the -wal wrote, in log order (a frame's header says its page)."""
    wal = database.with_name(database.name + "-wal").read_bytes()
    page_size = struct.unpack(">I", wal[8:12])[0]
    salts = wal[16:24]
    commits, pending = [], {}
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        page, size_after = struct.unpack(">II", wal[offset : offset + 8])
        if wal[offset + 8 : offset + 16] != salts:
            break  # frames of an earlier generation of the log
        pending[page] = wal[offset + FRAME_HEADER : offset + FRAME_HEADER + page_size]
        if size_after:  # the last frame of a commit
            commits.append(pending)
            pending = {}
        offset += FRAME_HEADER + page_size
    return commits


Rows = dict[str, tuple[list[str], set[tuple[Any, ...]]]]


def _tables(image: bytes, into: Path) -> Rows:
    """Every table's columns and rows in a database image."""
    into.write_bytes(image)
    connection = sqlite3.connect(into)
    try:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        tables = {}
        for name in names:
            cursor = connection.execute(f'SELECT * FROM "{name}"')
            tables[name] = ([d[0] for d in cursor.description], set(cursor))
        return tables
    finally:
        connection.close()


def _touched_people(now: Rows, before: Rows) -> set[Any]:
    """Everyone a commit touched: a participant row written, or any row naming a participant."""
    people: set[Any] = set()
    for name, (columns, rows) in now.items():
        new = rows - before.get(name, ([], set()))[1]
        if name == "participant":
            people |= {row[columns.index("id")] for row in new}
        for column in (c for c in columns if c.endswith("participant_id")):
            people |= {row[columns.index(column)] for row in new} - {None}
    return people


def _wal_replay(database: Path, work: Path) -> tuple[list[tuple[str, str, int]], int, bytes]:
    """Pair ballots with people commit by commit; return the guesses, how many commits added
    a ballot, and the database image with the whole log applied."""
    page_size = struct.unpack(">I", database.with_name(database.name + "-wal").read_bytes()[8:12])[
        0
    ]
    image = bytearray(database.read_bytes())
    previous = _tables(bytes(image), work / "replay.db")
    guesses, ballot_commits = [], 0
    last_person: Any = None  # the one person the latest commit touching people touched
    for pages in _commits(database):
        for number, data in pages.items():
            end = number * page_size
            if len(image) < end:
                image.extend(b"\0" * (end - len(image)))
            image[end - page_size : end] = data
        now = _tables(bytes(image), work / "replay.db")
        columns, rows = now["ballot"]
        new_ballots = {row[columns.index("key")] for row in rows - previous["ballot"][1]}
        people = _touched_people(now, previous)
        ballot_commits += bool(new_ballots)
        if len(new_ballots) == 1 and len(people) == 1:
            guesses.append(("same commit", new_ballots.pop(), people.pop()))
        elif len(new_ballots) == 1 and not people and last_person is not None:
            guesses.append(("next commit", new_ballots.pop(), last_person))
        if people:
            last_person = people.pop() if len(people) == 1 else None
        previous = now
    return guesses, ballot_commits, bytes(image)


# --- Page order --------------------------------------------------------------------------------


def _page_order_guesses(image: bytes, truth: dict[str, Person]) -> int:
    """The best of several rankings by byte position: how many pairs it gets right."""

    def positions(needle: str) -> list[int]:
        found, start = [], 0
        while (at := image.find(needle.encode(), start)) >= 0:
            found.append(at)
            start = at + 1
        return found

    ballots = {key: positions(key) for key in truth}
    people = {p: positions(p.token) + positions(p.secret_hash) for p in truth.values()}
    assert all(ballots.values()) and all(people.values())  # every row is there to be ranked
    best = 0
    for pick in (min, max):
        for reverse in (False, True):
            by_ballot = sorted(ballots, key=lambda k: pick(ballots[k]), reverse=reverse)
            for people_reverse in (False, True):
                by_person = sorted(people, key=lambda p: pick(people[p]), reverse=people_reverse)
                right = sum(truth[key] == p for key, p in zip(by_ballot, by_person, strict=True))
                best = max(best, right)
    return best


@pytest.mark.sqlite_only(reason="the files attacked are SQLite's (PostgreSQL: the test below)")
def test_the_database_files_pair_no_one_with_a_ballot(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    _dialogue, _phones, truth = _voted_dialogue(app, client)
    database = _copy_files(app, tmp_path / "kopia")

    guesses, ballot_commits, replayed = _wal_replay(database, tmp_path)
    # Control: the log held every vote's commit, so the replay saw each ballot arrive.
    assert ballot_commits >= PHONES
    right = len({key for _how, key, person in guesses if truth[key].id == person})
    assert right <= CHANCE, f"the WAL replay paired {right} of {PHONES}"
    assert [g for g in guesses if g[0] == "same commit"] == []  # none added one and named one

    # Page order, on the copied file with its log applied, and on a copy made with SQLite's
    # online backup (what `sqlite3 .backup` does).
    assert _page_order_guesses(replayed, truth) <= CHANCE
    folded = tmp_path / "folded.db"
    source = sqlite3.connect(database)
    target = sqlite3.connect(folded)
    source.backup(target)
    source.close()
    target.close()
    assert _page_order_guesses(folded.read_bytes(), truth) <= CHANCE


def test_postgresql_rows_pair_no_one_with_a_ballot(app: Flask, client: FlaskClient) -> None:
    """PostgreSQL's equivalents: the transaction that wrote each row (``xmin``, what a WAL
    replay finds) and where it sits in the heap (``ctid``, the page order)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's row trace (xmin, ctid); SQLite: the test above")
    _dialogue, _phones, truth = _voted_dialogue(app, client)
    tokens = {key: person.token for key, person in truth.items()}
    with app.app_context():
        ballots = db.session.execute(db.text("SELECT key, xmin::text, ctid::text FROM ballot"))
        ballots = {key: (xmin, ctid) for key, xmin, ctid in ballots}
        people = db.session.execute(
            db.text("SELECT token, xmin::text, ctid::text FROM participant")
        )
        people = {token: (xmin, ctid) for token, xmin, ctid in people}
    assert len(ballots) == PHONES
    # No transaction that wrote a ballot wrote a participant row.
    assert {x for x, _ in ballots.values()}.isdisjoint({x for x, _ in people.values()})

    def heap(ctid: str) -> tuple[int, int]:
        page, item = ctid.strip("()").split(",")
        return int(page), int(item)

    by_ballot = sorted(ballots, key=lambda k: heap(ballots[k][1]))
    best = 0
    for reverse in (False, True):
        by_person = sorted(people, key=lambda t: heap(people[t][1]), reverse=reverse)
        right = sum(tokens[k] == t for k, t in zip(by_ballot, by_person, strict=False))
        best = max(best, right)
    assert best <= CHANCE
