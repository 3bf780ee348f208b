"""Validated instruments as data: versioned definitions loaded from files, administrations at a
wave with item answers and computed scores (issue 22)."""
