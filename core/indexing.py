"""A transcript made searchable: chunks and sentences, their vectors, stored in one transaction.

Used by processing (a new transcript) and by re-indexing (the stored transcript, embedded with
the owner's current model).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import openai
from langchain_core.embeddings import Embeddings
from pgvector.psycopg import register_vector
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core import llm, passages, transcripts
from core.chunking import chunk_segments
from core.config import Settings
from core.database import Database
from core.embeddings import embeddings_for
from core.model_settings import workspace_access
from core.text import spoken
from core.transcripts import ScreenPassage, Segment
from db.models import TranscriptChunk, TranscriptSentence, Video
from db.states import PassageKind, Status

EMBED_BATCH = 64

# The columns ingestion writes, with their PostgreSQL types for a binary COPY (db/models.py).
CHUNK_COLUMNS = {"video_id": "int8", "workspace_id": "int8", "video_title": "varchar", "chunk_index": "int4",
                 "text": "text", "start_time": "float8", "end_time": "float8", "embedding": "vector",
                 "embedding_model": "varchar", "kind": "varchar", "thumbnail": "varchar"}
SENTENCE_COLUMNS = {"video_id": "int8", "workspace_id": "int8", "sentence_index": "int4", "text": "text",
                    "start_time": "float8", "end_time": "float8", "embedding": "vector", "embedding_model": "varchar"}


def embed_texts(embedder: Embeddings, texts: list[str],
                on_progress: Callable[[float], None] = lambda fraction: None) -> list[list[float]]:
    """Every text's vector, in the texts' order, reporting progress batch by batch.

    Texts go to the model shortest first: a batch is padded to its longest text, so batching
    100-word chunks with one-line sentences made the model work through padding (measured:
    twice the speed in this order, bench/embedders.py)."""
    order = sorted(range(len(texts)), key=lambda n: len(texts[n]))
    vectors: list[list[float]] = [[] for _ in texts]
    for start in range(0, len(order), EMBED_BATCH):
        batch = order[start:start + EMBED_BATCH]
        for n, vector in zip(batch, embedder.embed_documents([texts[n] for n in batch]), strict=True):
            vectors[n] = vector
        on_progress(min(start + EMBED_BATCH, len(order)) / len(order))
    return vectors


def store_transcript(
    db: Database, settings: Settings, video_id: int, segments: list[Segment], transcript_source: str,
    *, screen: list[ScreenPassage] | None = None, on_progress: Callable[[float], None] = lambda fraction: None,
) -> int:
    """Chunk, embed and store a transcript as the video's only set of chunks and sentences, with the
    text read from its screen as passages of their own (`screen`, thumbnails media-relative; None
    keeps the stored ones, embedded again: re-indexing has no new reading). Returns the count of
    passages stored."""
    segments = [Segment(s.start, s.end, spoken(s.text)) for s in segments if spoken(s.text)]
    with db.session() as session:
        video = session.get(Video, video_id)
        if video is None:
            return 0
        workspace_id, title = video.workspace_id, video.title
        access = workspace_access(session, settings, workspace_id)
        if screen is None:
            screen = passages.stored_screen_text(session, video_id)
    embedder = embeddings_for(access.embedding_model, api_key=access.api_key, base_url=access.base_url)
    chunks = chunk_segments(segments, target_words=settings.chunk_words, overlap_words=settings.chunk_overlap_words)
    sentences = transcripts.sentences(segments)
    texts = ([f"{title}: {c.text}" if settings.embed_titles else c.text for c in chunks] + [s.text for s in sentences]
             + [p.text for p in screen])
    try:
        vectors = embed_texts(embedder, texts, on_progress)
    except openai.OpenAIError as error:  # the user's embedding provider: retry what may pass
        raise llm.ingest_error(error, "Embedding the transcript") from None
    chunk_vectors = vectors[:len(chunks)]
    sentence_vectors = vectors[len(chunks):len(chunks) + len(sentences)]
    screen_vectors = vectors[len(chunks) + len(sentences):]
    rows = [
        {"video_id": video_id, "workspace_id": workspace_id, "video_title": title, "chunk_index": c.index,
         "text": c.text, "start_time": c.start, "end_time": c.end, "embedding": v,
         "embedding_model": embedder.model_name, "kind": PassageKind.SPEECH, "thumbnail": None}
        for c, v in zip(chunks, chunk_vectors, strict=True)
    ] + [
        {"video_id": video_id, "workspace_id": workspace_id, "video_title": title, "chunk_index": i,
         "text": p.text, "start_time": p.start, "end_time": p.end, "embedding": v,
         "embedding_model": embedder.model_name, "kind": PassageKind.SCREEN, "thumbnail": p.thumbnail}
        for i, (p, v) in enumerate(zip(screen, screen_vectors, strict=True))
    ]
    sentence_rows = [
        {"video_id": video_id, "workspace_id": workspace_id, "sentence_index": i, "text": s.text,
         "start_time": s.start, "end_time": s.end, "embedding": v, "embedding_model": embedder.model_name}
        for i, (s, v) in enumerate(zip(sentences, sentence_vectors, strict=True))
    ]
    # One transaction: the old chunks and sentences go and the new ones arrive together, or nothing changes.
    with db.session() as session:
        still_there = session.scalar(select(Video.id).where(Video.id == video_id).with_for_update())
        if still_there is None:
            return 0  # deleted while we worked
        session.execute(delete(TranscriptChunk).where(TranscriptChunk.video_id == video_id))
        session.execute(delete(TranscriptSentence).where(TranscriptSentence.video_id == video_id))
        copy_rows(session, TranscriptChunk.__tablename__, CHUNK_COLUMNS, rows)
        copy_rows(session, TranscriptSentence.__tablename__, SENTENCE_COLUMNS, sentence_rows)
        session.execute(
            update(Video).where(Video.id == video_id).values(
                transcript=transcripts.full_text(segments),
                transcript_segments=transcripts.to_json(segments),
                transcript_source=transcript_source, status=Status.COMPLETED, progress=100,
                current_step=None, error_message=None, processing_finished_at=func.now(),
            )
        )
    return len(rows)


def copy_rows(session: Session, table: str, columns: dict[str, str], rows: list[dict]) -> None:
    """Write rows with one binary COPY, in the session's transaction.

    Five times faster than batched INSERTs for a 10-hour transcript (bench/ingest.py): psycopg ran
    an ORM executemany as one INSERT per row, so the keyword-statistics trigger (migration 0015),
    a statement-level one, fired once per row instead of once per video."""
    if not rows:
        return
    connection = session.connection().connection.driver_connection
    register_vector(connection)  # binary dumping of vectors on this connection (one type lookup)
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(columns.values()))
        for row in rows:
            copy.write_row([np.asarray(row[name], dtype=np.float32) if kind == "vector" else row[name]
                            for name, kind in columns.items()])
