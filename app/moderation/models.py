"""Reports of public content and the content hidden by the town's agents.

Content is named by ``(subject_type, subject_id)``: its type and its public id, so that any kind
of public content (an initiative, one of its photos, later a progress update or a petition) may
be reported and hidden without a column on its own table. Public ids are random and never reused:
a row here can never start applying to another piece of content.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class SubjectType(enum.StrEnum):
    INITIATIVE = "initiative"  # its story: title, description, general interest
    PHOTO = "photo"  # one photo of an initiative


class ReportReason(enum.StrEnum):
    INSULT = "insult"
    PERSONAL_DATA = "personal_data"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    HANDLED = "handled"


class ReportOutcome(enum.StrEnum):
    HIDDEN = "hidden"  # the content was hidden
    KEPT = "kept"  # an agent read it and kept the content visible


class ContentReport(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """Someone (signed in or not) reports a piece of public content to the town."""

    __tablename__ = "content_report"
    __table_args__ = (
        Index("ix_content_report_queue", "territory_id", "status", "created_at"),
        Index("ix_content_report_subject", "subject_type", "subject_id"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(32))  # the content's public id
    reason: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    # Kept for the person's own data export; never shown to the agents nor to the content's team.
    reporter_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ReportStatus.OPEN)
    outcome: Mapped[str] = mapped_column(String(12), default="")
    handled_at: Mapped[dt.datetime | None]


class HiddenContent(IdMixin, CreatedAtMixin, Base):
    """Content an agent hid from the public, with the written reason; restoring it deletes the row
    (the audit log keeps both steps)."""

    __tablename__ = "hidden_content"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(32))  # the content's public id
    reason: Mapped[str] = mapped_column(Text)
    hidden_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
