"""A user's video becomes questions-ready: upload or link → transcript → chunks → pgvector.

These run the real pipeline in-process (the worker's code, without the queue); the queue itself
is covered in test_ingest_workers.py.
"""

from __future__ import annotations

import dataclasses
import io
import time

import numpy as np
import pytest
from sqlalchemy import func, select, text

from core import indexing, processing, storage, submission
from core.config import load_settings
from core.errors import IngestError
from core.submission import UploadItem
from core.transcripts import Segment
from db.models import TranscriptChunk, TranscriptSentence, Video, VideoGroupMember
from tests.factories import make_account
from tests.media_factory import TALK, srt, text_renamed, truncated_video, video, vtt, zero_second_video


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def owner(clean_db):
    with clean_db.session() as s:
        return make_account(s)


def upload(db, settings, owner, path, *, captions=None, captions_name="talk.srt", title="", filename=None):
    item = UploadItem(filename or path.name, open(path, "rb"), title=title, description="A test",
                      captions_name=captions_name if captions is not None else None, captions_data=captions)
    [result] = submission.submit_uploads(db, settings, owner.id, [item], language="en")
    return result


def process(db, settings, video_id):
    return processing.process_video(db, settings, video_id)


def video_row(db, video_id) -> Video:
    with db.session() as s:
        return s.get(Video, video_id)


def chunks_of(db, video_id) -> list[TranscriptChunk]:
    with db.session() as s:
        return list(s.scalars(select(TranscriptChunk).where(TranscriptChunk.video_id == video_id)
                              .order_by(TranscriptChunk.chunk_index)))


def test_captioned_upload_becomes_timed_embedded_chunks(clean_db, settings, owner, tmp_path):
    submitted = upload(clean_db, settings, owner, video(tmp_path / "review.mp4", seconds=20), captions=srt(TALK))
    assert submitted.status == "queued"
    row = video_row(clean_db, submitted.video_id)
    assert row.status == "pending" and row.title == "review" and row.file.startswith("videos/")
    assert "review" not in row.file  # stored under a generated name

    assert process(clean_db, settings, submitted.video_id) == "completed"
    row = video_row(clean_db, submitted.video_id)
    assert row.status == "completed" and row.progress == 100 and row.transcript_source == "captions"
    assert row.duration_s == pytest.approx(20, abs=0.2) and (row.width, row.height) == (320, 240)
    assert storage.resolve(settings.media_dir, row.thumbnail).stat().st_size > 0
    assert "Globex" in row.transcript and len(row.transcript_segments) == 4
    assert row.processing_finished_at >= row.processing_started_at

    chunks = chunks_of(clean_db, submitted.video_id)
    assert chunks and chunks[0].start_time == 0.0 and chunks[-1].end_time == 20.0
    assert all(c.embedding_model == "all-MiniLM-L6-v2" and c.workspace_id == row.workspace_id for c in chunks)
    assert np.linalg.norm(np.array(chunks[0].embedding)) == pytest.approx(1.0, abs=1e-3)
    assert len(chunks[0].embedding) == 384


def test_small_chunks_keep_the_times_of_their_own_sentences(clean_db, settings, owner, tmp_path):
    small = dataclasses.replace(settings, chunk_words=12, chunk_overlap_words=0)
    submitted = upload(clean_db, small, owner, video(tmp_path / "v.mp4", seconds=20), captions=vtt(TALK),
                       captions_name="talk.vtt")
    process(clean_db, small, submitted.video_id)
    spans = [(c.start_time, c.end_time) for c in chunks_of(clean_db, submitted.video_id)]
    assert spans == [(a, b) for a, b, _ in TALK]


