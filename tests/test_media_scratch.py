"""Scratch a killed worker leaves in the media directory is swept; work in progress is not."""

from __future__ import annotations

import os
import time

from core import storage, tasks


def test_scratch_left_by_a_dead_cut_or_upload_is_swept_and_live_work_is_kept(tmp_path):
    media = tmp_path / "media"
    clips = media / "clips" / "7"
    clips.mkdir(parents=True)
    hours_ago = time.time() - 4 * 3600

    dead_cut = clips / "abc.work"  # a worker killed mid-cut: a half-written clip inside
    dead_cut.mkdir()
    (dead_cut / "clip.mp4").write_bytes(b"half a clip")
    os.utime(dead_cut / "clip.mp4", (hours_ago, hours_ago))
    os.utime(dead_cut, (hours_ago, hours_ago))
    dead_upload = media / "videos" / "7" / "def.mp4.part"
    dead_upload.parent.mkdir(parents=True)
    dead_upload.write_bytes(b"half an upload")
    os.utime(dead_upload, (hours_ago, hours_ago))

    live_cut = clips / "ghi.work"  # a long cut still writing: its folder is old, its output is not
    live_cut.mkdir()
    (live_cut / "clip.mp4").write_bytes(b"growing")
    os.utime(live_cut, (hours_ago, hours_ago))
    finished = clips / "jkl.mp4"  # a finished clip is never scratch, however old
    finished.write_bytes(b"a clip")
    os.utime(finished, (hours_ago, hours_ago))

    assert storage.sweep_abandoned(media) == 2
    assert not dead_cut.exists() and not dead_upload.exists()
    assert (live_cut / "clip.mp4").exists() and finished.exists()
    assert storage.sweep_abandoned(media) == 0
    assert storage.sweep_abandoned(tmp_path / "no media yet") == 0


def test_the_sweep_runs_as_hourly_housekeeping(tmp_path, monkeypatch):
    media = tmp_path / "media"
    (media / "clips" / "1" / "old.work").mkdir(parents=True)
    long_ago = time.time() - 24 * 3600
    os.utime(media / "clips" / "1" / "old.work", (long_ago, long_ago))
    monkeypatch.setenv("ASKVIDEO_MEDIA_DIR", str(media))
    assert tasks.sweep_media_scratch() == 1
    app = tasks.make_app("postgresql://localhost/unused")
    assert "askvideo:sweep_media_scratch" in app.tasks
    assert any(p.task.name == "askvideo:sweep_media_scratch" for p in app.periodic_registry.periodic_tasks.values())


def test_work_folders_of_videos_no_worker_is_processing_are_swept(clean_db, tmp_path, monkeypatch):
    """A worker killed mid-download leaves `work/<video>`; once that video is finished, failed or
    deleted, nothing will clear it, so the hourly sweep does. Live and just-restarted work stays."""
    from db.models import Video
    from tests.factories import home, make_account

    media = tmp_path / "media"
    monkeypatch.setenv("ASKVIDEO_MEDIA_DIR", str(media))
    with clean_db.session() as session:
        owner = make_account(session)
        videos = {status: Video(user_id=owner.id, workspace_id=home(session, owner.id), title=status, status=status)
                  for status in ("processing", "pending", "error", "completed")}
        retried = Video(user_id=owner.id, workspace_id=home(session, owner.id), title="retried just now", status="error")
        deleted = Video(user_id=owner.id, workspace_id=home(session, owner.id), title="deleted", status="processing")
        session.add_all([*videos.values(), retried, deleted])
        session.flush()
        ids = {status: v.id for status, v in videos.items()} | {"retried": retried.id, "deleted": deleted.id}
        session.delete(deleted)

    an_hour_ago = time.time() - 3600
    for name, video_id in ids.items():
        work = media / "work" / str(video_id)
        work.mkdir(parents=True)
        (work / "download.mp4").write_bytes(b"a big download")
        if name != "retried":  # a worker made the retried video's folder again a moment ago
            os.utime(work, (an_hour_ago, an_hour_ago))

    assert tasks.sweep_media_scratch() == 3
    left = {name for name, video_id in ids.items() if (media / "work" / str(video_id)).exists()}
    assert left == {"processing", "pending", "retried"}
    assert tasks.sweep_media_scratch() == 0
