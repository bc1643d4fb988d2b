""" "Download my data": everything Cailloux holds about a person, as JSON (RGPD art. 15 and 20).

Each domain adds its own section::

    @register_section("initiatives")
    def my_initiatives(db: Session, person: Person) -> list[dict[str, Any]]: ...

Secrets never leave: no password hash, no session or token hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Account, ApiToken, EmailToken, Person, RoleGrant, UserSession
from app.audit.models import AuditEntry
from app.core.actor import Actor
from app.db.base import utcnow
from app.notifications import service as notifications
from app.notifications.models import Notification
from app.privacy.erasure import person_of
from app.territories.models import Neighbourhood, Territory

Section = Callable[[Session, Person], Any]
_sections: dict[str, Section] = {}

FORMAT_VERSION = 1


def register_section(name: str) -> Callable[[Section], Section]:
    def decorate(func: Section) -> Section:
        existing = _sections.get(name)
        if existing is not None and existing is not func:
            raise ValueError(f"an export section is already registered as {name!r}")
        _sections[name] = func
        return func

    return decorate


def unregister_section(name: str) -> None:
    _sections.pop(name, None)


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in names}


def _account(db: Session, person: Person) -> Account | None:
    return db.scalar(select(Account).where(Account.person_id == person.id))


@register_section("person")
def _person(db: Session, person: Person) -> dict[str, Any]:
    data = _fields(
        person,
        (
            "public_id",
            "kind",
            "display_name",
            "email",
            "phone",
            "postal_address",
            "age_bracket",
            "guardian_contact",
            "preferred_contact",
            "notes",
            "created_at",
        ),
    )
    data["neighbourhood"] = (
        db.scalar(select(Neighbourhood.name).where(Neighbourhood.id == person.neighbourhood_id))
        if person.neighbourhood_id
        else None
    )
    return data


@register_section("account")
def _account_section(db: Session, person: Person) -> dict[str, Any] | None:
    account = _account(db, person)
    if account is None:
        return None
    return _fields(
        account,
        (
            "email",
            "email_verified_at",
            "locale",
            "created_at",
            "last_login_at",
            "last_active_at",
            "inactivity_notice_at",
            "disabled_at",
        ),
    )


@register_section("roles")
def _roles(db: Session, person: Person) -> list[dict[str, Any]]:
    account = _account(db, person)
    if account is None:
        return []
    grants = db.scalars(select(RoleGrant).where(RoleGrant.account_id == account.id).order_by(RoleGrant.id))
    fields = ("role", "delegation_reference", "delegation_scope", "created_at", "confirmed_at", "revoked_at")
    return [_fields(g, fields) for g in grants]


@register_section("sessions")
def _sessions(db: Session, person: Person) -> list[dict[str, Any]]:
    account = _account(db, person)
    if account is None:
        return []
    rows = db.scalars(select(UserSession).where(UserSession.account_id == account.id).order_by(UserSession.id))
    fields = ("created_at", "last_seen_at", "expires_at", "revoked_at", "second_factor_at", "user_agent")
    return [_fields(s, fields) for s in rows]


@register_section("tokens")
def _tokens(db: Session, person: Person) -> dict[str, list[dict[str, Any]]]:
    account = _account(db, person)
    if account is None:
        return {"email_links": [], "api_tokens": []}
    email_tokens = db.scalars(select(EmailToken).where(EmailToken.account_id == account.id).order_by(EmailToken.id))
    api_tokens = db.scalars(select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id))
    return {
        "email_links": [_fields(t, ("purpose", "created_at", "expires_at", "used_at")) for t in email_tokens],
        "api_tokens": [
            _fields(t, ("name", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"))
            for t in api_tokens
        ],
    }


@register_section("notification_preferences")
def _preferences(db: Session, person: Person) -> dict[str, str]:
    return notifications.preferences(db, person.id)


@register_section("notifications")
def _notifications(db: Session, person: Person) -> list[dict[str, Any]]:
    rows = db.scalars(select(Notification).where(Notification.person_id == person.id).order_by(Notification.id))
    fields = ("kind", "subject", "body", "link", "frequency", "created_at", "delivered_at", "read_at")
    return [_fields(n, fields) for n in rows]


@register_section("actions")
def _actions(db: Session, person: Person) -> list[dict[str, Any]]:
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.actor_person_id == person.id, AuditEntry.territory_id == person.territory_id)
        .order_by(AuditEntry.id)
    )
    fields = ("created_at", "action", "subject_type", "subject_id", "reason", "data")
    return [_fields(a, fields) for a in rows]


def build_export(db: Session, actor: Actor) -> dict[str, Any]:
    """Every registered section for the actor's person, in one JSON-ready document."""
    person = person_of(db, actor)
    territory = db.get_one(Territory, person.territory_id)
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "generated_at": _value(utcnow()),
        "territory": {"name": territory.name, "insee_code": territory.insee_code},
    }
    for name, section in _sections.items():
        document[name] = section(db, person)
    return document