def test_speech_without_captions_is_transcribed_locally(clean_db, settings, owner, tmp_path):
    submitted = upload(clean_db, settings, owner, video(tmp_path / "speech.mp4", seconds=9.4, audio="speech"))
    assert process(clean_db, settings, submitted.video_id) == "completed"
    row = video_row(clean_db, submitted.video_id)
    assert row.transcript_source == "local_whisper" and row.language == "en"
    text = row.transcript.lower()
    assert "quarterly" in text and ("20%" in text or "twenty" in text)
    second = next(s for s in row.transcript_segments if "quarter." in s["text"].lower() or "20" in s["text"])
    assert 4.5 <= second["start"] <= 6.5  # the second sentence starts after the pause at 5.6 s


def test_audio_only_upload_is_accepted(clean_db, settings, owner, tmp_path):
    from tests.media_factory import audio_file

    submitted = upload(clean_db, settings, owner, audio_file(tmp_path / "memo.m4a"))
    assert process(clean_db, settings, submitted.video_id) == "completed"
    row = video_row(clean_db, submitted.video_id)
    assert row.thumbnail is None and row.width is None and "quarterly" in row.transcript.lower()


def test_the_same_file_twice_is_stored_once(clean_db, settings, owner, tmp_path):
    path = video(tmp_path / "a.mp4")
    first = upload(clean_db, settings, owner, path, captions=srt(TALK))
    again = upload(clean_db, settings, owner, path, title="Copy")
    assert again.status == "duplicate" and again.video_id == first.video_id and "already has this file" in again.message
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == 1
    assert len(list((settings.media_dir / "videos" / str(owner.id)).iterdir())) == 1


def test_video_limit_is_enforced_before_any_work(clean_db, settings, owner, tmp_path):
    limited = dataclasses.replace(settings)
    with clean_db.session() as s:
        from db.models import User

        s.get(User, owner.id).video_limit = 2
    path = video(tmp_path / "a.mp4")
    items = [UploadItem(f"{n}.mp4", open(path, "rb")) for n in range(3)]
    with pytest.raises(IngestError, match="limit is 2 videos and you have 0: you can add 2 more, not 3"):
        submission.submit_uploads(clean_db, limited, owner.id, items, language="en")
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == 0


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("notes.txt", b"hello", "Unsupported file type '.txt'"),
        ("empty.mp4", b"", "empty (0 bytes)"),
        ("noext", b"abc", "Unsupported file type 'none'"),
    ],
)
def test_wrong_files_fail_at_once_with_a_reason(clean_db, settings, owner, filename, content, message):
    [result] = submission.submit_uploads(clean_db, settings, owner.id, [UploadItem(filename, io.BytesIO(content))],
                                     language="en")
    assert result.status == "error" and message in result.message
    row = video_row(clean_db, result.video_id)
    assert row.status == "error" and message in row.error_message and row.file is None


def test_oversize_upload_is_refused_and_nothing_is_left_on_disk(clean_db, settings, owner):
    tiny = dataclasses.replace(settings, max_upload_mb=1)
    [result] = submission.submit_uploads(clean_db, tiny, owner.id,
                                     [UploadItem("big.mp4", io.BytesIO(b"\0" * (2 * 1024 * 1024)))], language="en")
    assert result.status == "error" and "larger than the 1 MB limit" in result.message
    leftovers = list((settings.media_dir / "videos" / str(owner.id)).glob("*"))
    assert leftovers == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (text_renamed, "not a video or audio file"),
        (truncated_video, "not a video or audio file"),
        (zero_second_video, "This video is empty"),
        (lambda p: video(p, seconds=4, audio=None), "no audio track and no captions"),
        (lambda p: video(p, seconds=4, audio="silence"), "No speech was found"),
    ],
    ids=["renamed-text", "truncated", "zero-seconds", "no-audio", "silence"],
)
def test_unusable_media_fails_that_video_only(clean_db, settings, owner, tmp_path, make, message):
    good = upload(clean_db, settings, owner, video(tmp_path / "good.mp4", seconds=20), captions=srt(TALK))
    bad = upload(clean_db, settings, owner, make(tmp_path / "bad.mp4"))
    assert process(clean_db, settings, bad.video_id) == "error"
    assert process(clean_db, settings, good.video_id) == "completed"
    row = video_row(clean_db, bad.video_id)
    assert row.status == "error" and message in row.error_message
    assert chunks_of(clean_db, bad.video_id) == []


