"""Extensions, created unbound and bound to the app in the factory."""

from flask_babel import Babel
from flask_compress import Compress
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from .models import db

socketio = SocketIO()
babel = Babel()
compress = Compress()
csrf = CSRFProtect()

__all__ = ["babel", "compress", "csrf", "db", "socketio"]
