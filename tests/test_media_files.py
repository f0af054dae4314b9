"""Stored videos reach the browser from disk: stable ids, byte ranges, nothing read up front."""

from __future__ import annotations

import os

from streamlit.runtime.media_file_storage import MediaFileKind

from ui.media_files import DiskBackedMediaStorage


def test_a_stored_video_is_served_from_its_file_by_range(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    storage = DiskBackedMediaStorage("/media")
    first = storage.load_and_get_id(str(video), "video/mp4", MediaFileKind.MEDIA)
    assert storage.load_and_get_id(str(video), "video/mp4", MediaFileKind.MEDIA) == first  # one stat per rerun
    served = storage.get_file(first + ".mp4")
    assert served.content_size == 1024 * 1024
    assert isinstance(served.content, memoryview) and not isinstance(served.content.obj, bytes)  # mapped, not read
    assert bytes(served.content[1000:1010]) == (bytes(range(256)) * 4096)[1000:1010]
    # A changed file is a new media file; bytes still go the usual way.
    os.utime(video, ns=(1, 1))
    assert storage.load_and_get_id(str(video), "video/mp4", MediaFileKind.MEDIA) != first
    in_memory = storage.load_and_get_id(b"abc", "video/mp4", MediaFileKind.MEDIA)
    assert bytes(storage.get_file(in_memory).content) == b"abc"
