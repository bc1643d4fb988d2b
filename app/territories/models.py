from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin
from app.territories.settings_schema import AccessibilityStatement, LegalNotices, TerritorySettings


class Territory(IdMixin, CreatedAtMixin, Base):
    """A commune hosted on this deployment. Every domain row belongs to one."""

    __tablename__ = "territory"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    insee_code: Mapped[str] = mapped_column(String(5), unique=True)
    siret: Mapped[str | None] = mapped_column(String(14))
    population: Mapped[int] = mapped_column(Integer, default=0)
    registered_electors: Mapped[int] = mapped_column(Integer, default=0)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    settings_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    legal_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    accessibility_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def settings(self) -> TerritorySettings:
        return TerritorySettings.model_validate(self.settings_json or {})

    @property
    def legal(self) -> LegalNotices:
        return LegalNotices.model_validate(self.legal_json or {})

    @property
    def accessibility(self) -> AccessibilityStatement:
        return AccessibilityStatement.model_validate(self.accessibility_json or {})


class TerritoryHost(IdMixin, Base):
    __tablename__ = "territory_host"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)


class Neighbourhood(IdMixin, PublicIdMixin, Base):
    __tablename__ = "neighbourhood"
    __table_args__ = (UniqueConstraint("territory_id", "name"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    population: Mapped[int] = mapped_column(Integer, default=0)
    is_priority: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Theme(IdMixin, PublicIdMixin, Base):
    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("territory_id", "name"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class CouncilSitting(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A sitting of the town council, which later decisions and petitions link to."""

    __tablename__ = "council_sitting"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    sitting_date: Mapped[dt.date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(300))
    agenda: Mapped[str] = mapped_column(Text, default="")
    deliberation_numbers: Mapped[str] = mapped_column(Text, default="")
    minutes_url: Mapped[str] = mapped_column(String(500), default="")
