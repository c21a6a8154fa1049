"""delivery indexes for the console: releases by due time (calendar, week), by state and due time
(late and held counts), by channel and state (the queue's counts, from the index alone)

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0014"
# The integrator re-chains this when other branches land their migrations first.
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_due_at", ["due_at"], unique=False)
        batch_op.create_index("ix_delivery_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_delivery_channel_status", ["channel", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_channel_status")
        batch_op.drop_index("ix_delivery_status_due")
        batch_op.drop_index("ix_delivery_due_at")
