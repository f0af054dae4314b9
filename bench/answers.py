"""Offline answers on TutorialVQA: do the quoted sentences lie in the answer, and where to stop quoting?

    .venv/bin/python -m bench.answers --eval-dir ../shared/eval/tutorialvqa \\
        --questions ../shared/eval/tutorialvqa/questions-dev.jsonl

The eval videos go through the product's ingestion (`bench.quality.ingest`), every question is
asked of the product's retriever once, and the product's own `answers.extractive_choice` picks
the quotes for each candidate cut (the share of the best fused score a next quote must keep).
Per question: the quotes' precision (a quote is in the answer when its sentence's middle lies in
[answer_start_s, answer_end_s]) and whether at least one quote is in the answer.

The questions are split into two halves by video (`bench.quality.video_halves`, the same halves
the retrieval benchmark tunes and reports on; no video in both): the cut is chosen on one
half and reported on the other, then the other way round. Quoting more raises "any quote in the
answer" and lowers precision (one quote alone is the most precise; four find the answer most
often), so the choice is the cut with the best harmonic mean of the two. Half A chooses the
product's cut; half B's figures are the ones of record.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from bench.database import scratch_database
from bench.quality import Question, ingest, load_questions, video_halves

CUTS = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.825, 0.85, 0.875, 0.9, 0.925, 0.95, 1.01)  # 1.01: the best moment alone


@dataclass(frozen=True)
class Figures:
    precision: float  # mean over questions of the share of its quotes in the answer
    any_in_answer: float  # share of questions with at least one quote in the answer
    quotes: float  # mean quotes per answer

    @property
    def balance(self) -> float:
        """The harmonic mean of precision and any_in_answer: what a cut is chosen by."""
        total = self.precision + self.any_in_answer
        return 2 * self.precision * self.any_in_answer / total if total else 0.0


def figures(results: list[tuple[Question, list[tuple[str, float]]]]) -> Figures:
    """`results`: each question with its quotes as (eval video id, the quoted sentence's middle second)."""
    n = len(results) or 1
    precision = any_in = quotes = 0.0
    for q, quoted in results:
        inside = [video == q.video_id and q.start <= middle <= q.end for video, middle in quoted]
        precision += sum(inside) / len(inside) if inside else 0.0
        any_in += any(inside)
        quotes += len(quoted)
    return Figures(precision / n, any_in / n, quotes / n)


def choose(by_cut: dict[float, Figures]) -> float:
    return max(CUTS, key=lambda cut: (round(by_cut[cut].balance, 4), -cut))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    args = parser.parse_args()
    with scratch_database("answers") as db:
        run(db, args.eval_dir, load_questions(args.questions))


def run(db, eval_dir: Path, questions: list[Question]) -> None:
    from sqlalchemy import select

    from core import answers, retrieval
    from core.config import load_settings
    from core.embeddings import LocalMiniLM
    from db.models import TranscriptSentence

    settings = load_settings()
    embedder = LocalMiniLM()
    corpus = ingest(db, eval_dir, settings)
    with db.session() as s:  # a hit names its sentence by text and end; its middle needs the start
        starts = {(r.video_id, r.text, r.end_time): r.start_time for r in s.execute(
            select(TranscriptSentence.video_id, TranscriptSentence.text, TranscriptSentence.start_time,
                   TranscriptSentence.end_time))}
    retriever = retrieval.group_retriever(db.session, settings, embedder, group_id=corpus.group_id,
                                          workspace_id=corpus.workspace_id)
    started = time.perf_counter()
    hits = {q: retriever.hits(q.text) for q in questions}
    print(f"{len(questions)} questions retrieved in {time.perf_counter() - started:.0f} s")

    def quotes(q: Question, cut: float) -> list[tuple[str, float]]:
        chosen = answers.extractive_choice(hits[q], cut=cut)
        return [(corpus.ids[h.video_id], (starts.get((h.video_id, h.sentence, h.sentence_end), h.start)
                                          + h.sentence_end) / 2) for h in chosen]

    halves = {name: [questions[i] for i in on] for name, on in video_halves(questions).items()}
    table = {name: {cut: figures([(q, quotes(q, cut)) for q in half]) for cut in CUTS}
             for name, half in halves.items()}
    print(f"halves by video: A {len(halves['A'])} questions, B {len(halves['B'])}")
    print(f"{'cut':>6}" + "".join(f"{f'{h} {m}':>12}" for h in halves for m in ("precision", "any", "quotes",
                                                                                  "balance")))
    for cut in CUTS:
        print(f"{cut:>6.3f}" + "".join(f"{getattr(table[h][cut], m):>12.3f}" for h in halves
                                       for m in ("precision", "any_in_answer", "quotes", "balance")))
    for tuned, held in (("A", "B"), ("B", "A")):
        cut = choose(table[tuned])
        f = table[held][cut]
        print(f"chosen on {tuned}: cut {cut:.3f} -> on {held}: precision {f.precision:.3f}, any quote in answer "
              f"{f.any_in_answer:.3f}, {f.quotes:.2f} quotes (no cut: precision "
              f"{table[held][0.0].precision:.3f}, any {table[held][0.0].any_in_answer:.3f})")
    whole = figures([(q, quotes(q, answers.EXTRACTIVE_CUT)) for q in questions])
    print(f"product's cut {answers.EXTRACTIVE_CUT:.3f} on the whole file: precision {whole.precision:.3f}, "
          f"any quote in answer {whole.any_in_answer:.3f}, {whole.quotes:.2f} quotes")


if __name__ == "__main__":
    main()
