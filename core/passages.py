"""A video's stored passages beyond its transcript: the text read from its screen, and their files.

Screen passages are `transcript_chunks` rows of kind 'screen' (revision 0020), searched with the
spoken ones; each has a small picture of its frame in the media directory, which goes with them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Settings
from core.transcripts import ScreenPassage
from db.models import TranscriptChunk
from db.states import PassageKind


def screen_unread(settings: Settings, *, wanted: bool, file_stored: bool) -> str | None:
    """Why a video's screen is not read, or None when it is: the one rule processing follows and
    the Library explains."""
    if not settings.screen_text:
        return "Reading text on screen is turned off on this server."
    if not wanted:
        return "Text on screen is not read for this video (chosen when it was added)."
    if not file_stored:
        return ("Text on screen is read from the video file, and this video is played from its site: "
                "upload the file to search its slides.")
    return None


def stored_screen_text(session: Session, video_id: int) -> list[ScreenPassage]:
    """The video's screen passages as stored (under any one model: they are the same passages)."""
    rows = session.execute(
        select(TranscriptChunk.chunk_index, TranscriptChunk.start_time, TranscriptChunk.end_time,
               TranscriptChunk.text, TranscriptChunk.thumbnail)
        .where(TranscriptChunk.video_id == video_id, TranscriptChunk.kind == PassageKind.SCREEN)
        .order_by(TranscriptChunk.chunk_index, TranscriptChunk.embedding_model)).all()
    first = {r.chunk_index: r for r in reversed(rows)}  # one row per position
    return [ScreenPassage(r.start_time, r.end_time, r.text, r.thumbnail) for _, r in sorted(first.items())]


def screen_thumbnails(session: Session, videos) -> list[str]:
    """The stored frame pictures of the screen passages of `videos` (ids, or a select of ids):
    files to delete with them."""
    return [path for path in session.scalars(
        select(TranscriptChunk.thumbnail).distinct()
        .where(TranscriptChunk.video_id.in_(videos), TranscriptChunk.thumbnail.is_not(None)))]
