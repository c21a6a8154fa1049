"""partner supply: retractions, pull-feed tokens, what each partner holds, adoptions; delivery.action

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
# The lead re-chains this when another branch lands 0004 first.
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action", sa.String(length=16), nullable=False, server_default="publish")
        )
    op.create_table(
        "retraction",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("retracted_by", sa.String(length=64), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("article_id"),
    )
    op.create_table(
        "partner_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("partner_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_token_partner"), ["partner"], unique=False)
    op.create_table(
        "supply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.String(length=64), nullable=False),
        sa.Column("first_revision_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pubstatus", sa.String(length=16), nullable=False),
        sa.Column("embargoed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ednote", sa.Text(), nullable=True),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.Column("first_supplied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner", "article_id", name="uq_supply_partner_article"),
    )
    with op.batch_alter_table("supply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supply_article_id"), ["article_id"], unique=False)
        batch_op.create_index("ix_supply_partner_updated", ["partner", "updated_at"], unique=False)
    op.create_table(
        "adoption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner", "article_id", name="uq_adoption_partner_article"),
    )
    with op.batch_alter_table("adoption", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adoption_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_adoption_partner"), ["partner"], unique=False)


def downgrade() -> None:
    op.drop_table("adoption")
    op.drop_table("supply")
    op.drop_table("partner_token")
    op.drop_table("retraction")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("action")
