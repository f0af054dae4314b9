"""Answering a question about a group: retrieve, then answer with citations to moments.

Three steps so a page can stream: `prepare` (understand a follow-up, retrieve, decide how to
answer), `stream` (text pieces: from the configured chat model, or extractive offline), and
`finish` (parse the citations, check each claim against its source (core/claims.py), store the
exchange in chat_logs). With no key and no endpoint the answer is extractive: the transcript
sentences that answer, each cited, in the order the videos say them, and it says so.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace

from sqlalchemy import false, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from core import claims, conversations, model_settings, retrieval, sharing, workspaces
from core.config import Settings
from core.database import Database
from core.embeddings import embeddings_for
from core.errors import AnswerNotRatable, AskVideoError
from core.llm import ModelError, chat_model, provider_error
from core.model_settings import ModelAccess, model_access
from core.prompts_store import prompt
from core.text import one_line
from core.transcripts import format_timestamp
from db.models import ChatLog
from db.states import AnswerMode, Feedback, PassageKind, Role

MAX_QUESTION_CHARS = 2000
NOTHING_FOUND = ("I could not find anything about that in this group's videos. "
                 "Try other words, or check that the videos you expect are in the group and ready.")
NOTHING_FOUND_IN_VIDEO = "I could not find anything about that in this video. Try other words."
NOTHING_FOUND_ANYWHERE = ("I could not find anything about that in your videos. "
                          "Try other words, or check that the videos you expect are ready.")
EXTRACTIVE_PASSAGES = 4  # an offline answer quotes at most this many sentences
# A "nothing found" answer near a passage (`retrieval.is_near`) lists this many of the moments that
# came closest, as not an answer: on TutorialVQA's dev questions (all answerable) the refused ones
# often have the answer among them. One far from every passage ("what is the capital of Mongolia?")
# lists none: they would be noise.
CLOSEST_MOMENTS = 3
# An offline answer stops quoting at the first moment whose fused retrieval score is below this
# share of the best one's (chosen on one half of TutorialVQA dev, split by video: BENCHMARKS.md).
EXTRACTIVE_CUT = 0.925
EXTRACTIVE_INTRO = ("Extractive answer — no AI model is configured, so these are the transcript "
                    "passages closest to your question:")
# A share-link visitor reads the same answer without the owner's configuration in it.
SHARED_EXTRACTIVE_INTRO = "What the videos say that is closest to your question, in their own words:"
_CITATION = re.compile(r"\[(\d{1,3})\]")
# Smaller and local models group citations: "[1, 2]", "[1][3]", "[2-4]", "[1,3-4]".
_GROUPED_CITATION = re.compile(r"\[(\d{1,3}(?:\s*[-–]\s*\d{1,3})?(?:\s*[,;]\s*\d{1,3}(?:\s*[-–]\s*\d{1,3})?)+"
                               r"|\d{1,3}\s*[-–]\s*\d{1,3})\]")
_FOLLOW_UP = re.compile(r"\b(it|its|that|this|those|these|they|them|their|he|she|his|her|there|then|"
                        r"same|more|else|also|why|how so)\b", re.IGNORECASE)


AnswerError = ModelError  # the name pages and tests know

@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


@dataclass(frozen=True)
class Citation:
    n: int
    video_id: int
    title: str
    start: float
    end: float
    score: float
    snippet: str
    chunk_id: int | None = None  # the transcript chunk it quotes
    kind: str = PassageKind.SPEECH  # what it quotes: what is said, or text on screen
    thumbnail: str | None = None  # a screen citation's frame picture, media-relative

    @property
    def label(self) -> str:
        return f"{format_timestamp(self.start)}–{format_timestamp(self.end)}"

    @property
    def on_screen(self) -> bool:
        return self.kind == PassageKind.SCREEN


@dataclass
class Prepared:
    group_id: int | None  # None: a video's (video_id) or all the workspace's videos
    user_id: int  # who asks (for a share-link visitor, the workspace's owner the link answers as; not stored)
    workspace_id: int  # where the question is asked, whose model settings answer it
    question: str
    search_query: str
    mode: AnswerMode
    passages: list[Citation]
    shared: bool
    access: ModelAccess = field(repr=False)
    history: list[Turn] = field(default_factory=list)
    llm_timeout_s: int = 60
    check_claims_with_model: bool = False  # the workspace's consent to one more model call per answer
    conversation_id: int | None = None  # None: the answer starts a conversation
    visitor_token: str | None = field(default=None, repr=False)  # a share-link visitor's
    video_id: int | None = None
    # Nothing found but something near (`retrieval.is_near`): the moments that came closest, as a
    # refusal offers them (each one's sentence nearest the question).
    closest: list[Citation] = field(default_factory=list)

    @property
    def model_judges(self) -> bool:
        """Retrieval found nothing certain but something near, so the model judges: a reply that
        cites no passage is its "nothing found"."""
        return self.mode == AnswerMode.LLM and bool(self.closest)

    @property
    def nothing_found(self) -> str:
        if self.group_id is None:
            return NOTHING_FOUND_IN_VIDEO if self.video_id is not None else NOTHING_FOUND_ANYWHERE
        return NOTHING_FOUND


@dataclass(frozen=True)
class Answer:
    log_id: int | None  # None while it is not stored (the database was away when it was written)
    question: str
    text: str
    citations: list[Citation]  # in the order the answer first cites them
    mode: AnswerMode
    claims: list[dict] = field(default_factory=list)  # claims.CheckedClaim rows, as chat_logs stores them
    support_score: float | None = None  # the share of claims supported; None when nothing is claimed
    conversation_id: int | None = None
    feedback: str | None = None
    closest: list[Citation] = field(default_factory=list)  # nothing found: the nearest moments, not an answer

    @property
    def unsupported(self) -> list[dict]:
        return [c for c in self.claims if not c.get("supported", True)]


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def gist(text: str, mode: str) -> str:
    """An answer's first sentence of substance, for lists of answers: without the opening an
    extractive answer or a 'nothing found' one starts with, citation marks or list bullets."""
    if mode == AnswerMode.NOTHING:
        return "Nothing found."
    for intro in (EXTRACTIVE_INTRO, SHARED_EXTRACTIVE_INTRO):
        text = text.removeprefix(intro)
    plain = " ".join(line.strip().lstrip("-*•").strip() for line in text.splitlines() if line.strip())
    plain = re.sub(r"\s*\[\d{1,3}\]", "", plain).replace("“", "").replace("”", "").strip()
    first = _SENTENCE_END.split(plain, maxsplit=1)[0].strip()
    return _snippet(first, 160)


def _snippet(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _follow_up_query(question: str, history: list[Turn]) -> str:
    """Offline rewriting: a short or referring question borrows the previous question's words."""
    if history and (len(question.split()) < 6 or _FOLLOW_UP.search(question)):
        return f"{history[-1].question} {question}"
    return question


