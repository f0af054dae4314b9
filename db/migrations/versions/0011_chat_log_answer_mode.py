"""Each chat log says how it was answered (`mode`: llm, extractive or nothing) instead of the
answer's opening words saying it.

Rows stored before this revision are classified by those opening words, copied here as they were
written (core's wording may change later; these rows keep this one).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NOTHING_FOUND_OPENING = "I could not find anything about that in this group's videos."
EXTRACTIVE_OPENING = "Extractive answer — no AI model is configured, so these are the transcript passages"


def upgrade() -> None:
    op.add_column("chat_logs", sa.Column("mode", sa.String(10), nullable=True))
    op.execute(
        sa.text("UPDATE chat_logs SET mode = CASE WHEN starts_with(answer, :nothing) THEN 'nothing' "
                "WHEN starts_with(answer, :extractive) THEN 'extractive' ELSE 'llm' END")
        .bindparams(nothing=NOTHING_FOUND_OPENING, extractive=EXTRACTIVE_OPENING)
    )
    op.alter_column("chat_logs", "mode", nullable=False)
    op.create_check_constraint("ck_chat_logs_mode", "chat_logs", "mode IN ('llm', 'extractive', 'nothing')")


def downgrade() -> None:
    op.drop_constraint("ck_chat_logs_mode", "chat_logs", type_="check")
    op.drop_column("chat_logs", "mode")
