"""What works and what does not: answer quality and usage, aggregated in SQL.

Every figure is computed by PostgreSQL over the filtered chat logs, so the page stays quick with
hundreds of thousands of rows; only aggregates and one page of rows come back, as pandas frames.
Editors and owners see their workspace's logs; staff may look across all workspaces.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pandas as pd
from sqlalchemy import Float, Select, case, cast, column, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from core import workspaces
from core.answers import gist
from core.errors import AskVideoError
from core.library import TRANSCRIPT_LABELS
from core.states import STATUS_BADGES
from core.transcripts import format_timestamp
from db.models import ChatLog, Conversation, User, Video, VideoGroup, Workspace
from db.states import Feedback, Role, Status

ORIGINS = ("all", "owner", "shared")
FEEDBACKS = ("all", *Feedback, "none")


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None  # inclusive
    group_id: int | None = None
    origin: str = "all"
    feedback: str = "all"


@dataclass(frozen=True)
class Scope:
    """Whose data: one workspace's (as `user_id`, an editor or owner there, sees it), or every
    workspace's for staff."""

    user_id: int
    workspace_id: int | None = None  # None: the user's personal workspace
    all_users: bool = False

    def holds(self, workspace_column) -> list:
        """Conditions keeping rows whose `workspace_column` is in this scope."""
        if self.all_users:
            return []
        if self.workspace_id is None:
            return [workspace_column == select(Workspace.id).where(Workspace.personal_user_id == self.user_id)
                    .scalar_subquery()]
        return [workspace_column == self.workspace_id]


@dataclass(frozen=True)
class Headline:
    questions: int
    rated: int
    good: int
    bad: int
    no_sources: int
    videos_ingested: int
    hours_of_video: float
    videos_in_error: int

    @property
    def rated_share(self) -> float | None:
        return self.rated / self.questions if self.questions else None

    @property
    def good_rate(self) -> float | None:
        return self.good / self.rated if self.rated else None

    @property
    def bad_rate(self) -> float | None:
        return self.bad / self.rated if self.rated else None


def scope_for(session: Session, user_id: int, *, all_users: bool, workspace_id: int | None = None) -> Scope:
    """What the user may see in Analytics: a workspace where they are an editor or owner (their
    personal one by default), or with `all_users` (staff only) every workspace."""
    if all_users:
        if not session.scalar(select(User.is_staff).where(User.id == user_id)):
            raise AskVideoError("Only staff can see every user's data.")
        return Scope(user_id, None, True)
    return Scope(user_id, workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR).workspace_id)


def _in_period(column, filters: Filters) -> list:
    """Conditions keeping `column` (a timestamp) within the filters' days, the last day included."""
    conditions = []
    if filters.start:
        conditions.append(column >= datetime.combine(filters.start, time.min, timezone.utc))
    if filters.end:
        conditions.append(column < datetime.combine(filters.end + timedelta(days=1), time.min, timezone.utc))
    return conditions


def _log_conditions(scope: Scope, filters: Filters) -> list:
    conditions = scope.holds(ChatLog.workspace_id)
    conditions += _in_period(ChatLog.created_at, filters)
    if filters.group_id:
        conditions.append(ChatLog.group_id == filters.group_id)
    if filters.origin == "owner":
        conditions.append(ChatLog.is_shared_origin.is_(False))
    elif filters.origin == "shared":
        conditions.append(ChatLog.is_shared_origin.is_(True))
    if filters.feedback in tuple(Feedback):
        conditions.append(ChatLog.feedback == filters.feedback)
    elif filters.feedback == "none":
        conditions.append(ChatLog.feedback.is_(None))
    return conditions


def _video_conditions(scope: Scope, filters: Filters) -> list:
    conditions = scope.holds(Video.workspace_id)
    return conditions + _in_period(Video.uploaded_at, filters)


def headline(session: Session, scope: Scope, filters: Filters) -> Headline:
    logs = session.execute(
        select(
            func.count(),
            func.count(ChatLog.feedback),
            func.count().filter(ChatLog.feedback == Feedback.GOOD),
            func.count().filter(ChatLog.feedback == Feedback.BAD),
            func.count().filter(func.jsonb_array_length(ChatLog.related_videos) == 0),
        ).where(*_log_conditions(scope, filters))
    ).one()
    videos = session.execute(
        select(
            func.count().filter(Video.status == Status.COMPLETED),
            func.coalesce(func.sum(Video.duration_s).filter(Video.status == Status.COMPLETED), 0.0),
            func.count().filter(Video.status == Status.ERROR),
        ).where(*_video_conditions(scope, filters))
    ).one()
    return Headline(*logs, videos[0], round(float(videos[1]) / 3600, 2), videos[2])


