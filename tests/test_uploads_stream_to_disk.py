"""Video files go from the browser to disk piece by piece, never into the web process's memory.

Before, a 600 MB upload added 573 MB to the web process and was still held two minutes after the
browser closed. These send files to the real app's PUT /uploads the way the Add videos page does.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import threading
import time
from urllib.parse import quote

import psutil
import pytest

from core import auth, submission, uploads
from core.config import load_settings
from core.submission import UploadItem
from db.models import Video
from tests.factories import make_account
from tests.media_factory import video


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def signed_in(clean_db, settings):
    with clean_db.session() as s:
        account = make_account(s, "uma")
        token = auth.start_session(s, account.id, days=1)
    with clean_db.session() as s:
        account = auth.account_for_token(s, token)
    return account, token, uploads.token(settings, account.session_id)


def put(web_app, name: str, body, *, upload_token: str, length: int | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", web_app.port, timeout=120)
    headers = {"X-Upload-Token": upload_token}
    if length is not None:
        headers["Content-Length"] = str(length)
    connection.request("PUT", f"{uploads.ROUTE}?name={quote(name)}", body=body, headers=headers,
                       encode_chunked=length is None)
    response = connection.getresponse()
    reply = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, reply


def staged_files(settings, user_id: int) -> list:
    folder = settings.media_dir / "uploads" / str(user_id)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.slow
def test_a_large_upload_is_written_to_disk_as_it_arrives(clean_db, settings, signed_in, web_app):
    account, _, upload_token = signed_in
    size, piece = 400 * 1024 * 1024, b"\x00\x01" * (512 * 1024)
    digest = hashlib.sha256()

    def body():
        for _ in range(size // len(piece)):
            digest.update(piece)
            yield piece

    server = psutil.Process(web_app.process.pid)
    before, peak, sending = server.memory_info().rss, [0], [True]

    def watch():
        while sending[0]:
            peak[0] = max(peak[0], server.memory_info().rss)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        status, reply = put(web_app, "Big talk.mp4", body(), upload_token=upload_token)
    finally:
        sending[0] = False
        watcher.join()
    assert status == 200 and reply["name"] == "Big talk.mp4" and reply["size"] == size
    assert (peak[0] - before) < 80 * 1024 * 1024, f"the web process grew by {(peak[0] - before) >> 20} MB"
    stored, name = uploads.claim(settings, account.id, reply["id"])
    assert stored.size == size and stored.sha256 == digest.hexdigest() and name == "Big talk.mp4"


def test_a_staged_upload_becomes_a_queued_video(clean_db, settings, signed_in, web_app, tmp_path):
    account, _, upload_token = signed_in
    data = video(tmp_path / "v.mp4", seconds=3).read_bytes()
    status, reply = put(web_app, "Team review.mp4", data, upload_token=upload_token, length=len(data))
    assert status == 200
    [result] = submission.submit_uploads(clean_db, settings, account.id, [
        UploadItem(reply["name"], staged_id=reply["id"], title="Review")], language="en")
    assert result.status == "queued"
    with clean_db.session() as s:
        row = s.get(Video, result.video_id)
        assert row.file_size == len(data) and row.sha256 == hashlib.sha256(data).hexdigest()
        assert row.original_filename == "Team review.mp4"
    assert staged_files(settings, account.id) == []  # moved, not copied
    with pytest.raises(Exception, match="no longer waiting"):  # a staged file is added once
        uploads.claim(settings, account.id, reply["id"])


def test_uploads_are_refused_without_a_signed_in_session_or_for_files_that_cannot_be_videos(
        clean_db, settings, signed_in, web_app):
    account, session_token, upload_token = signed_in
    assert put(web_app, "a.mp4", b"x" * 10, upload_token="")[0] == 403
    assert put(web_app, "a.mp4", b"x" * 10, upload_token=upload_token[:-2] + "00")[0] == 403
    status, reply = put(web_app, "notes.txt", b"x" * 10, upload_token=upload_token)
    assert status == 415 and "Unsupported file type '.txt'" in reply["error"]
    status, reply = put(web_app, "empty.mp4", b"", upload_token=upload_token, length=0)
    assert status == 400 and "empty" in reply["error"]
    with clean_db.session() as s:
        auth.sign_out(s, session_token)
    status, reply = put(web_app, "a.mp4", b"x" * 10, upload_token=upload_token)
    assert status == 403 and "signed out" in reply["error"]
    assert staged_files(settings, account.id) == []


def test_a_file_announced_larger_than_the_limit_is_refused_before_its_bytes(clean_db, settings, signed_in, web_app):
    _, _, upload_token = signed_in
    with socket.create_connection(("127.0.0.1", web_app.port), timeout=30) as raw:
        raw.sendall(f"PUT {uploads.ROUTE}?name=huge.mp4 HTTP/1.1\r\nHost: x\r\nX-Upload-Token: {upload_token}\r\n"
                    f"Content-Length: {(settings.max_upload_mb + 1) * 1024 * 1024}\r\n\r\n".encode())
        answer = b""
        while b"limit" not in answer and (more := raw.recv(4096)):
            answer += more
        answer = answer.decode()
    assert " 413 " in answer.splitlines()[0] and f"{settings.max_upload_mb} MB limit" in answer


def test_an_upload_cut_off_midway_leaves_nothing_behind(clean_db, settings, signed_in, web_app):
    account, _, upload_token = signed_in
    with socket.create_connection(("127.0.0.1", web_app.port), timeout=30) as raw:
        raw.sendall(f"PUT {uploads.ROUTE}?name=cut.mp4 HTTP/1.1\r\nHost: x\r\nX-Upload-Token: {upload_token}\r\n"
                    f"Content-Length: {50 * 1024 * 1024}\r\n\r\n".encode() + b"\x00" * (2 * 1024 * 1024))
        time.sleep(0.5)
    deadline = time.monotonic() + 10
    while staged_files(settings, account.id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert staged_files(settings, account.id) == []


def test_staged_uploads_nobody_added_are_swept_after_a_day(clean_db, settings, signed_in, web_app):
    account, _, upload_token = signed_in
    status, reply = put(web_app, "forgotten.mp4", b"x" * 1000, upload_token=upload_token, length=1000)
    assert status == 200 and len(staged_files(settings, account.id)) == 2  # the file and what it is
    assert uploads.sweep(settings) == 0
    assert uploads.sweep(settings, now=time.time() + uploads.STAGED_FOR_S + 1) == 1
    assert staged_files(settings, account.id) == []
