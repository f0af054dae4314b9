"""Key phrases of a stretch of transcript, relative to its neighbours (TF-IDF over unigrams and
bigrams). Used to name offline chapters and to suggest hashtags; generic English, no domain lists."""

from __future__ import annotations

import math
import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)

# Function words plus the fillers of spoken English, which captions are full of.
STOPWORDS = frozenset("""
a about above after again against all almost also although always am among an and another any anyone
anything are around as at away back be because been before being below between both but by came can
cannot could did do does doing done down during each either else enough even ever every few first for
from further get gets getting go goes going gone gonna got gotta had has have having he her here hers
herself him himself his how however i if in into is it it's its itself just kind know last least less
let like little lot lots made make makes making many may maybe me might mine more most much must my
myself need needs never new next no nor not nothing now of off often oh ok okay on once one only onto or
other others our ours ourselves out over own part pretty quite rather really right said same say says
see seem seems shall she should show since so some something sometimes somewhere still such sure take
than that that's the their theirs them themselves then there there's these they thing things think
this those though through thus to today together too took toward under until up upon us use used using
very want wanna was way we we'll we're well went were what what's whatever when where whether which
while who whole whom whose why will with within without would yeah yes yet you you'll you're your yours
yourself yourselves um uh hmm mm alright actually basically literally guys hey hi hello thank thanks
welcome gonna bit sort stuff whatnot anyway anyways come comes coming look looks looking put puts
""".split())


def words(text: str) -> list[str]:
    return [w.lower().strip("'’-") for w in _WORD.findall(text)]


def _terms(text: str) -> Counter:
    """Unigrams and bigrams of content words (a bigram never spans a stop word)."""
    counts: Counter = Counter()
    previous: str | None = None
    for word in words(text):
        if len(word) < 3 or word in STOPWORDS:
            previous = None
            continue
        counts[word] += 1
        if previous:
            counts[f"{previous} {word}"] += 1
        previous = word
    return counts


def key_phrases(documents: list[str], *, top: int = 3) -> list[list[str]]:
    """For each document, its `top` phrases that set it apart from the others, best first."""
    term_counts = [_terms(d) for d in documents]
    df: Counter = Counter()
    for counts in term_counts:
        df.update(counts.keys())
    n = len(documents)
    result = []
    for counts in term_counts:
        unigram = {t: (1 + math.log(tf)) * (math.log((1 + n) / (1 + df[t])) + 1)
                   for t, tf in counts.items() if " " not in t}
        scored = [(score, term) for term, score in unigram.items()]
        for term, tf in counts.items():
            if " " not in term or tf < 2:
                continue  # a bigram seen once is chance, not a phrase
            first, second = term.split()
            # A phrase is as good as its words, and better the more often they go together.
            together = tf / max(counts[first], counts[second])
            scored.append((0.6 * (unigram[first] + unigram[second]) * together ** 0.5, term))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        chosen: list[str] = []
        for _, term in scored:
            parts = set(term.split())
            if any(parts & set(c.split()) for c in chosen):
                continue  # "fire" after "fire extinguisher" adds nothing
            chosen.append(term)
            if len(chosen) == top:
                break
        result.append(chosen)
    return result


_TOKEN = re.compile(r"[^\W_][\w'’-]*|[^\w\s]", re.UNICODE)
MAX_TITLE_WORDS = 4


def _runs(text: str) -> list[list[str]]:
    """Stretches of content words as they are written (case kept), split at stop words, numbers
    and punctuation: the text's own noun-phrase-like pieces ("Prevent Auto-Nesting option")."""
    runs, run = [], []
    for token in _TOKEN.findall(text):
        word = token.lower().strip("'’-")
        if len(word) < 3 or word in STOPWORDS or not word[:1].isalpha():
            if run:
                runs.append(run)
            run = []
        else:
            run.append(token)
    if run:
        runs.append(run)
    return runs


def phrase_title(text: str, phrases: list[str], fallback: str, *, taken: set[str] = frozenset()) -> str:
    """A title that is a phrase of the text itself, never words from different places glued
    together: of its stretches of content words (up to MAX_TITLE_WORDS), the one that weighs most
    — it holds the chapter's key phrases (`phrases`, best first), recurs in the chapter, and is a
    phrase rather than a lone word ("Andromeda galaxy" over "red"); not one of `taken` (the
    titles of the chapters before it, lowercased)."""
    weights: dict[str, float] = {}
    for rank, phrase in enumerate(phrases):
        for word in phrase.split():
            weights[word] = max(weights.get(word, 0.0), 1.0 / (rank + 1))
    windows: dict[tuple[str, ...], list[str]] = {}
    counts: Counter = Counter()
    for run in _runs(text):
        lowered = [t.lower().strip("'’-") for t in run]
        for size in range(1, min(MAX_TITLE_WORDS, len(run)) + 1):
            for begin in range(len(run) - size + 1):
                key = tuple(lowered[begin:begin + size])
                counts[key] += 1
                windows.setdefault(key, run[begin:begin + size])  # as first written
    best, best_score = None, 0.0
    for key, seen in counts.items():
        if (len(key) > 1 and seen < 2) or " ".join(key) in taken:
            continue  # a phrase said once is chance, not the chapter's name; two chapters, two names
        weight = sum(weights.get(w, 0.0) for w in key)
        if not weights.get(key[-1]):
            continue  # a name ends on what the chapter is about ("Andromeda galaxy", not "red torch helps")
        score = weight * (1 + math.log(seen)) * (0.5 if len(key) == 1 else 1 + 0.25 * (len(key) - 1))
        if score > best_score:
            best, best_score = windows[key], score
    if not best:
        return fallback
    title = " ".join(best)
    return (title[0].upper() + title[1:])[:200]


def hashtags(text: str, *, top: int = 5) -> list[str]:
    """#CamelCase tags from the most frequent content phrases of a text."""
    counts = _terms(text)
    ranked = sorted(counts.items(), key=lambda pair: (-(pair[1] * (1.5 if " " in pair[0] else 1)), pair[0]))
    tags: list[str] = []
    for term, _ in ranked:
        tag = "#" + "".join(part[:1].upper() + part[1:] for part in re.split(r"[\s'’-]+", term) if part)
        if tag.lower() not in (t.lower() for t in tags) and not any(tag.lower() in t.lower() for t in tags):
            tags.append(tag)
        if len(tags) == top:
            break
    return tags
