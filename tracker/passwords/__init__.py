"""A password validator against common and Dutch-context passwords.

Django's CommonPasswordValidator knows 20,000 common passwords, mostly English. Here: a password
is refused when, after taking off the digits and signs at its ends (`almelo2024`, `Welkom01!`,
`2025voorjaar`) and undoing common letter swaps (`w3lk0m`), what remains is one word of the
shipped list (`dutch_context.txt`: Dutch places, provinces, first names and surnames, football
clubs, seasons, months, days, holidays and everyday words), two of them (`zomeralmelo`), or
nothing at all.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LIST_PATH = Path(__file__).resolve().parent / "dutch_context.txt"
#: Shorter words are left out of the list (and of the two-word check).
MIN_WORD = 3

_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_NOT_LETTER = re.compile(r"[^a-z]")


def normalise(text: str) -> str:
    """Lower case letters only, accents and letter swaps undone: the form words are compared
    in (`'s-Gravenhage` -> `sgravenhage`, `W3lk0m` -> `welkom`)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_LETTER.sub("", plain.lower().translate(_LEET))


def core(password: str) -> str:
    """The password without the digits and signs at its ends, normalised."""
    return normalise(_ENDS.sub("", password))


@cache
def words() -> frozenset[str]:
    lines = LIST_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_guessable(password: str) -> bool:
    """Whether the password is a listed word (or two) with digits and signs around it."""
    stem = core(password)
    known = words()
    if len(stem) < MIN_WORD or stem in known:
        return True
    return any(
        stem[:i] in known and stem[i:] in known for i in range(MIN_WORD, len(stem) - MIN_WORD + 1)
    )


class DutchContextPasswordValidator:
    """Refuses passwords built from a common Dutch word, place, name, club or season."""

    def validate(self, password: str, user=None) -> None:
        if is_guessable(password):
            raise ValidationError(
                _(
                    "This password is too easy to guess: it is a common word, name, place, "
                    "club or season with a few digits or signs added. Use a few unrelated "
                    "words or a password manager."
                ),
                code="password_dutch_context",
            )

    def get_help_text(self) -> str:
        return _(
            "Your password cannot be a common word, name, place, club or season with digits "
            "added (such as almelo2024 or voorjaar2025)."
        )
