"""Timed transcript segments: the unit every transcript source produces and chunking consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the video
    end: float
    text: str


def to_json(segments: list[Segment]) -> list[dict]:
    return [asdict(s) for s in segments]


def from_json(rows: list[dict] | None) -> list[Segment]:
    return [Segment(float(r["start"]), float(r["end"]), str(r["text"])) for r in rows or []]


def full_text(segments: list[Segment]) -> str:
    return "\n".join(s.text for s in segments)


def format_timestamp(seconds: float) -> str:
    """mm:ss, or h:mm:ss past the hour — how a person reads a position in a video."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
