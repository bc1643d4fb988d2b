"""The follow-up of a signed initiative: milestones, overdue flags, proofs and the delivery report.

Realisation lines (what was delivered against each commitment) live with the ledger
(``app.ledger.models.RealisationLine``); proofs may point at one of them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class Milestone(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A dated step of the work, on one side (residents, town, partners), optionally tied to a commitment."""

    __tablename__ = "milestone"
    __table_args__ = (Index("ix_milestone_initiative_due", "initiative_id", "due_on"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[dt.date] = mapped_column(Date)
    commitment_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("commitment_line.id", ondelete="SET NULL"), index=True
    )
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    done_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Set when the daily job told both sides the milestone is overdue: told once per due date
    # (moving the due date clears it).
    overdue_flagged_at: Mapped[dt.datetime | None]


class CommitmentOverdueFlag(IdMixin, CreatedAtMixin, Base):
    """The daily job told both sides that a commitment line is past its due date: once per line and date."""

    __tablename__ = "commitment_overdue_flag"
    __table_args__ = (UniqueConstraint("commitment_line_id", "due_on"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    commitment_line_id: Mapped[int] = mapped_column(ForeignKey("commitment_line.id", ondelete="CASCADE"))
    due_on: Mapped[dt.date] = mapped_column(Date)


class ProofKind(enum.StrEnum):
    RECEIPT = "receipt"
    INVOICE = "invoice"
    QUOTE = "quote"
    INSURANCE = "insurance"
    LANDOWNER_PERMISSION = "landowner_permission"
    SIGNED_SCAN = "signed_scan"
    PHOTO = "photo"
    OTHER = "other"


class Attachment(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A proof (receipt, invoice, quote, certificate, permission, signed scan): an image re-encoded by
    Cailloux or a PDF kept as sent, private to the promoters and the town's staff."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_initiative", "initiative_id", "created_at"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(300))
    # The realisation line the proof backs, if any (a line "carries" its proofs).
    realisation_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("realisation_line.id", ondelete="SET NULL"), index=True
    )
    uploaded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class DeliveryReport(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """The promoters' short report when the work is delivered: what was done, what it changed."""

    __tablename__ = "delivery_report"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), unique=True)
    what_was_done: Mapped[str] = mapped_column(Text)
    what_changed: Mapped[str] = mapped_column(Text, default="")
    written_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
