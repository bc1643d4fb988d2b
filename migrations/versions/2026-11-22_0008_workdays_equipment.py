"""work days, registers, equipment and bookings

New tables only: ``initiative`` is not altered (a batch ALTER on SQLite would drop the
search_initiative_* triggers of 0003).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "equipment",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("condition_notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_equipment_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["person.id"],
            name=op.f("fk_equipment_created_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_equipment_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_equipment_public_id")),
        sa.UniqueConstraint("territory_id", "name", name=op.f("uq_equipment_territory_id_name")),
    )
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "work_day",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("meeting_point", sa.String(length=300), nullable=False),
        sa.Column("tasks", sa.Text(), nullable=False),
        sa.Column("tools", sa.Text(), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cancelled_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("register_state", sa.String(length=12), nullable=False),
        sa.Column("register_entered_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("register_entered_by_person_id", sa.Integer(), nullable=True),
        sa.Column("register_checked_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("register_checked_by_person_id", sa.Integer(), nullable=True),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "max_participants IS NULL OR max_participants > 0", name=op.f("ck_work_day_max_participants_positive")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["person.id"],
            name=op.f("fk_work_day_created_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiative.id"], name=op.f("fk_work_day_initiative_id_initiative"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["register_checked_by_person_id"],
            ["person.id"],
            name=op.f("fk_work_day_register_checked_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["register_entered_by_person_id"],
            ["person.id"],
            name=op.f("fk_work_day_register_entered_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_work_day_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_day")),
        sa.UniqueConstraint("public_id", name=op.f("uq_work_day_public_id")),
    )
    with op.batch_alter_table("work_day", schema=None) as batch_op:
        batch_op.create_index("ix_work_day_initiative_day", ["initiative_id", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_day_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "equipment_booking",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("work_day_id", sa.Integer(), nullable=False),
        sa.Column("commitment_line_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("out_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("out_by_person_id", sa.Integer(), nullable=True),
        sa.Column("condition_out", sa.Text(), nullable=False),
        sa.Column("returned_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_by_person_id", sa.Integer(), nullable=True),
        sa.Column("condition_returned", sa.Text(), nullable=False),
        sa.Column("cancelled_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_equipment_booking_period_in_order")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_equipment_booking_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["commitment_line_id"],
            ["commitment_line.id"],
            name=op.f("fk_equipment_booking_commitment_line_id_commitment_line"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["person.id"],
            name=op.f("fk_equipment_booking_created_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_equipment_booking_equipment_id_equipment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["out_by_person_id"],
            ["person.id"],
            name=op.f("fk_equipment_booking_out_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["returned_by_person_id"],
            ["person.id"],
            name=op.f("fk_equipment_booking_returned_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_equipment_booking_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_day_id"], ["work_day.id"], name=op.f("fk_equipment_booking_work_day_id_work_day"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_booking")),
        sa.UniqueConstraint("public_id", name=op.f("uq_equipment_booking_public_id")),
    )
    with op.batch_alter_table("equipment_booking", schema=None) as batch_op:
        batch_op.create_index(
            "ix_equipment_booking_equipment_period", ["equipment_id", "starts_on", "ends_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_equipment_booking_territory_id"), ["territory_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_booking_work_day_id"), ["work_day_id"], unique=False)

    op.create_table(
        "work_day_participant",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("work_day_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("signed_up", sa.Boolean(), nullable=False),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column("came", sa.Boolean(), nullable=True),
        sa.Column("safety_briefing", sa.Boolean(), nullable=False),
        sa.Column("insurance_ack", sa.Boolean(), nullable=False),
        sa.Column("parental_permission", sa.Boolean(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("realisation_line_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "minutes IS NULL OR (minutes > 0 AND minutes <= 1440)",
            name=op.f("ck_work_day_participant_minutes_within_a_day"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_work_day_participant_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["realisation_line_id"],
            ["realisation_line.id"],
            name=op.f("fk_work_day_participant_realisation_line_id_realisation_line"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_work_day_participant_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_day_id"],
            ["work_day.id"],
            name=op.f("fk_work_day_participant_work_day_id_work_day"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_day_participant")),
        sa.UniqueConstraint("public_id", name=op.f("uq_work_day_participant_public_id")),
        sa.UniqueConstraint("work_day_id", "person_id", name=op.f("uq_work_day_participant_work_day_id_person_id")),
    )
    with op.batch_alter_table("work_day_participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_day_participant_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_day_participant_territory_id"), ["territory_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_day_participant_work_day_id"), ["work_day_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_day_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_day_participant_work_day_id"))
        batch_op.drop_index(batch_op.f("ix_work_day_participant_territory_id"))
        batch_op.drop_index(batch_op.f("ix_work_day_participant_person_id"))

    op.drop_table("work_day_participant")
    with op.batch_alter_table("equipment_booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_booking_work_day_id"))
        batch_op.drop_index(batch_op.f("ix_equipment_booking_territory_id"))
        batch_op.drop_index("ix_equipment_booking_equipment_period")

    op.drop_table("equipment_booking")
    with op.batch_alter_table("work_day", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_day_territory_id"))
        batch_op.drop_index("ix_work_day_initiative_day")

    op.drop_table("work_day")
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_territory_id"))

    op.drop_table("equipment")
