"""Key phrases of a stretch of transcript, relative to its neighbours (TF-IDF over unigrams and
bigrams), to name offline chapters; and the topics a text keeps coming back to, for hashtags.
Generic English, no domain lists."""

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


# Words that name no topic of their own, however often a text says them: a tag of them tells a
# reader nothing ("#Option", "#Video"). Generic English, like STOPWORDS; no domain's words.
GENERIC = frozenset("""
option options video videos clip clips way ways time times step steps part parts people person
minute minutes second seconds hour hours day days week weeks month months year years question questions
answer answers example examples point points end start top bottom side sides number numbers type types
case cases place places idea ideas fact facts problem problems issue issues reason reasons button buttons
menu menus setting settings tab tabs screen screens page pages section sections tutorial tutorials channel
everyone everybody everything someone somebody list lists item items area areas level levels version
versions moment moments tip tips trick tricks help fine great good best better bad easy hard sure able
two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred hundreds
thousand thousands million millions billion percent half third quarter dozen
""".split())
# The word before a thing: a determiner, a possessive or a preposition ("the dough", "of flour") …
_THING_CUES = frozenset("""
the a an this these those your our my their its his her of for with in on at about from into by no
each every any some another
""".split())
# … the word before an action ("to install", "you prevent", "can export") …
_ACTION_CUES = frozenset("""
to i you we they he she can could will would should must may might do does did don't doesn't didn't
please let's cannot can't won't not always never just
""".split())
# … and the word after one: an action takes its object right away ("install the", "wash your").
_OBJECT_CUES = frozenset("the a an this these those your our my their every each".split())
_SENTENCE_END = frozenset(".!?:;")
MAX_TAG_WORDS = 3


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """(lowercased word or punctuation, as written, begins a sentence) for every token."""
    tokens = []
    for line in text.splitlines():
        starts = True
        for token in _TOKEN.findall(line):
            if not (token[:1].isalnum()):
                tokens.append((token, token, False))
                starts = starts or token in _SENTENCE_END
                continue
            tokens.append((token.lower().strip("'’-"), token.strip("'’-"), starts))
            starts = False
        tokens.append(("\n", "\n", False))
    return tokens


def spelling_key(word: str) -> str:
    """A word's letters alone, lowercased: "Auto-Nesting" and "auto nesting" → "autonesting"."""
    return re.sub(r"[\W_]+", "", word.lower())


def _is_content(word: str) -> bool:
    return len(word) >= 3 and word[:1].isalpha() and word not in STOPWORDS


def _parts(word: str) -> list[str]:
    return [p for p in re.split(r"[-'’]+", word) if p]


def hashtags(text: str, *, top: int = 5) -> list[str]:
    """#CamelCase tags for the topics a text keeps coming back to, best first: phrases of content
    words it says at least twice, of which it speaks as things ("the fire extinguisher", a name
    written with capitals) rather than as actions ("to prevent", "install the"), never made of
    generic words; longer phrases first. "auto nesting" and "Auto-Nesting" are one tag. A text
    that repeats no such phrase gets none: a tag from a word said once is a guess."""
    tokens = _tokens(text)
    thing: Counter = Counter()  # per word: said as a thing, or as an action
    action: Counter = Counter()
    named_as: Counter = Counter()  # written with a capital inside a sentence: a name (Bitwarden, VPN)
    written: dict[str, Counter] = {}
    for i, (word, as_written, starts) in enumerate(tokens):
        if not _is_content(word):
            continue
        before = tokens[i - 1][0] if i else ""
        after = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        named = not starts and any(c.isupper() for c in as_written)
        if named:
            named_as[word] += 1
        if named or before in _THING_CUES:
            thing[word] += 1
        elif before in _ACTION_CUES or (after in _OBJECT_CUES and not _is_content(before)):
            action[word] += 1  # "you prevent", "to install"; "install the", but not "a fire drill the"
        if not starts:
            written.setdefault(word, Counter())[as_written] += 1

    def acts(word: str) -> bool:
        return action[word] > 0 and action[word] >= thing[word]

    seen: Counter = Counter()
    phrases: dict[str, list[str]] = {}  # one key for "auto nesting" and "auto-nesting"
    neighbours: dict[str, Counter] = {}  # per word: the content words right before and after it
    run: list[str] = []
    for word, _, _ in [*tokens, ("", "", False)]:
        if _is_content(word):
            run.append(word)
            continue
        for a, b in zip(run, run[1:]):
            neighbours.setdefault(a, Counter())[("after", b)] += 1
            neighbours.setdefault(b, Counter())[("before", a)] += 1
        for size in range(1, min(MAX_TAG_WORDS, len(run)) + 1):
            for begin in range(len(run) - size + 1):
                window = run[begin:begin + size]
                key = spelling_key("".join(window))
                seen[key] += 1
                phrases.setdefault(key, window)
        run = []

    def eligible(key: str) -> bool:
        window = phrases[key]
        if seen[key] < 2 or any(p in GENERIC or p in STOPWORDS for w in window for p in [w, *_parts(w)]):
            return False
        if acts(window[0]) or acts(window[-1]):
            return False  # "#PreventAutoNesting", "#Install": actions, not topics
        if len(window) > 1 or len(_parts(window[0])) > 1:
            return True
        word = window[0]
        if neighbours.get(word) and neighbours[word].most_common(1)[0][1] == seen[key]:
            return False  # always beside the same word: half of a phrase ("assembly" of "assembly point")
        # A lone word is a topic when the text twice speaks of it as a thing ("a cool kitchen" once
        # is an adjective), or names it.
        return thing[word] >= 2 or named_as[word] > 0

    def size(key: str) -> int:
        return sum(len(_parts(w)) for w in phrases[key])

    # Phrases first, however often a lone word recurs: "#FireDrill", "#FireExtinguisher", not "#Fire".
    ranked = sorted((k for k in seen if eligible(k)), key=lambda k: (size(k) == 1, -seen[k], -size(k), k))
    tags: list[str] = []
    chosen: list[str] = []
    for key in ranked:
        if any(key in c or c in key for c in chosen):
            continue  # "#Fire" after "#FireExtinguisher" adds nothing ("#FireDrill" does)
        chosen.append(key)
        tags.append("#" + "".join(_tag_part(w, written) for w in phrases[key]))
        if len(tags) == top:
            break
    return tags


def _tag_part(word: str, written: dict[str, Counter]) -> str:
    """A word as the text writes it inside a sentence (Bitwarden, VPN), each part capitalised."""
    forms = written.get(word)
    form = forms.most_common(1)[0][0] if forms else word
    return "".join(p if any(c.isupper() for c in p) else p[:1].upper() + p[1:] for p in _parts(form))


def written_forms(text: str) -> dict[str, str]:
    """How a text writes its words inside sentences, by spelling_key: "autonesting" →
    "auto-nesting", "bitwarden" → "Bitwarden" (each word's most frequent form). Words In A Title
    Case run are a label's or a title's capitals, not a name's, and count as lowercase."""
    tokens = _tokens(text)

    def capital(i: int) -> bool:
        return 0 <= i < len(tokens) and tokens[i][1][:1].isupper() and not tokens[i][2]

    forms: dict[str, Counter] = {}
    for i, (word, as_written, starts) in enumerate(tokens):
        if starts or not _is_content(word):
            continue
        if capital(i) and (capital(i - 1) or capital(i + 1)) and not as_written.isupper():
            as_written = as_written.lower()
        forms.setdefault(spelling_key(word), Counter())[as_written] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in forms.items()}
