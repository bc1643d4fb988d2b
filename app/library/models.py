"""The peer library: snapshots of evaluated initiatives, shared with every town of the deployment.

``LibraryEntry`` is deployment-level: it is read without a territory filter. It is the one
deliberate exception to territory isolation (named as such in tests/test_isolation.py), which
is why it holds a copy made for sharing, never a link into the source town's records: no
promoter, no beneficiary, no address, no photo, nothing that names a person.
``source_territory_id`` and ``source_initiative_id`` say who may replace or withdraw it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class LibraryEntry(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    __tablename__ = "library_entry"

    source_territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    # Sharing again replaces the snapshot: one entry per initiative.
    source_initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), unique=True)
    town_name: Mapped[str] = mapped_column(String(200))
    population_bracket: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, checked for names by the agent
    theme: Mapped[str] = mapped_column(String(200), default="")
    project_type: Mapped[str] = mapped_column(String(16))
    year: Mapped[int | None] = mapped_column(Integer)
    duration_days: Mapped[int | None] = mapped_column(Integer)
    residents_value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    town_value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    partners_value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    volunteer_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    evaluation_summary: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    # Title, description, lessons, theme and town, case and accents folded: searched with LIKE
    # (SQLite's lower() folds ASCII only).
    search_text: Mapped[str] = mapped_column(Text, default="")
    shared_at: Mapped[dt.datetime]
