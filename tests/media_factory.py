"""Test media made on the spot with the real ffmpeg: videos, silence, speech, captions."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from core.media import ffmpeg_exe

DATA = Path(__file__).resolve().parent / "data"
SPEECH = DATA / "speech.ogg"  # espeak-ng: "Welcome to the quarterly review of the research team." (0–3.6 s),
# silence, "Revenue grew by twenty percent in the third quarter." (5.6–9.4 s)


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=120)


_made: dict[tuple, Path] = {}


def video(path: Path, *, seconds: float = 6.0, audio: str | None = "tone", picture: bool = True) -> Path:
    """An H.264/AAC mp4 with a test picture and a tone, silence, speech or no audio.

    Each kind is encoded once per test run and copied after that: long test talks take seconds to encode."""
    key = (seconds, audio, picture)
    if key in _made and _made[key].exists():
        shutil.copyfile(_made[key], path)
        return path
    _encode(path, seconds=seconds, audio=audio, picture=picture)
    cached = Path(tempfile.mkdtemp(prefix="askvideo-media-")) / "video.mp4"
    shutil.copyfile(path, cached)
    _made[key] = cached
    return path


def _encode(path: Path, *, seconds: float, audio: str | None, picture: bool) -> Path:
    inputs: list[str] = []
    maps: list[str] = []
    if picture:
        inputs += ["-f", "lavfi", "-i", f"testsrc=size=320x240:rate=10:duration={seconds}"]
    if audio == "tone":
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    elif audio == "silence":
        inputs += ["-f", "lavfi", "-i", f"anullsrc=r=16000:cl=mono:d={seconds}"]
    elif audio == "speech":
        inputs += ["-i", str(SPEECH)]
    codecs = (["-c:v", "libx264", "-pix_fmt", "yuv420p"] if picture else ["-vn"]) + (
        ["-c:a", "aac"] if audio else ["-an"])
    _ffmpeg(*inputs, *maps, *codecs, "-t", str(seconds), str(path))
    return path


def long_speech_video(path: Path, *, times: int = 3) -> Path:
    """The speech said `times` over (9.4 s each) under a small test picture: a job whose
    transcription lasts long enough (about 8 s here for 3 times) to catch a worker or the database
    in the middle of it. Whisper's work grows faster than the audio for repeated speech: 6 times
    took 18 s."""
    audio = path.with_suffix(".ogg")
    _ffmpeg("-stream_loop", str(times - 1), "-i", str(SPEECH), "-c:a", "libopus", str(audio))
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=5", "-i", str(audio), "-shortest",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


def zero_second_video(path: Path) -> Path:
    """A valid mp4 container cut to 0 seconds: no frames, no samples."""
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-f", "lavfi", "-i", "sine", "-t", "0",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


def text_renamed(path: Path) -> Path:
    path.write_bytes(b"this is a text file renamed to look like a video\n" * 50)
    return path


def truncated_video(path: Path) -> Path:
    whole = video(path.with_name("whole-" + path.name), seconds=6).read_bytes()
    path.write_bytes(whole[:3000])
    return path


def audio_file(path: Path, *, source: Path = SPEECH) -> Path:
    _ffmpeg("-i", str(source), str(path))
    return path


def srt(cues: list[tuple[float, float, str]]) -> bytes:
    def stamp(t: float) -> str:
        ms = int(round(t * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    blocks = [f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues, 1)]
    return "\n".join(blocks).encode()


def vtt(cues: list[tuple[float, float, str]]) -> bytes:
    def stamp(t: float) -> str:
        ms = int(round(t * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    return ("WEBVTT\n\n" + "\n".join(f"{stamp(a)} --> {stamp(b)}\n{text}\n" for a, b, text in cues)).encode()


TALK = [
    (0.0, 4.0, "Welcome to the quarterly review of the research team."),
    (4.0, 9.0, "Revenue grew by twenty percent in the third quarter."),
    (9.0, 14.0, "Our biggest customer, Globex, renewed for three years."),
    (14.0, 20.0, "Next we discuss hiring plans for the Lisbon office."),
]
