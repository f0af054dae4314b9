"""Caption files (.srt and WebVTT) into timed segments.

Real-world captions are messy: byte-order marks, Windows-1252, stray styling tags, broken
timestamps, and automatic captions that repeat each line in the next cue ("rolling" captions).
Bad cues are skipped; a file with no usable cue is an error the user can act on.
"""

from __future__ import annotations

import html
import re

from core.errors import IngestError
from core.text import one_line
from core.transcripts import Segment

_TIMING = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)\s*-->\s*"
    r"(?P<end>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)"
)
_TAG = re.compile(r"<[^>]*>")
MAX_CAPTION_BYTES = 20 * 1024 * 1024


def decode(data: bytes) -> str:
    """Decode caption bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    value = 0.0
    for part in parts:
        value = value * 60 + float(part)
    return value


def _clean(line: str) -> str:
    return one_line(html.unescape(_TAG.sub("", line)))


def parse_captions(data: bytes, *, name: str = "captions") -> list[Segment]:
    """Parse SRT or WebVTT bytes into segments, in time order, rolling repeats removed."""
    if len(data) > MAX_CAPTION_BYTES:
        raise IngestError(f"{name} is larger than {MAX_CAPTION_BYTES // 1024 // 1024} MB; is it really captions?")
    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    cues: list[tuple[float, float, list[str]]] = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines):
            match = _TIMING.match(line)
            if match:
                try:
                    start, end = _seconds(match["start"]), _seconds(match["end"])
                except ValueError:
                    break
                body = [c for c in (_clean(x) for x in lines[i + 1:]) if c]
                if body and 0 <= start <= end:
                    cues.append((start, end, body))
                break
    cues.sort(key=lambda cue: cue[0])
    segments = _unroll(cues)
    if not segments:
        raise IngestError(
            f"{name} has no readable captions (expected .srt or .vtt cues like "
            "'00:00:01,000 --> 00:00:04,000' followed by text)."
        )
    return segments


def _unroll(cues: list[tuple[float, float, list[str]]]) -> list[Segment]:
    """Drop lines already shown by the previous cue, which is how automatic captions roll up."""
    segments: list[Segment] = []
    previous: list[str] = []
    for start, end, lines in cues:
        fresh = [line for line in lines if line not in previous]
        if fresh:
            segments.append(Segment(start, end, " ".join(fresh)))
        elif segments:
            last = segments[-1]
            segments[-1] = Segment(last.start, max(last.end, end), last.text)
        previous = lines
    return segments
