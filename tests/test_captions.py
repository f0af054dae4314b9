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


GOOD_START = b"""1
00:00:01,000 --> 00:00:04,000
Welcome to the review.

2
00:00:04,000 --> 00:00:09,000
Revenue grew by twenty percent.

"""


def test_an_hour_with_hundreds_of_digits_is_refused_naming_its_line():
    data = GOOD_START + b"3\n" + b"9" * 400 + b":00:00,000 --> " + b"9" * 400 + b":00:01,000\nForever after.\n"
    with pytest.raises(IngestError) as refused:
        parse_captions(data, name="The captions file")
    message = str(refused.value)
    assert message.startswith("The captions file, line 10: the time 99999999…:00:00,000 is beyond 48 hours;")
    assert message.endswith("is this the right file?") and len(message) < 200


def test_a_time_past_48_hours_is_refused_before_it_reaches_the_player():
    data = GOOD_START + b"3\n99999999:00:00,000 --> 99999999:00:02,000\nClick me.\n"
    with pytest.raises(IngestError, match=r"^The captions file, line 10: the time 99999999:00:00,000 is beyond "
                                          r"48 hours; is this the right file\?$"):
        parse_captions(data, name="The captions file")
    # Only the end out of range, in a WebVTT file with a header: still refused, on its own line.
    data = b"WEBVTT\n\n00:00:01.000 --> 49:00:00.000\nThe longest cue.\n"
    with pytest.raises(IngestError, match="line 3: the time 49:00:00.000 is beyond 48 hours"):
        parse_captions(data, name="The captions file")
    # 47 hours in is a long recording, not a wrong file.
    assert parse_captions(b"47:00:00.000 --> 47:00:02.000\nStill going.\n", max_seconds=48 * 3600)[0].start == 47 * 3600


def test_captions_running_past_the_end_of_the_video_are_refused():
    data = GOOD_START + b"3\n00:00:40,000 --> 00:00:45,000\nThis is from another talk.\n"
    with pytest.raises(IngestError, match=r"^The captions file, line 10: the captions run past the end of the "
                                          r"video \(this cue starts at 00:40; the video is 00:20 long\)"):
        parse_captions(data, name="The captions file", max_seconds=20.0)
    # A few seconds past the end is a trimmed or re-encoded video; the cue is kept.
    assert parse_captions(data, max_seconds=36.0)[-1] == Segment(40.0, 45.0, "This is from another talk.")
    # Without a known duration only the 48-hour bound applies; an unreadable duration is no duration.
    assert len(parse_captions(data)) == len(parse_captions(data, max_seconds=0.0)) == 3


def test_a_normal_file_with_its_duration_is_read_as_before():
    assert parse_captions(srt(TALK), name="The captions file", max_seconds=20.0) == [Segment(*c) for c in TALK]
    assert parse_captions(vtt(TALK), max_seconds=16.0) == [Segment(*c) for c in TALK]  # last cue at 14 s


def test_what_nobody_said_is_left_out_of_the_transcript(clean_db, settings, tmp_path):
    """Speaker marks (">>") and sounds ("[Music]", "(laughs)", "♪") are not speech: they would show
    in transcripts, summaries and answers. Parenthesised words people do say stay."""
    from sqlalchemy import select

    from core.indexing import store_transcript
    from core.transcripts import Segment
    from db.models import TranscriptChunk, Video
    from tests.factories import home, make_account

    with clean_db.session() as s:
        owner = make_account(s)
        video = Video(user_id=owner.id, workspace_id=home(s, owner.id), title="Talk", status="processing")
        s.add(video)
        s.flush()
        video_id = video.id
    store_transcript(clean_db, settings, video_id, [
        Segment(0, 2, "[Music]"), Segment(2, 5, ">> Welcome back to the show."),
        Segment(5, 8, "(laughs) We shipped version 2 (beta) today ♪"), Segment(8, 9, "[APPLAUSE]")], "captions")
    with clean_db.session() as s:
        row = s.get(Video, video_id)
        chunk_text = " ".join(s.scalars(select(TranscriptChunk.text).where(TranscriptChunk.video_id == video_id)))
    assert row.transcript == "Welcome back to the show.\nWe shipped version 2 (beta) today"
    assert [seg["start"] for seg in row.transcript_segments] == [2, 5]
    assert ">>" not in chunk_text and "Music" not in chunk_text and "laughs" not in chunk_text
