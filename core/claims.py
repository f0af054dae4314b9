"""Checking an answer's claims against the passages they cite.

An answer is split into sentences; each one that cites a passage ("… [2].") is a claim about that
passage. Offline, a claim is compared with the passage by meaning (its vector against the vectors of
the passage's sentences, by the embedder the answer used) and by the words they share; a number
the passage never says sinks it. With the user's consent and a chat model, one extra call judges
all claims at once; any junk or provider error there falls back to the offline check.

The support score of an answer is the share of its claims supported (None when it claims nothing).
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import asdict, dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from core.llm import ModelError, complete
from core.model_settings import ModelAccess
from core.prompts_store import prompt

log = logging.getLogger(__name__)

# A claim whose offline score reaches this is supported. Chosen on tests/data/claims.jsonl (44
# hand-labelled claims about the test corpus's passages and a tutorial-like one: paraphrases, and
# claims with a wrong number, key, name or fact on the passage's own topic): the middle of the gap
# between the lowest supported score there (0.731) and the highest unsupported one (0.677).
# tests/test_claims.py keeps every labelled claim on its side. On claims it was not chosen on
# (`bench.claims`, BENCHMARKS.md) it marks 65-84 % of the wrong ones and 0-12 % of the right ones.
SUPPORTED_FROM = 0.7
VECTOR_WEIGHT = 0.6  # the rest is the share of the claim's words the passage says
UNCITED_MIN_WORDS = 5  # shorter uncited sentences ("Here is how.") claim nothing

_CITATION = re.compile(r"\[(\d{1,3})\]")
# A sentence ends at . ! ? … before a space (closing quotes kept with it); citations right after
# it stay with it ("… the elevator. [1]").
_SENTENCE_STOP = re.compile(r"[.!?…]+[”\"')]*(?:\s*\[\d{1,3}\])*(?=\s|$)")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
# Numbers said in words compare with numbers in digits ("twenty" = "20"). Not "one": mostly a
# pronoun ("the original one").
_NUMBER_WORDS = {w: str(n) for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()) if w != "one"} | {
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "thousand": "1000", "million": "1000000", "first": "1st", "second": "2nd", "third": "3rd",
    "half": "half", "twice": "twice"}
_STOP = set("""a an the and or but if then so of to in on at by for with from as is are was were be been being
it its this that these those there here i you he she we they me him her us them my your our their what which
who whom how why when where do does did done can could should would will shall may might must not no yes
also just very more most some any all each every about into over under than too only own same such up down
out off again further once both few other nor s t don let lets get got use using used one""".split())


@dataclass(frozen=True)
class Claim:
    sentence: str  # as the answer writes it, citations included
    sources: tuple[int, ...]  # the passages it cites (empty: checked against all of them)

    @property
    def plain(self) -> str:
        """The sentence without its citations, list mark or quotation marks."""
        text = _LIST_MARK.sub("", re.sub(r"\s*\[\d{1,3}\]", "", self.sentence))
        return " ".join(text.replace("“", "").replace("”", "").split())


@dataclass(frozen=True)
class CheckedClaim:
    sentence: str
    source: int | None  # the cited passage that backs it best (1-based), None if it cites none
    supported: bool
    score: float  # 0–1: the offline score, or the model's verdict as 1 or 0
    by: str  # "quote" (an offline answer's own quote), "offline" or "model"

    def as_row(self) -> dict:
        return asdict(self)


def sentences(text: str) -> list[str]:
    """The sentences of a text, line by line, each with the citations that follow it."""
    found = []
    for line in text.splitlines():
        start = 0
        for stop in _SENTENCE_STOP.finditer(line):
            found.append(line[start:stop.end()])
            start = stop.end()
        found.append(line[start:])
    return [s.strip() for s in found if s.strip()]


def support_score(checked: list[CheckedClaim]) -> float | None:
    return sum(c.supported for c in checked) / len(checked) if checked else None


def split_claims(text: str) -> list[Claim]:
    """The answer's sentences that claim something: those citing a passage, and (in an answer that
    cites at all) the uncited ones of some length, which any passage may back."""
    claims = [Claim(s, tuple(dict.fromkeys(int(n) for n in _CITATION.findall(s)))) for s in sentences(text)]
    if not any(c.sources for c in claims):
        return []  # an answer that cites nothing claims nothing from the videos ("not covered")
    return [c for c in claims if c.sources or len(_WORD.findall(c.plain)) >= UNCITED_MIN_WORDS]


def quoted(quotes: list[tuple[str, int]]) -> list[CheckedClaim]:
    """An offline answer's quotes, each (its text, its citation number): the source's own words,
    supported by construction."""
    return [CheckedClaim(text, n, True, 1.0, "quote") for text, n in quotes]


# ----------------------------------------------------------------- offline: vectors and words


def _stem(word: str) -> str:
    # Cheap and language-blind: "renewed"/"renews"/"renewal" meet at "renew".
    return word[:5] if len(word) > 5 else word


def _content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and (len(w) > 1 or w.isdigit())}


# "Select the layer first." and "First, open the menu" order steps; they state no number.
_ORDER_WORD = re.compile(r"\b(?:first|second|third)\b(?=\s*(?:[,.;:!?)\]]|$))")


def _numbers(text: str) -> set[str]:
    words = _WORD.findall(_ORDER_WORD.sub(" ", text.lower()))
    return {_NUMBER_WORDS.get(w, w) for w in words if any(ch.isdigit() for ch in w) or w in _NUMBER_WORDS}


def _names(text: str) -> set[str]:
    """Words written with a capital inside a sentence (a menu, a key, a product, a person), lowered;
    a shortcut's keys too ("Command + Y", "Ctrl+Z")."""
    return {w.strip().lower() for w in re.findall(r"(?<=[\w,;:)\]] )[A-Z]\w*|(?<=\+)\s*[A-Z]\w*", text)}


