"""What makes a password too easy to guess: too short, among the most common, the email's own name, too little
variety. One rule for the setup page, the users an admin adds or resets, the CLI and a user's own change."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

MIN_LENGTH = 10
MIN_DISTINCT = 6  # "aaaaaaaaaa1!" and "abababababab" have length, not variety
RUNS = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiopasdfghjklzxcvbnm", "qwertyuiop", "asdfghjkl",
        "zxcvbnm")
_AROUND = re.compile(r"^[\W\d_]+|[\W\d_]+$")  # the digits and symbols people put around a word


@cache
def common_passwords() -> frozenset[str]:
    lines = (Path(__file__).with_name("common_passwords.txt").read_text(encoding="utf-8")).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("# "))


def weakness(password: str, email: str) -> str | None:
    """Why this password is too easy to guess for the account of `email`, in words for people; None if it is not."""
    lowered = password.lower()
    if len(password) < MIN_LENGTH:
        return f"Passwords need at least {MIN_LENGTH} characters."
    if lowered in common_passwords() or _AROUND.sub("", lowered) in common_passwords():
        return "That is one of the most common passwords, which attackers try first. Choose another."
    local = email.lower().partition("@")[0]
    names = [local] + [part for part in re.split(r"[._+-]", local) if len(part) >= 4]  # "maria", "gonzalez"
    if found := next((name for name in names if len(name) >= 3 and name in lowered), None):
        return f"The password contains “{found}” from the email address. Choose one that does not."
    if len(set(lowered)) < MIN_DISTINCT or any(lowered in run or lowered in run[::-1] for run in RUNS):
        return "That password has too little variety (few different characters, or keys in a row). Mix in more."
    return None