def _feedback_label():
    return func.coalesce(ChatLog.feedback, "none")


def questions_per_day(session: Session, scope: Scope, filters: Filters) -> pd.DataFrame:
    day = func.date_trunc("day", ChatLog.created_at).label("day")
    rows = session.execute(
        select(day, _feedback_label().label("feedback"), func.count().label("questions"))
        .where(*_log_conditions(scope, filters)).group_by(day, literal_column("feedback")).order_by(day)
    ).all()
    frame = pd.DataFrame(rows, columns=["day", "feedback", "questions"])
    if not frame.empty:
        frame["day"] = pd.to_datetime(frame["day"], utc=True).dt.date
    return frame


def good_rate_per_group(session: Session, scope: Scope, filters: Filters) -> pd.DataFrame:
    good = func.count().filter(ChatLog.feedback == Feedback.GOOD)
    bad = func.count().filter(ChatLog.feedback == Feedback.BAD)
    rows = session.execute(
        select(VideoGroup.id, VideoGroup.name, func.count(), good, bad)
        .join(VideoGroup, VideoGroup.id == ChatLog.group_id)
        .where(*_log_conditions(scope, filters))
        .group_by(VideoGroup.id, VideoGroup.name).order_by(func.count().desc())
    ).all()
    frame = pd.DataFrame(rows, columns=["group_id", "group", "questions", "good", "bad"])
    rated = frame["good"] + frame["bad"]
    frame["good_rate"] = (frame["good"] / rated.where(rated > 0)).round(3)
    return frame


def support_per_group(session: Session, scope: Scope, filters: Filters) -> pd.DataFrame:
    """Per group, the average support score of its checked answers (those that claimed something)."""
    rows = session.execute(
        select(VideoGroup.id, VideoGroup.name, func.count(ChatLog.support_score), func.avg(ChatLog.support_score))
        .join(VideoGroup, VideoGroup.id == ChatLog.group_id)
        .where(*_log_conditions(scope, filters), ChatLog.support_score.is_not(None))
        .group_by(VideoGroup.id, VideoGroup.name).order_by(func.avg(ChatLog.support_score), VideoGroup.name)
    ).all()
    frame = pd.DataFrame(rows, columns=["group_id", "group", "checked", "support"])
    frame["support"] = frame["support"].astype(float).round(3)
    return frame


def support_per_day(session: Session, scope: Scope, filters: Filters) -> pd.DataFrame:
    """Per day, the average support score of the answers checked that day."""
    day = func.date_trunc("day", ChatLog.created_at).label("day")
    rows = session.execute(
        select(day, func.count(ChatLog.support_score), func.avg(ChatLog.support_score))
        .where(*_log_conditions(scope, filters), ChatLog.support_score.is_not(None))
        .group_by(day).order_by(day)
    ).all()
    frame = pd.DataFrame(rows, columns=["day", "checked", "support"])
    frame["support"] = frame["support"].astype(float).round(3)
    if not frame.empty:
        frame["day"] = pd.to_datetime(frame["day"], utc=True).dt.date
    return frame


def _citations(scope: Scope, filters: Filters) -> Select:
    cited = func.jsonb_array_elements(ChatLog.related_videos).table_valued(column("value", JSONB)).lateral("cited")
    return (
        select(
            cited.c.value["video_id"].as_integer().label("video_id"),
            cited.c.value["title"].astext.label("title"),
            ChatLog.feedback,
        )
        .select_from(ChatLog).join(cited, literal_column("true"))
        .where(*_log_conditions(scope, filters))
    )


def most_cited_videos(session: Session, scope: Scope, filters: Filters, limit: int = 15) -> pd.DataFrame:
    """Videos by how often answers cite them, with how often that was in an answer rated bad."""
    cited = _citations(scope, filters).subquery()
    rows = session.execute(
        select(cited.c.video_id, func.max(cited.c.title), func.count(),
               func.count().filter(cited.c.feedback == Feedback.BAD))
        .group_by(cited.c.video_id).order_by(func.count().desc(), cited.c.video_id).limit(limit)
    ).all()
    return pd.DataFrame(rows, columns=["video_id", "title", "citations", "in_bad_answers"])


