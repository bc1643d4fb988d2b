"""Request-scoped dependencies: database sessions, the territory, the signed-in viewer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.db.session import Database
from app.territories.context import TerritoryContext
from app.web.i18n import _


def get_database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


def get_read_session(request: Request) -> Iterator[Session]:
    """A read transaction: never takes SQLite's write lock, never commits."""
    session = get_database(request).read_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_write_session(request: Request) -> Iterator[Session]:
    """The request's one write transaction, committed before the response is sent."""
    session = get_database(request).write_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


ReadSession = Annotated[Session, Depends(get_read_session, scope="function")]
WriteSession = Annotated[Session, Depends(get_write_session, scope="function")]


def get_territory(request: Request) -> TerritoryContext:
    territory: TerritoryContext | None = getattr(request.state, "territory", None)
    if territory is None:
        raise NotFound(_("Territoire inconnu."))
    return territory


CurrentTerritory = Annotated[TerritoryContext, Depends(get_territory)]