def test_zero_second_video_fails_even_with_captions(clean_db, settings, owner, tmp_path):
    result = upload(clean_db, settings, owner, zero_second_video(tmp_path / "zero.mp4"), captions=srt(TALK))
    assert process(clean_db, settings, result.video_id) == "error"
    assert "0 seconds" in video_row(clean_db, result.video_id).error_message


def test_broken_captions_are_refused_at_upload(clean_db, settings, owner, tmp_path):
    result = upload(clean_db, settings, owner, video(tmp_path / "v.mp4"), captions=b"not captions at all")
    assert result.status == "error" and "no readable captions" in result.message
    result = upload(clean_db, settings, owner, video(tmp_path / "w.mp4", seconds=5), captions=srt(TALK),
                    captions_name="talk.docx")
    assert result.status == "error" and ".srt or .vtt" in result.message


def test_reprocessing_replaces_chunks_without_duplicates(clean_db, settings, owner, tmp_path):
    submitted = upload(clean_db, settings, owner, video(tmp_path / "v.mp4", seconds=20), captions=srt(TALK))
    process(clean_db, settings, submitted.video_id)
    before = [(c.chunk_index, c.text) for c in chunks_of(clean_db, submitted.video_id)]
    submission.retry(clean_db, owner.id, submitted.video_id)
    assert video_row(clean_db, submitted.video_id).status == "pending"
    process(clean_db, settings, submitted.video_id)
    after = [(c.chunk_index, c.text) for c in chunks_of(clean_db, submitted.video_id)]
    assert after == before


def sentences_of(db, video_id) -> list[TranscriptSentence]:
    with db.session() as s:
        return list(s.scalars(select(TranscriptSentence).where(TranscriptSentence.video_id == video_id)
                              .order_by(TranscriptSentence.sentence_index)))


def test_sentences_are_stored_with_vectors_and_replaced_when_the_transcript_changes(clean_db, settings, owner,
                                                                                    tmp_path):
    submitted = upload(clean_db, settings, owner, video(tmp_path / "v.mp4", seconds=20), captions=srt(TALK))
    process(clean_db, settings, submitted.video_id)
    rows = sentences_of(clean_db, submitted.video_id)
    assert [(r.start_time, r.end_time, r.text) for r in rows] == TALK
    home = video_row(clean_db, submitted.video_id).workspace_id
    assert all(r.workspace_id == home and r.embedding_model == "all-MiniLM-L6-v2" for r in rows)
    assert np.linalg.norm(np.array(rows[0].embedding)) == pytest.approx(1.0, abs=1e-3)

    indexing.store_transcript(clean_db, settings, submitted.video_id,
                            [Segment(0.0, 6.0, "A new first sentence here. And a second one follows it.")], "captions")
    rows = sentences_of(clean_db, submitted.video_id)
    assert [(r.sentence_index, r.text) for r in rows] == [(0, "A new first sentence here."),
                                                          (1, "And a second one follows it.")]
    assert rows[1].start_time == pytest.approx(6.0 * 5 / 11)


def test_link_to_a_page_with_captions_uses_them_and_keeps_the_media(clean_db, settings, owner, site):
    video(site.root / "review.mp4", seconds=20)
    (site.root / "review.vtt").write_bytes(vtt(TALK))
    url = site.page_with_video("review.html", "review.mp4", title="Quarterly review", track="review.vtt")
    linked = submission.submit_link(clean_db, settings, owner.id, url, make_group=False, language="en")
    [sent] = linked.submissions
    row = video_row(clean_db, sent.video_id)
    assert row.is_external_upload and row.source == "url" and row.source_url == url
    assert row.title.startswith("Quarterly review")
    assert process(clean_db, settings, sent.video_id) == "completed"
    row = video_row(clean_db, sent.video_id)
    assert row.transcript_source == "remote_captions" and "Globex" in row.transcript
    assert row.file and storage.resolve(settings.media_dir, row.file).exists()
    assert row.duration_s == pytest.approx(20, abs=0.2)


