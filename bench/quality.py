"""Retrieval quality on TutorialVQA: does the cited moment play the answer?

    .venv/bin/python -m bench.quality --eval-dir ../shared/eval/tutorialvqa \\
        --questions ../shared/eval/tutorialvqa/questions-dev.jsonl [--k 5]

Every video's captions go through the product's own ingestion path (caption parsing → chunks →
all-MiniLM-L6-v2 embeddings → pgvector, with title and description stored as the product stores
them) into a fresh database, all videos in one group. Every question is then asked of:

- `bm25`: PostgreSQL full text alone over the same chunks;
- `dense`: a plain LangChain `PGVector.similarity_search` over the same chunks and vectors;
- `ours`: the product's retriever for the group, exactly as the chat calls it.

Metrics, one line per method: seek@k (a top-k citation is from the question's video and playing
from its cited second lands in [answer_start − 15 s, answer_end]), R@1/5/10 (a top-k chunk of the
right video overlaps the answer: the whole chunk, which is what the answerer reads, even when the
citation plays from a sentence inside it), MRR@10, video@1 (top chunk from the right video),
queries per second.
Deterministic for the same inputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

from bench.database import scratch_database
from core.regression import plays_the_answer


@dataclass(frozen=True)
class Question:
    video_id: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Citation:
    video: str
    start: float  # the second a click plays from
    end: float
    chunk_start: float | None = None  # where the retrieved chunk begins, if before `start`

    @property
    def span_start(self) -> float:
        return self.start if self.chunk_start is None else min(self.chunk_start, self.start)


def load_questions(path: Path) -> list[Question]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [Question(str(r["video_id"]), r["question"], float(r["answer_start_s"]), float(r["answer_end_s"]))
            for r in rows]


def score(results: list[tuple[Question, list[Citation]]], k: int, seconds: float) -> dict[str, float]:
    n = len(results) or 1

    def overlaps(q: Question, c: Citation) -> bool:  # the retrieved chunk, all of which the answerer reads
        return c.video == q.video_id and c.span_start < q.end and c.end > q.start

    def seeks(q: Question, c: Citation) -> bool:
        return plays_the_answer(c.video, c.start, video=q.video_id, answer_start=q.start, answer_end=q.end)

    mrr = 0.0
    for q, cites in results:
        rank = next((i for i, c in enumerate(cites[:10], 1) if overlaps(q, c)), None)
        mrr += 1 / rank if rank else 0.0
    return {
        f"seek@{k}": sum(any(seeks(q, c) for c in cites[:k]) for q, cites in results) / n,
        "R@1": sum(any(overlaps(q, c) for c in cites[:1]) for q, cites in results) / n,
        "R@5": sum(any(overlaps(q, c) for c in cites[:5]) for q, cites in results) / n,
        "R@10": sum(any(overlaps(q, c) for c in cites[:10]) for q, cites in results) / n,
        "MRR@10": mrr / n,
        "video@1": sum(bool(cites) and cites[0].video == q.video_id for q, cites in results) / n,
        "qps": len(results) / seconds if seconds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--halves", action="store_true",
                        help="also score the odd and the even lines of the questions file on their own")
    args = parser.parse_args()
    with scratch_database("quality") as db:
        run(db, args.eval_dir, load_questions(args.questions), args.k, halves=args.halves)


def run(db, eval_dir: Path, questions: list[Question], k: int, *, halves: bool = False) -> None:
    from langchain_postgres import PGVector
    from sqlalchemy import select

    from core import captions, groups, retrieval
    from core.auth import sign_up
    from core.config import load_settings
    from core.embeddings import LocalMiniLM
    from core.indexing import store_transcript
    from db.models import TranscriptChunk, Video

    settings = load_settings()
    embedder = LocalMiniLM()
    videos = [json.loads(line) for line in (eval_dir / "videos.jsonl").read_text().splitlines() if line.strip()]
    with db.session() as s:
        owner = sign_up(s, "quality", "quality@example.com", "quality password", video_limit=10_000,
                        min_password_length=8)
        group_id = groups.create_group(s, owner.id, "TutorialVQA")
    ids: dict[int, str] = {}
    started = time.perf_counter()
    for meta in sorted(videos, key=lambda v: str(v["video_id"])):
        segments = captions.parse_captions((eval_dir / "captions" / f"{meta['video_id']}.vtt").read_bytes())
        with db.session() as s:
            video = Video(user_id=owner.id, title=meta["title"], description=meta.get("description", ""),
                          duration_s=meta.get("duration_s"), status="processing")
            s.add(video)
            s.flush()
            groups.add_videos(s, owner.id, group_id, [video.id])
            ids[video.id] = str(meta["video_id"])
        store_transcript(db, settings, video.id, segments, "captions")
    with db.session() as s:
        chunks = s.execute(select(TranscriptChunk.id, TranscriptChunk.video_id, TranscriptChunk.text,
                                  TranscriptChunk.start_time, TranscriptChunk.end_time, TranscriptChunk.embedding)
                           .order_by(TranscriptChunk.id)).all()
    print(f"ingested {len(videos)} videos, {len(chunks)} chunks in {time.perf_counter() - started:.0f} s; "
          f"{len(questions)} questions")

    # The plain LangChain baseline, over the very same chunks and vectors.
    store = PGVector(embeddings=embedder, collection_name="baseline", connection=db.url, use_jsonb=True)
    store.add_embeddings(
        texts=[c.text for c in chunks], embeddings=[list(map(float, c.embedding)) for c in chunks],
        metadatas=[{"video": ids[c.video_id], "start": c.start_time, "end": c.end_time} for c in chunks],
        ids=[str(c.id) for c in chunks],
    )
    retriever = retrieval.group_retriever(db.session, dataclasses.replace(settings, top_k=10), embedder,
                                          group_id=group_id, owner_id=owner.id)

    def ours(q: Question) -> list[Citation]:
        return [Citation(ids[h.video_id], h.start, h.end, h.chunk_start) for h in retriever.hits(q.text)]

    def bm25(q: Question) -> list[Citation]:
        with db.session() as s:
            hits = retrieval.keyword_search(s, group_id=group_id, owner_id=owner.id, model=embedder.model_name,
                                            query_text=q.text, k=10)
        return [Citation(ids[h.video_id], h.start, h.end) for h in hits]

    def dense(q: Question) -> list[Citation]:
        return [Citation(d.metadata["video"], d.metadata["start"], d.metadata["end"])
                for d in store.similarity_search(q.text, k=10)]

    header = f"{'method':<10}" + "".join(f"{m:>9}" for m in (f"seek@{k}", "R@1", "R@5", "R@10", "MRR@10",
                                                            "video@1", "qps"))
    print(header)

    def line(name: str, figures: dict[str, float]) -> str:
        return f"{name:<10}" + "".join(f"{v:>9.3f}" if key != "qps" else f"{v:>9.1f}" for key, v in figures.items())

    split: list[str] = []
    for name, method in (("bm25", bm25), ("dense", dense), ("ours", ours)):
        started = time.perf_counter()
        results = [(q, method(q)) for q in questions]
        seconds = time.perf_counter() - started
        print(line(name, score(results, k, seconds)), flush=True)
        if halves:  # lines 1, 3, 5… and 2, 4, 6… of the file: a check that a choice holds on unseen halves
            split += [line(f"{name}/{half}", score(results[start::2], k, seconds / 2))
                      for half, start in (("odd", 0), ("even", 1))]
    if split:
        print("\nsplit halves of the questions file:")
        print(header)
        print("\n".join(split))


if __name__ == "__main__":
    main()
