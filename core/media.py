"""What a media file is and what we can make of it, with ffmpeg from a wheel (imageio-ffmpeg)
and PyAV for probing — no system install needed."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import imageio_ffmpeg

from core.errors import IngestError


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    width: int | None
    height: int | None
    has_audio: bool
    has_video: bool


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: Path) -> MediaInfo:
    """Read duration, size and streams; a file that is not playable media is an `IngestError`."""
    if path.stat().st_size == 0:
        raise IngestError("The file is empty (0 bytes).")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            video = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = container.duration / av.time_base if container.duration else 0.0
            if not duration:
                for stream in (video, audio):
                    if stream is not None and stream.duration and stream.time_base:
                        duration = max(duration, float(stream.duration * stream.time_base))
            info = MediaInfo(
                duration_s=float(duration),
                width=video.codec_context.width if video else None,
                height=video.codec_context.height if video else None,
                has_audio=audio is not None,
                has_video=video is not None,
            )
    except (av.FFmpegError, UnicodeDecodeError, IndexError, ValueError):
        raise IngestError(
            "This file is not a video or audio file we can read (it may be corrupt, truncated or "
            "of another type renamed)."
        ) from None
    if not info.has_audio and not info.has_video:
        raise IngestError("This video is empty: it has no picture or sound (0 seconds).")
    if info.duration_s <= 0.05:
        raise IngestError("This video is empty (0 seconds long).")
    return info


def run_ffmpeg(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """ffmpeg quiet, overwriting, never reading stdin; the caller checks the return code. A run
    past `timeout` is killed and fails like any other (return code -9), so each caller's own
    message and fallback apply (a slow poster frame is skipped, not the video failed)."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        return subprocess.CompletedProcess(command, -9, expired.stdout or b"", expired.stderr or b"timed out")


def make_thumbnail(source: Path, dest: Path, *, at_seconds: float) -> bool:
    """A poster frame, 480 px wide. False when the file has no picture to take."""
    done = run_ffmpeg(["-ss", f"{max(0.0, at_seconds):.2f}", "-i", str(source), "-frames:v", "1",
                 "-vf", "scale=480:-2", "-q:v", "4", str(dest)], timeout=120)
    return done.returncode == 0 and dest.exists() and dest.stat().st_size > 0


def extract_audio(source: Path, dest: Path, *, sample_rate: int = 16000, bitrate: str | None = None) -> Path:
    """Mono audio for speech-to-text: 16 kHz WAV, or a compressed file when a bitrate is given."""
    codec = ["-c:a", "libmp3lame", "-b:a", bitrate] if bitrate else ["-c:a", "pcm_s16le"]
    done = run_ffmpeg(["-i", str(source), "-vn", "-ac", "1", "-ar", str(sample_rate), *codec, str(dest)],
                timeout=3600)
    if done.returncode != 0 or not dest.exists():
        raise IngestError("Could not read the audio track of this file; it may be corrupt.")
    return dest


def cut_audio(source: Path, dest: Path, *, start: float, length: float, bitrate: str = "48k") -> Path:
    done = run_ffmpeg(["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(source), "-vn", "-ac", "1",
                 "-ar", "16000", "-c:a", "libmp3lame", "-b:a", bitrate, str(dest)], timeout=600)
    if done.returncode != 0:
        raise IngestError("Could not split the audio for speech-to-text.")
    return dest
