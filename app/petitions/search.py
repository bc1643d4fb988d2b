"""Petitions in the French full-text search (accents and case folded), like the initiatives.

SQLite: the FTS5 table ``search_petition`` kept in sync by triggers; PostgreSQL: the GIN
expression index ``search_petition_idx`` on the ``search_french`` configuration (migration 0013).
The words typed are quoted and always sent as bound parameters. Only what the viewer may open is
found (``permissions.visible_clause``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from app.core.actor import Actor
from app.initiatives.search import query_words
from app.petitions import permissions as perm
from app.petitions.models import Petition

# The same expression as the PostgreSQL index, so that the planner uses it.
PG_VECTOR = "to_tsvector('search_french'::regconfig, petition.title || ' ' || petition.request || ' ' || petition.body)"
fts_table = table("search_petition", column("rowid"), column("rank"))


@dataclass(frozen=True)
class SimilarPetition:
    public_id: str
    title: str
    state: str


def similar(
    db: Session,
    territory_id: int,
    text_: str,
    *,
    viewer: Actor | None = None,
    limit: int = 5,
    exclude_id: int | None = None,
) -> list[SimilarPetition]:
    """Up to ``limit`` petitions of the territory close to ``text_`` (any significant word), best first."""
    words = query_words(text_)
    if not words:
        return []
    stmt = select(Petition.public_id, Petition.title, Petition.state).where(
        Petition.territory_id == territory_id, perm.visible_clause(viewer, territory_id)
    )
    if exclude_id is not None:
        stmt = stmt.where(Petition.id != exclude_id)
    if db.get_bind().dialect.name == "postgresql":
        vector: ColumnElement[Any] = literal_column(PG_VECTOR)
        query = func.websearch_to_tsquery(literal_column("'search_french'::regconfig"), " or ".join(words))
        stmt = stmt.where(vector.op("@@")(query)).order_by(func.ts_rank(vector, query).desc(), Petition.id.desc())
    else:
        match = " OR ".join(f'"{w}"*' for w in words)
        stmt = (
            stmt.join(fts_table, fts_table.c.rowid == Petition.id)
            .where(text("search_petition MATCH :petition_query").bindparams(petition_query=match))
            .order_by(fts_table.c.rank, Petition.id.desc())
        )
    return [SimilarPetition(r[0], r[1], r[2]) for r in db.execute(stmt.limit(limit)).all()]


def list_condition(db: Session, text_: str) -> ColumnElement[bool] | None:
    """The public list's search: petitions holding every significant word (None: no word)."""
    words = query_words(text_)
    if not words:
        return None
    if db.get_bind().dialect.name == "postgresql":
        vector: ColumnElement[Any] = literal_column(PG_VECTOR)
        query = func.websearch_to_tsquery(literal_column("'search_french'::regconfig"), " ".join(words))
        return vector.op("@@")(query)
    match = text("search_petition MATCH :petition_list_query").bindparams(
        petition_list_query=" ".join(f'"{w}"*' for w in words)
    )
    return Petition.id.in_(select(fts_table.c.rowid).where(match))
