"""Create users and orders.

Revision ID: 1a2b3c4d5e01
Revises:
Create Date: 2026-11-02 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1a2b3c4d5e01"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
    )
    # Indexes on a table created in the same revision are fine: nobody uses it yet.
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_index("ix_users_email", table_name="users")
    op.drop_table("users")
