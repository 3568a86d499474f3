"""The admin password rule of Metabase's first-run set-up (POST /api/setup), checked here before any request.

Metabase v0.54 (src/metabase/util/password.clj, `is-valid?`) with its default MB_PASSWORD_COMPLEXITY=normal wants
at least 6 characters, one of them a digit, and the password, lower-cased, not on its common-password list.
metabase_common_passwords.txt beside this file is that list as Metabase ships it (resources/common_passwords.txt,
12,692 lines): Dropbox's zxcvbn data/passwords.txt (https://github.com/dropbox/zxcvbn) kept to the entries of 6
or more characters with a digit, the only ones the complexity rule lets through. The same rule in the same order.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

COMMON_PASSWORDS_FILE = Path(__file__).with_name("metabase_common_passwords.txt")
MIN_LENGTH = 6


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


# Metabase counts Java chars (UTF-16 units): a character outside the BMP counts twice, and as no digit.
def _java_length(password: str) -> int:
    return len(password.encode("utf-16-le")) // 2


def _has_java_digit(password: str) -> bool:
    return any(char.isdecimal() and ord(char) <= 0xFFFF for char in password)


def password_problem(password: str) -> str | None:
    """Why Metabase's set-up would refuse `password` as the admin's, or None when it would take it."""
    if _java_length(password) < MIN_LENGTH or not _has_java_digit(password):
        return f"Metabase wants at least {MIN_LENGTH} characters with at least one digit"
    if password.lower() in common_passwords():
        return "it is on Metabase's list of common passwords"
    return None
