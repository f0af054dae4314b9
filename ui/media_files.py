"""Stored videos served to the browser from disk, not from memory.

Streamlit's media storage reads a whole file into memory on every `st.video(path)` call, so a
one-hour video would be re-read (and held, per process) on each click that reruns the page. This
teaches the running server's storage to keep a file path instead: the file is memory-mapped, the
browser's range requests read just the pages they need, and the id depends on the file's path,
size and modification time (so an unchanged file costs one `stat` per rerun).
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
from typing import NamedTuple

from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

log = logging.getLogger(__name__)


class DiskFile(NamedTuple):
    """Quacks like Streamlit's MemoryFile; `content` is a read-only view of the mapped file."""

    content: memoryview
    mimetype: str
    kind: MediaFileKind
    filename: str | None

    @property
    def content_size(self) -> int:
        return len(self.content)


def _map(path: str) -> memoryview:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return memoryview(b"")
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))


class DiskBackedMediaStorage(MemoryMediaFileStorage):
    def load_and_get_id(self, path_or_data, mimetype: str, kind: MediaFileKind, filename: str | None = None) -> str:
        if not isinstance(path_or_data, str):
            return super().load_and_get_id(path_or_data, mimetype, kind, filename)
        try:
            stat = os.stat(path_or_data)
        except OSError:
            return super().load_and_get_id(path_or_data, mimetype, kind, filename)  # its usual error
        file_id = hashlib.sha256(
            f"{os.path.realpath(path_or_data)}:{stat.st_size}:{stat.st_mtime_ns}:{mimetype}:{filename}".encode()
        ).hexdigest()[:40]
        if file_id not in self._files_by_id:
            self._files_by_id[file_id] = DiskFile(_map(path_or_data), mimetype, kind, filename)
        return file_id


def install() -> bool:
    """Switch the running server's media storage to the disk-backed one (once per process).

    The instance keeps its identity (the server's routes hold it); only its class changes. Returns
    False where there is no server runtime to change (AppTest, bare mode)."""
    from streamlit import runtime

    if not runtime.exists():
        return False
    storage = getattr(runtime.get_instance().media_file_mgr, "_storage", None)
    if type(storage) is MemoryMediaFileStorage:
        storage.__class__ = DiskBackedMediaStorage
        log.info("stored media is served from disk")
    return isinstance(storage, DiskBackedMediaStorage)
