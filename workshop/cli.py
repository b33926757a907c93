"""The app's commands (``flask --app workshop <command>``, ``malverkstad <command>``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from . import services
from .app import start
from .db import schema_is_current
from .domain import DomainError

NOT_MIGRATED = (
    "Databasen har inte det senaste schemat. Kör först: malverkstad db upgrade "
    "(eller flask --app workshop db upgrade), eller starta med MIGRATE_ON_START=1."
)


def starting(app: Flask) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Start the app (migrate, purge) before the command runs: the command line loaded it
    without starting, in case it only listed the commands (``app.listing_commands``). On a
    database not at the newest migration the command stops with one line saying what to run."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            start(app)
            if not schema_is_current():  # MIGRATE_ON_START=0 and not upgraded yet
                raise click.ClickException(NOT_MIGRATED)
            return command(*args, **kwargs)

        return run

    return decorate


def register_commands(app: Flask) -> None:
    """Add the facilitator, purge and template commands to the app's CLI."""

    @app.cli.command("create-facilitator")
    @click.argument("username")
    @click.password_option()
    @starting(app)
    def create_facilitator(username: str, password: str) -> None:
        """Add a facilitator account."""
        try:
            services.create_facilitator(username, password)
        except DomainError as exc:
            message = exc.message % exc.params if exc.params else exc.message
            raise click.ClickException(message) from None
        click.echo(f"Samtalsledaren {username} är skapad.")

    @app.cli.command("purge")
    @click.option("--days", type=int, default=None, help="Override RETENTION_DAYS.")
    @starting(app)
    def purge(days: int | None) -> None:
        """Erase participant data of workshops older than RETENTION_DAYS."""
        limit = days if days is not None else int(app.config["RETENTION_DAYS"])
        erased = services.purge_expired(limit)
        click.echo(f"Gallrade deltagaruppgifter i {len(erased)} dialoger äldre än {limit} dagar.")

    @app.cli.command("create-ks2019")
    @starting(app)
    def create_ks2019() -> None:
        """Create a new workshop from the built-in "KS mål 2019" template."""
        workshop = services.create_from_template()
        click.echo(f"Skapade dialog {workshop.id} med kod {workshop.join_code}.")
