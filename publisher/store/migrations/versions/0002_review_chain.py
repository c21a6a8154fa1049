"""review chain

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _guard_acts() -> None:
    # Review acts are evidence: as append-only as the audit chain (see 0001).
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER review_act_no_{verb.lower()} BEFORE {verb} ON review_act "
                "BEGIN SELECT RAISE(ABORT, 'review_act is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER review_act_append_only BEFORE UPDATE OR DELETE ON review_act "
            "FOR EACH ROW EXECUTE FUNCTION publisher_append_only()"
        )


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("roles_json", sa.Text(), nullable=False),
        sa.Column("committees_json", sa.Text(), nullable=False),
        sa.Column("departments_json", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "review_act",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("act", sa.String(length=16), nullable=False),
        sa.Column("stage_key", sa.String(length=40), nullable=True),
        sa.Column("stage_name", sa.String(length=40), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["revision.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_act", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_act_article_id"), ["article_id"], unique=False)
        batch_op.create_index("ix_review_act_revision_cycle", ["revision_id", "cycle"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_act_username"), ["username"], unique=False)

    op.create_table(
        "review_state",
        sa.Column("revision_id", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("findings_json", sa.Text(), nullable=False),
        sa.Column("acknowledged_json", sa.Text(), nullable=False),
        sa.Column("secrecy_blocked", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["revision.id"],
        ),
        sa.PrimaryKeyConstraint("revision_id"),
    )
    with op.batch_alter_table("review_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_state_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_state_status"), ["status"], unique=False)

    _guard_acts()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS review_act_no_{verb}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS review_act_append_only ON review_act")
    with op.batch_alter_table("review_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_state_status"))
        batch_op.drop_index(batch_op.f("ix_review_state_article_id"))

    op.drop_table("review_state")
    with op.batch_alter_table("review_act", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_act_username"))
        batch_op.drop_index("ix_review_act_revision_cycle")
        batch_op.drop_index(batch_op.f("ix_review_act_article_id"))

    op.drop_table("review_act")
    op.drop_table("staff_user")
