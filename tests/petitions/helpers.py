"""Shared by the petition lifecycle, counting, answer and page tests (not the signing ones)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.accounts.models import Account
from app.accounts.viewer import Viewer
from app.db.base import utcnow
from app.db.session import Database, read_only, unit_of_work
from app.petitions import service
from app.petitions.forms import PetitionInput
from app.petitions.models import PaperBatch, Petition, PetitionSignature
from app.territories.context import TerritoryContext
from app.territories.models import Territory


def viewer(account: Account, *roles: str) -> Viewer:
    return Viewer(
        person_id=account.person_id,
        account_id=account.id,
        territory_id=account.territory_id,
        label="test",
        roles=frozenset(roles),
    )


def context(database: Database, territory_id: int) -> TerritoryContext:
    with read_only(database) as db:
        return TerritoryContext.from_row(db.get_one(Territory, territory_id))


def start(database: Database, who: Viewer, territory_id: int, **fields: Any) -> str:
    values = {"title": "Un passage piéton devant l'école Pasteur", "request": "Sécuriser la traversée.", **fields}
    with unit_of_work(database) as db:
        return service.start(db, who, territory_id, PetitionInput.model_validate(values)).public_id


def opened(database: Database, author: Viewer, agent: Viewer, territory_id: int, **fields: Any) -> str:
    """A petition started, submitted and published through the services."""
    public_id = start(database, author, territory_id, **fields)
    with unit_of_work(database) as db:
        service.submit(db, author, territory_id, public_id)
    with unit_of_work(database) as db:
        service.publish(db, agent, context(database, territory_id), public_id)
    return public_id


def petition(database: Database, public_id: str) -> Petition:
    with read_only(database) as db:
        row = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        db.expunge(row)
        return row


def update(database: Database, public_id: str, **values: Any) -> None:
    with unit_of_work(database) as db:
        row = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        for key, value in values.items():
            setattr(row, key, value)


def add_signatures(
    database: Database,
    public_id: str,
    n: int,
    *,
    start_at: dt.datetime | None = None,
    relation: str = "lives",
    notify: bool = False,
    prefix: str = "s",
    **stamps: Any,
) -> list[int]:
    """N guest signatures, counted one minute apart from ``start_at`` (rows inserted directly)."""
    start_at = start_at or utcnow() - dt.timedelta(days=1)
    ids = []
    with unit_of_work(database) as db:
        p = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        existing = len(list(db.scalars(select(PetitionSignature.id).where(PetitionSignature.petition_id == p.id))))
        for i in range(n):
            key = f"{prefix}{i}@example.org"  # distinct prefixes per call
            row = PetitionSignature(
                territory_id=p.territory_id,
                petition_id=p.id,
                method="guest",
                display_name=f"Signataire {existing + i}",
                name_key=f"signataire {existing + i}",
                email=key,
                email_key=key,
                email_slot=1,
                relation=relation,
                notify=notify,
                confirmed_at=start_at + dt.timedelta(minutes=i),
                counted_at=start_at + dt.timedelta(minutes=i),
                **stamps,
            )
            db.add(row)
            db.flush()
            ids.append(row.id)
    return ids


def set_signature(database: Database, signature_id: int, **values: Any) -> None:
    with unit_of_work(database) as db:
        row = db.get_one(PetitionSignature, signature_id)
        for key, value in values.items():
            setattr(row, key, value)


def add_batch(database: Database, public_id: str, signatures: int, town: int, at: dt.datetime) -> None:
    with unit_of_work(database) as db:
        p = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        db.add(
            PaperBatch(
                territory_id=p.territory_id,
                petition_id=p.id,
                signatures=signatures,
                town_signatures=town,
                counted_at=at,
            )
        )
