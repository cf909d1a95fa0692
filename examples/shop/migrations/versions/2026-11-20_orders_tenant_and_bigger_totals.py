"""Add a tenant to orders and widen the totals.

Revision ID: 1a2b3c4d5e04
Revises: 1a2b3c4d5e03
Create Date: 2026-11-20 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1a2b3c4d5e04"
down_revision = "1a2b3c4d5e03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("tenant_id", sa.Integer(), nullable=False))
    op.alter_column("orders", "total_cents", existing_type=sa.Integer(), type_=sa.BigInteger())
    op.create_foreign_key("fk_orders_tenant_id_users", "orders", "users", ["tenant_id"], ["id"])


def downgrade() -> None:
    pass
