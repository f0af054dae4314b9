"""Videos behind links — YouTube videos and playlists, or any page yt-dlp understands — via yt-dlp.

A link is hostile input. yt-dlp runs in a child process of its own (`python -m core.remote`)
whose every connection — the page, each redirect, embedded media, captions — is checked against
the installation's address policy at connect time (core/address_policy.py), so it cannot be
pointed at this server, its cloud metadata or a network the installation did not list. The
child also caps what it may write and how long it may run, and dies with its parent.

Every yt-dlp failure becomes a message a user can act on (private, removed, not found,
unsupported); network trouble is transient and retried by the job queue.
"""

from __future__ import annotations

import base64
import ctypes
import dataclasses
import json
import logging
import os
import re
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

# yt-dlp's curl_cffi backend connects from C, past the audit hook that enforces the address
# policy: keep it out, so every connection goes through Python's sockets.
sys.modules.setdefault("curl_cffi", None)

import yt_dlp  # noqa: E402
from yt_dlp.utils import DownloadError, ExtractorError  # noqa: E402

from core import address_policy, media  # noqa: E402
from core.config import PROJECT_ROOT, load_settings  # noqa: E402
from core.errors import IngestError, TransientIngestError  # noqa: E402
from db.states import TranscriptSource  # noqa: E402

log = logging.getLogger(__name__)

MAX_PLAYLIST_ENTRIES = 500
UNAVAILABLE_TITLES = {"[private video]", "[deleted video]", "[unavailable video]"}


def is_youtube_extractor(extractor: str | None) -> bool:
    """Whether yt-dlp's extractor name ("youtube", "youtube:tab", "Youtube") says YouTube."""
    return (extractor or "").lower().startswith("youtube")


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
        return is_youtube_extractor(self.extractor)


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


def validate_url(url: str) -> str:
    """A web address worth handing to yt-dlp: http(s), of a sane length. Where it leads is checked
    at each connection, in the fetching process."""
    checked = web_address(url)
    if checked is None:
        raise IngestError("That is not a valid web address; paste a link starting with https://")
    return checked


# Only protocols yt-dlp downloads itself, over the guarded sockets: never rtmp/rtsp/mms, which it
# hands to ffmpeg or rtmpdump, programs that would connect wherever a page says.
_OWN_PROTOCOLS = "[protocol^=http]", "[protocol^=m3u8]"


def _formats(*wanted: str) -> str:
    return "/".join(f"{w}{p}" for w in wanted for p in _OWN_PROTOCOLS)


def _options(**extra) -> dict:
    return {
        "quiet": True, "no_warnings": True, "noprogress": True, "socket_timeout": 30, "retries": 2,
        "ffmpeg_location": media.ffmpeg_exe(), "logger": _SilentLogger(), "cachedir": False,
        "external_downloader": {"default": "native"}, "concurrent_fragment_downloads": 1, **extra,
    }


class _SilentLogger:
    def debug(self, msg: str) -> None: ...
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...


def _site(url: str | None) -> str:
    host = (urlparse(url or "").hostname or "").removeprefix("www.").removeprefix("m.")
    if host in ("youtube.com", "youtu.be", "music.youtube.com"):
        return "YouTube"
    return host or "The video's site"


# Network trouble, by what the downloader's message says, in words a user reads.
_UNREACHABLE = (
    (("name resolution", "failed to resolve", "nodename nor servname", "getaddrinfo"), "its name could not be looked up"),
    (("connection refused",), "it refused the connection"),
    (("timed out", "timeout"), "it did not answer in time"),
    (("network is unreachable", "no route to host"), "there is no network route to it"),
    (("connection reset", "connection aborted", "remote end closed"), "the connection was cut"),
)


