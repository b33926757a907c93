"""The schema comes only from the migrations: they build exactly the models, keep data when
upgrading, and adopt a database that ``create_all`` made before there were migrations.

Each test runs on the session's database (``--database=sqlite`` or ``postgresql``).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from workshop import create_app, queries, services
from workshop.db import BASELINE, alembic_config, schema_head
from workshop.extensions import db
from workshop.models import Ballot, Decision, Goal, Participant, VoteRound, Workshop

from .conftest import Databases, migrate


@pytest.fixture
def bare_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """An empty database: no tables, no migrations run."""
    url = databases.new(tmp_path, migrated=False)
    yield url
    databases.drop(url)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.NullPool)


def _revision(url: str) -> str | None:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _differences(url: str) -> list[Any]:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def _baseline() -> Any:
    """The first migration's module (its ``schema()`` is the baseline's tables)."""
    return ScriptDirectory.from_config(alembic_config()).get_revision(BASELINE).module


def _app(url: str) -> Any:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test",
            "PUBLIC_URL": "http://mote.example:5000",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # The data is from 2019: the retention rule would erase its participants at start.
            "PURGE_ON_START": False,
        }
    )


def _close(app: Any) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_migrations_build_exactly_the_models(bare_url: str) -> None:
    migrate(bare_url)
    assert _differences(bare_url) == []
    assert _revision(bare_url) == schema_head()


def test_a_copy_of_the_test_template_is_at_head(database_url: str) -> None:
    """The suite's per-test databases are copies of one migrated template, so they match too."""
    assert _revision(database_url) == schema_head()
    assert _differences(database_url) == []


def test_the_history_is_one_line_from_the_baseline() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].revision == BASELINE
    assert revisions[-1].down_revision is None


def test_downgrade_to_nothing_and_up_again(bare_url: str) -> None:
    migrate(bare_url)
    engine = _engine(bare_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    migrate(bare_url)
    assert _differences(bare_url) == []


def _fill_baseline(url: str) -> dict[str, Any]:
    """Write a workshop with goals, a proposal, a round with a ballot and a decision, using
    only the baseline's tables (not today's models, which later migrations may change)."""
    tables = _baseline().schema().tables
    now = dt.datetime(2019, 2, 20, 9, 30)
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                tables["facilitator"].insert(),
                [{"id": 1, "username": "ledare", "password_hash": "x", "created_at": now}],
            )
            workshop = {
                "id": 1,
                "title": "KS mål 2019",
                "dnr": "KS 2018/109",
                "organisation": "Vaggeryds kommun",
                "unit": "",
                "recipient": "",
                "send_to": "",
                "officer": "",
                "meeting_date": "2019-02-20",
                "follow_up_dates": "2019-04-30",
                "join_code": "ABCDEF",
                "screen_key": "s" * 32,
                "status": "pagar",
                "anonymous": True,
                "current_goal_id": None,
                "seq": 7,
                "created_at": now,
                "created_by_id": 1,
            }
            connection.execute(tables["workshop"].insert(), [workshop])
            goal = {"workshop_id": 1, "area": "Livsmiljö", "strategies": "", "measurability": ""}
            connection.execute(
                tables["goal"].insert(),
                [
                    {**goal, "id": 1, "position": 0, "number": "1", "text": "Trygg kommun",
                     "phase": "beslutat"},
                    {**goal, "id": 2, "position": 1, "number": "2", "text": "Fler jobb",
                     "phase": "ej_startad"},
                ],
            )  # fmt: skip
            connection.execute(
                tables["workshop"].update().values(current_goal_id=1)
                .where(tables["workshop"].c.id == 1)
            )  # fmt: skip
            connection.execute(
                tables["participant"].insert(),
                [{"id": 1, "workshop_id": 1, "token": "t" * 32, "display_name": None,
                  "role": "deltagare", "removed": False, "left": False, "joined_at": now}],
            )  # fmt: skip
            fields = {"what": "Fler trygghetsvandringar", "target": "12 per år"}
            connection.execute(
                tables["proposal"].insert(),
                [{"id": 1, "goal_id": 1, "number": 1, "client_id": "c" * 16,
                  "kind": "ambitionsniva", "fields": fields, "criteria": {"paverkbar": "ja"},
                  "original": None, "author_key": "k" * 64, "author_participant_id": None,
                  "author_label": "", "status": "aktiv", "hidden_reason": "",
                  "merged_into_id": None, "published": True, "created_at": now}],
            )  # fmt: skip
            connection.execute(
                tables["vote_round"].insert(),
                [{"id": 1, "goal_id": 1, "number": 1, "method": "ja_nej", "dot_budget": 3,
                  "proposal_ids": [1], "status": "stangd", "revealed": True}],
            )  # fmt: skip
            connection.execute(
                tables["ballot"].insert(),
                [{"key": "b" * 64, "round_id": 1, "answers": {"1": "ja"}, "rev": 2,
                  "vote_id": "v" * 16, "participant_id": None}],
            )  # fmt: skip
            connection.execute(tables["response"].insert(), [{"round_id": 1, "participant_id": 1}])
            connection.execute(
                tables["decision"].insert(),
                [{"id": 1, "goal_id": 1, "kind": "ambitionsniva", "proposal_id": 1,
                  "fields": fields, "criteria": {"paverkbar": "ja"}, "tally": {"1": {"ja": 1}},
                  "tally_labels": {"1": "F1"}, "dissent": [{"name": "", "text": "Nej."}],
                  "decided_at": now}],
            )  # fmt: skip
            if connection.dialect.name == "postgresql":
                # Rows written with explicit ids leave the id sequences behind.
                for table in tables.values():
                    if "id" in table.c:
                        connection.execute(
                            sa.text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                            )
                        )
    finally:
        engine.dispose()
    return {"fields": fields, "now": now}


