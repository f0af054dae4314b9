"""The REST API at /api/v1: scripts and chat tools reach a user's videos with a personal access token.

Every call authenticates its token (core/access_tokens.py), counts against the token's rate limit,
keeps to the token's workspace when it is limited to one (`access_tokens.reach`), and then calls
the same core functions as the pages, as the token's owner: workspace roles, ownership and quotas
are checked there, once for every front end. FastAPI writes the OpenAPI schema
(/api/v1/openapi.json) from these signatures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from core import access_tokens, answers, groups, library, submission, workspaces
from core.access_tokens import Caller, TokenRefused
from core.answers import MAX_QUESTION_CHARS
from core.config import Settings, load_settings
from core.database import Database, get_database
from core.errors import AskVideoError, Refused
from core.sharing import RateLimited

PREFIX = "/api/v1"
MAX_BODY = 64 * 1024  # the largest call is a question of MAX_QUESTION_CHARS; asgi.py enforces it
api = FastAPI(
    title="Ask Video API",
    version="1",
    description="Ask your team's videos from scripts and tools. Authenticate with a personal access token "
                "made on the Settings page: `Authorization: Bearer avt_…`.",
    docs_url=None, redoc_url=None,  # their pages load scripts from a CDN; the schema is served as JSON
)
_bearer = HTTPBearer(auto_error=False, description="A personal access token (Settings → API tokens)")


def _settings() -> Settings:
    return load_settings()


def caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The token's owner, once the token holds and its rate limit allows one more call."""
    settings = _settings()
    with get_database().session() as session:
        found = access_tokens.authenticate(session, credentials.credentials if credentials else None)
    with get_database().session() as session:  # a refused call rolls its count back: the limit stays reached
        access_tokens.take_call(session, found, per_minute=settings.api_calls_per_minute)
    return found


def asker(who: Annotated[Caller, Depends(caller)]) -> Caller:
    """A caller whose token may ask (and so spend the workspace's model, add videos, rate answers)."""
    if not who.may_ask():
        raise TokenRefused("This token may only read; make one with the read and ask scope.", status=403)
    return who


Reader = Annotated[Caller, Depends(caller)]
Asker = Annotated[Caller, Depends(asker)]


@api.exception_handler(AskVideoError)
def _refusal(request: Request, error: AskVideoError) -> JSONResponse:
    if isinstance(error, (TokenRefused, Refused)):
        status = error.status
    elif isinstance(error, RateLimited):
        status = 429
    elif isinstance(error, workspaces.NotAllowed):
        status = 403
    elif type(error).__name__.endswith("NotFound"):
        status = 404
    else:
        status = 400
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {"Retry-After": "60"} if status == 429 else None
    return JSONResponse({"error": str(error)}, status_code=status, headers=headers)


def _app_url(request: Request) -> str:
    """Where people open the app: ASKVIDEO_PUBLIC_URL, else the address this call came to."""
    return _settings().public_url or str(request.base_url).rstrip("/").removesuffix(PREFIX)


# --- What comes back ------------------------------------------------------------------------


class Workspace(BaseModel):
    id: int
    name: str
    role: str
    personal: bool
    members: int


class VideoItem(BaseModel):
    id: int
    title: str
    status: str = Field(description="pending, processing, completed or error")
    error_message: str | None
    duration_s: float | None
    source: str


class VideoList(BaseModel):
    videos: list[VideoItem]
    total: int
    page: int
    pages: int


class Group(BaseModel):
    id: int
    name: str
    description: str
    videos: int
    shared: bool


class Line(BaseModel):
    start: float
    end: float
    text: str


class Transcript(BaseModel):
    video_id: int
    title: str
    lines: list[Line]


class Moment(BaseModel):
    video_id: int
    title: str
    start: float = Field(description="The second to play from")
    end: float
    text: str = Field(description="The sentence that answers best, or the passage")
    score: float
    url: str = Field(description="Opens the app playing this video from `start`")
    source: str = Field(description='"speech": what is said; "screen": text shown on screen (a slide)')


class Citation(BaseModel):
    n: int
    video_id: int
    title: str
    start: float
    end: float
    text: str
    url: str
    source: str = Field(description='"speech": what is said; "screen": text shown on screen (a slide)')


