"""A personal access token can be limited to one workspace (least privilege).

`access_tokens.workspace_id`: NULL, the token reaches every workspace its owner is in (as before);
set, it reaches that one only, and anything elsewhere looks like nothing. A token limited to a
workspace goes with the workspace, so it cannot outlive what it was made for.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("access_tokens", sa.Column("workspace_id", sa.BigInteger(),
                                             sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=True))
    op.create_index("ix_access_tokens_workspace_id", "access_tokens", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_access_tokens_workspace_id", table_name="access_tokens")
    op.drop_column("access_tokens", "workspace_id")
