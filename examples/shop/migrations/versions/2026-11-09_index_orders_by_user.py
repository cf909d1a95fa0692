"""Index orders by user, the safe way.

Revision ID: 1a2b3c4d5e02
Revises: 1a2b3c4d5e01
Create Date: 2026-11-09 09:00:00
"""

from alembic import op

revision = "1a2b3c4d5e02"
down_revision = "1a2b3c4d5e01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        # a failed run may have left the index behind, INVALID: a re-run starts clean
        op.drop_index(
            "ix_orders_user_id", table_name="orders", postgresql_concurrently=True, if_exists=True
        )
        op.create_index("ix_orders_user_id", "orders", ["user_id"], postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_orders_user_id", table_name="orders", postgresql_concurrently=True)
