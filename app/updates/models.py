"""Progress updates of an initiative after its convention is signed: text, a progress %, photos.

Each photo records the two answers its author gave about the people it shows; a photo with
recognisable people who did not all agree stays private (promoters and staff only).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class ProgressUpdate(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """News of the work, posted by a promoter or an agent (Markdown body)."""

    __tablename__ = "progress_update"
    __table_args__ = (
        Index("ix_progress_update_initiative", "initiative_id", "created_at"),
        CheckConstraint(
            "progress_percent IS NULL OR (progress_percent >= 0 AND progress_percent <= 100)",
            name="progress_percent_range",
        ),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # Optional: an update may tell news without measuring them.
    progress_percent: Mapped[int | None] = mapped_column(Integer)
    edited_at: Mapped[dt.datetime | None]


class ProgressUpdatePhoto(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A photo of an update, with its text alternative and the image-rights answers."""

    __tablename__ = "progress_update_photo"
    __table_args__ = (
        Index("ix_progress_update_photo_update", "update_id", "position"),
        # No agreement to record when nobody can be recognised.
        CheckConstraint("identifiable_people OR people_agreed IS NULL", name="agreement_only_if_identifiable"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("progress_update.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    thumbnail_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    alt_text: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # « Des personnes reconnaissables apparaissent-elles ? »
    identifiable_people: Mapped[bool] = mapped_column(Boolean)
    # « Ont-elles toutes donné leur accord (et, pour les mineurs, leurs parents) ? » (None: not asked)
    people_agreed: Mapped[bool | None] = mapped_column(Boolean)

    @property
    def is_public(self) -> bool:
        return not self.identifiable_people or self.people_agreed is True
