"""The latest value of a KPI from Kolada's open API (v2), for the follow-up view.

Optional: the view asks only when ``KOLADA_ENABLED`` is set. A lookup waits at most
``timeout`` seconds and never raises to the caller; a failure comes back as a message (a
Swedish msgid). The fetch function can be injected, so tests run against recorded responses.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .domain import N_

BASE_URL = "https://api.kolada.se/v2"
DEFAULT_MUNICIPALITY = "0665"  # Vaggeryd
DEFAULT_TIMEOUT = 3.0
KPI_RE = re.compile(r"^[A-Z]\d{5}$")
MUNICIPALITY_RE = re.compile(r"^\d{4}$")
MAX_BYTES = 2 * 1024 * 1024

Fetch = Callable[[str, float], bytes]

NOT_REACHED = N_("Kolada kunde inte nås just nu. Försök igen senare eller ange värdet själv.")
NO_VALUE = N_("Kolada har inget värde för nyckeltalet %(kpi)s i kommunen.")
BAD_KPI = N_("Ange nyckeltalets id i Kolada, t.ex. N00090.")
BAD_ANSWER = N_("Kolada svarade med något som inte gick att läsa.")


@dataclass(frozen=True)
class KpiValue:
    kpi: str
    municipality: str
    year: int
    value: float
    gender: str = "T"


@dataclass(frozen=True)
class Lookup:
    """A lookup's outcome: a value, or an ``error`` msgid with its ``params``."""

    value: KpiValue | None = None
    error: str = ""
    params: dict[str, str] | None = None


def fetch_url(url: str, timeout: float) -> bytes:
    """GET ``url`` and return the body; raise OSError (or ValueError) on any failure."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": "Malverkstad"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed https base
        return response.read(MAX_BYTES)


def data_url(kpi: str, municipality: str, base_url: str = BASE_URL) -> str:
    return f"{base_url.rstrip('/')}/data/kpi/{quote(kpi)}/municipality/{quote(municipality)}"


def latest(data: Any, kpi: str, municipality: str) -> KpiValue | None:
    """Pick the latest year with a value for the total (gender "T") from a v2 data response.

    The response is ``{"count": n, "values": [{"kpi", "municipality", "period",
    "values": [{"gender": "T"|"K"|"M", "value": float|null, "count", "status"}]}]}``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise ValueError("not a Kolada data response")
    best: KpiValue | None = None
    for row in data["values"]:
        if not isinstance(row, dict) or row.get("kpi") != kpi:
            continue
        if str(row.get("municipality")) != municipality:
            continue
        try:
            year = int(row.get("period"))
        except (TypeError, ValueError):
            continue
        for item in row.get("values") or []:
            if not isinstance(item, dict) or item.get("gender") not in ("T", None):
                continue
            value = item.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if best is None or year > best.year:
                best = KpiValue(kpi=kpi, municipality=municipality, year=year, value=float(value))
    return best


def lookup(
    kpi: str,
    municipality: str = DEFAULT_MUNICIPALITY,
    *,
    fetch: Fetch = fetch_url,
    timeout: float = DEFAULT_TIMEOUT,
    base_url: str = BASE_URL,
) -> Lookup:
    """Return the latest value of ``kpi`` for ``municipality``; never raises."""
    kpi = (kpi or "").strip().upper()
    if not KPI_RE.match(kpi) or not MUNICIPALITY_RE.match(municipality or ""):
        return Lookup(error=BAD_KPI)
    try:
        body = fetch(data_url(kpi, municipality, base_url), timeout)
    except (OSError, ValueError, urllib.error.URLError):
        # Timeouts (socket.timeout / TimeoutError) are OSErrors too.
        return Lookup(error=NOT_REACHED)
    try:
        value = latest(json.loads(body), kpi, municipality)
    except (ValueError, TypeError, UnicodeDecodeError):
        return Lookup(error=BAD_ANSWER)
    if value is None:
        return Lookup(error=NO_VALUE, params={"kpi": kpi})
    return Lookup(value=value)


def format_value(value: float, decimal: str = ",") -> str:
    """Show 6.1 as "6,1" (Swedish decimal comma, or ``decimal``) and 12.0 as "12"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", decimal)
