"""Caption files as people actually have them, read into timed segments."""

from __future__ import annotations

import pytest

from core.captions import parse_captions
from core.errors import IngestError
from core.transcripts import Segment, format_timestamp
from tests.media_factory import TALK, srt, vtt


def test_srt_and_vtt_give_the_same_segments():
    assert parse_captions(srt(TALK)) == parse_captions(vtt(TALK)) == [Segment(*cue) for cue in TALK]


def test_vtt_with_header_notes_settings_tags_and_entities():
    data = b"""WEBVTT - talk
Kind: captions

NOTE written by hand

STYLE
::cue { color: red }

intro
00:01.000 --> 00:03.500 align:start position:0%
<v Ann><b>Hello</b> &amp; welcome</v>

1:00:00.000 --> 1:00:02.000
<c.yellow>An hour in</c>
"""
    assert parse_captions(data) == [Segment(1.0, 3.5, "Hello & welcome"), Segment(3600.0, 3602.0, "An hour in")]


def test_rolling_automatic_captions_are_not_repeated():
    data = b"""WEBVTT

00:00:00.000 --> 00:00:02.000
so today we are

00:00:02.000 --> 00:00:02.010
so today we are

00:00:02.010 --> 00:00:04.000
so today we are
going to talk about<00:00:03.000><c> revenue</c>

00:00:04.000 --> 00:00:06.000
going to talk about revenue
and the new office
"""
    segments = parse_captions(data)
    assert [s.text for s in segments] == ["so today we are", "going to talk about revenue", "and the new office"]
    assert segments[0] == Segment(0.0, 2.01, "so today we are")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_common_encodings_are_read(encoding):
    text = "1\n00:00:01,000 --> 00:00:02,000\nCafé déjà vu – naïve\n"
    assert parse_captions(text.encode(encoding))[0].text == "Café déjà vu – naïve"


def test_broken_cues_are_skipped_and_the_rest_kept():
    data = b"""1
00:00:01,000 --> 00:00:02,000
good one

2
00:00:xx,000 --> 00:00:03,000
bad timestamp

3
00:00:09,000 --> 00:00:04,000
ends before it starts

4
00:00:05,000 --> 00:00:06,000
another good one
"""
    assert [s.text for s in parse_captions(data)] == ["good one", "another good one"]


@pytest.mark.parametrize("data", [b"", b"just some text\nwith no timings", b"\x00\x01\x02\xff" * 100])
def test_a_file_without_usable_cues_says_what_was_expected(data):
    with pytest.raises(IngestError, match="no readable captions"):
        parse_captions(data, name="talk.srt")


def test_timestamps_read_as_people_expect():
    assert format_timestamp(0) == "00:00"
    assert format_timestamp(75.9) == "01:15"
    assert format_timestamp(3725) == "1:02:05"
