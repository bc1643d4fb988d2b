from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class AgeBracket(enum.StrEnum):
    UNDER_15 = "under_15"
    FROM_15_TO_17 = "15_17"
    ADULT = "adult"


class Role(enum.StrEnum):
    """Staff roles. Every account is a resident; these are granted on top."""

    AGENT = "agent"
    EXECUTIVE = "executive"
    COUNCIL_MEMBER = "council_member"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.AGENT, Role.EXECUTIVE, Role.ADMIN})


class PersonKind(enum.StrEnum):
    ACCOUNT_HOLDER = "account"
    CONTACT = "contact"  # kept by agents, no account (no email or no internet)
    WALK_IN = "walk_in"  # a name on a work-day register or a paper sheet


class Person(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """Anyone who takes part, with or without an account, so participation counts them all."""

    __tablename__ = "person"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=PersonKind.ACCOUNT_HOLDER)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    postal_address: Mapped[str | None] = mapped_column(Text)
    neighbourhood_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbourhood.id", ondelete="SET NULL"), index=True
    )
    age_bracket: Mapped[str] = mapped_column(String(16), default=AgeBracket.ADULT)
    # Under 15: the parent's or guardian's contact (name, email or phone).
    guardian_contact: Mapped[str | None] = mapped_column(Text)
    preferred_contact: Mapped[str | None] = mapped_column(String(16))  # phone / letter
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    anonymised_at: Mapped[dt.datetime | None]

    account: Mapped[Account | None] = relationship(back_populates="person", lazy="raise", uselist=False)

    @property
    def is_minor(self) -> bool:
        return self.age_bracket != AgeBracket.ADULT


class Account(IdMixin, CreatedAtMixin, Base):
    """Login credentials of a person. Accounts belong to one territory: the same e-mail may
    hold an account in two towns, isolated from each other."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("territory_id", "email_key"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    # Canonical form used only to spot duplicates (provider aliases folded); never mailed.
    email_key: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified_at: Mapped[dt.datetime | None]
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    last_login_at: Mapped[dt.datetime | None]
    last_active_at: Mapped[dt.datetime | None]
    inactivity_notice_at: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]

    person: Mapped[Person] = relationship(back_populates="account", lazy="raise")


class RoleGrant(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A staff role held by an account. The executive role is pending until another
    executive confirms it; revoked grants are kept for the record."""

    __tablename__ = "role_grant"
    __table_args__ = (Index("ix_role_grant_account_active", "account_id", "revoked_at"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    # For the executive role: the mayor's delegation act (arrêté) reference and its object.
    delegation_reference: Mapped[str | None] = mapped_column(String(200))
    delegation_scope: Mapped[str | None] = mapped_column(Text)
    granted_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    confirmed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    confirmed_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))


class UserSession(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A server-side login session; the cookie holds only the random id, stored hashed."""

    __tablename__ = "user_session"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    second_factor_at: Mapped[dt.datetime | None]
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class EmailToken(IdMixin, CreatedAtMixin, Base):
    """Single-use links sent by e-mail (verification, password reset), stored hashed."""

    __tablename__ = "email_token"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class ApiToken(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A personal access token for the JSON API, hashed at rest, bound to its territory."""

    __tablename__ = "api_token"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