def _unsaid(claim: str, passage: str, context: str = "") -> bool:
    """Whether the claim says a number or a name the passage never says: the specifics a
    paraphrase keeps and an invention changes ("Ctrl+J" for "Alt-click", "five" for "three").
    A name the question or a cited video's title says (`context`: "Photoshop") counts as said."""
    said = f"{passage} {context}".lower()
    return bool(_numbers(claim) - _numbers(passage)) or any(
        not re.search(rf"\b{re.escape(name)}\b", said) if len(name) == 1 else name not in said  # a key: "Y"
        for name in _names(claim))


# Words a wrong claim swaps for their opposite while keeping the rest of the passage's words.
_OPPOSITES = [({"above"}, {"below"}), ({"left"}, {"right"}), ({"top"}, {"bottom"}), ({"before"}, {"after"}),
              ({"darker", "darken", "darkens", "darkening"},
               {"lighter", "lighten", "lightens", "lightening", "brighter", "brighten", "brightens", "brightening"}),
              ({"increase", "increases", "increased", "increasing", "raise", "raises", "raised", "raising"},
               {"decrease", "decreases", "decreased", "decreasing", "reduce", "reduces", "reduced", "reducing"}),
              ({"larger", "bigger"}, {"smaller"}), ({"higher"}, {"lower"}),
              ({"show", "shows", "shown", "showing", "reveal", "reveals", "revealed", "revealing"},
               {"hide", "hides", "hidden", "hiding", "conceal", "conceals", "concealed", "concealing"}),
              ({"enable", "enables", "enabled", "enabling"}, {"disable", "disables", "disabled", "disabling"}),
              ({"select", "selects", "selected", "selecting", "selection"},
               {"deselect", "deselects", "deselected", "deselecting"}),
              ({"lock", "locks", "locked", "locking"}, {"unlock", "unlocks", "unlocked", "unlocking"}),
              ({"group", "groups", "grouped", "grouping"}, {"ungroup", "ungroups", "ungrouped", "ungrouping"}),
              ({"inward"}, {"outward"}), ({"inside"}, {"outside"}),
              ({"horizontal", "horizontally"}, {"vertical", "vertically"}), ({"first"}, {"last"}),
              ({"maximum"}, {"minimum"}),
              ({"add", "adds", "added", "adding"}, {"subtract", "subtracts", "subtracted", "subtracting"})]


def _opposed(claim: str, passage: str) -> bool:
    """Whether the claim says a word whose opposite the passage says instead ("below" for "above")."""
    said, claimed = set(_WORD.findall(passage.lower())), set(_WORD.findall(claim.lower()))

    def turned(this: set[str], that: set[str]) -> bool:
        return bool(claimed & this and said & that and not said & this)

    return any(turned(one, other) or turned(other, one) for one, other in _OPPOSITES)


def _sentences(passage: str) -> list[str]:
    parts = sentences(passage)
    # A claim may join two neighbouring sentences; the whole passage stands for longer ones.
    return list(dict.fromkeys(parts + [f"{a} {b}" for a, b in zip(parts, parts[1:])] + [" ".join(parts)]))


def word_share(claim: str, passage: str) -> float:
    """The share of the claim's content words that the passage says too."""
    words = _content_words(claim)
    return len(words & _content_words(passage)) / len(words) if words else 0.0


def offline_score(similarity: float, claim: str, passage: str, context: str = "") -> float:
    """How well a passage backs a claim, 0–1; a number or name the passage never says caps it below
    the line."""
    score = VECTOR_WEIGHT * max(similarity, 0.0) + (1 - VECTOR_WEIGHT) * word_share(claim, passage)
    if _unsaid(claim, passage, context) or _opposed(claim, passage):
        score = min(score, SUPPORTED_FROM / 2)
    return round(min(score, 1.0), 3)


