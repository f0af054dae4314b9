"""The named values the database stores: each status, source, method, mode and rating.

Defined here, below core, so the schema's CHECK constraints (db/models.py) and the code that
writes and reads the rows (core, ui, pages) name the same members. A StrEnum member equals its
string, so the stored text is exactly the value and rows read back compare equal to members.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a video or a clip is in processing."""

    PENDING = "pending"  # waiting for a worker
    PROCESSING = "processing"
    COMPLETED = "completed"  # ready: searchable (a video) or cut (a clip)
    ERROR = "error"  # failed; error_message says why


ACTIVE = (Status.PENDING, Status.PROCESSING)  # still waiting for or under a worker


class VideoSource(StrEnum):
    """Where a video came from."""

    UPLOAD = "upload"  # a file the user sent
    URL = "url"  # a link fetched by yt-dlp


class TranscriptSource(StrEnum):
    """How a video's transcript was made."""

    CAPTIONS = "captions"  # a captions file uploaded with the video
    REMOTE_CAPTIONS = "remote_captions"  # the link's captions, written by people
    REMOTE_AUTO_CAPTIONS = "remote_auto_captions"  # the link's automatic captions
    LOCAL_WHISPER = "local_whisper"  # speech-to-text on this machine
    OPENAI_WHISPER = "openai_whisper"  # speech-to-text by the user's OpenAI-compatible provider
    SCREEN_TEXT = "screen_text"  # nothing spoken: only the text read from the picture


class PassageKind(StrEnum):
    """What a searchable passage (a transcript_chunks row) quotes."""

    SPEECH = "speech"  # what is said: the transcript
    SCREEN = "screen"  # what is shown: text read from the picture (slides, code, menus)


class SummaryMethod(StrEnum):
    """How a summary was written."""

    MODEL = "model"  # by the configured chat model
    EXTRACTIVE = "extractive"  # offline, from key sentences


class AnswerMode(StrEnum):
    """How a question was answered."""

    LLM = "llm"  # by the chat model, from the retrieved passages
    EXTRACTIVE = "extractive"  # offline: the transcript sentences nearest the question
    NOTHING = "nothing"  # no passage was close enough, or the model judged none answers: the videos do not cover it


class Scope(StrEnum):
    """What a conversation asks."""

    GROUP = "group"  # one group of videos
    VIDEO = "video"  # one video
    ALL = "all"  # every video its owner has


class Feedback(StrEnum):
    """A person's rating of an answer."""

    GOOD = "good"
    BAD = "bad"


class Role(StrEnum):
    """What a member may do in a workspace; each role can do everything the next one can."""

    OWNER = "owner"  # everything, including members, invitations and deleting the workspace
    EDITOR = "editor"  # add, edit and delete videos and groups, share links, review answers
    VIEWER = "viewer"  # watch, ask, rate, comment


class TokenScope(StrEnum):
    """What a personal access token lets a tool do, as its owner (never more than the owner may)."""

    READ = "read"  # list, read transcripts, search
    ASK = "ask"  # read, and ask questions (which cost the workspace's model), rate answers, add videos