def _rewrite_with_model(access: ModelAccess, question: str, history: list[Turn], timeout: int) -> str:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    messages = [SystemMessage(prompt("rewrite"))]
    for turn in history:
        messages += [HumanMessage(turn.question), AIMessage(turn.answer)]
    messages.append(HumanMessage(question))
    try:
        rewritten = str(chat_model(access, timeout, streaming=False).invoke(messages).content).strip()
    except Exception:  # rewriting is an improvement, never a reason to fail the question
        return _follow_up_query(question, history)
    return rewritten[:MAX_QUESTION_CHARS] or question


def begin(
    db: Database, settings: Settings, *, group_id: int | None, user_id: int, question: str,
    history: list[Turn] | None = None, shared: bool = False, conversation_id: int | None = None,
    visitor_token: str | None = None, video_id: int | None = None, workspace_id: int | None = None,
) -> Prepared:
    """Start answering a question about a group. Asked through a share link (`shared`), it is
    first counted against the link's hourly limit (RateLimited past it): counted when asked, not
    when answered, since an interrupted or failed answer has cost the owner's provider too.
    Every front end asks through here, so every one meets the rule. Then `stream` and `finish`."""
    if shared:
        sharing.take_question(db, group_id, per_hour=settings.share_questions_per_hour)
    return prepare(db, settings, group_id=group_id, user_id=user_id, question=question, history=history,
                   shared=shared, conversation_id=conversation_id, visitor_token=visitor_token, video_id=video_id,
                   workspace_id=workspace_id)


