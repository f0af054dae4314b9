"""Where a transcript changes topic, from the embeddings of its consecutive chunks.

TextTiling with embeddings: at each gap between chunks, compare the mean vector of the few chunks
before with the few after; a topic shift is a valley in that similarity, and a deep valley is a
confident one. Works with whatever embedding model made the chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW = 3  # chunks on each side of a gap


@dataclass(frozen=True)
class Boundary:
    index: int  # the first chunk after the shift
    depth: float  # how far similarity dips below the peaks on both sides


def gap_similarities(vectors: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """similarity[i] compares chunks [i-window, i) with [i, i+window), for i in 1..n-1."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    sims = []
    for i in range(1, len(unit)):
        left = unit[max(0, i - window):i].mean(axis=0)
        right = unit[i:i + window].mean(axis=0)
        sims.append(float(left @ right / max(np.linalg.norm(left) * np.linalg.norm(right), 1e-9)))
    return np.array(sims)


def depth_scores(similarity: np.ndarray) -> np.ndarray:
    depths = np.zeros_like(similarity)
    for i, value in enumerate(similarity):
        left_peak = value
        for j in range(i - 1, -1, -1):
            if similarity[j] < left_peak:
                break
            left_peak = similarity[j]
        right_peak = value
        for j in range(i + 1, len(similarity)):
            if similarity[j] < right_peak:
                break
            right_peak = similarity[j]
        depths[i] = (left_peak - value) + (right_peak - value)
    return depths


def boundaries(vectors: np.ndarray, starts: list[float], *, duration: float, min_seconds: float,
               max_count: int, min_depth: float = 0.04) -> list[Boundary]:
    """The topic shifts worth a chapter: deepest valleys first, kept apart by `min_seconds`."""
    if len(vectors) < 2 * 2 or max_count < 1:
        return []
    depths = depth_scores(gap_similarities(vectors))
    cutoff = max(min_depth, float(depths.mean() + depths.std() / 2))
    chosen: list[Boundary] = []
    for gap in np.argsort(-depths, kind="stable"):
        depth, index = float(depths[gap]), int(gap) + 1
        if depth < cutoff or len(chosen) >= max_count:
            break
        at = starts[index]
        if at < min_seconds or duration - at < min_seconds:
            continue
        if any(abs(starts[b.index] - at) < min_seconds for b in chosen):
            continue
        chosen.append(Boundary(index, depth))
    return sorted(chosen, key=lambda b: b.index)
