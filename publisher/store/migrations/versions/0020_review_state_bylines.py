"""review_state.bylines: the revision's normalised bylines beside its review, so the console's
inbox can count the stages waiting on a person in the database (the author rule in SQL)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_BATCH = 500


def _bylines_key(meta: dict[str, Any]) -> str:
    """`review.users.bylines_key` as it was when this migration was written: a migration keeps
    its own copy, so a later change to the rule cannot change what an old upgrade wrote (and the
    store does not import the review layer)."""

    def normal(name: str) -> str:
        folded = unicodedata.normalize("NFKC", name)
        return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Cf")

    return " " + " ".join(normal(str(a)) for a in meta.get("authors") or []) + " "


def upgrade() -> None:
    with op.batch_alter_table("review_state") as batch:
        batch.add_column(sa.Column("bylines", sa.Text(), nullable=True))
    # Every review written so far: its revision's meta is immutable, so the key is what a
    # submission would have stored.
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT review_state.revision_id, revision.meta_json FROM review_state "
            "JOIN revision ON revision.id = review_state.revision_id"
        )
    ).all()
    update = sa.text("UPDATE review_state SET bylines = :bylines WHERE revision_id = :revision_id")
    for start in range(0, len(rows), _BATCH):
        conn.execute(
            update,
            [
                {"revision_id": revision_id, "bylines": _bylines_key(json.loads(meta_json))}
                for revision_id, meta_json in rows[start : start + _BATCH]
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("review_state") as batch:
        batch.drop_column("bylines")
