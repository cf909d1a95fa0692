"""Add an order status with a constant default: instant since PostgreSQL 11.

Revision ID: 1a2b3c4d5e05
Revises: 1a2b3c4d5e04
Create Date: 2026-11-22 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1a2b3c4d5e05"
down_revision = "1a2b3c4d5e04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("status", sa.String(20), nullable=False, server_default="new"),
    )


def downgrade() -> None:
    op.drop_column("orders", "status")