def _check_filled(app: Any, filled: dict[str, Any]) -> None:
    with app.app_context():
        workshop = db.session.get(Workshop, 1)
        assert (workshop.title, workshop.dnr, workshop.seq) == ("KS mål 2019", "KS 2018/109", 7)
        assert workshop.current_goal_id == 1
        assert [g.text for g in workshop.goals] == ["Trygg kommun", "Fler jobb"]
        goal = db.session.get(Goal, 1)
        assert goal.proposals[0].fields == filled["fields"]
        assert goal.proposals[0].created_at == filled["now"]
        vote_round = db.session.get(VoteRound, 1)
        assert vote_round.proposal_ids == [1]
        ballot = db.session.get(Ballot, "b" * 64)
        assert (ballot.answers, ballot.rev, ballot.round_id) == ({"1": "ja"}, 2, 1)
        # 0004 dropped the record of who answered (it paired people with ballots); the ballot
        # stays, and the participant binds its phone's secret at its next state:get.
        assert "response" not in sa.inspect(db.engine).get_table_names()
        assert db.session.get(Participant, 1).secret_hash is None
        assert queries.round_progress(vote_round)[0] == 1
        decision = db.session.scalar(sa.select(Decision).filter_by(goal_id=1))
        assert decision.fields == filled["fields"]
        assert decision.dissent == [{"name": "", "text": "Nej."}]
        assert queries.round_tally(vote_round) is not None
        # The app still works on the upgraded database: a new workshop, a new vote round id.
        services.create_from_template()
        assert len(queries.list_workshops()) == 2


def test_upgrading_from_the_first_migration_keeps_the_data(bare_url: str) -> None:
    migrate(bare_url, BASELINE)
    filled = _fill_baseline(bare_url)
    migrate(bare_url)
    assert _revision(bare_url) == schema_head() != BASELINE
    assert _differences(bare_url) == []
    app = _app(bare_url)
    try:
        _check_filled(app, filled)
    finally:
        _close(app)


def test_create_app_upgrades_a_database_at_the_first_migration(bare_url: str) -> None:
    migrate(bare_url, BASELINE)
    filled = _fill_baseline(bare_url)
    app = _app(bare_url)
    try:
        assert _revision(bare_url) == schema_head()
        _check_filled(app, filled)
    finally:
        _close(app)
    assert _differences(bare_url) == []


