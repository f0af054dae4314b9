"""On-screen text: how fast and how well a slide talk and a screen recording are read.

    .venv/bin/python -m bench.screen_text [--minutes 5] [--workers 2] [--floor 10] [--pipeline]

Both videos are generated with ffmpeg (drawtext, 1280x720, 25 fps, H.264): a slide talk with a
new slide every 20 s (a title and a line of figures, known text), and a screen recording of code
that a reader scrolls by a third of a screen every 5 s. Each is read once by
`core.screen_text.read_screen_text` on this machine's cores. Reports the frames compared and the
frames read by OCR, OCR'd frames per second of work, minutes of video per minute of work, and
accuracy: for the talk, the character error rate of the passages' text against the slides'
(whitespace made alike, case kept); for the recording, the share of code lines read exactly and
the character error rate of each line against the closest line read.

`--pipeline` then runs the product's processing on a deck of the 16 slides in
tests/data/slide-questions.jsonl (15 s each, 4 minutes, 1280x720) with captions of a presenter
who never says what the slides say, once with the screen read and once without, each into its
own account on a scratch database: the time each takes (the screen's added share of a captioned
video's ingestion) and seek@5 of the 16 questions (a question is found when one of the first five
moments `answers.search` returns starts on its slide, up to 2 s early).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import tempfile
import time
from pathlib import Path

from bench.database import scratch_database
from bench.speech import error_rate

TITLES = ["Quarterly Revenue Review", "Churn Fell to 3 Percent", "Hiring Plans for Lisbon",
          "Globex Renewed for Three Years", "Roadmap: Search by Slide Text", "Latency Budget per Request",
          "Open Questions from the Board", "Pricing Experiments in Q3", "Support Tickets by Region",
          "Migration to PostgreSQL 18", "Security Review Findings", "Mobile App Retention",
          "Partner Channel Results", "Data Center Energy Use", "Next Quarter Priorities"]


def slide_text(n: int) -> str:
    title = TITLES[n % len(TITLES)]
    return f"{title}\nSlide {n + 1}: revenue {12 + 7 * n}%, cost {3 + n} M EUR, team of {20 + 3 * n}"


def code_lines(count: int) -> list[str]:
    return [f"def total_{n}(order): return order.price * {n} + tax({n})  # step {n}" for n in range(count)]


def normalised(text: str) -> str:
    return " ".join(text.split())


class Counts:
    """Frames compared and frames read, counted where read_screen_text calls them in this process."""

    def __init__(self, module) -> None:
        self.compared = self.read = 0
        thumbnail, changed_frames = module._thumbnail, module._changed_frames

        def counted_thumbnail(frame):
            self.compared += 1
            return thumbnail(frame)

        def counted_frames(*args, **kwargs):
            for sample in changed_frames(*args, **kwargs):
                self.read += 1
                yield sample

        module._thumbnail, module._changed_frames = counted_thumbnail, counted_frames


def measure(name: str, video: Path, seconds: float, args, counts: Counts):
    from core.screen_text import read_screen_text

    counts.compared = counts.read = 0
    started = time.perf_counter()
    passages = read_screen_text(video, floor_seconds=args.floor, workers=args.workers)
    took = time.perf_counter() - started
    print(f"{name}: {seconds / 60:.1f} min of video in {took:.1f} s")
    print(f"  frames compared {counts.compared}, frames read by OCR {counts.read} "
          f"({counts.read / took:.2f} frames/s), passages {len(passages)}")
    print(f"  {seconds / took:.1f} minutes of video per minute of work")
    return passages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the slide talk")
    parser.add_argument("--recording-minutes", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--floor", type=float, default=10.0)
    parser.add_argument("--pipeline", action="store_true", help="also time processing and measure seek@5 with and without")
    args = parser.parse_args()

    from core import screen_text
    from tests import media_factory

    counts = Counts(screen_text)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        talk_seconds = round(args.minutes * 60 / 20) * 20
        shown = [(slide_text(n), n * 20, n * 20 + 20) for n in range(talk_seconds // 20)]
        talk = media_factory.slides(work / "talk.mp4", shown, fontsize=44, fps=25)
        passages = measure("slide talk", talk, talk_seconds, args, counts)
        reference = normalised(" ".join(text for text, _, _ in shown))
        read = normalised(" ".join(p.text for p in passages))
        late = max(abs(p.start - start) for p, (_, start, _) in zip(passages, shown))
        print(f"  slides {len(shown)}, passages {len(passages)}, latest start {late:.2f} s from its slide")
        print(f"  character error rate {error_rate(reference, read):.4f}")

        recording_seconds = args.recording_minutes * 60
        lines = code_lines(int(recording_seconds / 5 * 6))  # a third of a screen (~6 lines) every 5 s
        recording = media_factory.scrolling_text(work / "screen.mp4", lines, seconds=recording_seconds,
                                                 step_every=5)
        passages = measure("screen recording", recording, recording_seconds, args, counts)
        read_lines = sorted({normalised(line) for p in passages for line in p.text.splitlines()})
        exact = sum(normalised(line) in read_lines for line in lines)
        errors = [error_rate(line, (difflib.get_close_matches(line, read_lines, n=1, cutoff=0)
                                              or [""])[0]) for line in lines]
        print(f"  code lines {len(lines)}: read exactly {exact / len(lines):.1%}, "
              f"character error rate against the closest line read {sum(errors) / len(errors):.4f}")
        if args.pipeline:
            pipeline(work)


SLIDE_SECONDS = 15
FILLER = ["Let us look at the next slide.", "As you can see here.", "This one matters to all of us.",
          "I will leave it on screen for a moment.", "Take your time to read it.", "Any questions so far?"]


def pipeline(work: Path) -> None:
    """Processing a captioned slide deck with and without its screen read: time and seek@5."""
    from core import answers, processing, submission
    from core.auth import sign_up
    from core.config import PROJECT_ROOT, load_settings
    from tests import media_factory

    deck = [json.loads(line) for line in (PROJECT_ROOT / "tests/data/slide-questions.jsonl").read_text().splitlines()]
    shown = [(d["slide"], n * SLIDE_SECONDS, (n + 1) * SLIDE_SECONDS) for n, d in enumerate(deck)]
    video = media_factory.slides(work / "deck.mp4", shown, fontsize=44, fps=25, audio="silence")
    seconds = len(deck) * SLIDE_SECONDS
    captions = media_factory.srt([(t, t + 4.0, FILLER[n % len(FILLER)]) for n, t in enumerate(range(0, seconds, 4))])
    print(f"\ncaptioned slide deck, {seconds / 60:.0f} min, {len(deck)} slides, processed by the product:")
    print("| screen read | processing s | seek@5 | questions with nothing found |\n| --- | --- | --- | --- |")
    with scratch_database("screen") as db:
        timings = {}
        for read in (False, True):
            settings = dataclasses.replace(load_settings(), screen_text=read)
            with db.session() as s:
                owner = sign_up(s, f"reader-{read}".lower(), f"reader-{read}@example.com".lower(), "reader password",
                                video_limit=10, min_password_length=8).id
            [added] = submission.submit_uploads(db, settings, owner, [submission.UploadItem(
                "deck.mp4", open(video, "rb"), captions_name="deck.srt", captions_data=captions)], language="en")
            started = time.perf_counter()
            assert processing.process_video(db, settings, added.video_id) == "completed"
            timings[read] = time.perf_counter() - started
            found = nothing = 0
            for (_, start, end), d in zip(shown, deck, strict=True):
                hits = answers.search(db, settings, user_id=owner, query=d["question"], video_id=added.video_id)
                nothing += not hits
                found += any(start - 2 <= h.start < end for h in hits[:5])
            print(f"| {'yes' if read else 'no'} | {timings[read]:.1f} | {found / len(deck):.3f} | {nothing} |", flush=True)
        print(f"reading the screen added {timings[True] - timings[False]:.1f} s, "
              f"{(timings[True] - timings[False]) / timings[False]:.0%} of the captioned video's processing")


if __name__ == "__main__":
    main()
