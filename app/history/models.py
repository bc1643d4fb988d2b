"""The uploaded files of the historical import, and the mark that makes an initiative historical.

``initiative`` is not altered: what makes an initiative historical lives here, one row per
initiative, with the reference that makes a second import of the same file create nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class HistoricalImport(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A checked CSV file between its preview and its confirmation, then the record of what the
    import did. The text is kept only until the import is confirmed (or for a day if it never is)."""

    __tablename__ = "historical_import"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    uploaded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The uploaded name, shown escaped to the territory's admins only.
    file_name: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text, default="")
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[dt.datetime | None]
    imported_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)


class HistoricalRecord(IdMixin, Base):
    """Marks an initiative as historical (imported, not lived on the platform)."""

    __tablename__ = "historical_record"
    __table_args__ = (UniqueConstraint("territory_id", "reference"),)

    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), unique=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    # The file's « référence », or "sha256:" and the hash of the row's values when it has none:
    # importing the same row again finds it here and creates nothing.
    reference: Mapped[str] = mapped_column(String(100))
    source_file_sha256: Mapped[str] = mapped_column(String(64))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("historical_import.id", ondelete="SET NULL"), index=True)
    imported_at: Mapped[dt.datetime]
    imported_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
