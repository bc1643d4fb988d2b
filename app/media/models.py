"""Stored files (the bytes live in the media store; the row says what they are and whose they are)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class StoredFile(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A file as re-encoded and stored by Cailloux; never the uploaded bytes themselves."""

    __tablename__ = "stored_file"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    # Path inside the media store; random, never derived from the uploaded file name.
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The uploaded name, shown escaped and only to those who may see the file.
    original_name: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)


class InitiativePhoto(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A photo of a proposal (the place as it is, a sketch...), with its text alternative."""

    __tablename__ = "initiative_photo"
    __table_args__ = (Index("ix_initiative_photo_initiative", "initiative_id", "position"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    # A thumbnail re-encoded at upload for lists and pages; the full image opens on demand.
    thumbnail_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    alt_text: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)
