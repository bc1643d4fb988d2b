"""milestones, proofs (attachments), follow-up states

New tables only: ``initiative`` is not altered (a batch ALTER on SQLite would drop the
search_initiative_* triggers of 0003).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_report",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("what_was_done", sa.Text(), nullable=False),
        sa.Column("what_changed", sa.Text(), nullable=False),
        sa.Column("written_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_delivery_report_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_delivery_report_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["written_by_person_id"],
            ["person.id"],
            name=op.f("fk_delivery_report_written_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_report")),
        sa.UniqueConstraint("initiative_id", name=op.f("uq_delivery_report_initiative_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_delivery_report_public_id")),
    )
    with op.batch_alter_table("delivery_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_report_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "commitment_overdue_flag",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("commitment_line_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_line_id"],
            ["commitment_line.id"],
            name=op.f("fk_commitment_overdue_flag_commitment_line_id_commitment_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_commitment_overdue_flag_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_overdue_flag")),
        sa.UniqueConstraint(
            "commitment_line_id", "due_on", name=op.f("uq_commitment_overdue_flag_commitment_line_id_due_on")
        ),
    )
    with op.batch_alter_table("commitment_overdue_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitment_overdue_flag_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "milestone",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("commitment_line_id", sa.Integer(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_by_person_id", sa.Integer(), nullable=True),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        sa.Column("overdue_flagged_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_line_id"],
            ["commitment_line.id"],
            name=op.f("fk_milestone_commitment_line_id_commitment_line"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["person.id"],
            name=op.f("fk_milestone_created_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["done_by_person_id"],
            ["person.id"],
            name=op.f("fk_milestone_done_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiative.id"], name=op.f("fk_milestone_initiative_id_initiative"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_milestone_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone")),
        sa.UniqueConstraint("public_id", name=op.f("uq_milestone_public_id")),
    )
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_commitment_line_id"), ["commitment_line_id"], unique=False)
        batch_op.create_index("ix_milestone_initiative_due", ["initiative_id", "due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestone_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "attachment",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("stored_file_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("realisation_line_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_attachment_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["realisation_line_id"],
            ["realisation_line.id"],
            name=op.f("fk_attachment_realisation_line_id_realisation_line"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["stored_file_id"],
            ["stored_file.id"],
            name=op.f("fk_attachment_stored_file_id_stored_file"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_attachment_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_person_id"],
            ["person.id"],
            name=op.f("fk_attachment_uploaded_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_attachment_public_id")),
        sa.UniqueConstraint("stored_file_id", name=op.f("uq_attachment_stored_file_id")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index("ix_attachment_initiative", ["initiative_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachment_realisation_line_id"), ["realisation_line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachment_territory_id"), ["territory_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_territory_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_realisation_line_id"))
        batch_op.drop_index("ix_attachment_initiative")

    op.drop_table("attachment")
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_territory_id"))
        batch_op.drop_index("ix_milestone_initiative_due")
        batch_op.drop_index(batch_op.f("ix_milestone_commitment_line_id"))

    op.drop_table("milestone")
    with op.batch_alter_table("commitment_overdue_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitment_overdue_flag_territory_id"))

    op.drop_table("commitment_overdue_flag")
    with op.batch_alter_table("delivery_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_report_territory_id"))

    op.drop_table("delivery_report")
