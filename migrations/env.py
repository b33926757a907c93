"""Alembic environment: the app's models are the target, the app's engine the database.

Run by ``flask --app workshop db …`` (Flask-Migrate) and by ``create_app`` at start
(``workshop.db.migrate_database``). A caller may hand over an open connection in
``config.attributes["connection"]`` (the tests do, to migrate a bare database).
"""

from __future__ import annotations

import logging.config

import sqlalchemy as sa
from alembic import context
from flask import current_app

from workshop.models import db

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    # Only for the command line: keep the app's (and pytest's) loggers as they are.
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

# Several workers may start at once on a fresh PostgreSQL database: one migrates, the others
# wait on this lock and then find the schema at head.
ADVISORY_LOCK = 0x6D616C76  # "malv"


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    """Write the SQL to stdout (``flask db upgrade --sql``) instead of running it."""
    context.configure(
        url=db.engine.url, target_metadata=db.metadata, literal_binds=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as connection:
        locked = connection.dialect.name == "postgresql"
        if locked:
            connection.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK)))
            connection.commit()
        try:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if locked:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK)))
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
