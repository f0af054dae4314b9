"""The schema of Ask Video. Alembic migrations mirror this file; a test proves they agree."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, defer, mapped_column, relationship

from db.states import (
    AnswerMode,
    Feedback,
    PassageKind,
    Role,
    Scope,
    Status,
    SummaryMethod,
    TranscriptSource,
    VideoSource,
)

EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2; OpenAI text-embedding-3 models are asked for 384 too


def one_of(column: str, values: type[StrEnum], *, nullable: bool = False) -> str:
    """CHECK text keeping `column` to the enum's values: "status IN ('pending', …)"."""
    quoted = ", ".join(f"'{value}'" for value in values)  # our own identifiers: no quotes inside
    allowed = f"{column} IN ({quoted})"
    return f"{column} IS NULL OR {allowed}" if nullable else allowed


class Base(DeclarativeBase):
    pass


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("video_limit > 0", name="ck_users_video_limit_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password: Mapped[str] = mapped_column(String(255))  # argon2 hash, never the password
    encrypted_openai_api_key: Mapped[str | None] = mapped_column(Text)  # Fernet token
    video_limit: Mapped[int] = mapped_column(Integer)
    date_joined: Mapped[datetime] = _now()
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_staff: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_superuser: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Kept from the original (Django-style) user table; nothing reads them; dropping needs a migration.
    first_name: Mapped[str] = mapped_column(String(150), server_default="")
    last_name: Mapped[str] = mapped_column(String(150), server_default="")
    # Model settings (revision 0002): an OpenAI-compatible endpoint and model names.
    openai_base_url: Mapped[str | None] = mapped_column(String(500))
    chat_model: Mapped[str | None] = mapped_column(String(200))
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    # Extra model calls a user may allow (revision 0012), both off by default since each costs a
    # call per question: judging an answer's claims against their sources, re-ranking candidates.
    check_claims_with_model: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    rerank_with_model: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # "<issuer> <subject>" of the company sign-in this account is (revision 0017); None: not linked.
    company_identity: Mapped[str | None] = mapped_column(String(600), unique=True)

    videos: Mapped[list[Video]] = relationship(back_populates="owner", passive_deletes=True)


class UserSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SignInFailure(Base):
    """A failed sign-in, kept for the throttle's window. Counted per account (`user_id`, whichever
    way the login named it; `login` for logins naming no account) and per client `address`.
    Recorded before the password is checked and deleted if it was right (revision 0010)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_login_at", "login", "failed_at"),
        Index("ix_sign_in_failures_user_at", "user_id", "failed_at"),
        Index("ix_sign_in_failures_address_at", "address", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    login: Mapped[str] = mapped_column(String(320))  # stripped and lowercased
    failed_at: Mapped[datetime] = _now()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    address: Mapped[str | None] = mapped_column(String(64))  # an IPv4 address or an IPv6 /64; None: unknown


class Invitation(Base):
    """Staff's invitation to sign up (revision 0010): single use, expires; only the SHA-256 of its
    token is stored, so the table alone lets nobody in."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))  # the only address that may use it; None: anyone
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Workspace(Base):
    """Where a library lives (revision 0016): a user's personal one, or a team's. Everything a
    library holds (videos, groups, conversations, …) belongs to one, and people reach it through
    their membership's role (core/workspaces.py)."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Set for the one personal workspace each user has; None for a team's.
    personal_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()


class WorkspaceMember(Base):
    __tablename__ = "workspace_members"
    __table_args__ = (CheckConstraint(one_of("role", Role), name="ck_workspace_members_role"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(10))
    joined_at: Mapped[datetime] = _now()


class WorkspaceInvitation(Base):
    """An invitation into a workspace with a role: for one email address (one use) or, without
    one, a link for a team chat with a use limit. Only the SHA-256 of its token is stored."""

    __tablename__ = "workspace_invitations"
    __table_args__ = (
        CheckConstraint(one_of("role", Role), name="ck_workspace_invitations_role"),
        CheckConstraint("max_uses > 0 AND uses BETWEEN 0 AND max_uses", name="ck_workspace_invitations_uses"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10))
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _workspace(*, index: bool = False) -> Any:
    """The workspace a row belongs to; the column every library query is scoped by."""
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=index)


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        CheckConstraint(one_of("status", Status), name="ck_videos_status"),
        # The Library lists a user's videos newest first.
        Index("ix_videos_user_uploaded_at", "user_id", text("uploaded_at DESC")),
        Index("ix_videos_workspace_uploaded_at", "workspace_id", text("uploaded_at DESC")),
        CheckConstraint(one_of("source", VideoSource), name="ck_videos_source"),
        CheckConstraint(one_of("transcript_source", TranscriptSource, nullable=True),
                        name="ck_videos_transcript_source"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="ck_videos_progress"),
        # The same bytes are stored once per workspace; NULL (links) never collide.
        Index("uq_videos_workspace_sha256", "workspace_id", "sha256", unique=True,
              postgresql_where=text("sha256 IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The uploader (their video limit counts it); None once they deleted their account.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    workspace_id: Mapped[int] = _workspace()
    file: Mapped[str | None] = mapped_column(String(500))  # path relative to the media directory
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, server_default="")
    uploaded_at: Mapped[datetime] = _now()
    transcript: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default=Status.PENDING)
    error_message: Mapped[str | None] = mapped_column(Text)
    is_external_upload: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Ingestion (revision 0004): where it came from, what it is, how far processing got.
    source: Mapped[str] = mapped_column(String(10), server_default=VideoSource.UPLOAD)
    source_url: Mapped[str | None] = mapped_column(String(2000))
    external_id: Mapped[str | None] = mapped_column(String(200))  # e.g. the YouTube video id
    extractor: Mapped[str | None] = mapped_column(String(100))  # yt-dlp extractor ("youtube", "generic")
    original_filename: Mapped[str | None] = mapped_column(String(500))  # shown only, never a path
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    captions_file: Mapped[str | None] = mapped_column(String(500))  # sidecar .srt/.vtt, media-relative
    thumbnail: Mapped[str | None] = mapped_column(String(500))  # media-relative poster image
    # Whether processing reads the text on screen too (revision 0020; the installation can turn it off).
    read_screen_text: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    thumbnail_url: Mapped[str | None] = mapped_column(String(2000))
    channel: Mapped[str | None] = mapped_column(String(300))
    published_on: Mapped[date | None] = mapped_column(Date)
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(20))  # wanted caption language, then detected
    transcript_source: Mapped[str | None] = mapped_column(String(30))
    transcript_segments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    progress: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    current_step: Mapped[str | None] = mapped_column(String(40))
    processing_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processing_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    owner: Mapped[User] = relationship(back_populates="videos")


# Loader options for Video rows read for their status, title or owner: the transcript columns
# (megabytes for a long talk) load only if touched, instead of on every list or poll.
WITHOUT_TRANSCRIPT = (defer(Video.transcript), defer(Video.transcript_segments))


class VideoGroup(Base):
    __tablename__ = "video_groups"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)  # who made it
    workspace_id: Mapped[int] = _workspace(index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    share_token: Mapped[str | None] = mapped_column(String(100), unique=True)

    members: Mapped[list[VideoGroupMember]] = relationship(
        order_by="(VideoGroupMember.order, VideoGroupMember.added_at)", passive_deletes=True
    )


class VideoGroupMember(Base):
    __tablename__ = "video_group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "video_id", name="uq_video_group_members_group_video"),
        Index("ix_video_group_members_group_order", "group_id", "order", "added_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("video_groups.id", ondelete="CASCADE"))
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = _now()
    order: Mapped[int] = mapped_column(Integer, server_default="0")


class SharedQuestion(Base):
    """A question asked through a group's share link, counted against the link's hourly limit
    when asked (answered or not)."""

    __tablename__ = "shared_questions"
    __table_args__ = (Index("ix_shared_questions_group_at", "group_id", "asked_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("video_groups.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime] = _now()


class Conversation(Base):
    """Questions asked one after another about one scope (a group, a video or everything), kept so
    they can be reopened and continued; its chat_logs rows are its exchanges, in id order. A share
    link's visitor has no account: their conversations name no member and are theirs through a
    random token kept in their browser, stored here hashed."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(one_of("scope", Scope), name="ck_conversations_scope"),
        CheckConstraint("(scope = 'group') = (group_id IS NOT NULL) AND (scope = 'video') = (video_id IS NOT NULL)",
                        name="ck_conversations_scope_target"),
        Index("ix_conversations_user_updated", "user_id", "updated_at"),
        Index("ix_conversations_workspace_user_updated", "workspace_id", "user_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Who asks; None for a share-link visitor (theirs by token) and once the asker's account is gone.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    workspace_id: Mapped[int] = _workspace()
    scope: Mapped[str] = mapped_column(String(8))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("video_groups.id", ondelete="CASCADE"), index=True)
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    is_shared_origin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    visitor_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ChatLog(Base):
    __tablename__ = "chat_logs"
    __table_args__ = (
        CheckConstraint(one_of("feedback", Feedback, nullable=True), name="ck_chat_logs_feedback"),
        CheckConstraint(one_of("mode", AnswerMode), name="ck_chat_logs_mode"),
        Index("ix_chat_logs_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Who asked: None through a share link, and once the asker's account is gone (the team keeps it).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    workspace_id: Mapped[int] = _workspace(index=True)
    # None when asked of one video or of all the owner's videos (its conversation says which).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("video_groups.id", ondelete="CASCADE"), index=True)
    # The conversation it is a turn of (revision 0013).
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    conversation: Mapped[Conversation] = relationship()
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    related_videos: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    # A "nothing found" answer's nearest moments, shown as not an answer (revision 0024).
    closest_moments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    is_shared_origin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    feedback: Mapped[str | None] = mapped_column(String(4))
    mode: Mapped[str] = mapped_column(String(10))  # how it was answered (revision 0011)
    # How well the answer's sentences are backed by the passages they cite (revision 0012): the
    # share of claims supported, 0–1; None where nothing was claimed (no answer, older rows).
    support_score: Mapped[float | None] = mapped_column(Float)
    # One entry per checked sentence: {"sentence", "source" (1-based citation), "supported", "score"}.
    claims: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    # A reviewer's pass over the exchange in Analytics.
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class RegressionQuestion(Base):
    """A question with the moment that answers it, pinned by a reviewer (usually from a bad answer):
    the group's own labelled question, which retrieval is checked against from then on."""

    __tablename__ = "regression_questions"
    __table_args__ = (
        CheckConstraint("answer_start_s >= 0 AND answer_end_s >= answer_start_s",
                        name="ck_regression_questions_times"),
        UniqueConstraint("chat_log_id", name="uq_regression_questions_chat_log"),
        Index("ix_regression_questions_group", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("video_groups.id", ondelete="CASCADE"))
    chat_log_id: Mapped[int | None] = mapped_column(ForeignKey("chat_logs.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(Text)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    answer_start_s: Mapped[float] = mapped_column(Float)
    answer_end_s: Mapped[float] = mapped_column(Float)
    pinned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()


class RegressionRun(Base):
    """One check of a group's regression questions against the product's retriever."""

    __tablename__ = "regression_runs"
    __table_args__ = (Index("ix_regression_runs_group_at", "group_id", "ran_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("video_groups.id", ondelete="CASCADE"))
    ran_at: Mapped[datetime] = _now()
    reason: Mapped[str] = mapped_column(String(40))  # "manual", "reindexed", "model changed", …
    questions: Mapped[int] = mapped_column(Integer)
    found: Mapped[int] = mapped_column(Integer)  # questions whose moment is cited in the top 5
    seek_at_5: Mapped[float | None] = mapped_column(Float)  # found / questions; None with no questions
    missed: Mapped[list[int]] = mapped_column(JSONB, server_default="[]")  # regression_questions ids
    error: Mapped[str | None] = mapped_column(Text)  # why the check could not run (then seek_at_5 is None)


HNSW_OPTIONS = {"m": 16, "ef_construction": 64}  # pgvector's defaults, written out (also core/workspace_indexes.py)


def _hnsw_cosine_index(name: str) -> Index:
    """The HNSW index over a table's `embedding`, for chunks and sentences alike.

    vector_cosine_ops because retrieval orders by `<=>` (cosine distance); an index built for
    another operator would be ignored by the planner.
    """
    return Index(name, "embedding", postgresql_using="hnsw", postgresql_with=HNSW_OPTIONS,
                 postgresql_ops={"embedding": "vector_cosine_ops"})


class TranscriptChunk(Base):
    """The vector store: one row per timed stretch of a transcript, or per stretch of time the same
    text was on screen (`kind`, revision 0020). Both are searched by the same SQL; a screen passage
    has a small picture of its frame and no sentences of its own."""

    __tablename__ = "transcript_chunks"
    __table_args__ = (
        UniqueConstraint("video_id", "embedding_model", "kind", "chunk_index", name="uq_transcript_chunks_position"),
        CheckConstraint("start_time >= 0 AND end_time >= start_time", name="ck_transcript_chunks_times"),
        CheckConstraint(one_of("kind", PassageKind), name="ck_transcript_chunks_kind"),
        _hnsw_cosine_index("ix_transcript_chunks_embedding_hnsw"),
        Index("ix_transcript_chunks_search", "search_vector", postgresql_using="gin"),
        # A sentence's chunks are found by video and time from the index alone (revision 0025).
        Index("ix_transcript_chunks_video_span", "video_id", "embedding_model", "kind", "start_time",
              postgresql_include=["end_time", "id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = _workspace(index=True)
    video_title: Mapped[str] = mapped_column(String(500))
    chunk_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    start_time: Mapped[float] = mapped_column(Float)
    end_time: Mapped[float] = mapped_column(Float)
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIMENSIONS))  # stored inline (MAIN, revision 0023)
    embedding_model: Mapped[str] = mapped_column(String(200))
    # Full-text side of hybrid search; generated so it can never drift from the text.
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('english', coalesce(video_title, '') || ' ' || text)", persisted=True),
    )
    kind: Mapped[str] = mapped_column(String(10), server_default=PassageKind.SPEECH)
    thumbnail: Mapped[str | None] = mapped_column(String(500))  # a screen passage's frame, media-relative


class TranscriptSentence(Base):
    """One timed sentence of a transcript with its own vector (revision 0006).

    Chunks are what a question is matched against as a whole; sentences say where inside a chunk
    the answer starts, so a citation plays from that sentence, and they let the offline answer
    quote a sentence without embedding anything at question time.
    """

    __tablename__ = "transcript_sentences"
    __table_args__ = (
        UniqueConstraint("video_id", "embedding_model", "sentence_index", name="uq_transcript_sentences_position"),
        CheckConstraint("start_time >= 0 AND end_time >= start_time", name="ck_transcript_sentences_times"),
        _hnsw_cosine_index("ix_transcript_sentences_embedding_hnsw"),
        # Sentences inside a chunk are found by video and time.
        Index("ix_transcript_sentences_video_start", "video_id", "start_time"),
        # The Library's search of what is said matches the owner's sentences by their words (revision 0014).
        Index("ix_transcript_sentences_search", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = _workspace(index=True)
    sentence_index: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[float] = mapped_column(Float)
    end_time: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIMENSIONS))  # stored inline (MAIN, revision 0023)
    embedding_model: Mapped[str] = mapped_column(String(200))
    # Keyword side at sentence level (revision 0007): the sentence that says the question's words.
    search_vector: Mapped[Any] = mapped_column(TSVECTOR, Computed("to_tsvector('english', text)", persisted=True))


class KeywordStats(Base):
    """How many keyword documents (chunks or sentences) one video holds under one embedding model,
    and their total length in lexemes (revision 0015).

    Okapi BM25 needs the scope's document count and average length; summed from these rows, a
    question over a whole library reads one row per video instead of every chunk and sentence.
    Triggers on both tables keep the rows exact through every insert, update and delete, whichever
    code (or COPY) writes them.
    """

    __tablename__ = "keyword_stats"
    __table_args__ = (
        CheckConstraint("kind IN ('transcript_chunks', 'transcript_sentences')", name="ck_keyword_stats_kind"),
    )

    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True)
    embedding_model: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # the table the documents are in
    documents: Mapped[int] = mapped_column(BigInteger)
    total_length: Mapped[int] = mapped_column(BigInteger)


class KeywordTerm(Base):
    """How many of one video's keyword documents hold one lexeme (revision 0015, kept like
    KeywordStats): a query word's document frequency over a scope, without reading a document."""

    __tablename__ = "keyword_terms"
    __table_args__ = (
        CheckConstraint("kind IN ('transcript_chunks', 'transcript_sentences')", name="ck_keyword_terms_kind"),
    )

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    embedding_model: Mapped[str] = mapped_column(String(200), primary_key=True)
    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True, index=True)
    documents: Mapped[int] = mapped_column(BigInteger)
    # Its postings (revision 0022), in one order: the documents holding the lexeme, how often each
    # says it, and each one's length: BM25 scores a scope from these rows without a search vector.
    document_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default="{}")
    term_counts: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    document_lengths: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")


# ----------------------------------------------------------------- video intelligence (revision 0005)


class Chapter(Base):
    """A titled stretch of one video. Machine-made until a person edits it."""

    __tablename__ = "chapters"
    __table_args__ = (
        CheckConstraint("start_s >= 0 AND end_s > start_s", name="ck_chapters_times"),
        CheckConstraint("confidence BETWEEN 0 AND 1", name="ck_chapters_confidence"),
        # Deferred, so renumbering a video's chapters inside one transaction never trips over itself.
        UniqueConstraint("video_id", "order", name="uq_chapters_video_order", deferrable=True, initially="DEFERRED"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    order: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float, server_default="1")
    is_generated: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class Summary(Base):
    """The cached summary of one video or one group; `fingerprint` says what it was made from."""

    __tablename__ = "summaries"
    __table_args__ = (
        CheckConstraint("(video_id IS NULL) <> (group_id IS NULL)", name="ck_summaries_one_target"),
        CheckConstraint(one_of("method", SummaryMethod), name="ck_summaries_method"),
        Index("uq_summaries_video", "video_id", unique=True, postgresql_where=text("video_id IS NOT NULL")),
        Index("uq_summaries_group", "group_id", unique=True, postgresql_where=text("group_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[int] = _workspace(index=True)
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("video_groups.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    method: Mapped[str] = mapped_column(String(20))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()


class Clip(Base):
    """A cut of a video between two seconds; one per video and range (the hash is unique)."""

    __tablename__ = "clips"
    __table_args__ = (
        CheckConstraint("start_s >= 0 AND end_s > start_s", name="ck_clips_times"),
        CheckConstraint(one_of("status", Status), name="ck_clips_status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[int] = _workspace(index=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    clip_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    file: Mapped[str | None] = mapped_column(String(500))  # media-relative
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), server_default=Status.PENDING)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Comment(Base):
    """Plain-text comment on a video, optionally at a second or a chapter; replies name a parent."""

    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint("char_length(text) <= 2000", name="ck_comments_text_length"),
        CheckConstraint("at_s IS NULL OR at_s >= 0", name="ck_comments_at"),
        Index("ix_comments_video_created", "video_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    chapter_id: Mapped[int | None] = mapped_column(ForeignKey("chapters.id", ondelete="SET NULL"))
    at_s: Mapped[float | None] = mapped_column(Float)
    is_deleted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = _now()
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)  # last: the name shadows sqlalchemy.text in this class body


class ContentTemplate(Base):
    """A workspace's Jinja2 template for one content type; it wins over the shipped default."""

    __tablename__ = "content_templates"
    __table_args__ = (UniqueConstraint("workspace_id", "content_type", name="uq_content_templates_workspace_type"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[int] = _workspace()
    content_type: Mapped[str] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class AccessToken(Base):
    """A personal access token for the REST API and the MCP server: a tool acts as its owner,
    within its scope, and within one workspace when `workspace_id` is set (revision 0021). Only the
    SHA-256 of the token is stored; it is shown once when made."""

    __tablename__ = "access_tokens"
    __table_args__ = (CheckConstraint("scope IN ('read', 'ask')", name="ck_access_tokens_scope"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10))
    # None: every workspace its owner is in. A token limited to a workspace goes with it.
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessTokenCalls(Base):
    """Calls one token made in one minute, for its rate limit (shared by every web process)."""

    __tablename__ = "access_token_calls"

    token_id: Mapped[int] = mapped_column(ForeignKey("access_tokens.id", ondelete="CASCADE"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)


class SpentCookieHandoff(Base):
    """A sealed cookie the browser has already handed to the server: each is good once."""

    __tablename__ = "spent_cookie_handoffs"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_at: Mapped[datetime] = _now()
