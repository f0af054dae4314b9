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


# What captions say that nobody said: speaker-change marks (">>", "- "), and sounds or directions
# in brackets ("[Music]", "[Applause]", "(laughs)", "♪"). They would show in transcripts, summaries
# and answers, and match questions about music.
_SPEAKER_MARK = re.compile(r"(?:^|(?<=\s))(?:>>+|&gt;&gt;)\s*")
_SOUNDS = "music|applause|laughs?|laughter|inaudible|crosstalk|silence|sighs?|coughs?|cheering|chuckles?|noise"
_NOT_SPEECH = re.compile(r"\[[^\]]{0,40}\]|\((?:" + _SOUNDS + r")[a-z ]{0,20}\)|[♪♫]+", re.IGNORECASE)


def spoken(text: str | None) -> str:
    """A caption or transcript line with what was not spoken removed, on one line."""
    return one_line(_NOT_SPEECH.sub(" ", _SPEAKER_MARK.sub(" ", clean(text))))


def contains_pattern(text: str) -> str:
    """An ILIKE pattern (escape character "\\") matching `text` anywhere, its own % and _ literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