def check_offline(claims: list[Claim], passages: dict[int, str], embedder: Embeddings | None,
                  context: str = "") -> list[CheckedClaim]:
    """Each claim against the passages it cites (or every passage, if it cites none). Without an
    embedder (or if it fails), by the words alone, which then carry the whole score. `context`:
    the question and the videos' titles, whose names a claim may use."""
    needed = set(passages) if any(not c.sources for c in claims) else {n for c in claims for n in c.sources}
    windows = {n: _sentences(text) for n, text in passages.items() if n in needed}
    flat = [w for n in sorted(windows) for w in windows[n]]
    similarity: dict[tuple[str, str], float] = {}
    if embedder is not None and claims and flat:
        try:
            vectors = np.array(embedder.embed_documents([c.plain for c in claims] + flat), dtype=float)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            sims = vectors[:len(claims)] @ vectors[len(claims):].T
            similarity = {(c.plain, w): float(sims[i, j]) for i, c in enumerate(claims) for j, w in enumerate(flat)}
        except Exception:  # noqa: BLE001 — a provider's embedding error must not lose the answer
            log.warning("claim check: embedding failed, checking by words alone", exc_info=True)
    checked = []
    for claim in claims:
        best: tuple[float, int | None] = (0.0, claim.sources[0] if claim.sources else None)
        for n in [s for s in claim.sources if s in windows] or ([] if claim.sources else sorted(windows)):
            for window in windows[n]:
                if similarity:
                    score = offline_score(similarity[(claim.plain, window)], claim.plain, window, context)
                else:
                    score = round(0.0 if _unsaid(claim.plain, window, context) else word_share(claim.plain, window), 3)
                if score > best[0]:
                    best = (score, n)
        checked.append(CheckedClaim(claim.sentence, best[1], best[0] >= SUPPORTED_FROM, best[0], "offline"))
    return checked


# ----------------------------------------------------------------- with the user's chat model


class ClaimCheckFailed(Exception):
    """The model's verdicts could not be read."""


def _claims_block(claims: list[Claim]) -> str:
    return "\n".join(f'<claim id="{i}" cites="{",".join(map(str, c.sources)) or "any"}">'
                     f"{html.escape(c.plain, quote=False)}</claim>" for i, c in enumerate(claims, 1))


def _passages_block(passages: dict[int, str]) -> str:
    return "\n".join(f'<passage id="{n}">\n{html.escape(text, quote=False)}\n</passage>'
                     for n, text in sorted(passages.items()))


def read_verdicts(reply: str, count: int) -> list[bool]:
    """The model's verdicts, one per claim in order; ClaimCheckFailed for anything else."""
    start = min((i for i in (reply.find("{"), reply.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ClaimCheckFailed("no JSON in the reply")
    try:
        data, _ = json.JSONDecoder().raw_decode(reply[start:])
    except ValueError as error:
        raise ClaimCheckFailed(f"unreadable JSON: {error}") from None
    items = data.get("claims") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ClaimCheckFailed("no list of claims")
    verdicts: dict[int, bool] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("supported"), bool):
            raise ClaimCheckFailed(f"not a verdict: {item!r:.80}")
        try:
            verdicts[int(item["id"])] = item["supported"]
        except (KeyError, TypeError, ValueError):
            raise ClaimCheckFailed(f"no claim id: {item!r:.80}") from None
    if set(verdicts) != set(range(1, count + 1)):
        raise ClaimCheckFailed("the verdicts do not match the claims")
    return [verdicts[i] for i in range(1, count + 1)]


def check_with_model(claims: list[Claim], passages: dict[int, str], access: ModelAccess,
                     timeout: int) -> list[CheckedClaim]:
    """All claims judged in one call to the user's chat model (ModelError, ClaimCheckFailed)."""
    cited = set(passages) if any(not c.sources for c in claims) else {n for c in claims for n in c.sources}
    user = prompt("claims_user").format(passages=_passages_block({n: t for n, t in passages.items() if n in cited}),
                                        claims=_claims_block(claims))
    verdicts = read_verdicts(complete(access, prompt("claims_system"), user, timeout), len(claims))
    return [CheckedClaim(c.sentence, c.sources[0] if c.sources else None, ok, 1.0 if ok else 0.0, "model")
            for c, ok in zip(claims, verdicts)]


def check(text: str, passages: dict[int, str], *, embedder: Embeddings | None,
          model: ModelAccess | None = None, timeout: int = 60, context: str = "") -> list[CheckedClaim]:
    """An answer's claims, checked: by `model` when given (the user consented), else offline, and
    offline too when the model's call fails or its reply cannot be read. `context` as for
    `check_offline`."""
    claims = split_claims(text)
    if not claims:
        return []
    if model is not None:
        try:
            return check_with_model(claims, passages, model, timeout)
        except (ModelError, ClaimCheckFailed) as error:
            log.warning("claim check by the model failed, checking offline: %s", error)
        except Exception:  # noqa: BLE001 — the answer is already written; never lose it here
            log.warning("claim check by the model failed, checking offline", exc_info=True)
    return check_offline(claims, passages, embedder, context)
