"""staff_auth: console sessions, command-line tokens, lockout and TOTP columns, the engine's account

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SERVICE_ACCOUNT = "engine"


def upgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="person"))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "staff_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("second_factor_done", sa.Boolean(), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_session_username", "staff_session", ["username"])
    op.create_table(
        "staff_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_staff_token_username", "staff_token", ["username"])
    # The engine's own account: named in the audit log for what workers do, never able to log in
    # (no password) or review (kind "service", no role).
    staff = sa.table(
        "staff_user",
        sa.column("username", sa.String),
        sa.column("display_name", sa.String),
        sa.column("roles_json", sa.Text),
        sa.column("committees_json", sa.Text),
        sa.column("departments_json", sa.Text),
        sa.column("active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String),
    )
    op.bulk_insert(
        staff,
        [
            {
                "username": SERVICE_ACCOUNT,
                "display_name": "发布引擎（服务账号）",
                "roles_json": "[]",
                "committees_json": "[]",
                "departments_json": "[]",
                "active": True,
                "created_at": datetime.now(UTC),
                "kind": "service",
            }
        ],
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM staff_user WHERE username = :u").bindparams(u=SERVICE_ACCOUNT))
    op.drop_index("ix_staff_token_username", table_name="staff_token")
    op.drop_table("staff_token")
    op.drop_index("ix_staff_session_username", table_name="staff_session")
    op.drop_table("staff_session")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        for name in ("password_changed_at", "totp_secret", "locked_until", "failed_logins", "kind"):
            batch_op.drop_column(name)
