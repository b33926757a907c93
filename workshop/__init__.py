"""Målverkstad: a live dialogue tool for drafting ambition levels for a committee's goals.

``create_app`` lives in ``workshop.app`` and is imported from here on first use, so importing
the package loads nothing else: the ``malverkstad`` command (``workshop.main``) patches the
standard library for gevent before Flask, the sockets and the locks are imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]
