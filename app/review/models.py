"""The review checklist (per fund, copied onto each initiative) and staff's declared interests."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin, utcnow


class ItemState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    WAIVED = "waived"  # not relevant for this initiative: a written reason is kept


class FundChecklistItem(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A point every initiative of the fund is checked against; copied (label) onto each initiative."""

    __tablename__ = "fund_checklist_item"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class ReviewItem(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """One point of an initiative's review, possibly with the opinion of a town service."""

    __tablename__ = "review_item"
    __table_args__ = (Index("ix_review_item_initiative_state", "initiative_id", "state"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(8), default=ItemState.OPEN)
    waiver_reason: Mapped[str] = mapped_column(Text, default="")
    # The opinion asked of a town service (roads, heritage, sports...), and who follows it up.
    service_name: Mapped[str] = mapped_column(String(200), default="")
    assignee_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    requested_at: Mapped[dt.datetime | None]
    requested_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    opinion: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[dt.datetime | None]
    done_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class InterestKind(enum.StrEnum):
    INTEREST = "interest"  # an interest (in a beneficiary, an initiative, or described in words)
    WITHDRAWAL = "withdrawal"  # a "déport": the person steps aside from one initiative, for good


class InterestDeclaration(IdMixin, PublicIdMixin, Base):
    """What a member of staff declares to prevent conflicts of interest (art. 2 loi n° 2013-907).

    A withdrawal on an initiative, or an interest in an initiative or its beneficiary, bars the
    person from reviewing it, deciding on it or signing for the town. An interest may end; a
    withdrawal never does.
    """

    __tablename__ = "interest_declaration"
    __table_args__ = (Index("ix_interest_declaration_person", "person_id", "ended_at"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=InterestKind.INTEREST)
    description: Mapped[str] = mapped_column(Text, default="")
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id", ondelete="SET NULL"), index=True)
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), index=True)
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]


class CouncilAgendaItem(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """An initiative placed on the agenda of a council sitting: "awaiting the council sitting" until decided."""

    __tablename__ = "council_agenda_item"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("council_sitting.id", ondelete="RESTRICT"), index=True)
    # One live agenda item per initiative: postponing moves it to another sitting (audited).
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), unique=True)
    scheduled_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
