"""An answer that found nothing keeps the moments that came closest (`chat_logs.closest_moments`).

"Nothing found" is a judgement (`retrieval.is_found`): on TutorialVQA's dev questions, every one
answerable, it refuses about 6 %, and for many of those the answer is among the moments that came
closest. So a refusal now lists them, marked as not an answer, for the asker to play. They are
kept apart from `related_videos` (the moments an answer cites), which Analytics counts as
citations and an empty list of which marked an unanswered question.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("chat_logs", sa.Column("closest_moments", JSONB, nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("chat_logs", "closest_moments")
