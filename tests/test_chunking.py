"""Chunks keep the time span of the transcript they hold."""

from __future__ import annotations

from core.chunking import chunk_segments
from core.transcripts import Segment, sentences


def _segments(n: int, words: int = 10, length: float = 5.0) -> list[Segment]:
    return [Segment(i * length, (i + 1) * length, " ".join(f"w{i}_{k}" for k in range(words))) for i in range(n)]


def test_chunks_cover_the_segments_they_hold_with_overlap():
    segments = _segments(30)
    chunks = chunk_segments(segments, target_words=50, overlap_words=10)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        first = next(s for s in segments if s.text.split()[0] == chunk.text.split()[0])
        last = next(s for s in segments if s.text.split()[-1] == chunk.text.split()[-1])
        assert (chunk.start, chunk.end) == (first.start, last.end)
        assert len(chunk.text.split()) <= 50
    # Neighbours share their boundary segment, and together the chunks hold every word.
    assert chunks[1].start < chunks[0].end
    words = {w for c in chunks for w in c.text.split()}
    assert words == {w for s in segments for w in s.text.split()}


def test_a_long_segment_is_split_with_interpolated_times():
    segment = Segment(10.0, 110.0, " ".join(f"w{k}" for k in range(500)))
    chunks = chunk_segments([segment], target_words=100, overlap_words=0)
    assert len(chunks) == 5
    assert chunks[0].start == 10.0 and chunks[0].end == 30.0
    assert chunks[-1].start == 90.0 and chunks[-1].end == 110.0


def test_empty_and_blank_segments_make_no_chunks():
    assert chunk_segments([]) == []
    assert chunk_segments([Segment(0, 1, "   ")]) == []


def test_short_transcript_is_one_chunk():
    chunks = chunk_segments([Segment(0, 2, "hello there"), Segment(2, 4, "general idea")])
    assert len(chunks) == 1 and chunks[0].text == "hello there general idea" and chunks[0].end == 4


def test_a_segment_with_several_sentences_is_split_with_interpolated_times():
    segment = Segment(10.0, 22.0, "Open the Layers panel first. Then choose the brush and paint. OK.")
    parts = sentences([segment, Segment(22.0, 25.0, "Save the file when you are done.")])
    assert [p.text for p in parts] == ["Open the Layers panel first.", "Then choose the brush and paint. OK.",
                                       "Save the file when you are done."]
    # 5 of 12 words in: the second sentence starts 5/12 of the way through the segment.
    assert parts[0].start == 10.0 and parts[1].start == 15.0 and parts[1].end == 22.0
    assert parts[2].start == 22.0 and all(p.start <= p.end for p in parts)
