"""Start Målverkstad with the "KS mål 2019" workshop ready: the same as ``malverkstad serve``.

With ``ASYNC_MODE=gevent`` (``pip install -e ".[production]"``) it serves on gevent's WSGI server,
the production mode (gevent patches the standard library before anything else is imported);
otherwise on Werkzeug with simple-websocket. See ``workshop/main.py``.
"""

from workshop.main import serve

if __name__ == "__main__":
    serve()
