"""wechat: shared access token, uploaded-media cache, posts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_token",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("app_id"),
    )
    op.create_table(
        "wechat_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "kind", "sha256", name="uq_wechat_media"),
    )
    op.create_table(
        "wechat_post",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("local_day", sa.String(length=10), nullable=False),
        sa.Column("media_id", sa.String(length=200), nullable=True),
        sa.Column("publish_id", sa.String(length=200), nullable=True),
        sa.Column("article_id", sa.String(length=200), nullable=True),
        sa.Column("publish_status", sa.Integer(), nullable=True),
        sa.Column("articles_json", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("mass_msg_id", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_wechat_post_day", "wechat_post", ["app_id", "local_day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wechat_post_day", table_name="wechat_post")
    op.drop_table("wechat_post")
    op.drop_table("wechat_media")
    op.drop_table("wechat_token")