def most_cited_in_bad(session: Session, scope: Scope, filters: Filters, limit: int = 15) -> pd.DataFrame:
    cited = _citations(scope, filters).subquery()
    rows = session.execute(
        select(cited.c.video_id, func.max(cited.c.title), func.count())
        .where(cited.c.feedback == Feedback.BAD)
        .group_by(cited.c.video_id).order_by(func.count().desc(), cited.c.video_id).limit(limit)
    ).all()
    return pd.DataFrame(rows, columns=["video_id", "title", "bad_citations"])


def ingestion_status(session: Session, scope: Scope, filters: Filters) -> pd.DataFrame:
    rows = session.execute(
        select(Video.status, func.count()).where(*_video_conditions(scope, filters))
        .group_by(Video.status).order_by(Video.status)
    ).all()
    return pd.DataFrame([(STATUS_BADGES[status].label, count) for status, count in rows], columns=["status", "videos"])


# Processing has a fixed cost (start, probe, embed); a per-hour rate is only meaningful for
# videos long enough that the fixed cost does not dominate it.
RATE_FROM_SECONDS = 60


def processing_speed(session: Session, scope: Scope, filters: Filters) -> pd.DataFrame:
    """Per transcript source: videos, hours of video, the median processing time of a video, and
    minutes of processing per hour of video over the videos of at least RATE_FROM_SECONDS (None
    if there are none: a nine-second clip made '4,616 s per video hour')."""
    seconds = func.extract("epoch", Video.processing_finished_at - Video.processing_started_at)
    long_enough = Video.duration_s >= RATE_FROM_SECONDS
    rows = session.execute(
        select(
            func.coalesce(Video.transcript_source, "unknown"), func.count(),
            func.sum(Video.duration_s) / 3600,
            cast(func.percentile_cont(0.5).within_group(seconds), Float),
            cast(func.sum(seconds).filter(long_enough) / 60, Float),
            cast(func.sum(Video.duration_s).filter(long_enough) / 3600, Float),
        )
        .where(*_video_conditions(scope, filters), Video.status == Status.COMPLETED,
               Video.processing_started_at.is_not(None), Video.processing_finished_at.is_not(None),
               Video.duration_s > 0)
        .group_by(literal_column("1"))
    ).all()
    frame = pd.DataFrame(rows, columns=["transcript_source", "videos", "hours_of_video", "median_s",
                                        "long_minutes", "long_hours"])
    frame["transcript_source"] = frame["transcript_source"].map(lambda s: TRANSCRIPT_LABELS.get(s, s))
    frame["minutes_per_video_hour"] = (frame["long_minutes"] / frame["long_hours"]).round(1)
    return frame.drop(columns=["long_minutes", "long_hours"])


def _table_query(scope: Scope, filters: Filters) -> Select:
    return (
        select(ChatLog.id, ChatLog.created_at, asked_of().label("group"), ChatLog.question, ChatLog.answer,
               ChatLog.mode,
               _feedback_label().label("feedback"),
               case((ChatLog.is_shared_origin, "shared link"), else_="owner").label("origin"),
               ChatLog.related_videos, ChatLog.workspace_id, ChatLog.support_score, ChatLog.claims,
               ChatLog.reviewed_at.is_not(None).label("reviewed"), ChatLog.closest_moments)
        .join(Conversation, Conversation.id == ChatLog.conversation_id)
        .outerjoin(VideoGroup, VideoGroup.id == ChatLog.group_id)
        .outerjoin(Video, Video.id == Conversation.video_id)
        .where(*_log_conditions(scope, filters))
    )


def asked_of():
    """What an exchange asked, for tables: its group's name, "Video: <title>" or "Everything"."""
    return func.coalesce(VideoGroup.name, literal("Video: ") + Video.title, literal("Everything"))


COLUMNS = ["id", "created_at", "group", "question", "answer", "mode", "feedback", "origin", "sources", "workspace_id",
           "support_score", "claims", "reviewed", "closest"]
# How the review queue can be ordered, each newest first within its ties.
SORTS = {"worst_first": "Bad first, then unrated", "least_supported": "Least supported first",
         "newest": "Newest first"}


@dataclass(frozen=True)
class TablePage:
    rows: pd.DataFrame
    total: int
    page: int
    pages: int