def ask(
    db: Database, settings: Settings, *, group_id: int | None, user_id: int, question: str,
    history: list[Turn] | None = None, shared: bool = False, conversation_id: int | None = None,
    visitor_token: str | None = None, video_id: int | None = None, workspace_id: int | None = None,
) -> Answer:
    """A whole answer in one call, stored: for callers that do not show it as it streams."""
    prepared = begin(db, settings, group_id=group_id, user_id=user_id, question=question, history=history,
                     shared=shared, conversation_id=conversation_id, visitor_token=visitor_token, video_id=video_id,
                     workspace_id=workspace_id)
    return finish(db, prepared, "".join(stream(prepared)))


def prepare(
    db: Database, settings: Settings, *, group_id: int | None, user_id: int, question: str,
    history: list[Turn] | None = None, shared: bool = False, conversation_id: int | None = None,
    visitor_token: str | None = None, video_id: int | None = None, workspace_id: int | None = None,
) -> Prepared:
    """Understand the question, retrieve the passages of the group (or the video, or with neither
    all the videos of `workspace_id`, the asker's personal workspace by default) and choose how to
    answer. A question in a stored conversation follows up on that conversation's own turns
    (`history` is for callers that keep none)."""
    question = _clean_question(question)
    with db.session() as session:
        workspace_id = conversations.check_target(session, user_id, group_id=group_id, video_id=video_id,
                                                  workspace_id=workspace_id)
        if conversation_id is not None:
            history = stored_turns(session, user_id, conversation_id, visitor_token, group_id=group_id,
                                   video_id=video_id, last=max(settings.history_turns, 0))
        holder = workspaces.model_holder(session, workspace_id)
        access = model_access(session, settings, holder)
        check_with_model = access.remote and model_settings.checks_claims_with_model(session, holder)
    history = (history or [])[-settings.history_turns:] if settings.history_turns > 0 else []
    if history and access.remote:
        search_query = _rewrite_with_model(access, question, history, settings.llm_timeout_s)
    else:
        search_query = _follow_up_query(question, history)
    hits = _retrieve(db, settings, access, group_id=group_id, video_id=video_id, workspace_id=workspace_id,
                     query=search_query, shared=shared)
    # Found when a passage says the question's rarer words or is close in meaning (one rule, which
    # the benchmark measures too); then the model sees all k (context helps it). A configured model
    # also judges what is only near: most refused real questions are there, and only it can tell.
    found = retrieval.is_found(hits, similarity=settings.min_relevance)
    # The moments that came closest, shown as not an answer, when they are near enough to be what was meant.
    closest = _quoted(hits[:CLOSEST_MOMENTS]) if not found and retrieval.is_near(hits) else []
    if access.remote and (found or closest):
        mode = AnswerMode.LLM
        passages = [Citation(n, h.video_id, h.title, h.start, h.end, h.score, h.text, h.chunk_id, h.kind, h.thumbnail)
                    for n, h in enumerate(hits, 1)]
    elif found:
        mode, passages = AnswerMode.EXTRACTIVE, _quoted(extractive_choice(hits))
    else:
        mode, passages = AnswerMode.NOTHING, closest
    return Prepared(group_id, user_id, workspace_id, question, search_query, mode, passages, shared, access, history,
                    settings.llm_timeout_s, check_with_model, conversation_id, visitor_token, video_id, closest)


def _quoted(hits: list[retrieval.Hit]) -> list[Citation]:
    """Passages as an offline answer quotes them: the sentence retrieval found nearest the question
    inside each (stored with its vector at ingestion), cited from where retrieval says to play."""
    return [Citation(n, h.video_id, h.title, h.start, max(h.sentence_end, h.start) if h.sentence else h.end,
                     h.score, h.sentence or h.text, h.chunk_id, h.kind, h.thumbnail)
            for n, h in enumerate(hits, 1)]


