"""delivery indexes for the console: by due time (calendar, week), state and due time (late and
trouble), channel and state (queue counts), channel and due time (queue pages), article and revision
(where each article stands)

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0014"
# The integrator re-chains this when other branches land their migrations first.
down_revision = "0013"
branch_labels = None
depends_on = None

# The console's reads of 100,000 deliveries, each answered from an index (see store/tables.py).
INDEXES = {
    "ix_delivery_due_at": ["due_at", "status", "channel"],
    "ix_delivery_status_due": ["status", "due_at"],
    "ix_delivery_channel_status": ["channel", "status"],
    "ix_delivery_channel_due": ["channel", "due_at"],
    "ix_delivery_article_revision": ["article_id", "action", "revision_id", "status"],
}


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
