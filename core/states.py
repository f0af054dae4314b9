"""The named states, and how a status is shown: ui and pages take both from here.

The enums are defined beside the schema (db/states.py), whose CHECK constraints are built from
them; they are named here too so a page never reaches into db.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.states import (
    ACTIVE,
    AnswerMode,
    Feedback,
    PassageKind,
    Role,
    Scope,
    Status,
    SummaryMethod,
    TokenScope,
    TranscriptSource,
    VideoSource,
)

__all__ = ["ACTIVE", "STATUS_BADGES", "AnswerMode", "Badge", "Feedback", "PassageKind", "Role", "Scope", "Status", "SummaryMethod",
           "TokenScope", "TranscriptSource", "VideoSource"]


@dataclass(frozen=True)
class Badge:
    label: str
    colour: str  # a colour name st.badge knows


# One label and colour per status, for a video's or a clip's badge and the Library's filter.
STATUS_BADGES = {
    Status.PENDING: Badge("Waiting", "gray"),
    Status.PROCESSING: Badge("Processing", "blue"),
    Status.COMPLETED: Badge("Ready", "green"),
    Status.ERROR: Badge("Error", "red"),
}
