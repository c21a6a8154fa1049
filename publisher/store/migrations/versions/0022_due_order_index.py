"""ix_delivery_due gains the delivery's id: (status, next_attempt_at, id), the order in which a
claim takes due deliveries. With the id in the index, each branch of the claim's candidate query
(engine/claims.py) reads its first rows in that order and stops; without it, PostgreSQL sorted by id
every delivery due at the same instant (a burst of releases at 09:00, or a backlog a stopped worker
left) to keep a round's fifty. SQLite keeps the row id in every index already; the index is made
the same on both backends.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch_op:
        batch_op.drop_index("ix_delivery_due")
        batch_op.create_index("ix_delivery_due", ["status", "next_attempt_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch_op:
        batch_op.drop_index("ix_delivery_due")
        batch_op.create_index("ix_delivery_due", ["status", "next_attempt_at"], unique=False)
