"""indexes covered by another dropped: delivery's on article_id and on channel (the composite
indexes ix_delivery_article_revision, ix_delivery_channel_status and ix_delivery_channel_due lead with
them), revision's on article_id and revision_asset's on revision_id (their unique constraints lead
with them), adoption's on partner (likewise). Each answered nothing the longer one does not, and
each write paid for it: a delivery's row is updated twice on its way (claimed, then finished), each
update changes its state and so writes an entry into every index on the table.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# table -> {index: its columns}, as the earlier migrations made them
COVERED = {
    "delivery": {"ix_delivery_article_id": ["article_id"], "ix_delivery_channel": ["channel"]},
    "revision": {"ix_revision_article_id": ["article_id"]},
    "revision_asset": {"ix_revision_asset_revision_id": ["revision_id"]},
    "adoption": {"ix_adoption_partner": ["partner"]},
}


def upgrade() -> None:
    for table, indexes in COVERED.items():
        with op.batch_alter_table(table) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)


def downgrade() -> None:
    for table, indexes in COVERED.items():
        with op.batch_alter_table(table) as batch_op:
            for name, columns in indexes.items():
                batch_op.create_index(name, columns, unique=False)