def _clean_question(question: str) -> str:
    question = one_line(question)
    if not question:
        raise AskVideoError("Type a question first.")
    if len(question) > MAX_QUESTION_CHARS:
        raise AskVideoError(f"Questions are at most {MAX_QUESTION_CHARS} characters.")
    return question


def _retrieve(db: Database, settings: Settings, access: ModelAccess, *, group_id: int | None, video_id: int | None,
              workspace_id: int, query: str, shared: bool) -> list[retrieval.Hit]:
    import openai

    embedder = embeddings_for(access.embedding_model, api_key=access.api_key, base_url=access.base_url)
    try:
        return retrieval.group_retriever(db.session, settings, embedder, group_id=group_id, video_id=video_id,
                                         workspace_id=workspace_id, rerank=True).hits(query)
    except openai.OpenAIError as error:  # embedding the question with the user's provider
        raise provider_error(error, shared) from None


def search(db: Database, settings: Settings, *, user_id: int, query: str, group_id: int | None = None,
           video_id: int | None = None, workspace_id: int | None = None) -> list[retrieval.Hit]:
    """The moments that answer `query` in a group, a video or a workspace, as the chat would
    retrieve them, without writing an answer (for tools that want the moments themselves). Only
    those that count as found; none when nothing does."""
    query = _clean_question(query)
    with db.session() as session:
        workspace_id = conversations.check_target(session, user_id, group_id=group_id, video_id=video_id,
                                                  workspace_id=workspace_id)
        access = model_access(session, settings, workspaces.model_holder(session, workspace_id))
    hits = _retrieve(db, settings, access, group_id=group_id, video_id=video_id, workspace_id=workspace_id,
                     query=query, shared=False)
    return hits if retrieval.is_found(hits, similarity=settings.min_relevance) else []


def stored_turns(session: Session, user_id: int, conversation_id: object, visitor_token: str | None, *,
                 group_id: int | None, video_id: int | None, last: int) -> list[Turn]:
    """The last turns of the viewer's conversation about this group or video (ConversationNotFound
    if it is not theirs or asks something else)."""
    conversation = conversations.find(session, user_id, conversation_id, visitor_token=visitor_token)
    if (conversation.group_id, conversation.video_id) != (group_id, None if group_id is not None else video_id):
        raise conversations.ConversationNotFound()
    return [Turn(log.question, log.answer) for log in conversations.logs(session, conversation.id, last=last)] if last else []


def stored_answers(session: Session, user_id: int, conversation_id: object, *,
                   visitor_token: str | None = None) -> list[Answer]:
    """A conversation's answers as they were shown: text, cited moments, checked claims, rating."""
    conversation = conversations.find(session, user_id, conversation_id, visitor_token=visitor_token)
    known = {f.name for f in fields(Citation)}

    def moments(rows: list[dict] | None) -> list[Citation]:
        return [Citation(**{k: v for k, v in c.items() if k in known}) for c in rows or []]

    return [Answer(log.id, log.question, log.answer, moments(log.related_videos), AnswerMode(log.mode),
                   list(log.claims or []), log.support_score, conversation.id, log.feedback,
                   moments(log.closest_moments))
            for log in conversations.logs(session, conversation.id)]


# ----------------------------------------------------------------- extractive (offline) answers


def extractive_choice(hits: list[retrieval.Hit], *, cut: float = EXTRACTIVE_CUT,
                      limit: int = EXTRACTIVE_PASSAGES) -> list[retrieval.Hit]:
    """The moments an offline answer quotes: the best one, then each next one while its fused
    score is at least `cut` of the best's (past a much weaker one, the rest are weaker still), at
    most `limit`; in the order the videos say them.

    Within a video that is by time, so the quotes read as the video tells it. Across videos it is
    the rank of each video's best moment: a group's own order says nothing about the question, and
    the video holding the best quote comes first."""
    if not hits:
        return []
    chosen = [hits[0]]
    for hit in hits[1:limit]:
        if hit.score < cut * hits[0].score:
            break
        chosen.append(hit)
    video_rank: dict[int, int] = {}
    for hit in chosen:
        video_rank.setdefault(hit.video_id, len(video_rank))
    return sorted(chosen, key=lambda h: (video_rank[h.video_id], h.start))


