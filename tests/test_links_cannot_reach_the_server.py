"""An attacker with an account pastes links that lead back into the server's own network.

A service listening only on loopback holds a secret. Every way a link can reach it — directly,
by name, through a redirect from an allowed site, as a page's embedded media or caption track —
is refused at the connection, so the secret is never read, stored, played or made searchable.
Cloud metadata (link-local) stays out of reach in its IPv4-mapped form too, a private network the
installation did not list is refused, and a download that is not media is never kept.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from core import library, processing, storage, submission
from core.config import load_settings
from core.errors import IngestError
from core.submission import UploadItem
from core.quota import counted_videos
from db.models import User, Video
from tests.factories import make_account
from tests.local_site import LocalSite
from tests.media_factory import text_renamed, video, vtt

SECRET = '{"database_password": "hunter2-on-loopback"}'


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def attacker(clean_db):
    with clean_db.session() as s:
        return make_account(s, "mallory")


@pytest.fixture(scope="module")
def loopback_service(tmp_path_factory):
    """A service only this server can reach, with a secret in it."""
    service = LocalSite(tmp_path_factory.mktemp("internal"), host="127.0.0.1")
    (service.root / "config.json").write_text(SECRET)
    video(service.root / "internal.mp4", seconds=3)
    (service.root / "internal.vtt").write_bytes(vtt([(0.0, 2.0, "hunter2 is the password")]))
    yield service
    service.close()


def _no_secret_anywhere(db, settings) -> None:
    with db.session() as s:
        transcripts = " ".join(t or "" for t in s.scalars(select(Video.transcript)))
        assert "hunter2" not in transcripts
    for path in settings.media_dir.rglob("*"):
        if path.is_file():
            assert b"hunter2" not in path.read_bytes()


def test_a_link_to_a_loopback_service_is_refused_before_anything_is_fetched(clean_db, settings, attacker,
                                                                             loopback_service):
    for url in (f"{loopback_service.url}/config.json",
                f"http://localhost:{loopback_service.server.server_address[1]}/config.json",  # by name
                f"http://[::ffff:127.0.0.1]:{loopback_service.server.server_address[1]}/config.json"):
        with pytest.raises(IngestError, match="this server itself"):
            submission.submit_link(clean_db, settings, attacker.id, url, make_group=False, language="en")
    assert loopback_service.requests == []
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == 0


def test_a_redirect_from_an_allowed_site_to_loopback_is_refused(clean_db, settings, attacker, site,
                                                                loopback_service):
    hop = site.redirect("/innocent.mp4", f"{loopback_service.url}/config.json")
    with pytest.raises(IngestError, match="127.0.0.1, this server itself"):
        submission.submit_link(clean_db, settings, attacker.id, hop, make_group=False, language="en")
    assert "/innocent.mp4" in site.requests and loopback_service.requests == []


def test_a_redirect_to_cloud_metadata_is_refused(clean_db, settings, attacker, site):
    hop = site.redirect("/meta.mp4", "http://[::ffff:169.254.169.254]/latest/meta-data/")
    with pytest.raises(IngestError, match="link-local"):
        submission.submit_link(clean_db, settings, attacker.id, hop, make_group=False, language="en")


def test_a_page_whose_caption_track_is_on_loopback_fails_without_reading_it(clean_db, settings, attacker, site,
                                                                            loopback_service):
    video(site.root / "decoy.mp4", seconds=4)
    page = site.page_with_video("decoy.html", "decoy.mp4", title="Decoy",
                                track=f"{loopback_service.url}/internal.vtt")
    [sent] = submission.submit_link(clean_db, settings, attacker.id, page, make_group=False,
                                      language="en").submissions
    assert processing.process_video(clean_db, settings, sent.video_id) == "error"
    with clean_db.session() as s:
        row = s.get(Video, sent.video_id)
        assert "127.0.0.1, this server itself" in row.error_message and row.transcript is None and row.file is None
    assert loopback_service.requests == []
    _no_secret_anywhere(clean_db, settings)


def test_a_page_whose_embedded_media_is_on_loopback_is_never_downloaded(clean_db, settings, attacker, site,
                                                                        loopback_service):
    page = site.page_with_video("embed.html", f"{loopback_service.url}/internal.mp4", title="Embed")
    linked = submission.submit_link(clean_db, settings, attacker.id, page, make_group=False, language="en")
    for sent in linked.submissions:
        assert processing.process_video(clean_db, settings, sent.video_id) == "error"
        with clean_db.session() as s:
            row = s.get(Video, sent.video_id)
            assert "this server itself" in row.error_message and row.file is None
    assert loopback_service.requests == []


def test_a_private_network_is_fetched_only_when_the_installation_lists_it(clean_db, settings, attacker, lan_hosts,
                                                                          tmp_path, monkeypatch):
    elsewhere = LocalSite(tmp_path, host=lan_hosts[1])
    try:
        video(tmp_path / "intranet.mp4", seconds=3)
        with pytest.raises(IngestError, match="private network .*ASKVIDEO_ALLOWED_PRIVATE_NETWORKS"):
            submission.submit_link(clean_db, settings, attacker.id, f"{elsewhere.url}/intranet.mp4", make_group=False,
                               language="en")
        assert elsewhere.requests == []
        monkeypatch.setenv("ASKVIDEO_ALLOWED_PRIVATE_NETWORKS", f"{lan_hosts[0]}/32,{lan_hosts[1]}/32")
        linked = submission.submit_link(clean_db, load_settings(), attacker.id, f"{elsewhere.url}/intranet.mp4",
                                    make_group=False, language="en")
        assert [s.status for s in linked.submissions] == ["queued"]
    finally:
        elsewhere.close()


@pytest.mark.parametrize("network", ["127.0.0.0/8", "169.254.0.0/16", "::1/128", "0.0.0.0/0"])
def test_no_setting_can_open_loopback_or_metadata(network, monkeypatch):
    monkeypatch.setenv("ASKVIDEO_ALLOWED_PRIVATE_NETWORKS", network)
    with pytest.raises(ValueError, match="never fetched"):
        load_settings()


def test_a_download_that_is_not_media_is_never_kept_or_played(clean_db, settings, attacker, site):
    (site.root / "leak.mp4").write_text(SECRET)  # what a misconfigured service answers
    [sent] = submission.submit_link(clean_db, settings, attacker.id, f"{site.url}/leak.mp4", make_group=False,
                                      language="en").submissions
    assert processing.process_video(clean_db, settings, sent.video_id) == "error"
    with clean_db.session() as s:
        row = s.get(Video, sent.video_id)
        assert "not a video or audio file" in row.error_message and row.file is None
        assert library.playable(s, settings, attacker.id, row.id).media_path is None
    _no_secret_anywhere(clean_db, settings)
    with clean_db.session() as s:
        assert s.scalar(counted_videos(attacker.id)) == 0  # holds nothing, so it does not count


def test_a_rejected_upload_leaves_no_file_and_does_not_count(clean_db, settings, attacker, tmp_path):
    renamed = text_renamed(tmp_path / "notes.mp4")
    [result] = submission.submit_uploads(clean_db, settings, attacker.id,
                                     [UploadItem("notes.mp4", open(renamed, "rb"))], language="en")
    stored = video_file(clean_db, result.video_id)
    assert stored and storage.resolve(settings.media_dir, stored).exists()
    assert processing.process_video(clean_db, settings, result.video_id) == "error"
    with clean_db.session() as s:
        row = s.get(Video, result.video_id)
        assert row.status == "error" and "not a video or audio file" in row.error_message and row.file is None
        assert s.scalar(counted_videos(attacker.id)) == 0
    assert not storage.resolve(settings.media_dir, stored).exists()


def video_file(db, video_id):
    with db.session() as s:
        return s.get(Video, video_id).file


def test_two_tabs_uploading_at_once_cannot_pass_the_video_limit(clean_db, settings, attacker, tmp_path):
    """Limit 8, two tabs each uploading five different files at the same moment: 8 are kept."""
    import threading

    with clean_db.session() as s:
        s.get(User, attacker.id).video_limit = 8
    files = [video(tmp_path / f"v{n}.mp4", seconds=1 + n / 10) for n in range(10)]
    barrier, results, crashes = threading.Barrier(2), [], []

    def tab(paths):
        items = [UploadItem(p.name, io.BytesIO(p.read_bytes())) for p in paths]
        barrier.wait()
        try:
            results.extend(submission.submit_uploads(clean_db, settings, attacker.id, items, language="en"))
        except IngestError as refused:  # the whole batch, when the other tab was quicker
            results.extend(submission.Submission(p.name, None, "error", str(refused)) for p in paths)
        except Exception as error:  # noqa: BLE001 - a crash in a tab must fail the test, not vanish
            crashes.append(error)

    threads = [threading.Thread(target=tab, args=(files[:5],)), threading.Thread(target=tab, args=(files[5:],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert crashes == [] and len(results) == 10
    kept = sum(r.status == "queued" for r in results)
    with clean_db.session() as s:
        assert s.scalar(counted_videos(attacker.id)) == kept <= 8
    assert all("limit is 8 videos" in r.message for r in results if r.status == "error")


def test_retrying_a_failed_link_that_no_longer_counts_respects_the_limit(clean_db, settings, attacker, site, tmp_path):
    (site.root / "not-media.mp4").write_text(SECRET)
    [failed] = submission.submit_link(clean_db, settings, attacker.id, f"{site.url}/not-media.mp4", make_group=False,
                                  language="en").submissions
    assert processing.process_video(clean_db, settings, failed.video_id) == "error"
    with clean_db.session() as s:
        s.get(User, attacker.id).video_limit = 1
    submission.submit_uploads(clean_db, settings, attacker.id,
                          [UploadItem("talk.mp4", open(video(tmp_path / "t.mp4", seconds=3), "rb"))], language="en")
    with pytest.raises(IngestError, match="limit is 1 videos"):
        submission.retry(clean_db, attacker.id, failed.video_id)
