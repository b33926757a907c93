"""What the distribution ships beside the code: templates, static files, migrations, the archive
schema, and its version.

The checkout keeps them at its top (``templates/``, ``static/``, ``migrations/``,
``docs/archive-schema.json``) and the wheel maps them into the package (``pyproject.toml``,
``force-include``), so an installed copy finds them inside ``workshop/`` and a checkout or an
editable install beside it. Standard library only: ``malverkstad`` reads the version before
gevent patches the standard library.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent
DISTRIBUTION = "malverkstad"


def resource(name: str) -> Path:
    """The path of a shipped file or folder (``"templates"``, ``"docs/archive-schema.json"``):
    inside the package when installed from a wheel, else at the top of the checkout."""
    installed = PACKAGE / name
    return installed if installed.exists() else CHECKOUT / name


@functools.cache
def version() -> str:
    """The installed distribution's version; in a checkout run without installing, the one in
    ``pyproject.toml``; ``0+unknown`` when neither says."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        with (CHECKOUT / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"
