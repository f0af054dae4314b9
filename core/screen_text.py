"""What a video shows: the text on its screen (slides, code, menus) as passages with their seconds.

Frames are decoded with PyAV and compared as 64x36 grayscale thumbnails; only a frame that
differs from the last one read goes to OCR, so a slide shown for a minute is read once. OCR is
RapidOCR: PP-OCR detection and recognition models shipped inside its wheel, run on onnxruntime,
offline, in a bounded pool of processes. Consecutive readings with the same text become one
passage from the second it appeared to the second the screen said something else.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import av
import numpy as np

from core import media
from core.errors import IngestError
from core.transcripts import ScreenPassage

log = logging.getLogger(__name__)

Progress = Callable[[float], None]  # fraction of the video read, 0..1

# Pictures are compared as 64x36 grayscale thumbnails by their mean absolute difference (0..255).
CHECK_EVERY = 0.25  # seconds between frames compared; a passage starts within this of its slide
CHANGED = 3.0  # a new slide on the same background differs by ~5; worth reading as soon as it holds still
# Less than this is compression noise: between two checks the picture holds still, and a picture
# this close to the last one read is never read again. A change between the two (a bullet
# appearing, a line typed, a slow pan) waits for `floor_seconds`.
NOTICED = 0.5
OCR_WIDTH = 1280  # frames wider than this are scaled down before OCR: the detector resizes to ~736 px tall anyway
THUMBNAIL_WIDTH = 320
MIN_CONFIDENCE = 0.6  # RapidOCR's per-line score below which a line is more often noise than text
SAME_TEXT = 0.9  # difflib ratio at which two readings are the same text read slightly differently


@dataclass
class _Sample:
    second: float
    image: np.ndarray | None  # BGR, at most OCR_WIDTH wide; dropped once sent to OCR
    jpeg: bytes


@dataclass
class _Reading:
    second: float
    text: str
    weight: float  # characters times confidence: the most completely read frame of a passage wins
    jpeg: bytes


def read_screen_text(video_path: Path, *, floor_seconds: float = 10.0, workers: int = 2,
                     progress: Progress | None = None, thumbnail_dir: Path | None = None) -> list[ScreenPassage]:
    """The text shown on screen, as passages in time order, each with a THUMBNAIL_WIDTH px JPEG
    of its frame in `thumbnail_dir` (if given); a file without a picture has none.

    A file that is not a readable video is an `IngestError`. OCR runs in `workers` spawned
    processes, kept for the next call, so a script calling this needs the `if __name__ ==
    "__main__":` guard."""
    info = media.probe(video_path)
    if not info.has_video:
        return []
    duration = info.duration_s
    report = progress or (lambda fraction: None)
    readings: list[_Reading] = []
    pool = _ocr_pool(max(1, workers))
    in_flight: deque[tuple[_Sample, Future]] = deque()
    try:
        def collect_one() -> None:
            sample, future = in_flight.popleft()
            text, weight = future.result()
            readings.append(_Reading(sample.second, text, weight, sample.jpeg))
            if duration:
                report(min(1.0, sample.second / duration))

        for sample in _changed_frames(video_path, floor_seconds):
            in_flight.append((sample, pool.submit(_read_text, sample.image)))
            sample.image = None
            while len(in_flight) > 2 * workers:  # decoding runs ahead of OCR by this much, no more
                collect_one()
        while in_flight:
            collect_one()
    except BrokenProcessPool:
        _discard_pool(pool)  # an OCR process died (killed, out of memory): the next video starts afresh
        raise
    finally:
        for _, future in in_flight:
            future.cancel()
    if readings:
        duration = max(duration, readings[-1].second)
    passages = _passages(readings, duration, thumbnail_dir)
    report(1.0)
    return passages


def _changed_frames(path: Path, floor_seconds: float) -> Iterator[_Sample]:
    """Frames worth reading, checked every CHECK_EVERY seconds of video.

    The first frame is read; after it, a changed picture is read once it holds still (a slide
    after its transition, a page after scrolling), timed from the check where it first looked as
    it does now; a picture that never holds still (a camera, a steady scroll) is read every
    `floor_seconds`. A picture that barely differs from the last one read is never read again."""
    read = previous = None  # 64x36 thumbnails of the last frame read and of the last frame checked
    read_second, previous_second = -floor_seconds, 0.0  # the first frame is read whatever it shows
    frame = None
    decoded = 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                decoded += 1
                second = max(0.0, float(frame.time) if frame.time is not None else previous_second)
                if previous is not None and second < (previous_second // CHECK_EVERY + 1) * CHECK_EVERY - 1e-6:
                    continue
                small = _thumbnail(frame)
                changed = _difference(small, read)
                still = _difference(small, previous) < NOTICED
                if changed >= CHANGED and still:
                    yield _sample(frame, previous_second)  # it has looked like this since the last check
                    read, read_second = small, previous_second
                elif changed >= NOTICED and second - read_second >= floor_seconds:
                    yield _sample(frame, second)
                    read, read_second = small, second
                previous, previous_second = small, second
            if frame is not None and _difference(previous, read) >= NOTICED:
                yield _sample(frame, previous_second)  # the last picture, still moving when the video ended
    except (av.FFmpegError, UnicodeDecodeError, IndexError, ValueError) as error:
        if not decoded:
            raise IngestError("The picture of this video cannot be read (the file may be corrupt or "
                              "truncated), so its on-screen text cannot be read either.") from None
        # a damaged tail: keep what was shown before it
        log.warning("screen text of %s stops after %d frames: %s", path.name, decoded, error)


def _thumbnail(frame: av.VideoFrame) -> np.ndarray:
    return frame.reformat(width=64, height=36, format="gray", interpolation="AREA").to_ndarray().astype(np.int16)


def _difference(a: np.ndarray, b: np.ndarray | None) -> float:
    return float("inf") if b is None else float(np.abs(a - b).mean())


def _sample(frame: av.VideoFrame, second: float) -> _Sample:
    return _Sample(second, _ocr_image(frame), _jpeg(frame))


def _ocr_image(frame: av.VideoFrame) -> np.ndarray:
    if frame.width > OCR_WIDTH:
        return frame.reformat(width=OCR_WIDTH, height=_even(frame.height * OCR_WIDTH / frame.width),
                              format="bgr24", interpolation="AREA").to_ndarray()
    return frame.to_ndarray(format="bgr24")


def _jpeg(frame: av.VideoFrame) -> bytes:
    small = frame.reformat(width=THUMBNAIL_WIDTH, height=_even(frame.height * THUMBNAIL_WIDTH / frame.width),
                           format="rgb24", interpolation="AREA")
    out = io.BytesIO()
    small.to_image().save(out, format="JPEG", quality=80)
    return out.getvalue()


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _passages(readings: list[_Reading], duration: float, thumbnail_dir: Path | None) -> list[ScreenPassage]:
    """Runs of readings with the same text become one passage; a reading with no text ends the run."""
    runs: list[tuple[list[_Reading], float]] = []
    current: list[_Reading] = []
    for reading in readings:
        if current and reading.text and _same(current[0].text, reading.text):
            current.append(reading)
            continue
        if current:
            runs.append((current, reading.second))
        current = [reading] if reading.text else []
    if current:
        runs.append((current, duration))

    if thumbnail_dir is not None:
        thumbnail_dir.mkdir(parents=True, exist_ok=True)
    passages = []
    for run, end in runs:
        best = max(run, key=lambda r: r.weight)
        start = run[0].second
        thumbnail = None
        if thumbnail_dir is not None:
            thumbnail = thumbnail_dir / f"screen-{int(round(start * 1000)):09d}.jpg"
            thumbnail.write_bytes(best.jpeg)
        passages.append(ScreenPassage(round(start, 3), round(max(end, start), 3), best.text,
                                      str(thumbnail) if thumbnail else None))
    return passages


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def _same(a: str, b: str) -> bool:
    a, b = _normalised(a), _normalised(b)
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= SAME_TEXT and matcher.quick_ratio() >= SAME_TEXT \
        and matcher.ratio() >= SAME_TEXT


# --- the OCR processes --------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _ocr_pool(workers: int) -> ProcessPoolExecutor:
    """The OCR processes, started on first use and kept for the next video: each loads the models
    (about 3 s), which a worker would otherwise pay again for every video.

    Spawned, not forked: the calling process may already run onnxruntime threads (the embedder),
    and a forked copy of a thread pool can deadlock."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            threads = max(1, (os.cpu_count() or 1) // workers)  # each process's share of the cores
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_engine, initargs=(threads,))
            _pool_size = workers
        return _pool


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


