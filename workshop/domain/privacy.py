"""Who a proposal or ballot is from, as far as anonymity allows."""

from __future__ import annotations

import hashlib
from typing import Any

from .core import N_

# Author labels stored as their Swedish msgids and translated when shown.
FACILITATOR_LABEL = N_("Samtalsledaren")
MERGED_LABEL = N_("Sammanslaget förslag")
PARTICIPANT_LABEL = "Deltagare"  # stored for an erased author; shown via its context

# A phone's ballot secret: random, made on the phone, never stored in clear.
SECRET_MIN, SECRET_MAX = 16, 128


def hash_parts(*parts: object) -> str:
    """Return a one-way key of the parts (e.g. ballot, round id, phone secret)."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def phone_hash(workshop_id: int, secret: str) -> str:
    """The one-way hash of a phone's secret bound to its participant (``secret_hash``)."""
    return hash_parts("phone", workshop_id, secret)


def is_secret(secret: Any) -> bool:
    """Tell whether a phone sent something that can be its secret (a string of fitting length)."""
    return isinstance(secret, str) and SECRET_MIN <= len(secret) <= SECRET_MAX
