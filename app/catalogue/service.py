"""The public catalogue: the territory's initiatives a viewer may open, filtered, searched, paged,
and the located ones for the map.

Everyone sees the public initiatives (approved and later, declined or withdrawn ones whose
promoters opted in, none hidden by a moderator); promoters also see their own, the territory's
staff see every submitted one. Drafts are never listed. A page costs the same few queries
whatever its length: the rows, their count, then the ledger totals and the first photos of the
page's rows in one grouped query each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, extract, func, select
from sqlalchemy.orm import Session, aliased

from app.core.actor import Actor
from app.initiatives import search
from app.initiatives import workflow as wf
from app.initiatives.models import Initiative, ProjectType
from app.initiatives.models import InitiativeState as S
from app.initiatives.permissions import visible_clause
from app.initiatives.search import ANONYMOUS
from app.ledger.models import CommitmentLine, LineState, Side
from app.media.models import InitiativePhoto, StoredFile
from app.moderation.models import SubjectType
from app.moderation.visibility import hidden_clause
from app.territories.models import Neighbourhood, Theme
from app.web.i18n import N_, _

PAGE_SIZE = 20
# The map draws at most this many markers (the list beside it shows the same ones).
MAP_LIMIT = 500

# The filter's groups of states, in the order of an initiative's life.
STATE_GROUPS: dict[str, tuple[str, frozenset[S]]] = {
    "review": (N_("en cours d'étude"), frozenset({S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.ON_HOLD})),
    "approved": (
        N_("acceptées"),
        frozenset({S.APPROVED, S.AWAITING_ENVELOPE, S.CONVENTION_PROPOSED, S.CONVENTION_SIGNED}),
    ),
    "in_progress": (N_("en réalisation"), frozenset({S.IN_PROGRESS})),
    "done": (N_("réalisées"), frozenset({S.DELIVERED, S.EVALUATED})),
}
PROJECT_TYPE_LABELS = {
    ProjectType.PHYSICAL: N_("travaux, aménagement"),
    ProjectType.ACTIVITY: N_("activité, événement"),
}


@dataclass(frozen=True)
class CatalogueFilters:
    q: str = ""
    state: str = ""  # a key of STATE_GROUPS
    neighbourhood: str = ""  # public ids
    theme: str = ""
    year: int | None = None
    project_type: str = ""
    page: int = 1

    def query(self, **changes: Any) -> dict[str, str]:
        """The query string of these filters (``page`` left out on the first page)."""
        f = replace(self, **changes)
        values = {
            "q": f.q,
            "state": f.state,
            "neighbourhood": f.neighbourhood,
            "theme": f.theme,
            "year": str(f.year) if f.year else "",
            "type": f.project_type,
            "page": str(f.page) if f.page > 1 else "",
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.query(page=1))


@dataclass(frozen=True)
class Thumbnail:
    photo_public_id: str
    alt_text: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Card:
    public_id: str
    title: str
    state: str
    state_label: str
    neighbourhood: str
    theme: str
    project_type_label: str
    year: int | None
    residents_cents: int
    town_cents: int
    photo: Thumbnail | None
    latitude: Decimal | None
    longitude: Decimal | None
    hidden: bool  # hidden by a moderator: only the staff and its team list it


@dataclass(frozen=True)
class CataloguePage:
    cards: list[Card]
    total: int
    page: int
    pages: int
    filters: CatalogueFilters
    searched: bool  # the text had significant words, and the results are those matching them


@dataclass(frozen=True)
class CatalogueOptions:
    states: list[tuple[str, str]]
    neighbourhoods: list[tuple[str, str]]
    themes: list[tuple[str, str]]
    years: list[tuple[str, str]]
    project_types: list[tuple[str, str]]


def _year() -> ColumnElement[Any]:
    """The initiative's year: its budget year once decided, else the year it was submitted."""
    return func.coalesce(Initiative.fiscal_year, cast(extract("year", Initiative.submitted_at), Integer))


