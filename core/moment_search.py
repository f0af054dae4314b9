"""Searching what is said in a user's videos: the sentences that say the searched words, as moments,
and the text shown on screen (slides, code) where it was read.

PostgreSQL full text over the stored transcript sentences and screen passages (their generated
`search_vector`, English configuration), so "running" finds "runs" and stop words weigh nothing.
The searched text is read by `websearch_to_tsquery`, which never fails on what a person types
("quoted phrases", `or`, `-word`; quotes, `&`, `|`, `!`, `:*` and brackets are only text to it),
and every value is a bound parameter. Every query is scoped to the owner's videos; GIN indexes over the sentences' and
passages' words keep a rare word fast however big the library.

Highlights come back as character ranges into the sentence, never as HTML: the page escapes the
sentence and marks the ranges itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from core import workspaces
from core.text import one_line

MAX_QUERY_CHARS = 200  # longer is no search anybody types; it only makes a big tsquery
PER_VIDEO = 3  # the best sentences of one video, so one talk that says a word 30 times cannot flood the list
LIMIT = 20
# ts_headline marks the matched words with these private-use characters (removed from the sentence
# first, so a transcript that contains them cannot shift a range).
_START, _STOP = "\ue000", "\ue001"


@dataclass(frozen=True)
class Moment:
    """One sentence of one of the owner's videos that says the searched words, or one passage of
    text its screen shows."""

    video_id: int
    title: str
    start: float
    end: float
    text: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) character ranges of `text` that matched
    rank: float
    on_screen: bool = False

    def pieces(self) -> Iterator[tuple[str, bool]]:
        """The sentence in order as (piece, matched) pairs, for a page to mark the matched ones."""
        cursor = 0
        for begin, end in self.highlights:
            if begin > cursor:
                yield self.text[cursor:begin], False
            yield self.text[begin:end], True
            cursor = end
        if cursor < len(self.text):
            yield self.text[cursor:], False


# The workspace's sentences that match, ranked; at most :per_video of each video, the videos in order
# of their best sentence and each video's sentences in time order, so a video's moments stay together.
_SEARCH = text("""
    WITH hits AS MATERIALIZED (
        SELECT false AS on_screen, s.id, s.video_id, s.start_time, s.end_time, s.sentence_index AS position,
               ts_rank(s.search_vector, websearch_to_tsquery('english', :query)) AS rank
          FROM transcript_sentences s
         WHERE s.workspace_id = :workspace_id AND s.search_vector @@ websearch_to_tsquery('english', :query)
        UNION ALL
        -- A passage's search_vector also holds its video's title: the index finds candidates, its
        -- own words decide.
        SELECT true, c.id, c.video_id, c.start_time, c.end_time, c.chunk_index,
               ts_rank(to_tsvector('english', c.text), websearch_to_tsquery('english', :query))
          FROM transcript_chunks c
         WHERE c.workspace_id = :workspace_id AND c.kind = 'screen'
           AND c.search_vector @@ websearch_to_tsquery('english', :query)
           AND to_tsvector('english', c.text) @@ websearch_to_tsquery('english', :query)
    ),
    best AS (
        SELECT *, row_number() OVER (PARTITION BY video_id ORDER BY rank DESC, start_time) AS nth
          FROM hits
    ),
    kept AS (
        SELECT b.*, max(b.rank) OVER (PARTITION BY b.video_id) AS video_rank
          FROM best b
         WHERE b.nth <= :per_video
         ORDER BY video_rank DESC, b.video_id, b.rank DESC
         LIMIT :limit
    )
    SELECT k.video_id, v.title, k.start_time, k.end_time, k.rank, k.on_screen,
           ts_headline('english', translate(coalesce(s.text, c.text), :markers, ''),
                       websearch_to_tsquery('english', :query),
                       'HighlightAll=true, StartSel=' || :start_sel || ', StopSel=' || :stop_sel) AS marked
      FROM kept k
      LEFT JOIN transcript_sentences s ON NOT k.on_screen AND s.id = k.id
      LEFT JOIN transcript_chunks c ON k.on_screen AND c.id = k.id
      JOIN videos v ON v.id = k.video_id AND v.workspace_id = :workspace_id
     ORDER BY k.video_rank DESC, k.video_id, k.start_time, k.on_screen, k.position
""")


def search_query(raw: str | None) -> str:
    """The searched text as it is sent: one cleaned line, cut to MAX_QUERY_CHARS."""
    return one_line(raw)[:MAX_QUERY_CHARS].strip()


def find_moments(session: Session, user_id: int, query: str, *, limit: int = LIMIT,
                 per_video: int = PER_VIDEO, workspace_id: int | None = None) -> list[Moment]:
    """The workspace's sentences (the user's personal one by default) that say `query`, best first
    by ts_rank, at most `per_video` from one video.

    Empty, too-short or stop-word-only searches find nothing (and cost no query)."""
    workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
    query = search_query(query)
    if not query or limit <= 0:
        return []
    rows = session.execute(_SEARCH, {
        "query": query, "workspace_id": workspace_id, "limit": limit, "per_video": max(1, per_video),
        "markers": _START + _STOP, "start_sel": _START, "stop_sel": _STOP,
    }).all()
    return [Moment(r.video_id, r.title, r.start_time, r.end_time, *_unmark(r.marked), rank=r.rank,
                   on_screen=r.on_screen) for r in rows]


def _unmark(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The sentence without ts_headline's markers, and the ranges they enclosed."""
    plain: list[str] = []
    ranges: list[tuple[int, int]] = []
    opened = None
    for char in marked:
        if char == _START:
            opened = len(plain)
        elif char == _STOP:
            if opened is not None and len(plain) > opened:
                ranges.append((opened, len(plain)))
            opened = None
        else:
            plain.append(char)
    return "".join(plain), tuple(ranges)
