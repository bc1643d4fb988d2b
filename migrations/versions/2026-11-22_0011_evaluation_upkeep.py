"""evaluations, volunteer survey, fines traces, upkeep checks

New tables only: ``initiative`` is not altered (a batch ALTER on SQLite would drop the
search_initiative_* triggers of 0003).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 04:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("goals_met", sa.String(length=12), nullable=True),
        sa.Column("goals_comment", sa.Text(), nullable=False),
        sa.Column("social_level", sa.String(length=12), nullable=True),
        sa.Column("social_comment", sa.Text(), nullable=False),
        sa.Column("environmental_level", sa.String(length=12), nullable=True),
        sa.Column("environmental_comment", sa.Text(), nullable=False),
        sa.Column("economic_level", sa.String(length=12), nullable=True),
        sa.Column("economic_comment", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("generalise", sa.String(length=12), nullable=True),
        sa.Column("generalise_comment", sa.Text(), nullable=False),
        sa.Column("written_by_person_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finalised_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finalised_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["finalised_by_person_id"],
            ["person.id"],
            name=op.f("fk_evaluation_finalised_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_evaluation_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_evaluation_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["written_by_person_id"],
            ["person.id"],
            name=op.f("fk_evaluation_written_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation")),
        sa.UniqueConstraint("initiative_id", name=op.f("uq_evaluation_initiative_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_evaluation_public_id")),
    )
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "fine_trace",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=True),
        sa.Column("neighbourhood_id", sa.Integer(), nullable=True),
        sa.Column("noted_on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("involves_minor", sa.Boolean(), nullable=False),
        sa.Column("publishable", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_person_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_fine_trace_initiative_id_initiative"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhood.id"],
            name=op.f("fk_fine_trace_neighbourhood_id_neighbourhood"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_person_id"],
            ["person.id"],
            name=op.f("fk_fine_trace_recorded_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_fine_trace_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fine_trace")),
        sa.UniqueConstraint("public_id", name=op.f("uq_fine_trace_public_id")),
    )
    with op.batch_alter_table("fine_trace", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fine_trace_initiative_id"), ["initiative_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fine_trace_territory_id"), ["territory_id"], unique=False)
        batch_op.create_index("ix_fine_trace_territory_noted", ["territory_id", "noted_on"], unique=False)

    op.create_table(
        "survey_answer",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("would_again", sa.Boolean(), nullable=False),
        sa.Column("first_time", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("named", sa.Boolean(), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("satisfaction BETWEEN 1 AND 5", name=op.f("ck_survey_answer_satisfaction_1_to_5")),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_survey_answer_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_survey_answer_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_survey_answer_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answer")),
        sa.UniqueConstraint("initiative_id", "person_id", name=op.f("uq_survey_answer_initiative_id_person_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_survey_answer_public_id")),
    )
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_answer_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_answer_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "survey_invitation",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_survey_invitation_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_survey_invitation_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_survey_invitation_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation")),
        sa.UniqueConstraint("initiative_id", "person_id", name=op.f("uq_survey_invitation_initiative_id_person_id")),
    )
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_invitation_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_invitation_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "fine_trace_tag",
        sa.Column("trace_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trace_id"], ["fine_trace.id"], name=op.f("fk_fine_trace_tag_trace_id_fine_trace"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fine_trace_tag")),
        sa.UniqueConstraint("trace_id", "tag", name=op.f("uq_fine_trace_tag_trace_id_tag")),
    )
    with op.batch_alter_table("fine_trace_tag", schema=None) as batch_op:
        batch_op.create_index("ix_fine_trace_tag_tag", ["tag"], unique=False)

    op.create_table(
        "upkeep_check",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("convention_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reminded_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_reminded_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_person_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_person_id"],
            ["person.id"],
            name=op.f("fk_upkeep_check_answered_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["convention_id"],
            ["convention.id"],
            name=op.f("fk_upkeep_check_convention_id_convention"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_upkeep_check_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_file_id"],
            ["stored_file.id"],
            name=op.f("fk_upkeep_check_photo_file_id_stored_file"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["agent_task.id"], name=op.f("fk_upkeep_check_task_id_agent_task"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_upkeep_check_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upkeep_check")),
        sa.UniqueConstraint("initiative_id", "due_on", name=op.f("uq_upkeep_check_initiative_id_due_on")),
        sa.UniqueConstraint("public_id", name=op.f("uq_upkeep_check_public_id")),
    )
    with op.batch_alter_table("upkeep_check", schema=None) as batch_op:
        batch_op.create_index("ix_upkeep_check_open", ["answered_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_upkeep_check_territory_id"), ["territory_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("upkeep_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upkeep_check_territory_id"))
        batch_op.drop_index("ix_upkeep_check_open")

    op.drop_table("upkeep_check")
    with op.batch_alter_table("fine_trace_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_fine_trace_tag_tag")

    op.drop_table("fine_trace_tag")
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_invitation_territory_id"))
        batch_op.drop_index(batch_op.f("ix_survey_invitation_person_id"))

    op.drop_table("survey_invitation")
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_answer_territory_id"))
        batch_op.drop_index(batch_op.f("ix_survey_answer_person_id"))

    op.drop_table("survey_answer")
    with op.batch_alter_table("fine_trace", schema=None) as batch_op:
        batch_op.drop_index("ix_fine_trace_territory_noted")
        batch_op.drop_index(batch_op.f("ix_fine_trace_territory_id"))
        batch_op.drop_index(batch_op.f("ix_fine_trace_initiative_id"))

    op.drop_table("fine_trace")
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_territory_id"))

    op.drop_table("evaluation")
