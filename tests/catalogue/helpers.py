"""Catalogue and moderation test data: places, photos, hidden content, counted queries."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from app.core.actor import Actor
from app.db.session import unit_of_work
from app.initiatives.models import Initiative, InitiativeState
from app.media import service as media
from app.media.models import InitiativePhoto
from app.media.storage import media_store
from app.moderation import service as moderation
from app.territories.models import Theme
from tests.media.helpers import jpeg
from tests.review.conftest import World

S = InitiativeState


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", listener)


def update(world: World, initiative_id: int, **values: Any) -> None:
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative_id)
        for key, value in values.items():
            setattr(row, key, value)


def place(world: World, initiative_id: int, lat: str = "50.457800", lng: str = "2.791500") -> None:
    update(world, initiative_id, latitude=Decimal(lat), longitude=Decimal(lng))


def theme(world: World, name: str = "Nature en ville") -> tuple[int, str]:
    with unit_of_work(world.database) as db:
        row = Theme(territory_id=world.territory_id, name=name)
        db.add(row)
        db.flush()
        return row.id, row.public_id


def with_photo(
    world: World, state: S, *, title: str, alt: str = "Les bacs au pied de l'immeuble", **kw: Any
) -> Initiative:
    """An initiative with one photo (photos are added while it is a draft, as in real life), then in ``state``."""
    initiative = world.initiative(S.DRAFT, title=title, **kw)
    prepared = media.prepare_photos([media.Upload("bacs.jpg", io.BytesIO(jpeg()))])
    with unit_of_work(world.database) as db:
        media.add_photos(
            db, world.agent_actor, world.territory_id, initiative.public_id, prepared,
            store=media_store(world.settings), alt_text=alt,
        )  # fmt: skip
    update(world, initiative.id, state=state.value)
    return initiative


def photo_of(world: World, initiative_id: int) -> InitiativePhoto:
    with unit_of_work(world.database) as db:
        row = db.scalars(select(InitiativePhoto).where(InitiativePhoto.initiative_id == initiative_id)).one()
        db.expunge(row)
        return row


def hide(
    world: World, subject_type: str, public_id: str, reason: str = "Nom d'un voisin", actor: Actor | None = None
) -> None:
    with unit_of_work(world.database) as db:
        moderation.hide(db, actor or world.agent_actor, world.territory_id, subject_type, public_id, reason)
