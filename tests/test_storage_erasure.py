"""Erasure reaches the bytes on disk: the database file, its write-ahead log and free pages.

And the instance folder and the database files are created so that only their owner reads them.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from workshop import create_app, services
from workshop.extensions import db
from workshop.models import Participant, Workshop

NAMES = [f"Ledamot Kvastfening-{n}" for n in range(6)]


def on_disk(path: Path) -> bytes:
    """The database file and its -wal and -shm files, as bytes."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def test_instance_folder_and_database_files_are_owner_only(
    tmp_path: Path, monkeypatch: Any
) -> None:
    instance = tmp_path / "instans"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        services.create_facilitator("samtalsledare", "ett-langt-losenord")
        # While connected, so the -wal and -shm files are there too.
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in instance.iterdir()}
        db.session.remove()
        db.engine.dispose()
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert set(modes) >= {"malverkstad.db", "malverkstad.db-wal", "secret_key"}
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}


def _postgresql_files() -> bytes:
    """Every file of the test database on the PostgreSQL server, as bytes, once written out."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("CHECKPOINT")  # the test server's superuser: flush to disk
        data = connection.exec_driver_sql("SHOW data_directory").scalar_one()
        oid = connection.exec_driver_sql(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).scalar_one()
    folder = Path(data) / "base" / str(oid)
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def _closed_named_dialogue() -> tuple[int, list[str]]:
    """A named dialogue the people of ``NAMES`` joined, closed; its id and their tokens."""
    workshop = services.create_from_template()
    services.update_workshop(workshop.id, workshop.title, anonymous=False)
    services.start_workshop(workshop.id)
    workshop = db.session.get(Workshop, workshop.id)
    for name in NAMES:
        services.join(workshop, None, name)
    tokens = list(db.session.scalars(sa.select(Participant.token)))
    workshop_id = workshop.id
    services.close_workshop(workshop_id)
    return workshop_id, tokens


def test_postgresql_erasing_leaves_no_name_in_the_table_files(app: Flask) -> None:
    """PostgreSQL keeps a deleted row in the table's file until it is vacuumed: the erasure
    rewrites the tables that held personal data (``VACUUM FULL``)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's table files; SQLite: the test below")
        workshop_id, tokens = _closed_named_dialogue()
        db.session.remove()
        before = _postgresql_files()
        assert all(name.encode() in before for name in NAMES)  # the check can see them

        assert services.erase_personal_data(workshop_id) == len(NAMES)

        db.session.remove()
        after = _postgresql_files()
        assert [name for name in NAMES if name.encode() in after] == []
        assert [token for token in tokens if token.encode() in after] == []


def test_erasing_leaves_no_name_nor_token_in_the_database_files(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the files checked are SQLite's; PostgreSQL: the test above")
        path = Path(db.engine.url.database or "")
        workshop_id, tokens = _closed_named_dialogue()
        before = on_disk(path)
        # Here they are: in the file or its log, as a look at the folder would find them.
        assert all(name.encode() in before for name in NAMES)
        assert all(token.encode() in before for token in tokens)

        assert services.erase_personal_data(workshop_id) == len(NAMES)

        after = on_disk(path)
        assert [name for name in NAMES if name.encode() in after] == []
        assert [token for token in tokens if token.encode() in after] == []
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # the log was folded in and truncated
