"""Work days ("chantiers participatifs") of an initiative, who signs up, and the day's register
(the hour sheet): who came, the safety and insurance acknowledgements, hours per person."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, Minutes, PublicIdMixin


class WorkDayState(enum.StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class RegisterState(enum.StrEnum):
    EMPTY = "empty"  # nothing entered yet
    ENTERED = "entered"  # filled in by a promoter (or an agent), still editable
    CHECKED = "checked"  # checked by an agent: the hours are in the ledger, the register is closed


class WorkDay(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A day when volunteers build together; date and times are local to the territory."""

    __tablename__ = "work_day"
    __table_args__ = (
        Index("ix_work_day_initiative_day", "initiative_id", "day"),
        CheckConstraint("max_participants IS NULL OR max_participants > 0", name="max_participants_positive"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    starts_at: Mapped[dt.time] = mapped_column(Time)
    ends_at: Mapped[dt.time] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(300))
    meeting_point: Mapped[str] = mapped_column(String(300), default="")
    tasks: Mapped[str] = mapped_column(Text, default="")
    tools: Mapped[str] = mapped_column(Text, default="")  # what volunteers should bring or will be lent
    max_participants: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default=WorkDayState.PLANNED)
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    register_state: Mapped[str] = mapped_column(String(12), default=RegisterState.EMPTY)
    register_entered_at: Mapped[dt.datetime | None]
    register_entered_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    register_checked_at: Mapped[dt.datetime | None]
    register_checked_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class WorkDayParticipant(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A person on a work day: signed up with « Je participe », or added to the register on the day
    (a walk-in is a person of kind ``walk_in``, by name, without an account). One row per person
    and work day (unique), so a double click signs up once."""

    __tablename__ = "work_day_participant"
    __table_args__ = (
        UniqueConstraint("work_day_id", "person_id"),
        CheckConstraint("minutes IS NULL OR (minutes > 0 AND minutes <= 1440)", name="minutes_within_a_day"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    work_day_id: Mapped[int] = mapped_column(ForeignKey("work_day.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    signed_up: Mapped[bool] = mapped_column(Boolean, default=True)  # False: added on the register
    # As of the day (from the account's age bracket, or ticked for a walk-in): needs parental permission.
    is_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    came: Mapped[bool | None] = mapped_column(Boolean)  # None until the register is entered
    safety_briefing: Mapped[bool] = mapped_column(Boolean, default=False)
    insurance_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    parental_permission: Mapped[bool] = mapped_column(Boolean, default=False)
    minutes: Mapped[int | None] = mapped_column(Minutes)
    # The realisation line the checked hours became (exactly once: its source_key names this row).
    realisation_line_id: Mapped[int | None] = mapped_column(ForeignKey("realisation_line.id", ondelete="SET NULL"))
