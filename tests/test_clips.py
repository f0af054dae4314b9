"""Clips: a user cuts a moment out of a video, plays it and downloads it; one clip per range."""

from __future__ import annotations

import av
import pytest
from sqlalchemy import func, select, text

from core import clips, media, storage, tasks
from core.errors import VideoNotFound
from db.models import Clip, Video
from tests.corpus import ingest_corpus
from tests.factories import home, make_account

CUES = [(float(t), float(t + 5), f"Sentence number {t // 5} of the minute-long demo.") for t in range(0, 60, 5)]


@pytest.fixture
def demo(clean_db, settings, tmp_path):
    """A real one-minute captioned video, ingested like any upload."""
    with clean_db.session() as s:
        owner = make_account(s)
    _, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path, {"Demo minute": CUES})
    return clean_db, owner, ids["Demo minute"]


def _clip_jobs(db, clip_id: int) -> int:
    with db.session() as s:
        return s.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'askvideo:make_clip' "
                             "AND (args->>'clip_id')::bigint = :id"), {"id": clip_id})


def test_a_clip_of_a_range_is_cut_once_and_plays_for_that_long(demo, settings):
    db, owner, video_id = demo
    clip_id = clips.request_clip(db, settings, owner.id, video_id, start=10, end=15, title="The good bit")
    # Asking again (a double click, a second tab) gives the same clip and queues no second job.
    assert clips.request_clip(db, settings, owner.id, video_id, start=10.04, end=14.96) == clip_id
    assert _clip_jobs(db, clip_id) == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Clip)) == 1
        pending = clips.get_clip(s, settings, owner.id, clip_id)
    assert pending.status == "pending" and pending.media_path is None

    assert tasks.make_clip(clip_id) == "completed"  # what the worker runs

    with db.session() as s:
        [made] = clips.list_clips(s, settings, owner.id, video_id=video_id)
    assert (made.id, made.status, made.title, made.label) == (clip_id, "completed", "The good bit", "00:10–00:15")
    with db.session() as s:
        assert made.media_path.is_relative_to(settings.media_dir / "clips" / str(home(s, owner.id)))
    assert made.file_size == made.media_path.stat().st_size > 0
    info = media.probe(made.media_path)
    assert info.has_video and info.has_audio and info.duration_s == pytest.approx(5, abs=0.3)
    assert made.download_name == "The good bit 00.10–00.15.mp4"
    # A finished clip is not cut again.
    assert clips.request_clip(db, settings, owner.id, video_id, start=10, end=15) == clip_id
    assert tasks.make_clip(clip_id) == "gone"


def test_a_range_starting_on_a_keyframe_is_copied_without_re_encoding(demo, settings):
    db, owner, video_id = demo
    with db.session() as s:
        source = storage.resolve(settings.media_dir, s.get(Video, video_id).file)
    keyframe = clips.keyframe_before(source, 40)
    assert keyframe is not None and 0 <= keyframe <= 40
    made = clips.cut(source, source.parent, start=keyframe, end=keyframe + 6)
    # Stream copy cuts on packet boundaries, so it may run a few frames long; never short.
    assert made.suffix == ".mp4" and 6 - 0.1 <= media.probe(made).duration_s <= 6.5
    # Copied, not re-encoded: the clip opens with the very bytes of the source's keyframe.
    assert _first_video_packet(made) == _first_video_packet(source, at=keyframe)


def _first_video_packet(path, at: float = 0.0) -> bytes:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(at / stream.time_base), stream=stream, backward=True)
        return bytes(next(p for p in container.demux(stream) if p.size))


def test_a_damaged_source_gives_the_clip_an_error_and_asking_again_retries(demo, settings):
    db, owner, video_id = demo
    with db.session() as s:
        source = storage.resolve(settings.media_dir, s.get(Video, video_id).file)
    good = source.read_bytes()
    source.write_bytes(b"not a video any more" * 100)
    clip_id = clips.request_clip(db, settings, owner.id, video_id, start=20, end=30)
    assert clips.make_clip(db, settings, clip_id) == "error"
    with db.session() as s:
        failed = clips.get_clip(s, settings, owner.id, clip_id)
    assert failed.status == "error" and "damaged" in failed.error_message and failed.media_path is None

    source.write_bytes(good)
    assert clips.request_clip(db, settings, owner.id, video_id, start=20, end=30) == clip_id
    assert clips.make_clip(db, settings, clip_id) == "completed"


