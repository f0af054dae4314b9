"""Workspaces: a library belongs to a workspace, and people belong to workspaces with a role.

Every user gets a personal workspace; a team workspace has owners, editors and viewers and takes
new members by invitation. Videos, groups, conversations and chat logs keep the user who made them
(`user_id`: the uploader, whose video limit they count against; the asker) and gain the workspace
they belong to (`workspace_id`), which is what every query is now scoped by. Tables whose
`user_id` only ever meant "whose library" (chunks, sentences, summaries, clips, post templates)
have it renamed to `workspace_id`.

An uploader who deletes their account no longer takes a team's videos and groups with them:
`videos.user_id` and `video_groups.user_id` become SET NULL.

Existing users' personal workspaces take their user's id, so every existing row's workspace is the
value its `user_id` already holds: renaming a column costs nothing on a million chunks, and every
row lands in its owner's personal workspace.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ROLES = "role IN ('owner', 'editor', 'viewer')"
ADDED = ("videos", "video_groups", "conversations", "chat_logs")  # keep user_id, gain workspace_id
RENAMED = ("transcript_chunks", "transcript_sentences", "summaries", "clips", "content_templates")


def _stamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("personal_user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=True, unique=True),
        sa.Column("created_by_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        _stamp("created_at"),
    )
    op.create_table(
        "workspace_members",
        sa.Column("workspace_id", sa.BigInteger(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        _stamp("joined_at"),
        sa.CheckConstraint(ROLES, name="ck_workspace_members_role"),
    )
    op.create_index("ix_workspace_members_user_id", "workspace_members", ["user_id"])
    op.create_table(
        "workspace_invitations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("workspace_id", sa.BigInteger(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        _stamp("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(ROLES, name="ck_workspace_invitations_role"),
        sa.CheckConstraint("max_uses > 0 AND uses BETWEEN 0 AND max_uses", name="ck_workspace_invitations_uses"),
    )

    # Personal workspaces for existing users, numbered as their users; new ones count on from there.
    op.execute("""
        INSERT INTO workspaces (id, name, personal_user_id, created_by_id, created_at)
        SELECT id, 'Personal', id, id, date_joined FROM users
    """)
    op.execute("""
        SELECT setval(pg_get_serial_sequence('workspaces', 'id'), coalesce((SELECT max(id) FROM workspaces), 0) + 1,
                      false)
    """)
    op.execute("INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) "
               "SELECT id, id, 'owner', date_joined FROM users")

    for table in ADDED:
        op.add_column(table, sa.Column("workspace_id", sa.BigInteger(), nullable=True))
        op.execute(f"UPDATE {table} SET workspace_id = user_id")
        op.alter_column(table, "workspace_id", nullable=False)
        op.create_foreign_key(f"{table}_workspace_id_fkey", table, "workspaces", ["workspace_id"], ["id"],
                              ondelete="CASCADE")
    op.create_index("ix_videos_workspace_uploaded_at", "videos", ["workspace_id", sa.literal_column("uploaded_at DESC")])
    op.drop_index("uq_videos_user_sha256", table_name="videos")  # the same file may go into two workspaces
    op.create_index("uq_videos_workspace_sha256", "videos", ["workspace_id", "sha256"], unique=True,
                    postgresql_where=sa.text("sha256 IS NOT NULL"))
    op.create_index("ix_video_groups_workspace_id", "video_groups", ["workspace_id"])
    for table in ("videos", "video_groups"):
        op.drop_constraint(f"{table}_user_id_fkey", table, type_="foreignkey")
        op.create_foreign_key(f"{table}_user_id_fkey", table, "users", ["user_id"], ["id"], ondelete="SET NULL")
        op.alter_column(table, "user_id", nullable=True)
    op.create_index("ix_conversations_workspace_user_updated", "conversations",
                    ["workspace_id", "user_id", "updated_at"])
    op.create_index("ix_chat_logs_workspace_id", "chat_logs", ["workspace_id"])

    for table in RENAMED:
        op.drop_constraint(f"{table}_user_id_fkey", table, type_="foreignkey")
        op.alter_column(table, "user_id", new_column_name="workspace_id")
        op.create_foreign_key(f"{table}_workspace_id_fkey", table, "workspaces", ["workspace_id"], ["id"],
                              ondelete="CASCADE")
        if table != "content_templates":
            op.execute(f"ALTER INDEX ix_{table}_user_id RENAME TO ix_{table}_workspace_id")
    op.drop_constraint("uq_content_templates_user_type", "content_templates", type_="unique")
    op.create_unique_constraint("uq_content_templates_workspace_type", "content_templates",
                                ["workspace_id", "content_type"])


def downgrade() -> None:
    # Rows of team workspaces have no single owner to go back to: they go with their workspaces.
    op.execute("DELETE FROM workspaces WHERE personal_user_id IS NULL")
    op.drop_constraint("uq_content_templates_workspace_type", "content_templates", type_="unique")
    for table in RENAMED:
        op.drop_constraint(f"{table}_workspace_id_fkey", table, type_="foreignkey")
        op.execute(f"UPDATE {table} t SET workspace_id = w.personal_user_id FROM workspaces w "
                   f"WHERE w.id = t.workspace_id AND w.personal_user_id <> t.workspace_id")
        op.alter_column(table, "workspace_id", new_column_name="user_id")
        op.create_foreign_key(f"{table}_user_id_fkey", table, "users", ["user_id"], ["id"], ondelete="CASCADE")
        if table != "content_templates":
            op.execute(f"ALTER INDEX ix_{table}_workspace_id RENAME TO ix_{table}_user_id")
    op.create_unique_constraint("uq_content_templates_user_type", "content_templates", ["user_id", "content_type"])
    op.drop_index("uq_videos_workspace_sha256", table_name="videos")
    op.create_index("uq_videos_user_sha256", "videos", ["user_id", "sha256"], unique=True,
                    postgresql_where=sa.text("sha256 IS NOT NULL"))
    op.drop_index("ix_videos_workspace_uploaded_at", table_name="videos")
    op.drop_index("ix_video_groups_workspace_id", table_name="video_groups")
    op.drop_index("ix_conversations_workspace_user_updated", table_name="conversations")
    op.drop_index("ix_chat_logs_workspace_id", table_name="chat_logs")
    for table in ("videos", "video_groups"):
        op.execute(f"DELETE FROM {table} WHERE user_id IS NULL")
        op.alter_column(table, "user_id", nullable=False)
        op.drop_constraint(f"{table}_user_id_fkey", table, type_="foreignkey")
        op.create_foreign_key(f"{table}_user_id_fkey", table, "users", ["user_id"], ["id"], ondelete="CASCADE")
    for table in ADDED:
        op.drop_column(table, "workspace_id")
    op.drop_table("workspace_invitations")
    op.drop_table("workspace_members")
    op.drop_table("workspaces")
