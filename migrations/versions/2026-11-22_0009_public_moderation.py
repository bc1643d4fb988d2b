"""content reports and moderation

New tables only: ``initiative`` is not altered (a batch ALTER on SQLite would drop the
search_initiative_* triggers of 0003).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_report",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reporter_person_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("handled_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_person_id"],
            ["person.id"],
            name=op.f("fk_content_report_reporter_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_content_report_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_report")),
        sa.UniqueConstraint("public_id", name=op.f("uq_content_report_public_id")),
    )
    with op.batch_alter_table("content_report", schema=None) as batch_op:
        batch_op.create_index("ix_content_report_queue", ["territory_id", "status", "created_at"], unique=False)
        batch_op.create_index("ix_content_report_subject", ["subject_type", "subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_report_reporter_person_id"), ["reporter_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_report_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "hidden_content",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("hidden_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hidden_by_person_id"],
            ["person.id"],
            name=op.f("fk_hidden_content_hidden_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_hidden_content_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hidden_content")),
        sa.UniqueConstraint("subject_type", "subject_id", name=op.f("uq_hidden_content_subject_type_subject_id")),
    )
    with op.batch_alter_table("hidden_content", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hidden_content_territory_id"), ["territory_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hidden_content", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hidden_content_territory_id"))
    op.drop_table("hidden_content")
    with op.batch_alter_table("content_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_report_territory_id"))
        batch_op.drop_index(batch_op.f("ix_content_report_reporter_person_id"))
        batch_op.drop_index("ix_content_report_subject")
        batch_op.drop_index("ix_content_report_queue")
    op.drop_table("content_report")
