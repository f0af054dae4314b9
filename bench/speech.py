"""Local speech-to-text: one piece after another (before) against faster-whisper's batched pipeline (now).

    .venv/bin/python -m bench.speech [--times 1 20]

The test speech (tests/data/speech.ogg: two sentences, 9.4 s, with a pause) is transcribed as is
and said `--times` over (a longer recording with a known text); each way, the same Whisper base
int8 model on this machine's cores, interleaved. Reports the real-time factor (seconds of work
per second of audio; lower is faster) and the word error rate against the known text (words
lowercased, punctuation and number formatting made alike). The longer recording repeats one
voice and two sentences: it measures throughput on long audio, not accuracy on varied speech.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

SENTENCES = ["Welcome to the quarterly review of the research team.",
             "Revenue grew by twenty percent in the third quarter."]
_NUMBERS = {"20": "twenty", "3rd": "third", "%": " percent"}


def words(text: str) -> list[str]:
    text = text.lower()
    for written, said in _NUMBERS.items():
        text = text.replace(written, said)
    return re.findall(r"[a-z']+", text)


def error_rate(reference: Sequence, hypothesis: Sequence) -> float:
    """Edits (substitutions, insertions, deletions) per reference item, Levenshtein: over lists of
    words, the word error rate; over strings, the character error rate (bench/screen_text.py)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1] / max(len(reference), 1)


def looped(times: int, workdir: Path) -> tuple[Path, float]:
    from core.media import ffmpeg_exe
    from tests.media_factory import SPEECH

    path = workdir / f"speech-{times}.wav"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", str(times - 1), "-i", str(SPEECH),
                    "-ac", "1", "-ar", "16000", str(path)], check=True)
    return path, 9.4 * times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--times", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from core.config import load_settings
    from core.speech_to_text import BATCH, local_model, transcribe_local

    settings = load_settings()
    model = local_model(settings.whisper_model_dir, settings.data_dir)

    def sequential(audio: Path, duration: float) -> str:  # the product's call before 2026-12-01
        pieces, _ = model.transcribe(str(audio), beam_size=1, vad_filter=True, condition_on_previous_text=False)
        return " ".join(p.text.strip() for p in pieces)

    def product(audio: Path, duration: float) -> str:
        segments, _ = transcribe_local(audio, model_dir=settings.whisper_model_dir, data_dir=settings.data_dir,
                                       duration_s=duration, on_progress=lambda fraction: None)
        return " ".join(s.text for s in segments)

    ways = {"one piece after another (before)": sequential, f"batched pipeline, {BATCH} at a time (now)": product}
    with tempfile.TemporaryDirectory() as work:
        for times in args.times:
            audio, duration = looped(times, Path(work))
            reference = words(" ".join(SENTENCES * times))
            product(audio, duration)  # the model warm
            timings: dict[str, list[float]] = {name: [] for name in ways}
            texts: dict[str, str] = {}
            for _ in range(args.rounds):
                for name, way in ways.items():
                    started = time.perf_counter()
                    texts[name] = way(audio, duration)
                    timings[name].append(time.perf_counter() - started)
            print(f"{duration:.0f} s of speech ({times}x the test speech), {len(reference)} words:")
            for name in ways:
                best = min(timings[name])
                print(f"  {name:34} {best:6.1f} s  real-time factor {best / duration:.3f}  "
                      f"WER {error_rate(reference, words(texts[name])):.3f}")


if __name__ == "__main__":
    main()
