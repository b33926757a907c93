"""Per-address throttles for public routes, answered 429 with a short page in Swedish.

A join code is the key to a dialogue, so the routes that tell whether one exists (``/j/<code>``,
the QR code, the start page's form) answered every guess at full speed (414 guesses/s on
``/j``, 499/s on ``/qr``). Each throttle here is a token bucket per client address: ``burst``
requests at once, refilled at ``rate`` per second. The address is ``request.remote_addr``, which
is the client's own when ``PROXY_FIX`` trusts the proxies in front (ProxyFix rewrites it).

The buckets live in the process (each worker has its own; nginx's ``ip_hash`` sends an address
to one worker), at most ``MAX_ADDRESSES`` per throttle. To throttle another route, add a name
to ``SETTINGS`` with its two config keys and decorate the view with ``@throttled(name)``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext

# Throttle name -> (config key of its rate per second, config key of its burst).
SETTINGS: dict[str, tuple[str, str]] = {
    "join_code": ("JOIN_CODE_RATE", "JOIN_CODE_BURST"),
}
MAX_ADDRESSES = 10_000  # per throttle; the least recently seen address is forgotten first


class AddressThrottle:
    """A token bucket per address: ``burst`` at most, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: float, max_addresses: int = MAX_ADDRESSES) -> None:
        self.rate, self.burst, self.max_addresses = rate, burst, max_addresses
        self.buckets: OrderedDict[str, list[float]] = OrderedDict()
        self.lock = threading.Lock()

    def allow(self, address: str) -> bool:
        """Spend one token of ``address``'s bucket; False when it is empty."""
        now = time.monotonic()
        with self.lock:
            bucket = self.buckets.pop(address, None) or [self.burst, now]
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
            self.buckets[address] = bucket  # now the most recently seen
            while len(self.buckets) > self.max_addresses:
                self.buckets.popitem(last=False)
            if bucket[0] < 1:
                return False
            bucket[0] -= 1
            return True

    def retry_after(self) -> int:
        """Seconds until one more request is allowed from an empty bucket."""
        return max(1, round(1 / self.rate)) if self.rate > 0 else 60


def throttle(name: str) -> AddressThrottle:
    """The app's throttle of this name, made from its config on first use."""
    throttles: dict[str, AddressThrottle] = current_app.extensions.setdefault("throttles", {})
    if name not in throttles:
        rate_key, burst_key = SETTINGS[name]
        throttles[name] = AddressThrottle(
            float(current_app.config[rate_key]), float(current_app.config[burst_key])
        )
    return throttles[name]


def too_many(limit: AddressThrottle) -> tuple[str, int, dict[str, str]]:
    """The 429 page: what happened and what to do, in the request's language."""
    message = gettext("För många försök från din adress. Vänta en stund och försök igen.")
    page = render_template("error.html", message=message, join_again=False)
    return page, 429, {"Retry-After": str(limit.retry_after())}


def throttled(
    name: str, *, methods: tuple[str, ...] = ("GET",)
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Answer 429 to an address past the named throttle, for requests of these methods."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if request.method in methods:
                limit = throttle(name)
                if not limit.allow(request.remote_addr or ""):
                    return too_many(limit)
            return view(*args, **kwargs)

        return wrapped

    return decorator
