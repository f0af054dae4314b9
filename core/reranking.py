"""An optional second opinion on retrieval's order: the owner's chat model re-ranks the top moments.

Off by default: it costs one model call per question, and only users who turned it on
(`users.rerank_with_model`) and configured a chat model get it. Not measured for quality (no chat
model runs offline); the benchmark's figures are the fused order's. Passages the model leaves out
keep their place after the ones it ranked, so a re-rank can reorder but never lose a moment.
"""

from __future__ import annotations

import html
import logging
import re

from typing import Protocol, TypeVar

from core.llm import complete
from core.model_settings import ModelAccess
from core.prompts_store import prompt


class Passage(Protocol):  # retrieval's Hit (retrieval calls this module, so it is not imported here)
    text: str


P = TypeVar("P", bound=Passage)

RERANK_CANDIDATES = 8  # the top moments shown to the model; the rest keep their fused order
_NUMBER = re.compile(r"\d{1,3}")
log = logging.getLogger(__name__)


def rerank(access: ModelAccess, question: str, hits: list[P], *, timeout: int,
           candidates: int = RERANK_CANDIDATES) -> list[P]:
    """The hits with their top `candidates` in the order the model ranks them (one call); the
    fused order unchanged when the model fails or answers with no usable numbers."""
    top = hits[:candidates]
    if len(top) < 2:
        return hits
    # Transcript text is data: escaped so it cannot close or fake the delimiters.
    passages = "\n".join(f'<passage id="{n}">\n{html.escape(h.text, quote=False)}\n</passage>'
                         for n, h in enumerate(top, 1))
    try:
        reply = complete(access, prompt("rerank"), f"Question: {question}\n\n{passages}", timeout)
    except Exception:  # a re-rank is an improvement, never a reason to fail the question
        log.warning("re-ranking with the model failed; the fused order stands", exc_info=True)
        return hits
    order = [int(n) for n in dict.fromkeys(_NUMBER.findall(reply)) if 1 <= int(n) <= len(top)]
    if not order:
        return hits
    return [top[n - 1] for n in order] + [h for n, h in enumerate(top, 1) if n not in order] + hits[candidates:]