def _extractive(prepared: Prepared) -> Iterator[str]:
    yield (SHARED_EXTRACTIVE_INTRO if prepared.shared else EXTRACTIVE_INTRO) + "\n\n"
    for passage in prepared.passages:
        shown = "On screen: " if passage.on_screen else ""
        yield f"- {shown}“{_snippet(passage.snippet, 400)}” [{passage.n}]\n"


# ----------------------------------------------------------------- model answers


def passages_block(passages: list[Citation]) -> str:
    # Transcript text is data: escaping < and > keeps it from closing or faking the delimiters.
    return "\n".join(
        f'<passage id="{p.n}" video="{html.escape(p.title, quote=True)}" source="{"screen" if p.on_screen else "speech"}" '
        f'start="{format_timestamp(p.start)}" end="{format_timestamp(p.end)}">\n'
        f"{html.escape(p.snippet, quote=False)}\n</passage>"
        for p in passages
    )


def messages_for(prepared: Prepared) -> list:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    messages = [SystemMessage(prompt("answer_system"))]
    for turn in prepared.history:
        messages += [HumanMessage(turn.question), AIMessage(turn.answer)]
    user = prompt("answer_user").format(passages=passages_block(prepared.passages), question=prepared.question)
    messages.append(HumanMessage(user))
    return messages


def _from_model(prepared: Prepared) -> Iterator[str]:
    import openai

    try:
        for chunk in chat_model(prepared.access, prepared.llm_timeout_s, streaming=True).stream(messages_for(prepared)):
            if chunk.content:
                yield str(chunk.content)
    except openai.OpenAIError as error:
        raise provider_error(error, prepared.shared) from None


def stream(prepared: Prepared) -> Iterator[str]:
    """The answer's text, piece by piece."""
    if prepared.mode == AnswerMode.NOTHING:
        yield prepared.nothing_found
    elif prepared.mode == AnswerMode.EXTRACTIVE:
        yield from _extractive(prepared)
    else:
        yield from _from_model(prepared)


def one_citation_each(text: str) -> str:
    """"[1, 2]" and "[2-4]" written as "[1][2]" and "[2][3][4]": the one form the sources list and
    the stored answer read (a range runs at most 20 numbers)."""
    def spread(match: re.Match) -> str:
        numbers: list[int] = []
        for part in re.split(r"[,;]", match.group(1)):
            ends = [int(n) for n in re.findall(r"\d+", part)]  # "3" or "3-4"
            numbers += range(ends[0], min(ends[-1], ends[0] + 19) + 1) if ends[-1] >= ends[0] else ends
        return "".join(f"[{n}]" for n in dict.fromkeys(numbers))

    return _GROUPED_CITATION.sub(spread, text)


def cited(text: str, passages: list[Citation]) -> list[Citation]:
    """The passages an answer cites, in order of first citation; unknown numbers are ignored."""
    by_number = {p.n: p for p in passages}
    order = dict.fromkeys(int(n) for n in _CITATION.findall(text) if int(n) in by_number)
    return [by_number[n] for n in order]


class AnswerNotSaved(AskVideoError):
    """The answer was written, but the database could not store it: `answer` is there to show,
    and `save` can be tried again once the database is back."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("The database could not be reached, so this answer is not saved yet (it cannot be "
                         "rated or turned into a post). Save it once the database is back.")
        self.answer = answer


def check_claims(prepared: Prepared, text: str, mode: AnswerMode) -> list[claims.CheckedClaim]:
    """The answer's claims, each checked against the passage it cites: an offline answer's quotes
    are their source; a model's sentences are checked offline, or by the model with consent."""
    if mode == AnswerMode.NOTHING:
        return []
    if mode == AnswerMode.EXTRACTIVE:
        return claims.quoted([(p.snippet, p.n) for p in cited(text, prepared.passages)])
    access = prepared.access
    embedder = embeddings_for(access.embedding_model, api_key=access.api_key, base_url=access.base_url)
    return claims.check(text, {p.n: p.snippet for p in prepared.passages}, embedder=embedder,
                        model=access if prepared.check_claims_with_model else None, timeout=prepared.llm_timeout_s,
                        context=" ".join([prepared.question, *dict.fromkeys(p.title for p in prepared.passages)]))


