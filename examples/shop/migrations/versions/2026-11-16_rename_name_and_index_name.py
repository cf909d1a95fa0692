"""Rename users.name and index it: two classic outages in one revision.

Revision ID: 1a2b3c4d5e03
Revises: 1a2b3c4d5e02
Create Date: 2026-11-16 09:00:00
"""

from alembic import op

revision = "1a2b3c4d5e03"
down_revision = "1a2b3c4d5e02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "name", new_column_name="full_name")
    op.create_index("ix_users_full_name", "users", ["full_name"])


def downgrade() -> None:
    op.drop_index("ix_users_full_name", table_name="users")
    op.alter_column("users", "full_name", new_column_name="name")
