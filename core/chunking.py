"""Transcript segments into overlapping chunks that keep their start and end times.

A chunk gathers whole segments until it holds about `target_words`; the next chunk starts at
the segment where the last `overlap_words` began, so an answer that straddles a boundary is
still whole in one chunk. A segment longer than a chunk is split by words with times
interpolated, so no chunk ever claims a span it does not cover.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.transcripts import Segment


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start: float
    end: float


def _split_long(segment: Segment, max_words: int) -> list[Segment]:
    words = segment.text.split()
    if len(words) <= max_words:
        return [segment]
    span = max(segment.end - segment.start, 0.0)
    pieces = []
    for i in range(0, len(words), max_words):
        part = words[i:i + max_words]
        start = segment.start + span * i / len(words)
        end = segment.start + span * min(i + max_words, len(words)) / len(words)
        pieces.append(Segment(start, end, " ".join(part)))
    return pieces


def chunk_segments(segments: list[Segment], *, target_words: int = 200, overlap_words: int = 40) -> list[Chunk]:
    if target_words < 1:
        raise ValueError("target_words must be positive")
    overlap_words = max(0, min(overlap_words, target_words // 2))
    pieces = [p for s in segments if s.text.strip() for p in _split_long(s, target_words)]
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        words, j = 0, i
        while j < len(pieces) and (words == 0 or words + len(pieces[j].text.split()) <= target_words):
            words += len(pieces[j].text.split())
            j += 1
        window = pieces[i:j]
        chunks.append(Chunk(len(chunks), " ".join(p.text.strip() for p in window),
                            window[0].start, max(p.end for p in window)))
        if j >= len(pieces):
            break
        # Step back over whole segments worth about `overlap_words`, but always move forward.
        back, k = 0, j
        while k - 1 > i and back + len(pieces[k - 1].text.split()) <= overlap_words:
            k -= 1
            back += len(pieces[k].text.split())
        i = k
    return chunks