def _listed(viewer: Actor | None, territory_id: int) -> list[ColumnElement[bool]]:
    return [
        Initiative.territory_id == territory_id,
        visible_clause(viewer or ANONYMOUS, territory_id),
        Initiative.state != S.DRAFT,
    ]


def _conditions(
    db: Session, viewer: Actor | None, territory_id: int, filters: CatalogueFilters
) -> tuple[list[ColumnElement[bool]], search.TextSearch | None]:
    conditions = _listed(viewer, territory_id)
    if filters.state in STATE_GROUPS:
        conditions.append(Initiative.state.in_(sorted(s.value for s in STATE_GROUPS[filters.state][1])))
    if filters.neighbourhood:
        hood = select(Neighbourhood.id).where(
            Neighbourhood.public_id == filters.neighbourhood, Neighbourhood.territory_id == territory_id
        )
        conditions.append(Initiative.neighbourhood_id.in_(hood))
    if filters.theme:
        theme = select(Theme.id).where(Theme.public_id == filters.theme, Theme.territory_id == territory_id)
        conditions.append(Initiative.theme_id.in_(theme))
    if filters.year:
        conditions.append(_year() == filters.year)
    if filters.project_type:
        conditions.append(Initiative.project_type == filters.project_type)
    text_search = search.catalogue_search(db, filters.q) if filters.q else None
    if text_search is not None:
        conditions.append(text_search.condition)
    return conditions, text_search


def _rows_query(conditions: list[ColumnElement[bool]], text_search: search.TextSearch | None) -> Any:
    order = [text_search.best_first] if text_search is not None else []
    return (
        select(
            Initiative.id,
            Initiative.public_id,
            Initiative.title,
            Initiative.state,
            Initiative.project_type,
            Initiative.latitude,
            Initiative.longitude,
            _year().label("year"),
            Neighbourhood.name,
            Theme.name,
            hidden_clause(SubjectType.INITIATIVE, Initiative.public_id).label("hidden"),
        )
        .outerjoin(Neighbourhood, Neighbourhood.id == Initiative.neighbourhood_id)
        .outerjoin(Theme, Theme.id == Initiative.theme_id)
        .where(*conditions)
        .order_by(*order, Initiative.created_at.desc(), Initiative.id.desc())
    )


def _totals(db: Session, territory_id: int, ids: list[int]) -> dict[tuple[int, str], int]:
    """Each initiative's committed value per side (cancelled lines left out), in one grouped query."""
    if not ids:
        return {}
    rows = db.execute(
        select(CommitmentLine.initiative_id, CommitmentLine.side, func.sum(CommitmentLine.value_cents))
        .where(
            CommitmentLine.territory_id == territory_id,
            CommitmentLine.initiative_id.in_(ids),
            CommitmentLine.state != LineState.CANCELLED,
            CommitmentLine.side.in_([Side.RESIDENTS.value, Side.TOWN.value]),
        )
        .group_by(CommitmentLine.initiative_id, CommitmentLine.side)
    ).all()
    return {(iid, side): int(total or 0) for iid, side, total in rows}


def _first_photos(db: Session, territory_id: int, ids: list[int]) -> dict[int, Thumbnail]:
    """Each initiative's first photo the public may see, in one query."""
    if not ids:
        return {}
    thumb = aliased(StoredFile)
    rows = db.execute(
        select(InitiativePhoto.initiative_id, InitiativePhoto.public_id, InitiativePhoto.alt_text, thumb.width, thumb.height)
        .join(thumb, thumb.id == InitiativePhoto.thumbnail_file_id)
        .where(
            InitiativePhoto.territory_id == territory_id,
            InitiativePhoto.initiative_id.in_(ids),
            ~hidden_clause(SubjectType.PHOTO, InitiativePhoto.public_id),
        )
        .order_by(InitiativePhoto.initiative_id, InitiativePhoto.position, InitiativePhoto.id)
    ).all()  # fmt: skip
    first: dict[int, Thumbnail] = {}
    for iid, public_id, alt_text, width, height in rows:
        first.setdefault(iid, Thumbnail(public_id, alt_text, width, height))
    return first