@pytest.mark.parametrize("start, end, message", [
    (30, 30, "end after it starts"), (40, 39, "end after it starts"), (0, 3600, None),
])
def test_impossible_ranges_are_refused_or_kept_inside_the_video(demo, settings, start, end, message):
    db, owner, video_id = demo
    if message:
        with pytest.raises(clips.ClipError, match=message):
            clips.request_clip(db, settings, owner.id, video_id, start=start, end=end)
        return
    clip_id = clips.request_clip(db, settings, owner.id, video_id, start=start, end=end)
    with db.session() as s:
        clip = clips.get_clip(s, settings, owner.id, clip_id)
        assert clip.end <= s.get(Video, video_id).duration_s + 0.1


def test_clips_are_private_to_the_owner_and_deleting_removes_the_file(demo, settings):
    db, owner, video_id = demo
    with db.session() as s:
        stranger = make_account(s, "stranger")
    with pytest.raises(VideoNotFound):
        clips.request_clip(db, settings, stranger.id, video_id, start=0, end=5)
    clip_id = clips.request_clip(db, settings, owner.id, video_id, start=0, end=5)
    clips.make_clip(db, settings, clip_id)
    with db.session() as s:
        assert clips.list_clips(s, settings, stranger.id) == []
        with pytest.raises(clips.ClipError, match="not yours"):
            clips.get_clip(s, settings, stranger.id, clip_id)
        path = clips.get_clip(s, settings, owner.id, clip_id).media_path
    with pytest.raises(clips.ClipError, match="not yours"):
        clips.delete_clip(db, settings, stranger.id, clip_id)
    assert path.exists()
    clips.delete_clip(db, settings, owner.id, clip_id)
    assert not path.exists()
    with db.session() as s:
        assert clips.list_clips(s, settings, owner.id) == []


def test_a_video_that_plays_from_youtube_cannot_be_cut_and_says_why(clean_db, settings):
    with clean_db.session() as s:
        owner = make_account(s)
        video = Video(user_id=owner.id, workspace_id=home(s, owner.id), title="Linked", status="completed", source="url",
                      source_url="https://www.youtube.com/watch?v=abc", duration_s=120)
        s.add(video)
        s.flush()
        video_id = video.id
    with pytest.raises(clips.ClipError, match="Upload the file"):
        clips.request_clip(clean_db, settings, owner.id, video_id, start=0, end=10)


def test_deleting_the_video_deletes_its_clips_files(demo, settings):
    from core import library

    db, owner, video_id = demo
    clip_id = clips.request_clip(db, settings, owner.id, video_id, start=0, end=5)
    clips.make_clip(db, settings, clip_id)
    with db.session() as s:
        path = clips.get_clip(s, settings, owner.id, clip_id).media_path
    library.delete_video(db, settings, owner.id, video_id)
    assert not path.exists()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Clip)) == 0


def test_times_that_are_not_numbers_are_refused(demo, settings):
    db, owner, video_id = demo
    for value in (float("nan"), float("inf")):
        with pytest.raises(clips.ClipError, match="numbers of seconds"):
            clips.request_clip(db, settings, owner.id, video_id, start=0, end=value)


def test_a_clip_left_processing_by_a_failed_job_is_queued_again(demo, settings):
    db, owner, video_id = demo
    clip_id = clips.request_clip(db, settings, owner.id, video_id, start=0, end=5)
    with db.session() as s:  # the job ran, then failed without recording it
        s.execute(text("UPDATE clips SET status = 'processing' WHERE id = :id"), {"id": clip_id})
        s.execute(text("UPDATE procrastinate_jobs SET status = 'failed' WHERE lock = :lock"),
                  {"lock": f"clip:{clip_id}"})
    assert clip_id in tasks._pending_clip_ids()  # what the worker's minute sweep requeues
    with db.session() as s:
        assert clips.get_clip(s, settings, owner.id, clip_id).status == "pending"


def test_a_clip_of_a_cited_moment_is_long_enough_to_watch(demo, settings):
    """An answer cites one sentence (2 s): its clip runs 15 s, and never past the video's end."""
    db, owner, video_id = demo
    short = clips.request_cited_clip(db, settings, owner.id, video_id, start=20, end=22, title="Cited")
    near_end = clips.request_cited_clip(db, settings, owner.id, video_id, start=55, end=57, title="Late")
    with db.session() as s:
        assert clips.get_clip(s, settings, owner.id, short).label == "00:20–00:35"
        duration = s.get(Video, video_id).duration_s
        assert clips.get_clip(s, settings, owner.id, near_end).end == pytest.approx(duration, abs=0.1)
