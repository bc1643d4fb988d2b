"""The « fines traces » log: small, dated, qualitative signs of empowerment (a first-time participant
who took the floor, neighbours who now meet), tagged, optionally tied to an initiative.

The town's staff write them (the promoters tell their agent: one place where what is written
about people is weighed); the staff and the council members browse the log. A trace marked
publishable is shown on its initiative's page to everyone who sees that initiative, without the
name of who noted it; a trace about a minor can never be marked publishable. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import Session

from app.accounts.models import Person
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.evaluation import permissions as perm
from app.evaluation.models import FineTrace, FineTraceTag, TraceTag
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.territories.models import Neighbourhood
from app.web.forms import clean_text
from app.web.i18n import N_, _

TEXT_MAX_LENGTH = 2000
LIST_LIMIT = 200
# A trace dated far from today is a typing error (a year typed 2062 for 2026).
MAX_YEARS_BACK = 30

TAG_LABELS: dict[str, str] = {
    TraceTag.SPEAKING_UP: N_("prise de parole"),
    TraceTag.FIRST_TIME: N_("première participation"),
    TraceTag.NEW_SKILL: N_("nouvelle compétence"),
    TraceTag.NEIGHBOURS: N_("lien entre voisins"),
    TraceTag.TAKING_CHARGE: N_("prise de responsabilité"),
    TraceTag.PASSING_ON: N_("transmission d'un savoir"),
}


def tag_label(tag: str) -> str:
    return _(TAG_LABELS[tag]) if tag in TAG_LABELS else tag


def tag_choices() -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in TAG_LABELS.items()]


def _require_reader(actor: Actor, territory_id: int) -> None:
    if not perm.can_read_traces(actor, territory_id):
        raise Forbidden(_("Le carnet des fines traces est réservé au personnel de la commune et aux élu·es."))


def _require_writer(actor: Actor, territory_id: int) -> None:
    if not perm.can_write_traces(actor, territory_id):
        raise Forbidden(_("Seul·es les agent·es de la commune notent les fines traces."))


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class TraceInput:
    noted_on: dt.date
    text: str
    tags: list[str]
    initiative: str = ""  # an initiative's public id, or empty
    neighbourhood: str = ""  # a neighbourhood's public id, or empty (then the initiative's)
    involves_minor: bool = False
    publishable: bool = False


def get_trace(db: Session, actor: Actor, territory_id: int, public_id: str) -> FineTrace:
    """A trace of the territory, for those who may read the log (404 for another town's)."""
    trace = db.scalar(select(FineTrace).where(FineTrace.public_id == public_id, FineTrace.territory_id == territory_id))
    if trace is None or actor.territory_id != territory_id:
        raise NotFound(_("Cette fine trace n'existe pas."))
    _require_reader(actor, territory_id)
    return trace


def _initiative_id(db: Session, territory_id: int, public_id: str) -> tuple[int | None, int | None]:
    """The initiative's id and neighbourhood id, from its public id (a choice of the list)."""
    if not public_id:
        return None, None
    found = db.execute(
        select(Initiative.id, Initiative.neighbourhood_id).where(
            Initiative.public_id == public_id, Initiative.territory_id == territory_id, Initiative.state != S.DRAFT
        )
    ).first()
    if found is None:
        raise Invalid(_("Choisissez une initiative de la liste."), field="initiative")
    return found[0], found[1]


def _neighbourhood_id(db: Session, territory_id: int, public_id: str) -> int | None:
    if not public_id:
        return None
    found = db.scalar(
        select(Neighbourhood.id).where(Neighbourhood.public_id == public_id, Neighbourhood.territory_id == territory_id)
    )
    if found is None:
        raise Invalid(_("Choisissez un quartier de la liste."), field="neighbourhood")
    return found


def _clean(db: Session, territory_id: int, data: TraceInput, today: dt.date) -> dict[str, object]:
    text = clean_text(data.text or "")
    if not text:
        raise Invalid(_("Décrivez en quelques mots ce que vous avez observé."), field="text")
    if len(text) > TEXT_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": TEXT_MAX_LENGTH}, field="text")
    if data.noted_on > today:
        raise Invalid(
            _("Une fine trace se note après coup : la date ne peut pas être dans le futur."), field="noted_on"
        )
    if data.noted_on.year < today.year - MAX_YEARS_BACK:
        raise Invalid(_("Vérifiez l'année de cette date."), field="noted_on")
    tags = list(dict.fromkeys(data.tags))
    if any(tag not in TAG_LABELS for tag in tags):
        raise Invalid(_("Choisissez une des valeurs proposées."), field="tags")
    if data.publishable and data.involves_minor:
        raise Invalid(
            _("Une fine trace qui concerne un·e mineur·e reste interne : elle ne peut pas être publiée."),
            field="publishable",
        )
    initiative_id, initiative_hood = _initiative_id(db, territory_id, data.initiative)
    hood = _neighbourhood_id(db, territory_id, data.neighbourhood)
    return {
        "noted_on": data.noted_on,
        "text": text,
        "initiative_id": initiative_id,
        "neighbourhood_id": hood if hood is not None else initiative_hood,
        "involves_minor": data.involves_minor,
        "publishable": data.publishable,
        "tags": tags,
    }


def _set_tags(db: Session, trace: FineTrace, tags: list[str]) -> None:
    db.execute(delete(FineTraceTag).where(FineTraceTag.trace_id == trace.id))
    for tag in tags:
        db.add(FineTraceTag(trace_id=trace.id, tag=tag))
    db.flush()


def _audit_data(trace: FineTrace, tags: list[str]) -> dict[str, object]:
    # The text is not copied into the audit log: it may describe people.
    return {
        "initiative_id": trace.initiative_id,
        "tags": tags,
        "publishable": trace.publishable,
        "involves_minor": trace.involves_minor,
    }


def create_trace(db: Session, actor: Actor, territory_id: int, data: TraceInput, today: dt.date) -> FineTrace:
    _require_writer(actor, territory_id)
    values = _clean(db, territory_id, data, today)
    tags = values.pop("tags")
    assert isinstance(tags, list)
    trace = FineTrace(territory_id=territory_id, recorded_by_person_id=actor.person_id, **values)
    db.add(trace)
    db.flush()
    _set_tags(db, trace, tags)
    audit.record(
        db, actor, "fine_trace.create", "fine_trace", trace.public_id, territory_id=territory_id,
        data=_audit_data(trace, tags),
    )  # fmt: skip
    return trace


def update_trace(
    db: Session, actor: Actor, territory_id: int, public_id: str, data: TraceInput, today: dt.date
) -> FineTrace:
    trace = get_trace(db, actor, territory_id, public_id)
    _require_writer(actor, territory_id)
    values = _clean(db, territory_id, data, today)
    tags = values.pop("tags")
    assert isinstance(tags, list)
    for name, value in values.items():
        setattr(trace, name, value)
    trace.updated_at = utcnow()
    db.flush()
    _set_tags(db, trace, tags)
    audit.record(
        db, actor, "fine_trace.update", "fine_trace", trace.public_id, territory_id=territory_id,
        data=_audit_data(trace, tags),
    )  # fmt: skip
    return trace


def delete_trace(db: Session, actor: Actor, territory_id: int, public_id: str) -> None:
    trace = get_trace(db, actor, territory_id, public_id)
    _require_writer(actor, territory_id)
    audit.record(
        db, actor, "fine_trace.delete", "fine_trace", trace.public_id, territory_id=territory_id,
        data={"initiative_id": trace.initiative_id},
    )  # fmt: skip
    db.delete(trace)
    db.flush()


def tags_of(db: Session, trace_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {tid: [] for tid in trace_ids}
    if not trace_ids:
        return found
    order = list(TAG_LABELS)
    rows = db.execute(select(FineTraceTag.trace_id, FineTraceTag.tag).where(FineTraceTag.trace_id.in_(trace_ids)))
    for trace_id, tag in rows:
        found[trace_id].append(tag)
    for tags in found.values():
        tags.sort(key=lambda t: order.index(t) if t in order else len(order))
    return found


def form_values(db: Session, trace: FineTrace) -> dict[str, object]:
    initiative = (
        db.scalar(select(Initiative.public_id).where(Initiative.id == trace.initiative_id))
        if trace.initiative_id is not None
        else None
    )
    hood = (
        db.scalar(select(Neighbourhood.public_id).where(Neighbourhood.id == trace.neighbourhood_id))
        if trace.neighbourhood_id is not None
        else None
    )
    return {
        "noted_on": trace.noted_on.isoformat(),
        "text": trace.text,
        "tags": tags_of(db, [trace.id])[trace.id],
        "initiative": initiative or "",
        "neighbourhood": hood or "",
        "involves_minor": "on" if trace.involves_minor else "",
        "publishable": "on" if trace.publishable else "",
    }


# ---------------------------------------------------------------- browsing


@dataclass(frozen=True)
class TraceFilters:
    tag: str = ""
    neighbourhood: str = ""  # public id
    year: int | None = None

    def query(self) -> dict[str, str]:
        values = {"tag": self.tag, "neighbourhood": self.neighbourhood, "year": str(self.year or "")}
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class TraceRow:
    public_id: str
    noted_on: dt.date
    text: str
    tags: list[str]
    tag_labels: list[str]
    initiative_public_id: str
    initiative_title: str
    neighbourhood: str
    involves_minor: bool
    publishable: bool
    recorded_by: str


@dataclass(frozen=True)
class TraceOptions:
    tags: list[tuple[str, str]]
    neighbourhoods: list[tuple[str, str]]
    years: list[tuple[str, str]]


def _rows(db: Session, clauses: list[ColumnElement[bool]], *, names: bool) -> list[TraceRow]:
    query = (
        select(FineTrace, Initiative.public_id, Initiative.title, Neighbourhood.name, Person)
        .outerjoin(Initiative, Initiative.id == FineTrace.initiative_id)
        .outerjoin(Neighbourhood, Neighbourhood.id == FineTrace.neighbourhood_id)
        .outerjoin(Person, Person.id == FineTrace.recorded_by_person_id)
        .where(*clauses)
        .order_by(FineTrace.noted_on.desc(), FineTrace.id.desc())
        .limit(LIST_LIMIT)
    )
    found = db.execute(query).all()
    tags = tags_of(db, [row[0].id for row in found])
    rows: list[TraceRow] = []
    for trace, initiative_pid, title, hood, person in found:
        rows.append(
            TraceRow(
                public_id=trace.public_id,
                noted_on=trace.noted_on,
                text=trace.text,
                tags=tags[trace.id],
                tag_labels=[tag_label(t) for t in tags[trace.id]],
                initiative_public_id=initiative_pid or "",
                initiative_title=title or "",
                neighbourhood=hood or "",
                involves_minor=trace.involves_minor,
                publishable=trace.publishable,
                recorded_by=person.display_name if names and person is not None else "",
            )
        )
    return rows


def log(db: Session, actor: Actor, territory_id: int, filters: TraceFilters) -> list[TraceRow]:
    """The territory's traces, newest first, filtered by tag, neighbourhood and year (unknown values ignored)."""
    _require_reader(actor, territory_id)
    clauses: list[ColumnElement[bool]] = [FineTrace.territory_id == territory_id]
    if filters.tag in TAG_LABELS:
        clauses.append(exists().where(FineTraceTag.trace_id == FineTrace.id, FineTraceTag.tag == filters.tag))
    if filters.neighbourhood:
        clauses.append(Neighbourhood.public_id == filters.neighbourhood)
    if filters.year is not None:
        clauses.append(FineTrace.noted_on >= dt.date(filters.year, 1, 1))
        clauses.append(FineTrace.noted_on <= dt.date(filters.year, 12, 31))
    return _rows(db, clauses, names=True)


def options(db: Session, territory_id: int, today: dt.date) -> TraceOptions:
    hoods = db.execute(
        select(Neighbourhood.public_id, Neighbourhood.name)
        .where(Neighbourhood.territory_id == territory_id)
        .order_by(Neighbourhood.position, Neighbourhood.name)
    )
    first = db.scalar(
        select(FineTrace.noted_on).where(FineTrace.territory_id == territory_id).order_by(FineTrace.noted_on)
    )
    start = first.year if first is not None else today.year
    return TraceOptions(
        tags=tag_choices(),
        neighbourhoods=[(p, n) for p, n in hoods],
        years=[(str(y), str(y)) for y in range(today.year, start - 1, -1)],
    )


def initiative_choices(db: Session, territory_id: int) -> list[tuple[str, str]]:
    """The initiatives a trace may be tied to: every one past the draft, by title."""
    rows = db.execute(
        select(Initiative.public_id, Initiative.title)
        .where(Initiative.territory_id == territory_id, Initiative.state != S.DRAFT)
        .order_by(Initiative.title, Initiative.id)
        .limit(1000)
    )
    return [(p, t) for p, t in rows]


def published(db: Session, initiative: Initiative) -> list[TraceRow]:
    """The traces an initiative's page shows to everyone who sees it: the publishable ones, never
    one about a minor, never who noted them."""
    clauses: list[ColumnElement[bool]] = [
        FineTrace.territory_id == initiative.territory_id,
        FineTrace.initiative_id == initiative.id,
        FineTrace.publishable.is_(True),
        FineTrace.involves_minor.is_(False),
    ]
    return _rows(db, clauses, names=False)


def of_initiative(db: Session, actor: Actor, initiative: Initiative) -> list[TraceRow]:
    """Every trace of an initiative, for those who may read the log (its evaluation page)."""
    _require_reader(actor, initiative.territory_id)
    clauses: list[ColumnElement[bool]] = [
        FineTrace.territory_id == initiative.territory_id,
        FineTrace.initiative_id == initiative.id,
    ]
    return _rows(db, clauses, names=True)
