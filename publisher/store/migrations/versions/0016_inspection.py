"""inspection: runs (a scheduled run's slot claimed once across workers), findings as tasks, uptime probes

Revision ID: 0016
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
# The integrator re-chains this when other branches land their migrations first.
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_run",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("vetoes", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("findings", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "inspection_finding",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("first_run", sa.String(length=64), nullable=False),
        sa.Column("last_run", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("inspection_finding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_finding_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_finding_state"), ["state"], unique=False)
    op.create_table(
        "uptime_probe",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("uptime_probe", schema=None) as batch_op:
        batch_op.create_index("ix_uptime_probe_channel_at", ["channel", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uptime_probe", schema=None) as batch_op:
        batch_op.drop_index("ix_uptime_probe_channel_at")
    op.drop_table("uptime_probe")
    with op.batch_alter_table("inspection_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_finding_state"))
        batch_op.drop_index(batch_op.f("ix_inspection_finding_rule"))
    op.drop_table("inspection_finding")
    op.drop_table("inspection_run")