class AnswerOut(BaseModel):
    answer_id: int | None = Field(description="Rate it with POST /answers/{answer_id}/rating")
    conversation_id: int | None = Field(description="Pass it back to ask a follow-up question")
    question: str
    answer: str
    mode: str = Field(description="llm, extractive (quotes, no model) or nothing (no passage answers it)")
    citations: list[Citation]
    closest: list[Citation] = Field(description="When nothing was found but something is near: the moments "
                                                "that came closest, which do not seem to answer it (empty otherwise)")
    support_score: float | None = Field(description="Share of the answer's claims its sources support")
    unsupported_claims: list[str]


class Added(BaseModel):
    video_id: int | None
    title: str
    status: str = Field(description="queued, duplicate or error")
    message: str


class AddedList(BaseModel):
    added: list[Added]
    group_id: int | None


# --- What is asked --------------------------------------------------------------------------


class Target(BaseModel):
    """What to search: a group, a video, or else every video of a workspace (by default your personal
    one, or the token's own when it is limited to one)."""

    group_id: int | None = None
    video_id: int | None = None
    workspace_id: int | None = None


class SearchIn(Target):
    query: str = Field(max_length=MAX_QUESTION_CHARS)
    limit: int = Field(default=5, ge=1, le=20)


class AskIn(Target):
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    conversation_id: int | None = Field(default=None, description="Follow up on an earlier answer's conversation")
    stream: bool = Field(default=False, description="Answer as server-sent events: `delta` pieces, then `answer`")


class AddIn(BaseModel):
    url: str = Field(max_length=2000)
    workspace_id: int | None = None
    whole_playlist: bool = False
    make_group: bool = Field(default=False, description="A playlist becomes a group, in its order")
    language: str = Field(default="en", max_length=10)


class RatingIn(BaseModel):
    rating: Literal["good", "bad"] | None


# --- Endpoints ------------------------------------------------------------------------------


@api.get("/workspaces", response_model=list[Workspace], summary="Your workspaces")
def list_workspaces(who: Reader) -> list[Workspace]:
    with get_database().session() as session:
        found = workspaces.list_workspaces(session, who.user_id)
    return [Workspace(id=w.id, name=w.name, role=w.role, personal=w.personal, members=w.members)
            for w in found if who.workspace_id in (None, w.id)]  # a limited token sees only its own


@api.get("/videos", response_model=VideoList, summary="A workspace's videos with their status, newest first")
def list_videos(who: Reader, workspace_id: int | None = None, status: str | None = None, search: str = "",
                page: Annotated[int, Query(ge=1)] = 1) -> VideoList:
    with get_database().session() as session:
        workspace_id = access_tokens.reach(session, who, workspace_id=workspace_id)
        found = library.list_videos(session, _settings(), who.user_id, search=search[:200], status=status,
                                    page=page, workspace_id=workspace_id)
    return VideoList(videos=[VideoItem(id=v.id, title=v.title, status=v.status, error_message=v.error_message,
                                       duration_s=v.duration_s, source=v.source) for v in found.items],
                     total=found.total, page=found.page, pages=found.pages)


@api.get("/videos/{video_id}/transcript", response_model=Transcript, summary="A video's transcript with times")
def transcript(who: Reader, video_id: int, start: Annotated[float, Query(ge=0)] = 0.0,
               end: Annotated[float | None, Query(ge=0)] = None) -> Transcript:
    return transcript_of(who, video_id, start, end)


def transcript_of(who: Caller, video_id: int, start: float, end: float | None) -> Transcript:
    with get_database().session() as session:
        access_tokens.reach(session, who, video_id=video_id)
        title, lines = library.transcript_span(session, who.user_id, video_id, start=start, end=end)
    return Transcript(video_id=video_id, title=title, lines=[Line(start=s.start, end=s.end, text=s.text) for s in lines])


@api.post("/videos", response_model=AddedList, status_code=202, summary="Add a video or playlist by link")
def add_video(who: Asker, body: AddIn) -> AddedList:
    db = get_database()
    with db.session() as session:
        workspace_id = access_tokens.reach(session, who, workspace_id=body.workspace_id)
    added = submission.submit_link(db, _settings(), who.user_id, body.url.strip(), make_group=body.make_group,
                                   language=body.language, whole_playlist=body.whole_playlist,
                                   workspace_id=workspace_id)
    return AddedList(added=[Added(video_id=s.video_id, title=s.title, status=s.status, message=s.message)
                            for s in added.submissions], group_id=added.group_id)


