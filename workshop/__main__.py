"""``python -m workshop …``: the ``malverkstad`` command."""

from .main import main

main()