def test_direct_media_link_without_captions_is_downloaded_and_transcribed(clean_db, settings, owner, site):
    video(site.root / "speech.mp4", seconds=9.4, audio="speech")
    linked = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/speech.mp4", make_group=False,
                                language="en", title="Speech")
    video_id = linked.submissions[0].video_id
    assert process(clean_db, settings, video_id) == "completed"
    row = video_row(clean_db, video_id)
    assert row.title == "Speech" and row.transcript_source == "local_whisper"
    assert "quarterly" in row.transcript.lower() and row.thumbnail


def test_a_page_whose_captions_are_broken_is_transcribed_instead(clean_db, settings, owner, site):
    video(site.root / "talk.mp4", seconds=9.4, audio="speech")
    (site.root / "talk.vtt").write_bytes(b"\x00\x01 not captions at all \xff\xfe")
    url = site.page_with_video("talk.html", "talk.mp4", title="Talk", track="talk.vtt")
    linked = submission.submit_link(clean_db, settings, owner.id, url, make_group=False, language="en")
    assert process(clean_db, settings, linked.submissions[0].video_id) == "completed"
    row = video_row(clean_db, linked.submissions[0].video_id)
    assert row.transcript_source == "local_whisper" and "quarterly" in row.transcript.lower()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a valid web address"),
        ("ftp://example.com/video.mp4", "not a valid web address"),
        ("javascript:alert(1)", "not a valid web address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata: never fetched
        ("http://[fe80::1]/video.mp4", "link-local"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "link-local"),  # the same, IPv4-mapped
        ("/missing.mp4", "404"),
        ("/", "No video was found"),
    ],
)
def test_bad_links_get_a_clear_message_and_create_nothing(clean_db, settings, owner, site, url, message):
    if url.startswith("/"):
        url = site.url + url
    with pytest.raises(IngestError, match=message):
        submission.submit_link(clean_db, settings, owner.id, url, make_group=False, language="en")
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == 0


def test_a_link_whose_site_cannot_be_reached_is_kept_in_error_with_retry(clean_db, settings, owner, lan_hosts):
    """Said in a sentence, not the downloader's words cut mid-word; the link stays in the Library
    as a video in error, so Retry tries it again without pasting it again (it does not count
    against the limit meanwhile)."""
    from core.quota import counted_videos

    url = f"http://{lan_hosts[0]}:9/video.mp4"
    linked = submission.submit_link(clean_db, settings, owner.id, url, make_group=False, language="en")
    [kept] = linked.submissions
    assert kept.status == "error"
    assert kept.message.startswith(f"{lan_hosts[0]} could not be reached from this server: it refused the connection.")
    assert "kept in your Library" in kept.message
    row = video_row(clean_db, kept.video_id)
    assert (row.status, row.source_url, row.file) == ("error", url, None)
    assert "refused the connection" in row.error_message
    with clean_db.session() as s:
        assert s.scalar(counted_videos(owner.id)) == 0
    again = submission.submit_link(clean_db, settings, owner.id, url, make_group=False, language="en")
    assert [s.video_id for s in again.submissions] == [kept.video_id]  # not a second copy
    submission.retry(clean_db, owner.id, kept.video_id)
    assert video_row(clean_db, kept.video_id).status == "pending"


