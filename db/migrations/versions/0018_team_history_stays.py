"""A team keeps its questions and answers when someone leaves.

`conversations.user_id` and `chat_logs.user_id` (who asked) become SET NULL: an account's
deletion takes its personal workspace's conversations with that workspace, while what it asked in
a team stays in the team's Analytics, unattributed. Share-link visitors' conversations no longer
name a member at all (they are theirs by their browser's token), so nothing of theirs hangs on an
owner's account; existing ones are cleared of the member they were filed under.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("conversations", "chat_logs"):
        op.drop_constraint(f"{table}_user_id_fkey", table, type_="foreignkey")
        op.create_foreign_key(f"{table}_user_id_fkey", table, "users", ["user_id"], ["id"], ondelete="SET NULL")
        op.alter_column(table, "user_id", nullable=True)
        op.execute(f"UPDATE {table} SET user_id = NULL WHERE is_shared_origin")


def downgrade() -> None:
    for table in ("conversations", "chat_logs"):
        # Rows without an asker go back to their workspace's first owner, or go.
        op.execute(f"""
            UPDATE {table} t SET user_id = (SELECT m.user_id FROM workspace_members m
                                             WHERE m.workspace_id = t.workspace_id AND m.role = 'owner'
                                             ORDER BY m.joined_at, m.user_id LIMIT 1)
             WHERE t.user_id IS NULL""")
        op.execute(f"DELETE FROM {table} WHERE user_id IS NULL")
        op.alter_column(table, "user_id", nullable=False)
        op.drop_constraint(f"{table}_user_id_fkey", table, type_="foreignkey")
        op.create_foreign_key(f"{table}_user_id_fkey", table, "users", ["user_id"], ["id"], ondelete="CASCADE")
