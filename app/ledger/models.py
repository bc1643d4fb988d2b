"""The two-sided ledger: what each side commits (residents, town, partners), line by line.

The value of a line is computed once, when it is written, from the rate or unit value in force
then, and stored with that rate: a later change of rates never rewrites the past. Realisation
lines record what was actually delivered against each commitment.
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


class RealisationState(enum.StrEnum):
    DELIVERED = "delivered"  # declared delivered (by the promoters, an agent, or a work-day register)
    VERIFIED = "verified"  # checked by an agent: only verified lines count in the reports of what was done
    CANCELLED = "cancelled"  # entered by mistake: kept, not counted


class RealisationSource(enum.StrEnum):
    MANUAL = "manual"  # entered on the ledger page
    WORK_DAY = "work_day"  # hours of a checked work-day register
    DELIVERY = "delivery"  # a town delivery recorded by an agent


class RealisationLine(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """What actually happened against a commitment line: delivered, then verified.

    Matches, caps and envelopes use commitments; reports of what was done use realisations. The
    value is the quantity at the commitment's own unit value (the rate copied on it), so nothing is
    revalued. ``source_key`` makes an automatic realisation (a work-day participant's hours) exactly-once.
    """

    __tablename__ = "realisation_line"
    __table_args__ = (
        Index("ix_realisation_line_initiative_state", "initiative_id", "state"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("value_cents >= 0", name="value_not_negative"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    commitment_line_id: Mapped[int] = mapped_column(ForeignKey("commitment_line.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)  # in the commitment's unit (minutes, days, units)
    value_cents: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12), default=RealisationState.DELIVERED)
    delivered_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(12), default=RealisationSource.MANUAL)
    source_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    verified_at: Mapped[dt.datetime | None]
    verified_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
