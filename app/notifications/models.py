from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class NotificationPreference(IdMixin, Base):
    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    frequency: Mapped[str] = mapped_column(String(16))  # immediate / daily / weekly / never


class Notification(IdMixin, CreatedAtMixin, Base):
    """Something to tell a person; sent at once or gathered into a digest per their preference."""

    __tablename__ = "notification"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    frequency: Mapped[str] = mapped_column(String(16))
    delivered_at: Mapped[dt.datetime | None]
    read_at: Mapped[dt.datetime | None]
