"""Local web sites for yt-dlp to read: direct media files, pages with <video>, and redirects.

The app never fetches links from loopback, so sites for it to read listen on a private test
address (tests/conftest.py); a site on 127.0.0.1 stands for a service only this server can reach.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def ensure_addresses(*addresses: str) -> bool:
    """Put each address on the loopback interface unless this machine already answers on it."""
    for address in addresses:
        if _bindable(address):
            continue
        subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], capture_output=True)
        if not _bindable(address):
            return False
    return True


def _bindable(address: str) -> bool:
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family) as s:
        try:
            s.bind((address, 0))
        except OSError:
            return False
    return True


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(self.path)
        target = self.server.redirects.get(self.path.split("?")[0])
        if target is None:
            return super().do_GET()
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()


class LocalSite:
    def __init__(self, root: Path, *, host: str = "127.0.0.1") -> None:
        self.root = root
        self.host = host
        handler = functools.partial(_Handler, directory=str(root))
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.server.redirects = {}
        self.server.requests = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        """The paths asked for so far: what reached this site."""
        return self.server.requests

    def redirect(self, path: str, to: str) -> str:
        """`path` answers with a redirect to `to`; returns its full address."""
        self.server.redirects[path] = to
        return f"{self.url}{path}"

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
