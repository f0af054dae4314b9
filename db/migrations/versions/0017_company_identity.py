"""Company sign-in remembers whose account is whose: `users.company_identity` holds the OpenID
Connect issuer and subject an account signs in as.

An account is found by it from then on. An account that already has the provider's email but no
identity yet is linked only once its password is given: addresses are not verified here, so an
account someone else made with a colleague's address must not become the colleague's at their
first company sign-in.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("company_identity", sa.String(600), nullable=True))
    op.create_unique_constraint("users_company_identity_key", "users", ["company_identity"])


def downgrade() -> None:
    op.drop_constraint("users_company_identity_key", "users", type_="unique")
    op.drop_column("users", "company_identity")