def _explain(error: Exception, url: str | None = None) -> Exception:
    """A downloader failure as a message in whole sentences (the raw text goes to the log):
    passing trouble is a TransientIngestError, the rest an IngestError."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    low = text.lower()
    log.info("yt-dlp failed for %s: %s", url, text[:1000])
    site = _site(url)
    # Passing trouble first: "HTTP Error 503: Service Unavailable" is not a removed video.
    if busy := re.search(r"http error (429|5\d\d)\b", low):
        return TransientIngestError(f"{site} is busy or limiting requests right now (HTTP {busy.group(1)}); "
                                    "try again later.")
    for signs, why in _UNREACHABLE:
        if any(sign in low for sign in signs):
            return TransientIngestError(f"{site} could not be reached from this server: {why}. "
                                        "Try again later, or ask whoever runs this server to check its network.")
    if "temporary" in low or "temporarily" in low:
        return TransientIngestError(f"{site} is temporarily unavailable; try again later.")
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
        return TransientIngestError(f"{site} could not be reached from this server; try again later.")
    return IngestError("That link could not be read as a video (the downloader gave no reason a person can act "
                       "on); check that it opens a video in your browser.")


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
    if is_youtube_extractor(info.get("ie_key")) and info.get("id") and not url:
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
        raise _explain(error, url) from None
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


def _inspect(url: str, whole_playlist: bool) -> RemoteListing:
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


def _details(url: str, languages: list[str]) -> tuple[RemoteVideo, Captions | None]:
    info = _extract(url, noplaylist=True)
    if info.get("_type") in ("playlist", "multi_video"):
        entries = [e for e in info.get("entries") or [] if e]
        if not entries:
            raise IngestError("No video was found at that address.")
        info = entries[0]
    return _video(info, url), _download_captions(info, tuple(languages))


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


@dataclass(frozen=True)
class Captions:
    data: bytes
    language: str
    kind: TranscriptSource  # REMOTE_CAPTIONS (written by people) or REMOTE_AUTO_CAPTIONS


def _download_captions(info: dict, languages: tuple[str, ...]) -> Captions | None:
    """Manual captions in a wanted language, else automatic ones."""
    # Automatic tracks are listed for every translation language; only the original one is honest.
    for kind, tracks in ((TranscriptSource.REMOTE_CAPTIONS, info.get("subtitles")),
                         (TranscriptSource.REMOTE_AUTO_CAPTIONS, _original_auto(info))):
        picked = _pick_track(tracks or {}, languages)
        if picked is None:
            continue
        lang, fmt = picked
        if web_address(fmt["url"]) is None:
            continue  # a track named by path or file:// would be read from this server's disk
        try:
            with yt_dlp.YoutubeDL(_options()) as ydl:
                data = ydl.urlopen(fmt["url"]).read()
        except Exception as error:  # yt-dlp raises its own network error types
            raise _explain(error, fmt["url"]) from None
        return Captions(data, lang, kind)
    return None


def _original_auto(info: dict) -> dict:
    auto = info.get("automatic_captions") or {}
    originals = {k: v for k, v in auto.items() if k.endswith("-orig")}
    return {k.removesuffix("-orig"): v for k, v in originals.items()} or auto


def _download(url: str, dest_dir: str, audio_only: bool, max_bytes: int) -> str:
    dest = Path(dest_dir)
    fmt = _formats("bestaudio", "best") if audio_only else _formats("best[ext=mp4]", "best")
    options = _options(noplaylist=True, format=fmt, outtmpl=str(dest / "download.%(ext)s"),
                       max_filesize=max_bytes, overwrites=True)
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            ydl.extract_info(url, download=True)
    except (DownloadError, ExtractorError) as error:
        if "File too large" in str(error) or "Errno 27" in str(error):
            raise IngestError(f"The video is larger than {max_bytes // 2**20} MB.") from None
        raise _explain(error, url) from None
    files = [p for p in dest.glob("download.*") if not p.name.endswith((".part", ".ytdl"))]
    if not files:
        raise IngestError(f"The video could not be downloaded (larger than {max_bytes // 2**20} MB, or empty).")
    return str(files[0])


# ---------------------------------------------------------------- what the app calls (parent side)

INSPECT_SECONDS = 300  # a playlist of 500 entries is read in one go
DOWNLOAD_SECONDS = 6 * 3600


def inspect_url(url: str, *, whole_playlist: bool = False) -> RemoteListing:
    """What a link holds — one video, or a playlist's entries in order — without downloading. A
    link to a video inside a playlist means that video unless `whole_playlist` asks for the list."""
    reply = _in_child("inspect", INSPECT_SECONDS, url=validate_url(url), whole_playlist=whole_playlist)
    return RemoteListing(reply["is_playlist"], reply["title"], [_video_from(v) for v in reply["videos"]],
                         reply["unavailable"])


def video_details(url: str, languages: tuple[str, ...]) -> tuple[RemoteVideo, Captions | None]:
    """Full metadata for one video, with its captions in the first of `languages` the site has
    (written by people before automatic ones), or None."""
    reply = _in_child("details", INSPECT_SECONDS, url=validate_url(url), languages=list(languages))
    found = reply["captions"]
    captions = Captions(base64.b64decode(found["data"]), found["language"], found["kind"]) if found else None
    return _video_from(reply["video"]), captions


def download_media(url: str, dest_dir: Path, *, audio_only: bool, max_bytes: int) -> Path:
    """Download the media (or just its audio) into dest_dir; returns the file. What arrives is
    not checked here: the caller probes it before keeping it."""
    return Path(_in_child("download", DOWNLOAD_SECONDS, url=validate_url(url), dest_dir=str(dest_dir),
                          audio_only=audio_only, max_bytes=max_bytes))


def _video_from(fields: dict) -> RemoteVideo:
    published = fields.get("published_on")
    return RemoteVideo(**{**fields, "published_on": date.fromisoformat(published) if published else None})


# What the child may see of the environment: not the database, the secret key or users' keys
# (it handles hostile pages), and not proxy settings (a proxy would fetch past the policy).
_CHILD_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONPATH", "SSL_CERT_FILE", "SSL_CERT_DIR")


def _in_child(operation: str, timeout: float, **arguments) -> dict | str:
    """Run one operation in the guarded child and return its result, or raise its error."""
    allowed = [str(network) for network in load_settings().fetch_policy.allowed_private]
    try:
        done = subprocess.run([sys.executable, "-m", "core.remote"], input=json.dumps(
            {"operation": operation, "arguments": arguments, "allowed_private": allowed}), capture_output=True,
            text=True, timeout=timeout, cwd=PROJECT_ROOT,
            env={k: os.environ[k] for k in _CHILD_ENVIRONMENT if k in os.environ})
    except subprocess.TimeoutExpired:
        raise TransientIngestError("The video's site took too long to answer.") from None
    try:
        reply = json.loads(done.stdout)
    except ValueError:
        log.error("the link fetcher stopped (exit %s): %s", done.returncode, done.stderr[-2000:])
        raise IngestError("Reading this link failed unexpectedly; the error was logged.") from None
    if "refused" in reply:
        raise IngestError(address_policy.explain(tuple(reply["refused"])))
    if "error" in reply:
        failed = TransientIngestError if reply["error"]["transient"] else IngestError
        raise failed(reply["error"]["message"])
    return reply["result"]


# ---------------------------------------------------------------- the child process


def _jsonable(result: object) -> object:
    if isinstance(result, RemoteListing):
        return {**dataclasses.asdict(result), "videos": [_jsonable(v) for v in result.videos]}
    if isinstance(result, RemoteVideo):
        fields = dataclasses.asdict(result)
        return {**fields, "published_on": result.published_on.isoformat() if result.published_on else None}
    if isinstance(result, tuple):  # details: (video, captions)
        video, captions = result
        return {"video": _jsonable(video), "captions": None if captions is None else {
            "data": base64.b64encode(captions.data).decode(), "language": captions.language, "kind": captions.kind}}
    return result


_OPERATIONS = {"inspect": _inspect, "details": _details, "download": _download}
_MEMORY_BYTES = 2 * 1024**3


def _die_with_parent() -> None:
    """A worker killed mid-download takes its fetcher along instead of leaving it running."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _main() -> None:
    _die_with_parent()
    request = json.loads(sys.stdin.read())
    arguments = request["arguments"]
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))
    if request["operation"] == "download":
        # Writing past the size limit fails (EFBIG) even when the site hid the size.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        cap = arguments["max_bytes"] + 1024**2
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
    refused: list[tuple[str, str]] = []
    policy = address_policy.AddressPolicy(address_policy.parse_networks(",".join(request["allowed_private"])))
    address_policy.guard_connections(policy, refused)
    reply_to, sys.stdout = sys.stdout, sys.stderr  # nothing but the reply reaches the parent
    try:
        reply = {"result": _jsonable(_OPERATIONS[request["operation"]](**arguments))}
    except Exception as error:
        if refused:  # whatever yt-dlp made of it, the link led somewhere it may not go
            reply = {"refused": refused[0]}
        elif isinstance(error, (IngestError, TransientIngestError)):
            reply = {"error": {"transient": isinstance(error, TransientIngestError), "message": str(error)}}
        else:
            raise  # a bug: the traceback goes to stderr, which the parent logs
    json.dump(reply, reply_to)


if __name__ == "__main__":
    _main()