def finish(db: Database, prepared: Prepared, text: str) -> Answer:
    """Check the answer's claims, store the exchange (question, answer, cited moments, claims) and
    return it for display."""
    text = one_citation_each((text or "").strip())
    # A model that wrote nothing found nothing; so did one that judged near passages and cited none
    # (its prompt says to say plainly that the videos do not cover it: its words are kept).
    judged_none = prepared.model_judges and not cited(text, prepared.passages)
    mode = prepared.mode if text and not judged_none else AnswerMode.NOTHING
    text = text or prepared.nothing_found
    checked = check_claims(prepared, text, mode)
    nothing = mode == AnswerMode.NOTHING
    # Only a judgement that none answers offers the closest moments: a model that wrote nothing
    # about passages that were found would read wrongly as "none seems to answer".
    closest = prepared.closest if prepared.mode == AnswerMode.NOTHING or judged_none else []
    return save(db, prepared, Answer(None, prepared.question, text, [] if nothing else cited(text, prepared.passages),
                                     mode, [c.as_row() for c in checked], claims.support_score(checked),
                                     closest=closest))


def save(db: Database, prepared: Prepared, answer: Answer) -> Answer:
    """Store an answer as its chat_logs row; the answer again, with its log id."""
    related, closest = ([{**asdict(c), "snippet": _snippet(c.snippet)} for c in moments]
                        for moments in (answer.citations, answer.closest))
    try:
        with db.session() as session:
            conversation_id = prepared.conversation_id
            if conversation_id is None:
                conversation_id = conversations.start(session, prepared.user_id, question=prepared.question,
                                                      workspace_id=prepared.workspace_id,
                                                      group_id=prepared.group_id, video_id=prepared.video_id,
                                                      shared=prepared.shared,
                                                      visitor_token=prepared.visitor_token)
            else:
                conversations.touch(session, conversation_id)
            log = ChatLog(user_id=None if prepared.shared else prepared.user_id, workspace_id=prepared.workspace_id, group_id=prepared.group_id,
                          question=prepared.question,
                          answer=answer.text, related_videos=related, closest_moments=closest,
                          is_shared_origin=prepared.shared,
                          mode=answer.mode, claims=answer.claims, support_score=answer.support_score,
                          conversation_id=conversation_id)
            session.add(log)
            session.flush()
            log_id = log.id
    except IntegrityError:  # the group, the conversation or the owner was deleted while the answer was written
        raise AskVideoError("This group or conversation was deleted while the answer was being written.") from None
    except OperationalError:
        raise AnswerNotSaved(answer) from None
    return replace(answer, log_id=log_id, conversation_id=conversation_id)


def set_feedback(session: Session, log_id: int, feedback: str | None, *, user_id: int,
                 shared_group_id: int | None = None) -> None:
    """Rate an answer good or bad (or clear it). A shared visitor (`user_id` the holder of their
    conversations) may rate only shared answers of the group their link opens; a member may rate
    their own answers, and an editor or owner any answer in the workspace."""
    if feedback not in (*Feedback, None):
        raise AskVideoError("Feedback is good or bad.")
    where = session.execute(select(ChatLog.workspace_id, ChatLog.user_id).where(ChatLog.id == log_id)).first() \
        if isinstance(log_id, int) else None
    try:
        member = workspaces.access(session, user_id, where.workspace_id) if where else None
    except workspaces.WorkspaceNotFound:
        member = None
    conditions = [ChatLog.id == log_id]
    if member is None or not (member.can(Role.EDITOR) or where.user_id == user_id):
        conditions.append(false())
    if shared_group_id is not None:
        conditions += [ChatLog.group_id == shared_group_id, ChatLog.is_shared_origin.is_(True)]
    changed = session.execute(update(ChatLog).where(*conditions).values(feedback=feedback)).rowcount
    if not changed:
        raise AnswerNotRatable()
