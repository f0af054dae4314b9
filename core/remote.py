"""Videos behind links — YouTube videos and playlists, or any page yt-dlp understands — via yt-dlp.

Every yt-dlp failure becomes a message a user can act on (private, removed, not found,
unsupported); network trouble is transient and retried by the job queue.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yt_dlp
from yt_dlp.utils import DownloadError, ExtractorError

from core import media
from core.errors import IngestError, TransientIngestError

MAX_PLAYLIST_ENTRIES = 500
UNAVAILABLE_TITLES = {"[private video]", "[deleted video]", "[unavailable video]"}


@dataclass(frozen=True)
class RemoteVideo:
    url: str
    title: str
    external_id: str | None
    extractor: str | None
    duration_s: float | None = None
    channel: str | None = None
    thumbnail_url: str | None = None
    published_on: date | None = None
    description: str = ""

    @property
    def is_youtube(self) -> bool:
        return (self.extractor or "").lower().startswith("youtube")


@dataclass(frozen=True)
class RemoteListing:
    is_playlist: bool
    title: str | None
    videos: list[RemoteVideo]
    unavailable: int  # playlist entries skipped as private, deleted or unavailable


def web_address(value: object) -> str | None:
    """`value` if it is an http(s) address, else None. Every address a page's metadata gives us
    passes here before it is stored: a bare path or a file:// link handed to the player would
    be read from this server's own disk and served to the browser."""
    url = str(value or "").strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 2000 or re.search(r"\s", url):
        return None
    return url


# Link-local addresses hold cloud metadata services (169.254.169.254: the machine's credentials);
# no video lives there. Private networks stay allowed: internal teams host videos on them.
_NEVER_FETCHED = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


def validate_url(url: str) -> str:
    """A web address worth fetching: http(s), and not at a link-local (metadata) address."""
    checked = web_address(url)
    if checked is None:
        raise IngestError("That is not a valid web address; paste a link starting with https://")
    host = urlparse(checked).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return checked  # unresolvable now: yt-dlp reports it (and retries if it is passing)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if any(ip in network for network in _NEVER_FETCHED):
            raise IngestError("That address is on this server's own link-local network; videos are not "
                              "fetched from there.")
    return checked


def _options(**extra) -> dict:
    return {
        "quiet": True, "no_warnings": True, "noprogress": True, "socket_timeout": 30, "retries": 2,
        "ffmpeg_location": media.ffmpeg_exe(), "logger": _SilentLogger(), "cachedir": False, **extra,
    }


class _SilentLogger:
    def debug(self, msg: str) -> None: ...
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...


def _explain(error: Exception) -> Exception:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    low = text.lower()
    # Passing trouble first: "HTTP Error 503: Service Unavailable" is not a removed video.
    if re.search(r"http error (429|5\d\d)\b", low) or any(
            w in low for w in ("timed out", "timeout", "temporary", "temporarily", "name resolution",
                               "network is unreachable", "connection reset", "connection refused")):
        return TransientIngestError(f"Could not reach the video's site: {text[:200]}")
    if "not a bot" in low:
        return TransientIngestError("YouTube asked to confirm this is not a bot (it limits downloads from "
                                    "servers); try again later.")
    if "private" in low:
        return IngestError("This video is private; only its owner can watch it.")
    if "sign in" in low or "members-only" in low or "age" in low and "confirm" in low:
        return IngestError("This video needs a signed-in account to watch, so it cannot be added.")
    if "unsupported url" in low:
        return IngestError("No video was found at that address (unsupported site or page without a video).")
    if "404" in low or "not found" in low or "does not exist" in low:
        return IngestError("Nothing was found at that address (404); check the link.")
    if "unavailable" in low or "removed" in low or "terminated" in low:
        return IngestError("This video is unavailable (removed, blocked or private).")
    if "403" in low or "forbidden" in low:
        return IngestError("The site refused access to this video (403).")
    if "connection" in low or re.search(r"\b(429|502|503|504)\b", low):
        return TransientIngestError(f"Could not reach the video's site: {text[:200]}")
    return IngestError(f"Could not read that link: {text[:300]}")


def _date(raw: str | None) -> date | None:
    if raw and re.fullmatch(r"\d{8}", raw):
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError:
            return None
    return None


def _video(info: dict, fallback_url: str | None) -> RemoteVideo | None:
    """One video from yt-dlp's metadata; None when it gives no web address to fetch it from."""
    url = next((u for u in (web_address(info.get(k)) for k in ("webpage_url", "original_url", "url")) if u),
               fallback_url)
    if info.get("ie_key", "").lower().startswith("youtube") and info.get("id") and not url:
        url = f"https://www.youtube.com/watch?v={info['id']}"
    if not url:
        return None
    thumbnails = info.get("thumbnails") or []
    thumb = web_address(info.get("thumbnail") or (thumbnails[-1].get("url") if thumbnails else None))
    return RemoteVideo(
        url=url,
        title=str(info.get("title") or info.get("id") or "Untitled video")[:500],
        external_id=str(info["id"]) if info.get("id") else None,
        extractor=info.get("extractor_key") or info.get("ie_key") or info.get("extractor"),
        duration_s=float(info["duration"]) if info.get("duration") else None,
        channel=(info.get("channel") or info.get("uploader") or None),
        thumbnail_url=thumb,
        published_on=_date(info.get("upload_date")),
        description=str(info.get("description") or "")[:5000],
    )