def answers_table(session: Session, scope: Scope, filters: Filters, *, page: int = 1, per_page: int = 25,
                  sort: str = "worst_first") -> TablePage:
    """Exchanges in the order `sort` names (SORTS): bad and unrated first (the reviewer's queue), the
    least supported by their sources first (unchecked ones last), or newest first."""
    if sort not in SORTS:
        raise AskVideoError("Unknown order for the answers.")
    query = _table_query(scope, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    priority = case((ChatLog.feedback == Feedback.BAD, 0), (ChatLog.feedback.is_(None), 1), else_=2)
    order = {"worst_first": [priority], "least_supported": [ChatLog.support_score.asc().nulls_last(), priority],
             "newest": []}[sort] + [ChatLog.created_at.desc(), ChatLog.id.desc()]
    rows = session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["cited"] = frame["sources"].map(_sources_text) if not frame.empty else pd.Series(dtype=str)
    frame["gist"] = [gist(a, m) for a, m in zip(frame["answer"], frame["mode"])] if not frame.empty \
        else pd.Series(dtype=str)
    return TablePage(frame, total, page, pages)


def _sources_text(sources: list[dict]) -> str:
    return "; ".join(
        f"{s.get('title')} @ {format_timestamp(s.get('start') or 0)}–{format_timestamp(s.get('end') or 0)}"
        for s in sources or []
    )


def exchange(session: Session, scope: Scope, log_id: int) -> dict | None:
    """One exchange in full, if it is within the viewer's scope. Its sources play as `owner_id`, an
    owner of its workspace: a reviewer (staff too) may play what the answer cited."""
    query = _table_query(scope, Filters()).where(ChatLog.id == log_id)
    row = session.execute(query).first()
    if row is None:
        return None
    return {"id": row.id, "created_at": row.created_at, "group": row.group, "question": row.question,
            "answer": row.answer, "feedback": row.feedback, "origin": row.origin,
            "sources": list(row.related_videos or []), "owner_id": workspaces.model_holder(session, row.workspace_id),
            "closest": list(row.closest_moments or []),
            "claims": list(row.claims or [])}


def frequent_questions(session: Session, scope: Scope, filters: Filters, limit: int = 20) -> pd.DataFrame:
    """Questions asked most often, compared case- and punctuation-insensitively."""
    normal = func.trim(func.regexp_replace(
        func.regexp_replace(func.lower(ChatLog.question), r"[^\w\s]", "", "g"), r"\s+", " ", "g"))
    rows = session.execute(
        select(normal.label("question"), func.count(),
               func.count().filter(ChatLog.feedback == Feedback.GOOD),
               func.count().filter(ChatLog.feedback == Feedback.BAD))
        .where(*_log_conditions(scope, filters))
        .group_by(normal).order_by(func.count().desc(), normal).limit(limit)
    ).all()
    return pd.DataFrame(rows, columns=["question", "asked", "good", "bad"])


def export_frame(session: Session, scope: Scope, filters: Filters) -> pd.DataFrame:
    rows = session.execute(_table_query(scope, filters).order_by(ChatLog.created_at, ChatLog.id)).all()
    frame = pd.DataFrame(rows, columns=COLUMNS).drop(columns=["workspace_id"])
    for name in ("sources", "claims", "closest"):
        frame[name] = frame[name].map(lambda s: json.dumps(s or [], ensure_ascii=False))
    return frame


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert_in_spreadsheets(value: object) -> object:
    """Text a spreadsheet would run as a formula (a visitor's question `=HYPERLINK(...)`) gets a
    leading apostrophe, the spreadsheet's own mark for "this is text" (OWASP's CSV advice)."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def export_csv(session: Session, scope: Scope, filters: Filters) -> bytes:
    frame = export_frame(session, scope, filters)
    text_columns = frame.select_dtypes(include=["object", "str"]).columns
    frame[text_columns] = frame[text_columns].map(_inert_in_spreadsheets)
    return frame.to_csv(index=False).encode()


def export_parquet(session: Session, scope: Scope, filters: Filters) -> bytes:
    buffer = io.BytesIO()
    export_frame(session, scope, filters).to_parquet(buffer, index=False)
    return buffer.getvalue()


def group_options(session: Session, scope: Scope) -> list[tuple[int, str]]:
    query = select(VideoGroup.id, VideoGroup.name).where(*scope.holds(VideoGroup.workspace_id)).order_by(VideoGroup.name)
    return [tuple(r) for r in session.execute(query).all()]

