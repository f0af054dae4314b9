"""Conversations: questions asked one after another about one scope (a group, a video or all the
owner's videos), kept to be reopened and continued. Every existing chat log moves into one
conversation per group, day and origin (the owner's own, or asked through a share link), titled by
its first question; nothing is lost. A chat log asked of a video or of everything has no group.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("group_id", sa.BigInteger(), sa.ForeignKey("video_groups.id", ondelete="CASCADE"), nullable=True),
        sa.Column("video_id", sa.BigInteger(), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("is_shared_origin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("visitor_token_hash", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("migrated_day", sa.Date(), nullable=True),  # only while existing logs move in
        sa.CheckConstraint("scope IN ('group', 'video', 'all')", name="ck_conversations_scope"),
        sa.CheckConstraint("(scope = 'group') = (group_id IS NOT NULL) AND (scope = 'video') = (video_id IS NOT NULL)",
                           name="ck_conversations_scope_target"),
    )
    op.create_index("ix_conversations_user_updated", "conversations", ["user_id", "updated_at"])
    op.create_index("ix_conversations_group_id", "conversations", ["group_id"])
    op.create_index("ix_conversations_video_id", "conversations", ["video_id"])
    op.create_index("ix_conversations_visitor_token_hash", "conversations", ["visitor_token_hash"])
    op.add_column("chat_logs", sa.Column("conversation_id", sa.BigInteger(),
                                         sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True))
    # One conversation per owner, group, origin and (UTC) day, titled by its first question.
    op.execute("""
        INSERT INTO conversations (user_id, scope, group_id, title, is_shared_origin, created_at, updated_at,
                                   migrated_day)
        SELECT user_id, 'group', group_id,
               (SELECT CASE WHEN length(q) > 80 THEN left(q, 79) || '…' ELSE q END
                  FROM (SELECT (array_agg(question ORDER BY created_at, id))[1] AS q) first),
               is_shared_origin, min(created_at), max(created_at), (created_at AT TIME ZONE 'UTC')::date
          FROM chat_logs
         GROUP BY user_id, group_id, is_shared_origin, (created_at AT TIME ZONE 'UTC')::date
    """)
    op.execute("""
        UPDATE chat_logs l SET conversation_id = c.id
          FROM conversations c
         WHERE c.migrated_day = (l.created_at AT TIME ZONE 'UTC')::date AND c.user_id = l.user_id
           AND c.group_id = l.group_id AND c.is_shared_origin = l.is_shared_origin
    """)
    op.drop_column("conversations", "migrated_day")
    op.alter_column("chat_logs", "conversation_id", nullable=False)
    op.create_index("ix_chat_logs_conversation", "chat_logs", ["conversation_id", "id"])
    op.alter_column("chat_logs", "group_id", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM chat_logs WHERE group_id IS NULL")  # asked of a video or of everything
    op.alter_column("chat_logs", "group_id", nullable=False)
    op.drop_index("ix_chat_logs_conversation", table_name="chat_logs")
    op.drop_column("chat_logs", "conversation_id")
    op.drop_table("conversations")
