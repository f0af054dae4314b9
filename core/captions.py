"""Caption files (.srt and WebVTT) into timed segments.

Real-world captions are messy: byte-order marks, Windows-1252, stray styling tags, broken
timestamps, and automatic captions that repeat each line in the next cue ("rolling" captions).
Bad cues are skipped; a file with no usable cue is an error the user can act on. So is a cue at an
absurd time (a 400-digit hour, `99999999:00:00`) or one starting after the video ends: such a file
is the wrong one, and its times would break everything that plays a moment (a player's start time
is a 32-bit integer), so it is refused, naming the line, instead of half-ingested.
"""

from __future__ import annotations

import html
import math
import re

from core.errors import IngestError
from core.text import one_line
from core.transcripts import Segment, format_timestamp

_TIMING = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)\s*-->\s*"
    r"(?P<end>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)"
)
_TAG = re.compile(r"<[^>]*>")
MAX_CAPTION_BYTES = 20 * 1024 * 1024
MAX_CAPTION_HOURS = 48  # longer than any video people caption; far inside what a player can seek to
PAST_END_TOLERANCE_S = 5.0  # captions often outlast a slightly trimmed or re-encoded video a little


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


def _shown(stamp: str) -> str:
    """A timestamp as typed, its hours shortened when absurdly long (only the hours are unbounded)."""
    hours, _, rest = stamp.partition(":")
    return f"{hours[:8]}…:{rest}" if len(hours) > 12 else stamp


def _refuse_out_of_range(name: str, line_no: int, match: re.Match, start: float, end: float,
                         max_seconds: float | None, has_text: bool) -> None:
    for stamp, seconds in ((match["start"], start), (match["end"], end)):
        if not math.isfinite(seconds) or seconds > MAX_CAPTION_HOURS * 3600:
            raise IngestError(f"{name}, line {line_no}: the time {_shown(stamp)} is beyond {MAX_CAPTION_HOURS} "
                              "hours; is this the right file?")
    if has_text and max_seconds is not None and start > max_seconds + PAST_END_TOLERANCE_S:
        raise IngestError(
            f"{name}, line {line_no}: the captions run past the end of the video (this cue starts at "
            f"{format_timestamp(start)}; the video is {format_timestamp(max_seconds)} long); is this the right file?"
        )


def parse_captions(data: bytes, *, name: str = "captions", max_seconds: float | None = None) -> list[Segment]:
    """Parse SRT or WebVTT bytes into segments, in time order, rolling repeats removed.

    `max_seconds` is the media's duration when known: a cue with text starting after it (beyond a
    few seconds' tolerance) is refused, as is any time beyond `MAX_CAPTION_HOURS`.
    """
    if len(data) > MAX_CAPTION_BYTES:
        raise IngestError(f"{name} is larger than {MAX_CAPTION_BYTES // 1024 // 1024} MB; is it really captions?")
    if max_seconds is not None and not (math.isfinite(max_seconds) and max_seconds > 0):
        max_seconds = None  # a duration the probe could not read is no duration
    lines = decode(data).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[tuple[float, float, list[str]]] = []
    for block in _blocks(lines):
        for i, (line_no, line) in enumerate(block):
            match = _TIMING.match(line)
            if match:
                try:
                    start, end = _seconds(match["start"]), _seconds(match["end"])
                except ValueError:
                    break
                body = [c for c in (_clean(x) for _, x in block[i + 1:]) if c]
                _refuse_out_of_range(name, line_no, match, start, end, max_seconds, bool(body))
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


def _blocks(lines: list[str]) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines (a cue, a header, a note), each line with its 1-based number in the file."""
    blocks: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(lines, 1):
        if line.strip():
            blocks[-1].append((number, line))
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


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


def _vtt_time(seconds: float) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def to_webvtt(segments: list[Segment]) -> bytes:
    """Segments as a WebVTT file that `parse_captions` reads back: one cue each, its text on one
    line with `&` and `<` escaped (so a transcript's "-->" or tag-like text stays text)."""
    cues = [f"{_vtt_time(s.start)} --> {_vtt_time(max(s.end, s.start))}\n{html.escape(one_line(s.text), quote=False)}"
            for s in segments if one_line(s.text)]
    return ("WEBVTT\n\n" + "\n\n".join(cues) + "\n").encode()
