"""Timed transcript segments: the unit every transcript source produces and chunking consumes."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the video
    end: float
    text: str


@dataclass(frozen=True)
class ScreenPassage:
    """Text that stayed on screen from `start` to `end` (a slide, a page of code), with a small
    picture of the frame it was read from: a file in the work folder as read, media-relative
    once stored."""

    start: float
    end: float
    text: str
    thumbnail: str | None = None


def to_json(segments: list[Segment]) -> list[dict]:
    return [asdict(s) for s in segments]


def from_json(rows: list[dict] | None) -> list[Segment]:
    return [Segment(float(r["start"]), float(r["end"]), str(r["text"])) for r in rows or []]


def full_text(segments: list[Segment]) -> str:
    return "\n".join(s.text for s in segments)


def parse_timestamp(text: str) -> float:
    """"1:02:03", "02:05", "125" or "125.5" → seconds; ValueError with a readable message otherwise."""
    parts = (text or "").strip().split(":")
    try:
        if not 1 <= len(parts) <= 3 or any(p.strip() == "" for p in parts):
            raise ValueError
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"“{(text or '').strip()[:20]}” is not a time; write it like 2:05 or 1:02:05.") from None
    if not all(math.isfinite(n) for n in numbers):
        raise ValueError(f"“{text.strip()[:20]}” is not a time; write it like 2:05 or 1:02:05.")
    if any(n < 0 for n in numbers):
        raise ValueError("A time cannot be negative.")
    if any(n >= 60 for n in numbers[1:]):
        raise ValueError(f"“{text.strip()[:20]}” is not a time; minutes and seconds go up to 59.")
    seconds = 0.0
    for n in numbers:
        seconds = seconds * 60 + n
    return seconds


def format_timestamp(seconds: float) -> str:
    """mm:ss, or h:mm:ss past the hour — how a person reads a position in a video."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


# A sentence ends at . ! or ? followed by space; "e.g. " or "3.5" rarely matter for timing.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
MIN_SENTENCE_WORDS = 3  # shorter pieces ("OK.", "Right.") join their neighbour


def sentences(segments: list[Segment]) -> list[Segment]:
    """Segments split into sentences, times interpolated by word position inside each segment.

    Caption cues are often a sentence already; speech-to-text segments and long cues hold several.
    A fragment of a couple of words is joined to the sentence before it, so every row says
    something a question can match.
    """
    result: list[Segment] = []
    for segment in segments:
        parts = [p for p in _SENTENCE_END.split(segment.text.strip()) if p]
        total = sum(len(p.split()) for p in parts) or 1
        span = max(segment.end - segment.start, 0.0)
        done = 0
        for part in parts:
            words = len(part.split())
            start = segment.start + span * done / total
            end = segment.start + span * (done + words) / total
            done += words
            if result and words < MIN_SENTENCE_WORDS and result[-1].end >= start - 1.0:
                last = result[-1]
                result[-1] = Segment(last.start, max(last.end, end), f"{last.text} {part}")
            else:
                result.append(Segment(start, end, part))
    return result
