"""Shared set-up for the initiative tests: actors, themes and initiatives built through the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.accounts import contacts
from app.accounts.models import Account, AgeBracket, Person
from app.audit.models import AuditEntry
from app.core.actor import Actor
from app.db.session import Database, read_only, unit_of_work
from app.initiatives import service
from app.initiatives.forms import InitiativeInput
from app.initiatives.models import Initiative, InitiativeMember
from app.territories.models import Neighbourhood, Theme


def actor(account: Account, *roles: str) -> Actor:
    return Actor(
        person_id=account.person_id,
        account_id=account.id,
        territory_id=account.territory_id,
        label="test",
        roles=frozenset(roles),
    )


def theme(database: Database, territory_id: int, name: str = "Culture") -> int:
    with unit_of_work(database) as db:
        row = Theme(territory_id=territory_id, name=name)
        db.add(row)
        db.flush()
        return row.id


def neighbourhood(database: Database, territory_id: int, name: str = "Cité 5") -> int:
    with read_only(database) as db:
        found = db.scalar(
            select(Neighbourhood.id).where(Neighbourhood.territory_id == territory_id, Neighbourhood.name == name)
        )
        assert found is not None
        return found


def complete_fields(database: Database, territory_id: int, theme_id: int) -> dict[str, Any]:
    return {
        "title": "Jardin partagé de la cité 5",
        "description": "Un **jardin** au pied des immeubles.",
        "general_interest": "Un lieu de rencontre pour tout le quartier.",
        "residents_offer": "Dix bénévoles, deux samedis par mois.",
        "neighbourhood_id": str(neighbourhood(database, territory_id)),
        "theme_id": str(theme_id),
        "project_type": "physical",
        "beneficiary_kind": "person",
    }


def propose(database: Database, who: Actor, territory_id: int, **fields: Any) -> str:
    data = InitiativeInput.model_validate({"title": "Un projet", **fields})
    with unit_of_work(database) as db:
        return service.propose(db, who, territory_id, data).public_id


def set_state(database: Database, public_id: str, state: str, **extra: Any) -> None:
    with unit_of_work(database) as db:
        initiative = db.scalars(select(Initiative).where(Initiative.public_id == public_id)).one()
        initiative.state = state
        for key, value in extra.items():
            setattr(initiative, key, value)


def initiative(database: Database, public_id: str) -> Initiative:
    with read_only(database) as db:
        row = db.scalars(select(Initiative).where(Initiative.public_id == public_id)).one()
        db.expunge(row)
        return row


def members(database: Database, public_id: str) -> list[InitiativeMember]:
    with read_only(database) as db:
        rows = list(
            db.scalars(
                select(InitiativeMember)
                .join(Initiative, Initiative.id == InitiativeMember.initiative_id)
                .where(Initiative.public_id == public_id)
                .order_by(InitiativeMember.id)
            )
        )
        for r in rows:
            db.expunge(r)
        return rows


def audit_actions(database: Database, public_id: str) -> list[str]:
    with read_only(database) as db:
        return list(
            db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject_type == "initiative", AuditEntry.subject_id == public_id)
                .order_by(AuditEntry.id)
            )
        )


def contact(
    database: Database, agent: Actor, territory_id: int, name: str = "Marcel Dupont", age: str = "adult"
) -> Person:
    with unit_of_work(database) as db:
        person = contacts.create_contact(
            db,
            agent,
            territory_id,
            contacts.ContactInput(display_name=name, phone="03 21 00 00 00", age_bracket=AgeBracket(age)),
        )
        db.expunge(person)
        return person
