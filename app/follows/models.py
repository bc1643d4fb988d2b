"""People following an initiative (promoters follow theirs implicitly, without a row)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class InitiativeFollow(IdMixin, CreatedAtMixin, Base):
    """A resident asked for the news of an initiative; never shown to anyone else."""

    __tablename__ = "initiative_follow"
    __table_args__ = (UniqueConstraint("initiative_id", "person_id"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
