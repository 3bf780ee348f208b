"""Missing-data codes in registry extracts: the Dutch words registries write for them, and the
message of a refused value naming the codes a cell may hold."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from study.models import MissingCode

#: Registry extracts write why a value is missing in Dutch too; these words mean the codes.
MISSING_WORDS = {
    "onbekend": MissingCode.UNKNOWN.value,
    "geweigerd": MissingCode.REFUSED.value,
    "niet van toepassing": MissingCode.NOT_APPLICABLE.value,
    "niet geleverd": MissingCode.NOT_DELIVERED.value,
}


def missing_word(raw: object) -> object:
    """The raw cell with a Dutch missing-data word (any case and spacing) read as its code."""
    if isinstance(raw, str):
        word = " ".join(raw.split()).lower()
        if word in MISSING_WORDS:
            return MISSING_WORDS[word]
    return raw


def accepted_codes() -> str:
    """The missing-data codes a cell may hold, with their Dutch words, for an error message."""
    words = {code: word for word, code in MISSING_WORDS.items()}
    return ", ".join(f"{code} ({words[code]})" for code in MissingCode.values)


def value_problem(code: str, raw: object, exc: ValidationError) -> str:
    """The message of a refused value; a text that is no number names the accepted codes."""
    message = f"{code}: " + " ".join(exc.messages)
    text = str(raw).strip().replace(",", ".")
    try:
        Decimal(text)
    except ArithmeticError:
        message += " " + _("Missing-data codes accepted: %(codes)s.") % {"codes": accepted_codes()}
    return message