@api.get("/groups", response_model=list[Group], summary="A workspace's groups")
def list_groups(who: Reader, workspace_id: int | None = None) -> list[Group]:
    return groups_of(who, workspace_id)


def groups_of(who: Caller, workspace_id: int | None) -> list[Group]:
    with get_database().session() as session:
        workspace_id = access_tokens.reach(session, who, workspace_id=workspace_id)
        return [Group(id=g.id, name=g.name, description=g.description, videos=g.video_count, shared=g.shared)
                for g in groups.list_groups(session, who.user_id, workspace_id=workspace_id)]


@api.post("/search", response_model=list[Moment], summary="The moments that answer a question (no answer written)")
def search(who: Reader, body: SearchIn, request: Request) -> list[Moment]:
    return find_moments(who, body.query, body, _app_url(request), limit=body.limit)


def find_moments(who: Caller, query: str, target: Target, app_url: str, *, limit: int) -> list[Moment]:
    db = get_database()
    workspace_id = within(db, who, target)
    hits = answers.search(db, _settings(), user_id=who.user_id, query=query, group_id=target.group_id,
                          video_id=target.video_id, workspace_id=workspace_id)
    return [Moment(video_id=h.video_id, title=h.title, start=h.start,
                   end=max(h.sentence_end, h.start) if h.sentence else h.end, text=h.sentence or h.text,
                   score=round(h.score, 4), url=app_url + library.moment_path(h.video_id, h.start), source=h.kind)
            for h in hits[:limit]]


def within(db: Database, who: Caller, target: Target, *, conversation_id: int | None = None) -> int | None:
    """The workspace to search or ask in, once the token may reach everything the call names."""
    with db.session() as session:
        return access_tokens.reach(session, who, workspace_id=target.workspace_id, group_id=target.group_id,
                                   video_id=target.video_id, conversation_id=conversation_id)


def answer_out(answer: answers.Answer, app_url: str) -> AnswerOut:
    def out(moments: list[answers.Citation]) -> list[Citation]:
        return [Citation(n=c.n, video_id=c.video_id, title=c.title, start=c.start, end=c.end, text=c.snippet,
                         url=app_url + library.moment_path(c.video_id, c.start), source=c.kind) for c in moments]

    return AnswerOut(
        answer_id=answer.log_id, conversation_id=answer.conversation_id, question=answer.question,
        answer=answer.text, mode=answer.mode, support_score=answer.support_score,
        citations=out(answer.citations), closest=out(answer.closest),
        unsupported_claims=[c.get("text", "") for c in answer.unsupported])


@api.post("/ask", response_model=AnswerOut, summary="Ask a question: an answer whose claims cite their moments",
          responses={200: {"content": {"text/event-stream": {}}, "description": "With `stream`: server-sent events"}})
def ask(who: Asker, body: AskIn, request: Request):
    db, settings, app_url = get_database(), _settings(), _app_url(request)
    workspace_id = within(db, who, body, conversation_id=body.conversation_id)
    prepared = answers.begin(db, settings, group_id=body.group_id, video_id=body.video_id,
                             workspace_id=workspace_id, user_id=who.user_id, question=body.question,
                             conversation_id=body.conversation_id)
    if not body.stream:
        return answer_out(answers.finish(db, prepared, "".join(answers.stream(prepared))), app_url)

    def events() -> Iterator[str]:
        pieces = []
        try:
            for piece in answers.stream(prepared):
                pieces.append(piece)
                yield _event("delta", {"text": piece})
            yield _event("answer", answer_out(answers.finish(db, prepared, "".join(pieces)), app_url).model_dump())
        except AskVideoError as error:
            yield _event("error", {"error": str(error)})

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@api.post("/answers/{answer_id}/rating", status_code=204, summary="Rate an answer good or bad (null clears it)")
def rate(who: Asker, answer_id: int, body: RatingIn) -> None:
    with get_database().session() as session:
        access_tokens.reach(session, who, answer_id=answer_id)
        answers.set_feedback(session, answer_id, body.rating, user_id=who.user_id)