def test_create_app_builds_an_empty_database(bare_url: str) -> None:
    app = _app(bare_url)
    try:
        with app.app_context():
            assert queries.list_workshops() == []
    finally:
        _close(app)
    assert _revision(bare_url) == schema_head()
    assert _differences(bare_url) == []


def _create_all_of_old(url: str, *, without_session_version: bool = False) -> None:
    """What older versions did at start: ``create_all`` and no version table."""
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            _baseline().schema().create_all(connection)
            if without_session_version:
                # Made by a version before logout ended sessions; create_app added it later.
                connection.execute(sa.text("ALTER TABLE facilitator DROP COLUMN session_version"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("without_session_version", [False, True])
def test_a_database_from_before_migrations_is_stamped_and_upgraded(
    bare_url: str, without_session_version: bool
) -> None:
    _create_all_of_old(bare_url, without_session_version=without_session_version)
    filled = _fill_baseline(bare_url)
    assert _revision(bare_url) is None
    app = _app(bare_url)
    try:
        assert _revision(bare_url) == schema_head()
        _check_filled(app, filled)
        with app.app_context():
            services.create_facilitator("ny", "ett-langt-losenord-1")
            assert services.authenticate("ny", "ett-langt-losenord-1") is not None
    finally:
        _close(app)
    assert _differences(bare_url) == []


def test_flask_db_upgrade_is_the_operators_command(bare_url: str, tmp_path: Path) -> None:
    """``flask --app workshop db upgrade`` (Flask-Migrate) reaches head, as the README says."""
    app = _app(bare_url)
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["db", "current"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
    finally:
        _close(app)
    assert _revision(bare_url) == schema_head()


def test_ballots_hold_nothing_that_orders_them(database_url: str) -> None:
    """Anonymity in the schema, on every database: a ballot has no time, serial number or
    identity column that would tell when it was cast, and no table records who answered."""
    engine = _engine(database_url)
    try:
        inspector = sa.inspect(engine)
        assert "response" not in inspector.get_table_names()
        for table in ("ballot",):
            for column in inspector.get_columns(table):
                assert not isinstance(column["type"], sa.DateTime | sa.Date), column
                assert "nextval" not in str(column.get("default") or ""), column
                assert not column.get("identity"), column
                assert column.get("autoincrement") is not True, column
        assert inspector.get_pk_constraint("ballot")["constrained_columns"] == ["key"]
    finally:
        engine.dispose()


@pytest.mark.sqlite_only(
    reason="WITHOUT ROWID is SQLite's storage option; PostgreSQL has none (the test above "
    "checks, on both, that no column orders ballots)"
)
def test_ballots_are_stored_without_rowid(database_url: str) -> None:
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            for table in ("ballot",):
                sql = connection.execute(
                    sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                    {"t": table},
                ).scalar_one()
                assert sql.rstrip().upper().endswith("WITHOUT ROWID"), sql
    finally:
        engine.dispose()


def _start_worker(url: str, barrier: Any, results: Any) -> None:  # pragma: no cover - child
    try:
        barrier.wait(timeout=60)
        _close(_app(url))
        results.put("ok")
    except BaseException:  # noqa: BLE001 - report to the parent
        results.put(traceback.format_exc())


def test_workers_starting_at_once_migrate_once(databases: Databases, bare_url: str) -> None:
    """Several workers started together on a fresh PostgreSQL database: one migrates (under an
    advisory lock), the others wait and find it at head."""
    if databases.backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite is served by one process (several need PostgreSQL)")
    fork = multiprocessing.get_context("fork")
    results, barrier = fork.Queue(), fork.Barrier(3)
    workers = [fork.Process(target=_start_worker, args=(bare_url, barrier, results)) for _ in "abc"]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    assert outcomes == ["ok"] * 3, "\n".join(outcomes)
    assert _revision(bare_url) == schema_head()
    assert _differences(bare_url) == []
