"""consultation: drafts open for comment, comments, contacts kept apart, attachments

Revision ID: 0019
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consultation",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("revision_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name_required", sa.Boolean(), nullable=False),
        sa.Column("clauses_json", sa.Text(), nullable=False),
        sa.Column("questions_json", sa.Text(), nullable=False),
        sa.Column("feedback_slug", sa.String(length=120), nullable=True),
        sa.Column("feedback_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contacts_purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_table(
        "consultation_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("clause", sa.String(length=40), nullable=True),
        sa.Column("commenter_type", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("screening_json", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderation", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=True),
        sa.Column("disposition", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("committee", sa.String(length=80), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt"),
        sa.UniqueConstraint("submission_key"),
    )
    op.create_index("ix_consultation_comment_slug_received", "consultation_comment", ["slug", "received_at"])
    op.create_index("ix_consultation_comment_fingerprint", "consultation_comment", ["fingerprint"])
    op.create_index("ix_consultation_comment_group_id", "consultation_comment", ["group_id"])
    op.create_table(
        "consultation_contact",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("contact_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["consultation_comment.id"]),
        sa.PrimaryKeyConstraint("comment_id"),
    )
    op.create_index("ix_consultation_contact_contact_hash", "consultation_contact", ["contact_hash"])
    op.create_table(
        "consultation_attachment",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["consultation_comment.id"]),
        sa.PrimaryKeyConstraint("comment_id"),
    )


def downgrade() -> None:
    op.drop_table("consultation_attachment")
    op.drop_index("ix_consultation_contact_contact_hash", table_name="consultation_contact")
    op.drop_table("consultation_contact")
    op.drop_index("ix_consultation_comment_group_id", table_name="consultation_comment")
    op.drop_index("ix_consultation_comment_fingerprint", table_name="consultation_comment")
    op.drop_index("ix_consultation_comment_slug_received", table_name="consultation_comment")
    op.drop_table("consultation_comment")
    op.drop_table("consultation")
