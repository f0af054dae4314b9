"""Cleaning text that people and machines send us, before it is stored."""

from __future__ import annotations

import re

# NUL cannot be stored in PostgreSQL text; other control characters (but tab and newlines) are
# invisible noise that breaks display. Everything else, emoji and right-to-left text included, stays.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "")


def one_line(text: str | None) -> str:
    """Cleaned, with runs of whitespace (newlines too) collapsed to single spaces."""
    return " ".join(clean(text).split())
