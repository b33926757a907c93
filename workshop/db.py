"""The database: its URL, SQLite's pragmas, the Alembic configuration and migrating on start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_migrate import Migrate

from .extensions import db
from .resources import resource

MIGRATIONS = resource("migrations")
# The first migration: the schema that ``db.create_all()`` made before there were migrations.
BASELINE = "0001"


def database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL, also for the ``postgres://`` URLs hosting services hand out."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def init_database(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and Flask-Migrate to the app's (normalised) database URL."""
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    # `flask --app workshop db upgrade` (and the rest of Flask-Migrate's commands).
    Migrate(app, db, directory=str(MIGRATIONS))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, synchronous: str = "NORMAL") -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the projector read while phones write; the timeout waits out a writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # NORMAL (in WAL): a commit survives the server process dying (kill -9) but not a power
    # cut or OS crash, and costs no fsync; FULL also survives those, at one fsync per commit.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows (erased names, tokens) are overwritten with zeros, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# The tables whose rows held personal data before an erasure: names, tokens, secret hashes (the
# participant), and the participant links named mode writes on ballots and proposals.
PERSONAL_TABLES = ("participant", "ballot", "proposal")


def scrub_storage() -> None:
    """Leave no erased row in the database's files (app context), after an erasure.

    SQLite: fold the write-ahead log into the database file and truncate it; until then the WAL
    still holds the pages as they were before, names and phone tokens included. With
    ``secure_delete`` the deleted rows are zeroed in the file. A reader holding an old snapshot
    can keep part of the log for a moment, which the next checkpoint takes.

    PostgreSQL: an erased row stays in its table's file as a dead tuple until vacuumed, and a
    plain VACUUM only marks the space free; ``VACUUM FULL`` rewrites the tables (small ones:
    participants, ballots, proposals) into new files and drops the old. It takes each table's
    lock for that moment; erasures are rare and run after the dialogue. (PostgreSQL's own WAL
    keeps the old rows until it recycles its segments: see docs/privacy.md.)

    Outside a transaction, on a connection of its own.
    """
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (FULL) " + ", ".join(PERSONAL_TABLES))


def create_private_file(path: Path) -> None:
    """Create an empty file only its owner may read, unless it exists (the SQLite database:
    its -wal and -shm files get the same mode)."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def configure_engine(app: Flask) -> None:
    """Set SQLite's pragmas on every connection, and create its file owner-only (app context).

    The file (and its folder, owner-only too) is made just before the first connection, by
    whatever connects first (the start, or ``db upgrade`` on a fresh instance), never earlier:
    loading the app for ``--help`` creates nothing.
    """
    if db.engine.dialect.name != "sqlite":
        return
    synchronous = str(app.config.get("SQLITE_SYNCHRONOUS") or "NORMAL").upper()
    if synchronous not in ("NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA: {synchronous}")
    database = db.engine.url.database
    if database and database != ":memory:":
        path = Path(database)

        def create_file(*_args: Any) -> None:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            create_private_file(path)

        sa.event.listen(db.engine, "do_connect", create_file)
    sa.event.listen(
        db.engine,
        "connect",
        lambda connection, record: _sqlite_pragmas(connection, record, synchronous),
    )
    db.engine.dispose()


def migrate_on_start(app: Flask) -> None:
    """Upgrade the database to the newest migration unless told not to (app context)."""
    # MIGRATE_ON_START=0: upgrades only by `flask --app workshop db upgrade`, by the operator.
    if app.config.get("MIGRATE_ON_START", os.environ.get("MIGRATE_ON_START", "1") != "0"):
        migrate_database()


def schema_is_current() -> bool:
    """Whether the database is at the newest migration (app context); False when it is empty."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == schema_head()


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """The Alembic configuration of ``migrations/`` (``connection``: migrate that one)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


_HEAD: list[str | None] = []


def schema_head() -> str | None:
    """The newest migration's revision (read once per process)."""
    if not _HEAD:
        from alembic.script import ScriptDirectory

        _HEAD.append(ScriptDirectory.from_config(alembic_config()).get_current_head())
    return _HEAD[0]


def _adopt_unversioned(connection: sa.Connection) -> None:
    """Bring a database made by ``create_all`` (before migrations) to the baseline and stamp it.

    That is what each start of the older versions did: create the missing tables and add the
    nullable or defaulted columns added since (e.g. ``facilitator.session_version``).
    """
    from alembic import command
    from alembic.script import ScriptDirectory

    baseline = ScriptDirectory.from_config(alembic_config()).get_revision(BASELINE).module
    metadata = baseline.schema()
    metadata.create_all(connection, checkfirst=True)
    inspector = sa.inspect(connection)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            default = ""
            if column.server_default is not None:
                default = f" DEFAULT {column.server_default.arg}"
                default += "" if column.nullable else " NOT NULL"
            connection.execute(
                sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{default}')
            )
    command.stamp(alembic_config(connection), BASELINE)


def migrate_database() -> None:
    """Upgrade the app's database to the newest migration (``flask db upgrade`` does the same).

    A database from before migrations (tables but no ``alembic_version``) is stamped with the
    baseline first. Nothing runs when the database is already at head, the usual start.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    head = schema_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        tables = set(sa.inspect(connection).get_table_names())
        if current is None and "workshop" in tables and "alembic_version" not in tables:
            _adopt_unversioned(connection)
            connection.commit()
    # The configuration ``flask db`` uses, without its logging set-up (the app has its own).
    config = current_app.extensions["migrate"].migrate.get_config()
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