def test_link_that_dies_before_processing_fails_that_video(clean_db, settings, owner, site):
    video(site.root / "gone.mp4", seconds=5)
    linked = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/gone.mp4", make_group=False,
                                language="en")
    (site.root / "gone.mp4").unlink()
    video_id = linked.submissions[0].video_id
    assert process(clean_db, settings, video_id) == "error"
    assert "404" in video_row(clean_db, video_id).error_message


def test_deleted_while_processing_leaves_no_orphans(clean_db, settings, owner, tmp_path, monkeypatch):
    submitted = upload(clean_db, settings, owner, video(tmp_path / "v.mp4", seconds=20), captions=srt(TALK))
    original = indexing.chunk_segments

    def delete_first(*args, **kwargs):
        with clean_db.session() as s:
            s.delete(s.get(Video, submitted.video_id))
        return original(*args, **kwargs)

    monkeypatch.setattr(indexing, "chunk_segments", delete_first)
    process(clean_db, settings, submitted.video_id)
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(TranscriptChunk)) == 0


def test_deleted_while_its_files_are_made_leaves_no_files(clean_db, settings, owner, site, monkeypatch):
    """The owner deletes the video while the worker downloads it and makes its poster frame: the
    delete cannot know those new files, so the worker removes them."""
    from core import library, media

    video(site.root / "doomed.mp4", seconds=8)
    linked = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/doomed.mp4", make_group=False,
                                language="en")
    video_id = linked.submissions[0].video_id
    original = media.make_thumbnail

    def delete_then_make(*args, **kwargs):
        library.delete_video(clean_db, settings, owner.id, video_id)
        return original(*args, **kwargs)

    monkeypatch.setattr(media, "make_thumbnail", delete_then_make)
    assert process(clean_db, settings, video_id) == "error"
    left = [p for p in settings.media_dir.rglob("*") if p.is_file()]
    assert left == []


def test_playlist_page_becomes_videos_and_an_ordered_group(clean_db, settings, owner, site):
    for name in ("one", "two", "three"):
        video(site.root / f"{name}.mp4", seconds=3)
    (site.root / "list.html").write_text(
        "<!doctype html><html><head><title>Team talks</title></head><body>"
        + "".join(f'<video controls><source src="{n}.mp4" type="video/mp4"></video>' for n in ("one", "two", "three"))
        + "</body></html>"
    )
    linked = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/list.html", make_group=True,
                                language="en")
    assert linked.group_name == "Team talks" and len(linked.submissions) == 3
    with clean_db.session() as s:
        members = s.execute(select(VideoGroupMember.video_id, VideoGroupMember.order)
                            .where(VideoGroupMember.group_id == linked.group_id)
                            .order_by(VideoGroupMember.order)).all()
    assert [vid for vid, _ in members] == [r.video_id for r in linked.submissions]
    assert [order for _, order in members] == [0, 1, 2]


def test_a_link_added_again_is_not_a_second_video_and_a_playlist_reuses_what_was_added(
        clean_db, settings, owner, site):
    for name in ("one", "two"):
        video(site.root / f"{name}.mp4", seconds=3)
    (site.root / "list.html").write_text(
        "<!doctype html><html><head><title>Team talks</title></head><body>"
        + "".join(f'<video controls><source src="{n}.mp4" type="video/mp4"></video>' for n in ("one", "two"))
        + "</body></html>"
    )
    first = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/two.mp4", make_group=False, language="en")
    again = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/two.mp4", make_group=False, language="en")
    [queued], [repeat] = first.submissions, again.submissions
    assert (repeat.status, repeat.video_id) == ("duplicate", queued.video_id) and "already added" in repeat.message

    playlist = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/list.html", make_group=True,
                                  language="en")
    assert [r.status for r in playlist.submissions] == ["queued", "duplicate"]
    with clean_db.session() as s:
        members = s.scalars(select(VideoGroupMember.video_id).where(VideoGroupMember.group_id == playlist.group_id)
                            .order_by(VideoGroupMember.order)).all()
        assert s.scalar(select(func.count()).select_from(Video)) == 2
    assert members == [playlist.submissions[0].video_id, queued.video_id]  # the playlist's order
    with clean_db.engine.connect() as conn:
        jobs = conn.execute(text("SELECT args->>'video_id' FROM procrastinate_jobs")).scalars().all()
    assert sorted(jobs) == sorted([str(queued.video_id), str(playlist.submissions[0].video_id)])