def _cards(db: Session, territory_id: int, rows: list[Any]) -> list[Card]:
    ids = [r[0] for r in rows]
    totals = _totals(db, territory_id, ids)
    photos = _first_photos(db, territory_id, ids)
    cards = []
    for iid, public_id, title, state, project_type, lat, lng, year, hood, theme, hidden in rows:
        label = PROJECT_TYPE_LABELS.get(project_type)  # StrEnum keys: the stored value finds its label
        cards.append(
            Card(
                public_id=public_id,
                title=title,
                state=state,
                state_label=wf.state_label(state),
                neighbourhood=hood or "",
                theme=theme or "",
                project_type_label=_(label) if label else "",
                year=int(year) if year is not None else None,
                residents_cents=totals.get((iid, Side.RESIDENTS.value), 0),
                town_cents=totals.get((iid, Side.TOWN.value), 0),
                photo=photos.get(iid),
                latitude=lat,
                longitude=lng,
                hidden=bool(hidden),
            )
        )
    return cards


def catalogue_page(db: Session, viewer: Actor | None, territory_id: int, filters: CatalogueFilters) -> CataloguePage:
    conditions, text_search = _conditions(db, viewer, territory_id, filters)
    total = db.scalar(select(func.count()).select_from(Initiative).where(*conditions)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(filters.page, pages)
    rows = db.execute(_rows_query(conditions, text_search).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return CataloguePage(
        cards=_cards(db, territory_id, list(rows)),
        total=total,
        page=page,
        pages=pages,
        filters=replace(filters, page=page),
        searched=text_search is not None,
    )


def located(db: Session, viewer: Actor | None, territory_id: int, filters: CatalogueFilters) -> list[Card]:
    """The initiatives with a place on the map (at most ``MAP_LIMIT``), for the map and its list."""
    conditions, text_search = _conditions(db, viewer, territory_id, filters)
    conditions += [Initiative.latitude.is_not(None), Initiative.longitude.is_not(None)]
    rows = db.execute(_rows_query(conditions, text_search).limit(MAP_LIMIT)).all()
    return _cards(db, territory_id, list(rows))


def options(db: Session, viewer: Actor | None, territory_id: int) -> CatalogueOptions:
    neighbourhoods = db.execute(
        select(Neighbourhood.public_id, Neighbourhood.name)
        .where(Neighbourhood.territory_id == territory_id)
        .order_by(Neighbourhood.position, Neighbourhood.name)
    ).all()
    themes = db.execute(
        select(Theme.public_id, Theme.name)
        .where(Theme.territory_id == territory_id)
        .order_by(Theme.position, Theme.name)
    ).all()
    year = _year()
    years = db.scalars(
        select(year).distinct().where(*_listed(viewer, territory_id), year.is_not(None)).order_by(year.desc())
    ).all()
    return CatalogueOptions(
        states=[(key, _(label)) for key, (label, _states) in STATE_GROUPS.items()],
        neighbourhoods=[(p, n) for p, n in neighbourhoods],
        themes=[(p, n) for p, n in themes],
        years=[(str(int(y)), str(int(y))) for y in years],
        project_types=[(t.value, _(label)) for t, label in PROJECT_TYPE_LABELS.items()],
    )


@dataclass(frozen=True)
class Marker:
    public_id: str
    title: str
    latitude: float
    longitude: float
    state_label: str
    neighbourhood: str


def markers(cards: list[Card]) -> list[Marker]:
    return [
        Marker(c.public_id, c.title, float(c.latitude), float(c.longitude), c.state_label, c.neighbourhood)
        for c in cards
        if c.latitude is not None and c.longitude is not None
    ]
