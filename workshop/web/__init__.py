"""HTTP views, one module per feature; thin: parse, authorize, call a service, render.

The five blueprints live in ``common`` (their names are the endpoints' prefixes); importing
the feature modules below adds their routes to them, before any app registers them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError

from .. import domain
from ..domain.enums import ENUMS, enum_values
from ..resources import version
from ..sessions import current_facilitator
from . import auth, dialogues, follow_up, public, results, room  # noqa: F401 - adds the routes
from .common import BLUEPRINTS

# The statuses and kinds for the pages' scripts (the #enums block); the same on every page.
ENUM_VALUES = enum_values()


def register_blueprints(app: Flask) -> None:
    """Register the blueprints, who is logged in, the templates' globals and the error pages."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.before_request
    def load_facilitator() -> None:
        # Logged out elsewhere (or the account's sessions were ended): this session ends too.
        g.facilitator = current_facilitator(end_stale=True)

    # The enums by class name (``Phase.VOTING``), so templates compare with them, not with
    # literals; globals rather than a context processor, so imported macros see them too.
    app.jinja_env.globals.update(ENUMS, enums=ENUM_VALUES, app_version=version())

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"lang": str(get_locale() or "sv"), "phase_labels": domain.PHASE_LABELS}

    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", message=gettext("Sidan finns inte.")), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError) -> tuple[str, int]:
        message = gettext(
            "Formuläret kunde inte skickas eftersom sidan var för gammal eller öppnades i en "
            "annan webbläsare. Ladda om sidan och försök igen."
        )
        return render_template("error.html", message=message), 400

    @app.errorhandler(413)
    def too_large(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", message=gettext("Filen är för stor.")), 413
