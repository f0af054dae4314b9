"""Test media made on the spot with the real ffmpeg: videos, silence, speech, captions."""

from __future__ import annotations

import atexit
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
_CACHE = Path(tempfile.mkdtemp(prefix="askvideo-media-"))  # one per test run, gone when it ends
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


def video(path: Path, *, seconds: float = 6.0, audio: str | None = "tone", picture: bool = True) -> Path:
    """An H.264/AAC mp4 with a test picture and a tone, silence, speech or no audio.

    Each kind is encoded once per test run and copied after that: long test talks take seconds to encode."""
    key = (seconds, audio, picture)
    if key in _made and _made[key].exists():
        shutil.copyfile(_made[key], path)
        return path
    _encode(path, seconds=seconds, audio=audio, picture=picture)
    cached = _CACHE / f"{seconds}-{audio}-{picture}.mp4"
    shutil.copyfile(path, cached)
    _made[key] = cached
    return path


def _encode(path: Path, *, seconds: float, audio: str | None, picture: bool) -> Path:
    inputs: list[str] = []
    maps: list[str] = []
    if picture:
        # colour bars, not ffmpeg's testsrc: its frame counter is text on screen, read into every video
        inputs += ["-f", "lavfi", "-i", f"smptebars=size=320x240:rate=10:duration={seconds}"]
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
    _ffmpeg("-f", "lavfi", "-i", "smptebars=size=160x120:rate=5", "-i", str(audio), "-shortest",
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


_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
          "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
_MONO_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf")


def font_file(*, mono: bool = False) -> Path:
    """A TrueType font on this machine for ffmpeg's drawtext."""
    for name in _MONO_FONTS if mono else _FONTS:
        if Path(name).exists():
            return Path(name)
    found = sorted(Path("/usr/share/fonts").rglob("*Mono*.ttf" if mono else "*.ttf"))
    if not found:
        raise FileNotFoundError("no .ttf font under /usr/share/fonts for drawtext")
    return found[0]


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", r"'\''") + "'"


def _with_audio(seconds: float, audio: str | None) -> tuple[list[str], list[str]]:
    if audio == "silence":
        return ["-f", "lavfi", "-i", f"anullsrc=r=16000:cl=mono:d={seconds}"], ["-c:a", "aac"]
    return [], ["-an"]


def slides(path: Path, shown: list[tuple[str, float, float]], *, size: str = "1280x720",
           fontsize: int = 56, fps: int = 10, audio: str | None = None, pointer: bool = False) -> Path:
    """A slide talk: each (text, start, end) drawn black on white, centred, from start to end;
    newlines in a text make lines of one slide. The video lasts until the last slide ends. With
    `pointer`, a presenter's red dot wanders over the slides all along.

    Texts go through files (textfile, no expansion) so percent signs, colons and quotes need no escaping."""
    seconds = max(end for _, _, end in shown)
    font = font_file()
    filters = []
    for n, (text, start, end) in enumerate(shown):
        text_path = path.with_name(f"{path.stem}-slide{n}.txt")
        text_path.write_text(text)
        filters.append(f"drawtext=fontfile={_quoted(font)}:textfile={_quoted(text_path)}:expansion=none:"
                       f"fontsize={fontsize}:fontcolor=black:line_spacing=16:x=(w-tw)/2:y=(h-th)/2:"
                       f"enable='gte(t,{start})*lt(t,{end})'")
    graph = "[0:v]" + ",".join(filters)
    if pointer:
        graph += (f"[slides];color=c=red:s=64x64:r={fps}[dot];"
                  "[slides][dot]overlay=x='W/2+W/3*sin(t/2)':y='H*0.7+H/10*cos(t/3)':shortest=1")
    audio_in, audio_codec = _with_audio(seconds, audio)
    _ffmpeg("-f", "lavfi", "-i", f"color=c=white:s={size}:r={fps}:d={seconds}", *audio_in,
            "-filter_complex", graph + "[v]", "-map", "[v]", *(["-map", "1:a"] if audio_in else []),
            "-c:v", "libx264", "-pix_fmt", "yuv420p", *audio_codec, "-t", str(seconds), str(path))
    return path


def scrolling_text(path: Path, lines: list[str], *, seconds: float, step_every: float | None = None,
                   size: str = "1280x720", fontsize: int = 28, audio: str | None = None) -> Path:
    """A screen recording: lines of monospaced text on a dark editor, starting at the top and
    scrolling up until the last line is half way up the screen as the video ends. Steadily, or
    like a reader: a half-second scroll every `step_every` seconds, still in between."""
    text_path = path.with_name(f"{path.stem}-screen.txt")
    text_path.write_text("\n".join(lines))
    font = font_file(mono=True)
    if step_every:
        steps = seconds / step_every
        done = f"(floor(t/{step_every})+min(mod(t,{step_every})/0.5,1))/{steps}"
    else:
        done = f"t/{seconds}"
    scroll = (f"drawtext=fontfile={_quoted(font)}:textfile={_quoted(text_path)}:expansion=none:"
              f"fontsize={fontsize}:fontcolor=0xE0E0E0:line_spacing=10:x=40:y='40-(th-h/2)*{done}'")
    audio_in, audio_codec = _with_audio(seconds, audio)
    _ffmpeg("-f", "lavfi", "-i", f"color=c=0x1E1E1E:s={size}:r=25:d={seconds}", *audio_in,
            "-vf", scroll, "-c:v", "libx264", "-pix_fmt", "yuv420p", *audio_codec, "-t", str(seconds), str(path))
    return path


def moving_picture(path: Path, *, seconds: float = 6.0) -> Path:
    """A picture that keeps changing with no text in it (unlike `video`'s test pattern, which
    draws a frame counter). The seed is fixed: the colours and the edges between them are the
    same each run, and seed 7's edge reads as a lone "1" or "7" to OCR."""
    _ffmpeg("-f", "lavfi", "-i", f"gradients=s=640x360:r=10:d={seconds}:speed=0.05:seed=7", "-c:v", "libx264",
            "-pix_fmt", "yuv420p", "-t", str(seconds), str(path))
    return path
