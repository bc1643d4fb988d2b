"""The kinds of public content that can be reported and hidden, and how to find them.

Each kind has a loader that reads many pieces of content of one territory at once (the agents'
queue names them all in one query per kind). Initiatives and their photos are registered here;
a later kind of content registers its own loader with ``register`` (progress updates and their
photos in ``app.updates.subjects``) and is then reported, queued, hidden and restored like them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.initiatives import permissions as perm
from app.initiatives.models import Initiative
from app.media.models import InitiativePhoto
from app.moderation.models import SubjectType
from app.moderation.visibility import hidden_clause
from app.web.i18n import N_, _


@dataclass(frozen=True)
class Link:
    """A named route and its parameters (the page builds the URL in its locale)."""

    route: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Subject:
    """A piece of content as reports and moderation see it."""

    type: str
    public_id: str
    territory_id: int
    label: str  # what it is, for the report page and the agents ("« Jardin partagé »")
    # Where its moderation is filed in the audit log: the initiative's timeline for initiatives and photos.
    audit_type: str
    audit_id: str
    page: Link  # the public page that shows it
    image: Link | None  # a thumbnail, for the agents' page
    public: bool  # the public may see what holds it (its state, and whatever contains it, allow it)
    hidden: bool  # hidden itself by an agent
    parent_id: str = ""  # the public id of the content holding it (a photo's initiative)
    excerpt: str = ""  # the beginning of its text, for the agents' page (when the page holding it shows more)

    @property
    def reportable(self) -> bool:
        return self.public and not self.hidden


Loader = Callable[[Session, int, list[str]], dict[str, Subject]]


@dataclass(frozen=True)
class Kind:
    label: str  # N_() text
    loader: Loader


_kinds: dict[str, Kind] = {}


def register(subject_type: str, label: str, loader: Loader) -> None:
    existing = _kinds.get(subject_type)
    if existing is not None and existing.loader is not loader:
        raise ValueError(f"a moderation subject is already registered as {subject_type!r}")
    _kinds[subject_type] = Kind(label, loader)


def is_known(subject_type: str) -> bool:
    return subject_type in _kinds


def kind_label(subject_type: str) -> str:
    kind = _kinds.get(subject_type)
    return _(kind.label) if kind is not None else subject_type


def load(db: Session, territory_id: int, subject_type: str, public_ids: Iterable[str]) -> dict[str, Subject]:
    """The territory's content of this kind among ``public_ids`` (unknown ones are left out)."""
    kind = _kinds.get(subject_type)
    ids = sorted({p for p in public_ids if p})
    if kind is None or not ids:
        return {}
    return kind.loader(db, territory_id, ids)


def get(db: Session, territory_id: int, subject_type: str, public_id: str) -> Subject:
    """One piece of content of the territory, or 404 (unknown kind, another town's content...)."""
    found = load(db, territory_id, subject_type, [public_id]).get(public_id)
    if found is None:
        raise NotFound(_("Ce contenu n'existe pas."))
    return found


# ---------------------------------------------------------------- initiatives and their photos


def _initiatives(db: Session, territory_id: int, public_ids: list[str]) -> dict[str, Subject]:
    rows = db.execute(
        select(Initiative, hidden_clause(SubjectType.INITIATIVE, Initiative.public_id).label("hidden")).where(
            Initiative.territory_id == territory_id, Initiative.public_id.in_(public_ids)
        )
    ).all()
    return {
        initiative.public_id: Subject(
            type=SubjectType.INITIATIVE,
            public_id=initiative.public_id,
            territory_id=territory_id,
            label=_("« %(title)s »") % {"title": initiative.title},
            audit_type="initiative",
            audit_id=initiative.public_id,
            page=Link("initiatives:show", {"public_id": initiative.public_id}),
            image=None,
            public=perm.is_public_by_state(initiative),
            hidden=bool(hidden),
        )
        for initiative, hidden in rows
    }


def _photos(db: Session, territory_id: int, public_ids: list[str]) -> dict[str, Subject]:
    rows = db.execute(
        select(
            InitiativePhoto.public_id,
            InitiativePhoto.alt_text,
            Initiative,
            hidden_clause(SubjectType.PHOTO, InitiativePhoto.public_id).label("photo_hidden"),
            hidden_clause(SubjectType.INITIATIVE, Initiative.public_id).label("initiative_hidden"),
        )
        .join(Initiative, Initiative.id == InitiativePhoto.initiative_id)
        .where(
            InitiativePhoto.territory_id == territory_id,
            Initiative.territory_id == territory_id,
            InitiativePhoto.public_id.in_(public_ids),
        )
    ).all()
    subjects: dict[str, Subject] = {}
    for photo_id, alt_text, initiative, photo_hidden, initiative_hidden in rows:
        params = {"public_id": initiative.public_id, "photo_id": photo_id}
        subjects[photo_id] = Subject(
            type=SubjectType.PHOTO,
            public_id=photo_id,
            territory_id=territory_id,
            label=_("Photo « %(alt)s » de l'initiative « %(title)s »") % {"alt": alt_text, "title": initiative.title},
            audit_type="initiative",
            audit_id=initiative.public_id,
            page=Link("initiatives:show", {"public_id": initiative.public_id}),
            image=Link("media:thumbnail", params),
            public=perm.is_public_by_state(initiative) and not initiative_hidden,
            hidden=bool(photo_hidden),
            parent_id=initiative.public_id,
        )
    return subjects


register(SubjectType.INITIATIVE, N_("Initiative"), _initiatives)
register(SubjectType.PHOTO, N_("Photo d'une initiative"), _photos)
