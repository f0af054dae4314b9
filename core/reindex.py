"""Videos indexed with another embedding model than the one their owner's questions now use.

Retrieval compares a question only with vectors of the model that embedded it, so after a
change of embedding model (or a removed key, which falls back to the local model) the videos
indexed before are silently not searched. This finds them and re-embeds them from the
transcript already stored — no download and no speech-to-text again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core import regression, transcripts, workspaces
from core.config import Settings
from core.database import Database
from core.embeddings import model_name_for
from core.errors import IngestError, TransientIngestError
from core.indexing import store_transcript
from core.model_settings import workspace_access
from core.processing import mark_error
from core.queue import defer_reembedding
from db.models import TranscriptChunk, Video
from db.states import Role, Status, TranscriptSource


def current_model(session: Session, settings: Settings, workspace_id: int) -> str:
    """The embedding model the workspace's questions (and new videos) are embedded with now."""
    access = workspace_access(session, settings, workspace_id)
    return model_name_for(access.embedding_model, api_key=access.api_key, base_url=access.base_url)


def stale_videos(session: Session, workspace_id: int, model: str, video_ids: list[int] | None = None) -> list[int]:
    """The workspace's ready videos (of `video_ids`, if given) indexed with another embedding model
    than `model` (`current_model`)."""
    query = select(Video.id).where(
        Video.workspace_id == workspace_id, Video.status == Status.COMPLETED,
        exists().where(TranscriptChunk.video_id == Video.id, TranscriptChunk.embedding_model != model),
    ).order_by(Video.id)
    if video_ids is not None:
        query = query.where(Video.id.in_(video_ids))
    return list(session.scalars(query))


@dataclass(frozen=True)
class Staleness:
    model: str  # what the user's questions are embedded with now
    video_ids: list[int]  # their ready videos indexed with another model, so not searched


def staleness(session: Session, settings: Settings, user_id: int, video_ids: list[int] | None = None, *,
              workspace_id: int | None = None) -> Staleness:
    """Which of the workspace's ready videos (of `video_ids`, if given) its questions cannot find,
    having been indexed with another embedding model than the one it uses now."""
    workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
    model = current_model(session, settings, workspace_id)
    return Staleness(model, stale_videos(session, workspace_id, model, video_ids))


def queue_reindexing(db: Database, settings: Settings, user_id: int, *, workspace_id: int | None = None) -> int:
    """Queue a re-embedding job for each of the workspace's stale videos (an editor's or owner's
    request); returns how many. Raises QueueUnavailable (a message for the user) when the queue
    cannot be reached."""
    with db.session() as session:
        workspace_id = workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR).workspace_id
        stale = stale_videos(session, workspace_id, current_model(session, settings, workspace_id))
    defer_reembedding(db.url, stale)
    return len(stale)


def reembed(db: Database, settings: Settings, video_id: int, *, final_attempt: bool = True) -> str:
    """Worker body: embed a ready video's stored transcript again with its owner's current model."""
    with db.session() as session:
        video = session.get(Video, video_id)
        if video is None or video.status != Status.COMPLETED:
            return "skipped"  # gone, or being processed again (which embeds with the current model)
        # Its screen passages are embedded again with it (a video may have only those).
        segments, source = transcripts.from_json(video.transcript_segments), video.transcript_source
    try:
        store_transcript(db, settings, video_id, segments, source or TranscriptSource.CAPTIONS)
    except TransientIngestError as error:
        if not final_attempt:
            raise
        mark_error(db, video_id, f"Re-indexing failed: {error} (use Retry to process the video again).")
        return Status.ERROR
    except IngestError as error:
        mark_error(db, video_id, f"Re-indexing failed: {error}")
        return Status.ERROR
    regression.queue_checks_of_video(db, video_id, regression.REINDEXED)
    return Status.COMPLETED