# --- in each OCR process ---------------------------------------------------------------------

_engine = None


def _start_engine(threads: int) -> None:
    """Load RapidOCR once per process, from the model files in its wheel only."""
    global _engine
    import cv2
    import rapidocr

    cv2.setNumThreads(1)
    models = Path(rapidocr.__file__).resolve().parent / "models"
    _engine = rapidocr.RapidOCR(params={
        "Global.log_level": "error",  # not a warning for each frame without text
        # slides and screens are upright: the angle classifier would only cost time per line
        "Global.use_cls": False,
        "Global.text_score": MIN_CONFIDENCE,
        # explicit paths: a missing model fails here instead of being downloaded
        "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
        "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    })


def _read_text(image: np.ndarray) -> tuple[str, float]:
    """The frame's text, top to bottom and left to right, and its characters times confidence."""
    result = _engine(image)
    if result.boxes is None or not len(result.boxes):
        return "", 0.0
    boxes = [(float(np.min(box[:, 0])), float(np.min(box[:, 1])), float(np.max(box[:, 1])), text.strip(), score)
             for box, text, score in zip(np.asarray(result.boxes), result.txts, result.scores)
             if _worded(text) and score >= MIN_CONFIDENCE]
    if not any(sum(c.isalnum() for c in text) >= 2 for *_, text, _ in boxes):
        # a lone "1" or "7" is what the edge of a shape or a gradient reads as, with up to 0.8 confidence
        return "", 0.0
    return _layout(boxes), sum(len(text) * score for *_, text, score in boxes)


def _worded(text: str) -> bool:
    """Not a lone shape: a pointer, a bullet or an icon reads as "■" or "●", which is no text.
    ASCII punctuation stays, since in code an operator can be a box of its own."""
    text = text.strip()
    return bool(text) and (text.isascii() or any(c.isalnum() for c in text))


def _layout(boxes: list[tuple[float, float, float, str, float]]) -> str:
    """Boxes (left, top, bottom, text, score) as lines: a box whose middle lies within a line's
    height joins that line, then each line reads left to right."""
    lines: list[list[tuple[float, float, float, str, float]]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[2]) / 2):
        middle = (box[1] + box[2]) / 2
        if lines and lines[-1][0][1] <= middle <= lines[-1][0][2]:
            lines[-1].append(box)
        else:
            lines.append([box])
    return "\n".join(" ".join(b[3] for b in sorted(line)) for line in lines)
