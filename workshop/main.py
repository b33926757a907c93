"""The ``malverkstad`` command: ``serve`` (what ``run.py`` does) and the app's Flask commands.

``ASYNC_MODE=gevent`` serves on gevent, which must patch the standard library before Flask,
the sockets and the app's locks are imported: so this module imports only the standard library
at the top, and everything else after ``patch_for_gevent``. (``workshop/__init__.py`` imports
nothing either.)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click


def patch_for_gevent() -> None:
    """With ``ASYNC_MODE=gevent``, make the standard library cooperative, once, first."""
    if os.environ.get("ASYNC_MODE") == "gevent":
        from gevent import monkey

        monkey.patch_all()


def serve() -> None:
    """Start the server as ``malverkstad serve`` does (``run.py`` calls this)."""
    patch_for_gevent()
    from . import serving
    from .app import create_app

    serving.serve(create_app())


def command_group() -> click.Group:
    """The ``malverkstad`` group: ``serve``, ``shell``, ``routes`` and the app's commands
    (``db``, ``create-facilitator``, ``purge``, ``create-ks2019``) on ``create_app``."""
    import click
    from flask.cli import FlaskGroup, ScriptInfo, routes_command, shell_command

    from . import serving
    from .app import create_app
    from .resources import version

    @click.command("serve")
    @click.pass_context
    def serve_command(context: click.Context) -> None:
        """Start the server with the first facilitator and the "KS mål 2019" dialogue ready."""
        # FlaskGroup sets this so that app.run() inside a command does nothing; serving is
        # what this command is for (Werkzeug in threading mode goes through app.run()).
        os.environ.pop("FLASK_RUN_FROM_CLI", None)
        serving.serve(context.ensure_object(ScriptInfo).load_app())

    # Flask's development server (`run`) is left out: `serve` is the one way to serve here.
    group = FlaskGroup(
        name="malverkstad",
        help=(
            "Målverkstad: dialogverktyg för ambitionsnivåer. "
            "Starta servern med 'malverkstad serve'."
        ),
        create_app=create_app,
        add_default_commands=False,
        add_version_option=False,
    )
    group.add_command(serve_command)
    group.add_command(shell_command)
    group.add_command(routes_command)
    return click.version_option(version(), prog_name="Målverkstad")(group)


def main(argv: list[str] | None = None) -> None:
    """The ``malverkstad`` console script."""
    patch_for_gevent()
    command_group().main(args=argv, prog_name="malverkstad")
