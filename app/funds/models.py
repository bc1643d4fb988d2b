"""Funds (a set of match rules with a yearly envelope) and the dated table of in-kind rates."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class Enforcement(enum.StrEnum):
    """What happens when an initiative breaks the match or the cap (never the envelope)."""

    BLOCK = "block"  # refused unless the executive overrides with a written reason
    WARN = "warn"  # shown to everyone, decision allowed (Loos: the 50/50 is a spirit)
    OFF = "off"


class Fund(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    __tablename__ = "fund"
    __table_args__ = (UniqueConstraint("territory_id", "name"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Match: residents' value >= k x town value, k in percent (100 = 1:1).
    match_physical_percent: Mapped[int] = mapped_column(Integer, default=100)
    match_activity_percent: Mapped[int] = mapped_column(Integer, default=50)
    # Equity: a gentler k for priority neighbourhoods or first-time promoters (None = same k).
    match_priority_percent: Mapped[int | None] = mapped_column(Integer)
    match_first_time_percent: Mapped[int | None] = mapped_column(Integer)
    partners_count: Mapped[bool] = mapped_column(Boolean, default=True)
    enforcement: Mapped[str] = mapped_column(String(8), default=Enforcement.WARN)
    # Cap on the town's cash outlay per initiative (VAT included); None = no cap.
    cap_town_cash_cents: Mapped[int | None] = mapped_column(BigInteger)
    # Under this town value, the lighter "small project" track applies.
    small_project_threshold_cents: Mapped[int] = mapped_column(BigInteger, default=50_000)
    decision_deadline_days: Mapped[int] = mapped_column(Integer, default=30)
    unsigned_release_days: Mapped[int] = mapped_column(Integer, default=60)


class FundEnvelope(IdMixin, Base):
    """The money a fund may commit in a fiscal year (town cash outlay, VAT included), overall or
    for one neighbourhood. ``committed_cents`` moves only under a row lock and can never pass
    ``amount_cents`` (CHECK constraint): two decisions at once cannot overspend."""

    __tablename__ = "fund_envelope"
    __table_args__ = (
        UniqueConstraint("fund_id", "fiscal_year", "neighbourhood_id"),
        CheckConstraint("committed_cents >= 0", name="committed_not_negative"),
        CheckConstraint("committed_cents <= amount_cents", name="within_amount"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    neighbourhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood.id", ondelete="CASCADE"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    committed_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class RateKind(enum.StrEnum):
    VOLUNTEER_HOUR = "volunteer_hour"
    PROFESSIONAL_HOUR = "professional_hour"
    STAFF_HOUR = "staff_hour"
    EQUIPMENT_DAY = "equipment_day"


class Rate(IdMixin, CreatedAtMixin, Base):
    """A value per hour or per day in force from a date; the latest one on or before a day applies."""

    __tablename__ = "rate"
    __table_args__ = (UniqueConstraint("territory_id", "kind", "label", "effective_from"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Equipment day rates are per item ("bétonnière"); the other kinds use an empty label.
    label: Mapped[str] = mapped_column(String(200), default="")
    value_cents: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300), default="")
