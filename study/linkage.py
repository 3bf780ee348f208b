"""Keyed-hash linkage keys (the report's record-linkage protocol); no Django imports.

An identifier (BSN, or postcode + house number) is normalised and turned into
HMAC-SHA256(LINKAGE_KEY, "kind:normalised") on the spot. The identifier itself is never stored,
logged or exported; only the key travels, so registry extracts can be linked to families without
anyone holding the identifiers.
"""

from __future__ import annotations

import hashlib
import hmac
import re


class IdentifierError(ValueError):
    """An identifier that cannot be normalised (message is safe to show: no identifier in it)."""


_POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})\s*$")
_HOUSE = re.compile(r"^\s*(\d{1,5})\s*[-\s]?\s*([A-Za-z0-9]{0,4})\s*$")


def bsn_is_valid(digits: str) -> bool:
    """The 11-proof (elfproef) of a 9-digit BSN: weights 9..2 and -1 for the last digit."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    return total % 11 == 0


#: 9 digits (8 once a spreadsheet dropped a leading zero), with or without dots, spaces or dashes.
DIGIT_RUN = re.compile(r"(?<!\d)(\d(?:[ .\-]?\d){7,8})(?!\d)")


def has_bsn(text: str) -> bool:
    """Whether the text holds a number that passes the 11-proof (also inside text such as
    `BSN123456782`; 8 digits only when that is all the text holds)."""
    stripped = text.strip()
    if len(stripped) == 8 and stripped.isdigit() and bsn_is_valid("0" + stripped):
        return True
    for match in DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group(1))
        if len(digits) == 9 and bsn_is_valid(digits):
            return True
    return False


def mask_bsn(text: str) -> str:
    """The text with every 9-digit number that passes the 11-proof replaced by asterisks."""

    def hide(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(1))
        return "*********" if len(digits) == 9 and bsn_is_valid(digits) else match.group(0)

    return DIGIT_RUN.sub(hide, text)


def normalise_bsn(raw: str) -> str:
    """Digits only, left-padded to 9 (8-digit BSNs lose their leading zero in spreadsheets)."""
    digits = re.sub(r"[\s.\-]", "", str(raw or ""))
    if not digits.isdigit() or not 8 <= len(digits) <= 9:
        raise IdentifierError("not a BSN: must be 8 or 9 digits")
    digits = digits.zfill(9)
    if not bsn_is_valid(digits):
        raise IdentifierError("not a valid BSN: fails the 11-proof (elfproef)")
    return digits


def normalise_address(postcode: str, house_number: str) -> str:
    """'1234 ab' + '12 a' -> '1234AB|12A'."""
    pc = _POSTCODE.match(str(postcode or ""))
    if not pc:
        raise IdentifierError("not a Dutch postcode (4 digits + 2 letters)")
    hn = _HOUSE.match(str(house_number or ""))
    if not hn:
        raise IdentifierError("not a house number (digits with an optional addition)")
    return f"{pc.group(1)}{pc.group(2).upper()}|{int(hn.group(1))}{hn.group(2).upper()}"


def linkage_key(normalised: str, *, key: str, kind: str = "bsn") -> str:
    """HMAC-SHA256 hex digest of 'kind:normalised' under the secret key."""
    if not key:
        raise ValueError("LINKAGE_KEY is empty: refusing to compute linkage keys without a secret")
    message = f"{kind}:{normalised}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def bsn_linkage_key(raw_bsn: str, *, key: str) -> str:
    return linkage_key(normalise_bsn(raw_bsn), key=key, kind="bsn")


def address_linkage_key(postcode: str, house_number: str, *, key: str) -> str:
    return linkage_key(normalise_address(postcode, house_number), key=key, kind="address")
