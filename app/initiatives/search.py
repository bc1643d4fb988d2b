"""Similar initiatives, found with the database's full-text search, accents and case folded.

SQLite: the FTS5 table ``search_initiative`` (tokenizer ``unicode61 remove_diacritics 2``) kept
in sync by triggers; PostgreSQL: the ``search_french`` configuration (french + unaccent) and the
GIN expression index ``search_initiative_idx`` (migration 0003). The text typed by the person is
cut into words that are quoted and OR-ed, and always sent as a bound parameter: FTS syntax
characters in it are plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from app.core.actor import Actor
from app.initiatives import permissions as perm
from app.initiatives import workflow as wf
from app.initiatives.models import Initiative

WORD_RE = re.compile(r"\w+")
MIN_WORD_LENGTH = 3
MAX_WORDS = 12
MAX_TEXT = 2_000
# Frequent French words that would match nearly every proposal.
_STOP_WORDS_TEXT = (
    "les des une pour dans avec sur par aux est sont que qui quoi mais donc car nous vous ils elles "
    "leur leurs son ses mon mes ton tes notre nos votre vos cette ces ceux celle plus moins tout tous "
    "toute toutes faire fait être avoir entre comme aussi ainsi très pas"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# The same expression as the PostgreSQL index, so that the planner uses it.
PG_VECTOR = (
    "to_tsvector('search_french'::regconfig, "
    "initiative.title || ' ' || initiative.description || ' ' || initiative.general_interest)"
)
fts_table = table("search_initiative", column("rowid"), column("rank"))


@dataclass(frozen=True)
class SimilarInitiative:
    public_id: str
    title: str
    state: str
    state_label: str


def query_words(raw: str) -> list[str]:
    """Distinct significant words of the text, lower-cased, in order (at most ``MAX_WORDS``)."""
    words: list[str] = []
    for word in WORD_RE.findall(raw[:MAX_TEXT].casefold()):
        word = word.strip("_")
        if len(word) < MIN_WORD_LENGTH or word in STOP_WORDS or word in words:
            continue
        words.append(word)
        if len(words) == MAX_WORDS:
            break
    return words


# A visitor who is not signed in: ``visible_clause`` then gives the public initiatives only.
ANONYMOUS = Actor(person_id=None, account_id=None, territory_id=None, label="anonymous")


def _visible_to(viewer: Actor | None, territory_id: int) -> ColumnElement[bool]:
    """Exactly what the pages let the viewer open (``permissions.can_view``, in its SQL form)."""
    return perm.visible_clause(viewer or ANONYMOUS, territory_id)


def similar(
    db: Session,
    territory_id: int,
    text_: str,
    limit: int = 5,
    exclude_id: int | None = None,
    viewer: Actor | None = None,
) -> list[SimilarInitiative]:
    """Up to ``limit`` initiatives of the territory close to ``text_``, best first, that the
    viewer may open (public ones and those they act for; the territory's staff see them all)."""
    words = query_words(text_)
    if not words:
        return []
    stmt = select(Initiative.public_id, Initiative.title, Initiative.state).where(
        Initiative.territory_id == territory_id, _visible_to(viewer, territory_id)
    )
    if exclude_id is not None:
        stmt = stmt.where(Initiative.id != exclude_id)
    if db.get_bind().dialect.name == "postgresql":
        vector: ColumnElement[Any] = literal_column(PG_VECTOR)
        query = func.websearch_to_tsquery(literal_column("'search_french'::regconfig"), " or ".join(words))
        stmt = stmt.where(vector.op("@@")(query)).order_by(func.ts_rank(vector, query).desc(), Initiative.id.desc())
    else:
        match = " OR ".join(f'"{w}"*' for w in words)
        stmt = (
            stmt.join(fts_table, fts_table.c.rowid == Initiative.id)
            .where(text("search_initiative MATCH :fts_query").bindparams(fts_query=match))
            .order_by(fts_table.c.rank, Initiative.id.desc())
        )
    rows = db.execute(stmt.limit(limit)).all()
    return [SimilarInitiative(r[0], r[1], r[2], wf.state_label(r[2])) for r in rows]


@dataclass(frozen=True)
class TextSearch:
    """The catalogue's full-text search: a condition on ``initiative`` and its best-first ordering."""

    condition: ColumnElement[bool]
    best_first: ColumnElement[Any]


def catalogue_search(db: Session, text_: str) -> TextSearch | None:
    """The initiatives holding every significant word of ``text_`` (SQLite: or a word it begins;
    PostgreSQL: or a word of the same stem), accents and case folded; None when no word is significant.

    Unlike ``similar``, every word must match: a resident narrowing a list types more words to
    get fewer results.
    """
    words = query_words(text_)
    if not words:
        return None
    if db.get_bind().dialect.name == "postgresql":
        vector: ColumnElement[Any] = literal_column(PG_VECTOR)
        query = func.websearch_to_tsquery(literal_column("'search_french'::regconfig"), " ".join(words))
        return TextSearch(vector.op("@@")(query), func.ts_rank(vector, query).desc())
    match = text("search_initiative MATCH :catalogue_query").bindparams(
        catalogue_query=" ".join(f'"{w}"*' for w in words)
    )
    matching = select(fts_table.c.rowid).where(match)
    rank = select(fts_table.c.rank).where(fts_table.c.rowid == Initiative.id, match).scalar_subquery()
    return TextSearch(Initiative.id.in_(matching), rank.asc())
