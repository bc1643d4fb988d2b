"""The two-sided ledger: what each side commits (residents, town, partners), line by line.

The value of a line is computed once, when it is written, from the rate or unit value in force
then, and stored with that rate: a later change of rates never rewrites the past. Realisation
lines (what was actually delivered) come with the follow-up.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class Side(enum.StrEnum):
    RESIDENTS = "residents"
    TOWN = "town"
    PARTNERS = "partners"


class LineKind(enum.StrEnum):
    # residents
    VOLUNTEER_HOURS = "volunteer_hours"
    DONATED_MATERIALS = "donated_materials"
    DONATED_SERVICES = "donated_services"  # professional services, in hours
    RESIDENTS_CASH = "residents_cash"
    # town
    PURCHASE = "purchase"  # bought by the town for the project: supplier, invoice, commitment no.
    SUBSIDY = "subsidy"  # paid to a legal-person beneficiary, in instalments
    STOCK_MATERIALS = "stock_materials"
    EQUIPMENT_LOAN = "equipment_loan"
    STAFF_HOURS = "staff_hours"
    LOGISTICS = "logistics"
    # partners
    PARTNER_CASH = "partner_cash"
    PARTNER_IN_KIND = "partner_in_kind"


class Unit(enum.StrEnum):
    MINUTES = "minutes"  # hours are stored as minutes
    DAYS = "days"
    UNITS = "units"


class LineState(enum.StrEnum):
    PLEDGED = "pledged"
    SECURED = "secured"
    CANCELLED = "cancelled"


class CommitmentLine(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    __tablename__ = "commitment_line"
    __table_args__ = (
        Index("ix_commitment_line_initiative_side", "initiative_id", "side"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_value_cents >= 0", name="unit_value_not_negative"),
        CheckConstraint("value_cents >= 0", name="value_not_negative"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    label: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(BigInteger)  # minutes, days or units, per ``unit``
    unit: Mapped[str] = mapped_column(String(8))
    unit_value_cents: Mapped[int] = mapped_column(BigInteger)  # per hour, per day or per unit, VAT included
    rate_id: Mapped[int | None] = mapped_column(ForeignKey("rate.id", ondelete="RESTRICT"))
    value_cents: Mapped[int] = mapped_column(BigInteger)
    # Town cash outlay (purchase, subsidy) counts against the cap and the envelope.
    is_town_cash: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default=LineState.PLEDGED)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    supplier: Mapped[str] = mapped_column(String(200), default="")
    invoice_reference: Mapped[str] = mapped_column(String(100), default="")
    commitment_number: Mapped[str] = mapped_column(String(100), default="")
    partner_name: Mapped[str] = mapped_column(String(200), default="")
    instalments: Mapped[int] = mapped_column(Integer, default=1)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    cancelled_at: Mapped[dt.datetime | None]
