"""Resident ID numbers (公民身份号码, GB 11643-1999): structure and check digit.

An ID number is 18 characters: a 6-digit administrative region code, an 8-digit birth date
(YYYYMMDD), a 3-digit sequence code whose last digit is odd for men and even for women, and a
check character computed with ISO 7064 MOD 11-2 ('X' stands for 10).
"""

from __future__ import annotations

import datetime as dt
import re

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by (sum of weighted digits) mod 11
_FORMAT = re.compile(r"^\d{17}[\dX]$")


def check_char(first17: str) -> str:
    """The check character for the first 17 digits.

    >>> check_char("11010519491231002")
    'X'
    """
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def problem(id_number: str) -> str | None:
    """Why ``id_number`` is not a valid ID number, or None when it is.

    The reason never repeats the number itself (it may be logged or reported).
    """
    if not _FORMAT.match(id_number):
        return "not 17 digits followed by a digit or X"
    try:
        dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "birth date part is not a valid date"
    if check_char(id_number[:17]) != id_number[17]:
        return "check digit does not match"
    return None


def birth_year(id_number: str) -> int:
    return int(id_number[6:10])


def sex(id_number: str) -> str:
    """'M' or 'F' from the parity of the 17th digit."""
    return "M" if int(id_number[16]) % 2 else "F"
