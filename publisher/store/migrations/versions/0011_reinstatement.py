"""reinstatement: a retraction lifted by a later, audited act; the retraction row stays

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
# The integrator re-chains this when other branches land their migrations first.
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reinstatement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retracted_by", sa.String(length=64), nullable=False),
        sa.Column("retraction_reason", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reinstated_by", sa.String(length=64), nullable=False),
        sa.Column("reinstated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reinstatement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reinstatement_article_id"), ["article_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reinstatement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reinstatement_article_id"))
    op.drop_table("reinstatement")
