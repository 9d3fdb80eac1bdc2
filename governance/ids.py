"""Identifiers the gateway mints: a prefix and random hex, never a run of 17+ digits.

Audit entries refuse anything that looks like a resident ID number (17 digits then a digit
or X); a random hex id can contain such a run by chance, so those draws are discarded.
Values taken from a URL are recorded in the audit trail only if they have this shape.
"""

from __future__ import annotations

import re
import secrets

_DIGIT_RUN = re.compile(r"[0-9]{17}")
SHAPE = re.compile(r"^[a-z]{2,8}_[0-9a-f]{16,24}$")


def new_id(prefix: str, nbytes: int = 12) -> str:
    while True:
        candidate = f"{prefix}_{secrets.token_hex(nbytes)}"
        if not _DIGIT_RUN.search(candidate):
            return candidate


def loggable(value: str) -> str:
    """``value`` if it has the shape of a gateway id, else a fixed marker."""
    return value if SHAPE.match(value) else "(malformed)"
