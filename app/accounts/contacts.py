"""Contacts without an account: residents without e-mail or internet, kept by the town's agents.

A contact is a person of kind ``contact``; they can promote a project, volunteer or sign on
paper, and anything the app would e-mail them becomes a phone call or a letter for an agent.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import AgeBracket, Person, PersonKind, Role
from app.accounts.service import check_neighbourhood
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Forbidden, NotFound
from app.web.i18n import _

PHONE_RE = re.compile(r"^\+?[0-9 .\-()]{6,30}$")
LIKE_ESCAPE = "\\"


def can_manage_contacts(actor: Actor, territory_id: int) -> bool:
    return actor.territory_id == territory_id and actor.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN)


class ContactInput(BaseModel):
    """What an agent records about a contact (from the form, or from code)."""

    model_config = ConfigDict(extra="ignore")

    display_name: str = Field(min_length=1, max_length=120)
    phone: str = Field(default="", max_length=40)
    postal_address: str = Field(default="", max_length=500)
    neighbourhood_id: int | None = None
    preferred_contact: Literal["phone", "letter"] = "phone"
    age_bracket: AgeBracket = AgeBracket.ADULT
    guardian_contact: str = Field(default="", max_length=300)
    notes: str = Field(default="", max_length=5000)

    @field_validator("neighbourhood_id", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and (not PHONE_RE.match(value) or sum(c.isdigit() for c in value) < 6):
            raise ValueError(_("Saisissez un numéro de téléphone, par exemple 03 21 00 00 00."))
        return value


def _check(data: ContactInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.preferred_contact == "phone" and not data.phone:
        errors["phone"] = _("Indiquez un numéro de téléphone pour joindre cette personne par téléphone.")
    if data.preferred_contact == "letter" and not data.postal_address:
        errors["postal_address"] = _("Indiquez une adresse postale pour écrire à cette personne.")
    if data.age_bracket == AgeBracket.UNDER_15 and not data.guardian_contact:
        errors["guardian_contact"] = _("Pour un·e enfant de moins de 15 ans, indiquez le contact d'un parent.")
    return errors


class ContactErrors(Exception):
    """The contact cannot be saved as entered; ``errors`` maps fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _validate(db: Session, territory_id: int, data: ContactInput) -> None:
    errors = _check(data)
    if errors:
        raise ContactErrors(errors)
    check_neighbourhood(db, territory_id, data.neighbourhood_id)


def _require(actor: Actor, territory_id: int) -> None:
    if not can_manage_contacts(actor, territory_id):
        raise Forbidden(_("Les contacts sont tenus par les agent·es de la commune."))


def _fields(data: ContactInput) -> dict[str, Any]:
    return {
        "display_name": data.display_name,
        "phone": data.phone or None,
        "postal_address": data.postal_address or None,
        "neighbourhood_id": data.neighbourhood_id,
        "preferred_contact": data.preferred_contact,
        "age_bracket": data.age_bracket.value,
        "guardian_contact": (data.guardian_contact or None) if data.age_bracket == AgeBracket.UNDER_15 else None,
        "notes": data.notes or None,
    }


def create_contact(db: Session, actor: Actor, territory_id: int, data: ContactInput) -> Person:
    _require(actor, territory_id)
    _validate(db, territory_id, data)
    person = Person(
        territory_id=territory_id,
        kind=PersonKind.CONTACT.value,
        created_by_person_id=actor.person_id,
        **_fields(data),
    )
    db.add(person)
    db.flush()
    # Personal details stay out of the audit trail: the record says who created whom.
    audit.record(db, actor, "contact.create", "person", person.public_id, territory_id=territory_id)
    return person


def update_contact(db: Session, actor: Actor, territory_id: int, public_id: str, data: ContactInput) -> Person:
    _require(actor, territory_id)
    person = get_contact(db, actor, territory_id, public_id)
    _validate(db, territory_id, data)
    changed = sorted(k for k, v in _fields(data).items() if getattr(person, k) != v)
    for key, value in _fields(data).items():
        setattr(person, key, value)
    db.flush()
    audit.record(
        db, actor, "contact.update", "person", person.public_id, territory_id=territory_id, data={"fields": changed}
    )
    return person


def get_contact(db: Session, actor: Actor, territory_id: int, public_id: str) -> Person:
    _require(actor, territory_id)
    person = db.scalar(
        select(Person).where(
            Person.public_id == public_id,
            Person.territory_id == territory_id,
            Person.kind == PersonKind.CONTACT.value,
            Person.anonymised_at.is_(None),
        )
    )
    if person is None:
        raise NotFound(_("Ce contact n'existe pas."))
    return person


def contact_values(person: Person) -> dict[str, Any]:
    return {
        "display_name": person.display_name,
        "phone": person.phone or "",
        "postal_address": person.postal_address or "",
        "neighbourhood_id": person.neighbourhood_id or "",
        "preferred_contact": person.preferred_contact or "phone",
        "age_bracket": person.age_bracket,
        "guardian_contact": person.guardian_contact or "",
        "notes": person.notes or "",
    }


def search_contacts(db: Session, actor: Actor, territory_id: int, query: str = "", limit: int = 200) -> list[Person]:
    _require(actor, territory_id)
    stmt = select(Person).where(
        Person.territory_id == territory_id,
        Person.kind == PersonKind.CONTACT.value,
        Person.anonymised_at.is_(None),
    )
    query = query.strip()[:200]
    if query:
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                func.lower(Person.display_name).like(pattern, escape=LIKE_ESCAPE),
                func.lower(func.coalesce(Person.phone, "")).like(pattern, escape=LIKE_ESCAPE),
                func.lower(func.coalesce(Person.postal_address, "")).like(pattern, escape=LIKE_ESCAPE),
            )
        )
    return list(db.scalars(stmt.order_by(Person.display_name, Person.id).limit(limit)))
