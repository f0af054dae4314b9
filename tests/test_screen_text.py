"""Reading what a video shows: slides and screens come back as passages with their seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from core.errors import IngestError
from core.screen_text import read_screen_text
from core.transcripts import ScreenPassage
from tests import media_factory

TALK = [("Quarterly Revenue Review", 0, 4),
        ("Churn fell to 3 percent\nNet revenue up 12%", 4, 8),
        ("Hiring plans for Lisbon", 8, 12)]


def words(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.fixture(scope="module")
def slide_talk(tmp_path_factory) -> tuple[list[ScreenPassage], list[float]]:
    work = tmp_path_factory.mktemp("slide-talk")
    video = media_factory.slides(work / "talk.mp4", TALK)
    fractions: list[float] = []
    passages = read_screen_text(video, thumbnail_dir=work / "thumbnails", progress=fractions.append)
    return passages, fractions


def test_a_slide_talks_slides_come_back_as_passages_with_their_seconds(slide_talk):
    passages, _ = slide_talk

    assert [words(p.text) for p in passages] == [words(text) for text, _, _ in TALK]
    for passage, (_, start, end) in zip(passages, TALK):
        assert passage.start == pytest.approx(start, abs=1.0)
        assert passage.end == pytest.approx(end, abs=1.0)


def test_a_slides_lines_read_top_to_bottom(slide_talk):
    passages, _ = slide_talk

    assert passages[1].text.splitlines() == ["Churn fell to 3 percent", "Net revenue up 12%"]


def test_each_passage_has_a_small_jpeg_of_its_slide(slide_talk):
    passages, _ = slide_talk

    for passage in passages:
        assert passage.thumbnail is not None and Path(passage.thumbnail).exists()
        with Image.open(passage.thumbnail) as picture:
            assert picture.format == "JPEG"
            assert picture.size == (320, 180)
    assert len({Path(p.thumbnail).read_bytes() for p in passages}) == 3


def test_progress_goes_forward_to_the_end(slide_talk):
    _, fractions = slide_talk

    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_a_slide_shown_for_a_long_time_is_one_passage_not_one_per_sampled_frame(tmp_path):
    # the presenter's pointer keeps the picture changing a little, so the slide is read again
    # every few seconds; it still says the same thing. The sound track is silent.
    video = media_factory.slides(tmp_path / "roadmap.mp4", [("Roadmap 2027", 0, 16)], pointer=True,
                                 audio="silence")

    readings: list[float] = []
    passages = read_screen_text(video, floor_seconds=3, workers=1, progress=readings.append)

    assert len(readings) >= 5  # progress is told after each frame read
    assert [(p.start, words(p.text)) for p in passages] == [(0.0, "roadmap 2027")]
    assert passages[0].end == pytest.approx(16, abs=0.5)
    assert passages[0].thumbnail is None  # none asked for


def test_a_screen_recording_is_read_page_by_page_as_it_scrolls(tmp_path):
    lines = [f"total_{n} = price * {n}  # step {n}" for n in range(40)]
    video = media_factory.scrolling_text(tmp_path / "screen.mp4", lines, seconds=12, step_every=3)

    passages = read_screen_text(video)

    read = words(" ".join(p.text for p in passages))
    seen = [n for n in range(40) if f"step {n}" in read]
    assert len(seen) >= 36, f"lines read: {seen}"
    # read at the first frame, then as each half-second scroll comes to rest
    assert [p.start for p in passages] == pytest.approx([0, 0.5, 3.5, 6.5, 9.5], abs=0.5)


def test_a_video_with_no_text_on_screen_gives_no_passages(tmp_path):
    video = media_factory.moving_picture(tmp_path / "gradients.mp4", seconds=6)

    assert read_screen_text(video, workers=1) == []


def test_a_file_with_sound_only_has_no_screen_text(tmp_path):
    assert read_screen_text(media_factory.audio_file(tmp_path / "speech.mp3")) == []


@pytest.mark.parametrize("make", [media_factory.text_renamed, media_factory.truncated_video])
def test_a_corrupt_file_gives_a_readable_ingest_error(tmp_path, make):
    broken = make(tmp_path / "broken.mp4")

    with pytest.raises(IngestError, match="corrupt"):
        read_screen_text(broken)