@pytest.mark.parametrize(("url", "means_one_video"), [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG&index=3", True),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&list=RDdQw4w9WgXcQ", True),  # a mix: endless
    ("https://youtu.be/dQw4w9WgXcQ?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", True),
    ("https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", False),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", False),
    ("https://example.com/watch?v=1&list=2", False),
])
def test_a_video_playing_inside_a_playlist_means_that_video(url, means_one_video):
    from core.remote import video_in_playlist

    assert video_in_playlist(url) is means_one_video


def test_playlist_with_an_unavailable_entry_keeps_the_others(clean_db, settings, owner, site):
    for name in ("ok1", "ok2"):
        video(site.root / f"{name}.mp4", seconds=3, audio="speech")
    (site.root / "mixed.html").write_text(
        "<!doctype html><html><head><title>Mixed</title></head><body>"
        + "".join(f'<video controls><source src="{n}.mp4" type="video/mp4"></video>' for n in ("ok1", "gone", "ok2"))
        + "</body></html>"
    )
    linked = submission.submit_link(clean_db, settings, owner.id, f"{site.url}/mixed.html", make_group=True,
                                language="en")
    results = {s.video_id: processing.process_video(clean_db, settings, s.video_id) for s in linked.submissions}
    assert sorted(results.values()) == ["completed", "completed", "error"]
    failed = next(vid for vid, status in results.items() if status == "error")
    assert "404" in video_row(clean_db, failed).error_message


@pytest.mark.parametrize(
    ("yt_dlp_says", "we_say"),
    [
        ("ERROR: [youtube] abc: Private video. Sign in if you've been granted access", "This video is private"),
        ("ERROR: [youtube] abc: Sign in to confirm your age", "needs a signed-in account"),
        ("ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader", "unavailable"),
        ("ERROR: Unsupported URL: https://example.com/", "unsupported site"),
        ("ERROR: [generic] Unable to download webpage: HTTP Error 404: Not Found", "404"),
        ("ERROR: Unable to download webpage: <urlopen error timed out>", "did not answer in time"),
        ("ERROR: [generic] Unable to download webpage: HTTP Error 503: Service Unavailable", "busy"),
        ("ERROR: [youtube] abc: Unable to download API page: <urlopen error [Errno -3] Temporary failure in name "
         "resolution> (caused by TransportError(\"Failed to resolve 'www.youtube.com'\"))",
         "could not be reached from this server: its name could not be looked up."),
        ("ERROR: [youtube] abc: Sign in to confirm you\u2019re not a bot", "not a bot"),
        ("ERROR: [youtube] abc: Sign in to confirm you're not a bot. This helps protect our community",
         "try again later"),
    ],
)
def test_yt_dlp_failures_become_messages_a_user_can_act_on(yt_dlp_says, we_say):
    from core.remote import _explain

    said = str(_explain(Exception(yt_dlp_says), "https://www.youtube.com/watch?v=abc"))
    assert we_say in said and "ERROR" not in said and "caused by" not in said  # whole sentences, no raw text


def test_an_ffmpeg_run_past_its_time_is_stopped_and_reads_as_a_failure():
    """A poster frame or an audio track that takes too long must fail like a bad file (each step
    has its own message or fallback), not escape as an exception that fails the whole video."""
    from core import media

    started = time.monotonic()
    done = media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=3600:size=1280x720", "-f", "null", "-"],
                            timeout=1)
    assert done.returncode != 0 and time.monotonic() - started < 30
