"""The offline claim check on claims it was not tuned on: how often it marks what is wrong, and
what is right.

    .venv/bin/python -m bench.claims --eval-dir ../shared/eval/tutorialvqa

`claims.SUPPORTED_FROM` was chosen on `tests/data/claims.jsonl` (44 hand-written claims about the
test corpus's passages), and the tests keep each of those on its side, so that set says nothing of
claims the check has not seen. `tests/data/claims-tutorialvqa.jsonl` holds 50 more, written before
the check was run on any of them: for 25 passages of three caption sentences each, drawn at random
(seed 17) from the TutorialVQA captions, one paraphrase the passage supports and one claim on its
own topic that it does not (a wrong number, setting, menu or outcome); `claims-tutorialvqa-2.jsonl`
40 more the same way (seed 18, other videos), written later to judge changes made after the first
set had been seen, and `-3.jsonl` 40 more (seed 19) after the second had been. Each row names its
passage by video and seconds; its text is read from the captions here, not copied into the repo.

Each claim is checked as the product checks a model's answer (`claims.check_offline`, the local
embedder, the video's title as context). "Marked" is a claim the check calls unsupported.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core import captions, claims
from core.embeddings import local_embedder

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def heldout_rows(eval_dir: Path, path: Path) -> list[dict]:
    """The held-out claims with their passages: the caption cues within each row's seconds."""
    videos = map(json.loads, (eval_dir / "videos.jsonl").read_text().splitlines())
    titles = {str(v["video_id"]): v["title"] for v in videos}
    rows = []
    for row in map(json.loads, path.read_text().splitlines()):
        cues = captions.parse_captions((eval_dir / "captions" / f"{row['video_id']}.vtt").read_bytes())
        passage = " ".join(c.text for c in cues if c.start >= row["start_s"] - 0.01 and c.end <= row["end_s"] + 0.01)
        rows.append({**row, "passage": passage, "context": titles[row["video_id"]]})
    return rows


def figures(rows: list[dict], embedder) -> dict[str, float]:
    scores = []
    for row in rows:
        [checked] = claims.check_offline(claims.split_claims(row["claim"]), {1: row["passage"]}, embedder,
                                         context=row.get("context", ""))
        scores.append((checked.score, row["supported"]))
    wrong = [s for s, ok in scores if not ok]
    right = [s for s, ok in scores if ok]
    marked_wrong = sum(s < claims.SUPPORTED_FROM for s in wrong)
    marked_right = sum(s < claims.SUPPORTED_FROM for s in right)
    return {
        "claims": len(scores),
        "accuracy": sum((s >= claims.SUPPORTED_FROM) is ok for s, ok in scores) / len(scores),
        "unsupported marked": marked_wrong / len(wrong),  # recall of the marker
        "supported marked": marked_right / len(right),  # false alarms
        "marks right": marked_wrong / max(marked_wrong + marked_right, 1),  # precision of the marker
        "lowest supported": min(right), "highest unsupported": max(wrong),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True)
    args = parser.parse_args()
    embedder = local_embedder()
    tuned = [json.loads(line) for line in (DATA / "claims.jsonl").read_text().splitlines()]
    sets = [("tuning set (tests/data/claims.jsonl)", tuned)] + [
        (f"held out ({name})", heldout_rows(args.eval_dir, DATA / name))
        for name in ("claims-tutorialvqa.jsonl", "claims-tutorialvqa-2.jsonl", "claims-tutorialvqa-3.jsonl")]
    print(f"supported from {claims.SUPPORTED_FROM}")
    for name, rows in sets:
        print(name + ": " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in figures(rows, embedder).items()))


if __name__ == "__main__":
    main()