def _extract(url: str, **options) -> dict:
    """yt-dlp's metadata for a link, without downloading; its errors become user messages."""
    try:
        with yt_dlp.YoutubeDL(_options(**options)) as ydl:
            info = ydl.extract_info(url, download=False)
    except (DownloadError, ExtractorError) as error:
        raise _explain(error) from None
    if info is None:
        raise IngestError("No video was found at that address.")
    return info


def video_in_playlist(url: str) -> bool:
    """A link to one YouTube video played inside a playlist or a mix (`watch?v=…&list=…`): what
    the address bar shows while a playlist plays. People pasting it usually mean that video."""
    parsed = urlparse(url)
    host = parsed.netloc.lower().split(":")[0].removeprefix("www.").removeprefix("m.").removeprefix("music.")
    query = parse_qs(parsed.query)
    if "list" not in query:
        return False
    if host == "youtube.com":
        return parsed.path in ("/watch", "/watch/") and bool(query.get("v"))
    return host == "youtu.be" and len(parsed.path.strip("/")) > 0


def inspect_url(url: str, *, whole_playlist: bool = False) -> RemoteListing:
    """What a link holds — one video, or a playlist's entries in order — without downloading. A
    link to a video inside a playlist means that video unless `whole_playlist` asks for the list."""
    url = validate_url(url)
    just_the_video = video_in_playlist(url) and not whole_playlist
    info = _extract(url, extract_flat="in_playlist", playlistend=MAX_PLAYLIST_ENTRIES, noplaylist=just_the_video)
    if info.get("_type") in ("playlist", "multi_video"):
        videos, unavailable = [], 0
        for entry in info.get("entries") or []:
            if not entry or str(entry.get("title", "")).strip().lower() in UNAVAILABLE_TITLES:
                unavailable += 1
                continue
            # An entry is fetched from its own address, never the list's: one without a web
            # address (a feed item pointing at a path or file://) is skipped.
            video = _video(entry, None)
            if video and entry.get("formats") and entry.get("url") and entry.get("webpage_url") == info.get("webpage_url"):
                # Several videos embedded in one page share its address: keep each one's own media URL.
                own = web_address(entry["url"])
                video = dataclasses.replace(video, url=own) if own else None
            if video is None:
                unavailable += 1
                continue
            videos.append(video)
        if not videos:
            raise IngestError("This playlist has no available videos.")
        # A page with a single embedded video is reported as a one-entry playlist: treat it as a video.
        is_playlist = len(videos) > 1 or ("list=" in url and not just_the_video)
        return RemoteListing(is_playlist, info.get("title") if is_playlist else None, videos, unavailable)
    return RemoteListing(False, None, [_video(info, url)], 0)  # `url` is checked: never None


def video_details(url: str) -> tuple[RemoteVideo, dict]:
    """Full metadata for one video, with the raw info (caption tracks) for the next steps."""
    url = validate_url(url)  # stored links are checked again: rows may predate a rule
    info = _extract(url, noplaylist=True)
    if info.get("_type") in ("playlist", "multi_video"):
        entries = [e for e in info.get("entries") or [] if e]
        if not entries:
            raise IngestError("No video was found at that address.")
        info = entries[0]
    return _video(info, url), info


def _pick_track(tracks: dict, languages: tuple[str, ...]) -> tuple[str, dict] | None:
    if not tracks:
        return None
    langs = list(tracks)
    ordered = []
    for wanted in languages:
        ordered += [lang for lang in langs if lang == wanted]
        ordered += [lang for lang in langs if lang.split("-")[0] == wanted.split("-")[0] and lang not in ordered]
    if not ordered:
        ordered = langs[:1]
    for lang in ordered:
        formats = [f for f in tracks[lang] or [] if f.get("url")]
        for ext in ("vtt", "srt"):
            for fmt in formats:
                if fmt.get("ext") == ext:
                    return lang, fmt
    return None


def download_captions(info: dict, languages: tuple[str, ...]) -> tuple[bytes, str, str] | None:
    """Manual captions in a wanted language, else automatic ones: (bytes, language, kind)."""
    # Automatic tracks are listed for every translation language; only the original one is honest.
    for kind, tracks in (("remote_captions", info.get("subtitles")),
                         ("remote_auto_captions", _original_auto(info))):
        picked = _pick_track(tracks or {}, languages)
        if picked is None:
            continue
        lang, fmt = picked
        try:
            with yt_dlp.YoutubeDL(_options()) as ydl:
                data = ydl.urlopen(fmt["url"]).read()
        except Exception as error:  # yt-dlp raises its own network error types
            raise _explain(error) from None
        return data, lang, kind
    return None


def _original_auto(info: dict) -> dict:
    auto = info.get("automatic_captions") or {}
    originals = {k: v for k, v in auto.items() if k.endswith("-orig")}
    return {k.removesuffix("-orig"): v for k, v in originals.items()} or auto


def download_media(url: str, dest_dir: Path, *, audio_only: bool, max_bytes: int) -> Path:
    """Download the media (or just its audio) into dest_dir; returns the file."""
    url = validate_url(url)
    fmt = "bestaudio/best" if audio_only else "best[ext=mp4]/best"
    options = _options(noplaylist=True, format=fmt, outtmpl=str(dest_dir / "download.%(ext)s"),
                       max_filesize=max_bytes, overwrites=True)
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            ydl.extract_info(url, download=True)
    except (DownloadError, ExtractorError) as error:
        raise _explain(error) from None
    files = [p for p in dest_dir.glob("download.*") if not p.name.endswith((".part", ".ytdl"))]
    if not files:
        raise IngestError(f"The video could not be downloaded (larger than {max_bytes // 2**20} MB, or empty).")
    return files[0]
