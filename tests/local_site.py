"""A local web site on 127.0.0.1 for yt-dlp to read: direct media files and pages with <video>."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


class LocalSite:
    def __init__(self, root: Path) -> None:
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def page_with_video(self, name: str, media: str, *, title: str, track: str | None = None) -> str:
        track_tag = f'<track kind="subtitles" src="{track}" srclang="en" label="English">' if track else ""
        (self.root / name).write_text(
            f"<!doctype html><html><head><title>{title}</title></head><body>"
            f'<video controls><source src="{media}" type="video/mp4">{track_tag}</video></body></html>'
        )
        return f"{self.url}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
