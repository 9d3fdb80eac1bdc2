"""Identifiers the gateway mints: a prefix and random hex, never a run of 17+ digits.

Audit entries refuse anything that looks like a resident ID number (17 digits then a digit
or X); a random hex id can contain such a run by chance, so those draws are discarded.
Values a caller sends (a path segment, a body field) are recorded in the audit trail only
if they have the shape of what they claim to be and hold no such run; anything else is
recorded as a fixed marker, so a hostile value is refused as not found rather than making
the audit entry (and so the request) fail.
"""

from __future__ import annotations

import re
import secrets

_DIGIT_RUN = re.compile(r"[0-9]{17}")
SHAPE = re.compile(r"^[a-z]{2,8}_[0-9a-f]{16,24}$")
NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")  # a catalogue id, a purpose
MALFORMED = "(malformed)"


def new_id(prefix: str, nbytes: int = 12) -> str:
    while True:
        candidate = f"{prefix}_{secrets.token_hex(nbytes)}"
        if not _DIGIT_RUN.search(candidate):
            return candidate


def has_digit_run(value: str) -> bool:
    """True if ``value`` holds 17 digits in a row (what the audit entry refuses)."""
    return _DIGIT_RUN.search(value) is not None


def loggable(value: str) -> str:
    """``value`` if it has the shape of a gateway id, else a fixed marker."""
    return value if SHAPE.match(value) and not has_digit_run(value) else MALFORMED


def loggable_name(value: str) -> str:
    """``value`` if it has the shape of a name (computation, purpose), else a fixed marker."""
    return value if NAME.match(value) and not has_digit_run(value) else MALFORMED
