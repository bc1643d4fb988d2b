"""The town's lendable equipment (tools, scaffolding, trailers...) and its bookings for work days."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class Equipment(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """An item of the territory's inventory; ``quantity`` units can be lent at the same time."""

    __tablename__ = "equipment"
    __table_args__ = (
        UniqueConstraint("territory_id", "name"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    condition_notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class BookingState(enum.StrEnum):
    BOOKED = "booked"
    OUT = "out"  # handed over, with its condition when leaving
    RETURNED = "returned"  # back, with its condition on return
    CANCELLED = "cancelled"


# The states that hold units of the equipment for their period.
HOLDING_STATES = frozenset({BookingState.BOOKED, BookingState.OUT})


class EquipmentBooking(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """Units of an equipment booked for a work day, from one day to another (both included).

    The units held on any day never exceed the equipment's quantity: the service checks it under a
    lock on the equipment row, so two bookings at once cannot both take the last unit."""

    __tablename__ = "equipment_booking"
    __table_args__ = (
        Index("ix_equipment_booking_equipment_period", "equipment_id", "starts_on", "ends_on"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("ends_on >= starts_on", name="period_in_order"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="RESTRICT"))
    work_day_id: Mapped[int] = mapped_column(ForeignKey("work_day.id", ondelete="CASCADE"), index=True)
    # The ledger's equipment-loan line this booking delivers, when there is one (optional).
    commitment_line_id: Mapped[int | None] = mapped_column(ForeignKey("commitment_line.id", ondelete="SET NULL"))
    quantity: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default=BookingState.BOOKED)
    out_at: Mapped[dt.datetime | None]
    out_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    condition_out: Mapped[str] = mapped_column(Text, default="")
    returned_at: Mapped[dt.datetime | None]
    returned_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    condition_returned: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
