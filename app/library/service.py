"""The peer library ("villes pairs"): towns learn from each other's evaluated initiatives.

An agent shares an evaluated initiative, confirming that its promoters agreed: a snapshot is
copied into ``LibraryEntry``, a deployment-level table that every territory reads without a
territory filter (the one deliberate exception to territory isolation). The snapshot carries
what another town can learn from and nothing that names a person:

- kept: the title and the description (which the agent re-reads and edits: they are checked
  for e-mail addresses, phone numbers and the names of the project's team), the theme, the
  project type, the year, the town's name and population bracket, each side's total, the
  volunteer hours, the duration, the evaluation's public summary and its lessons;
- never copied: promoters and their contacts, the beneficiary (even an association's name:
  in a small town it points at a handful of people), the address and coordinates, photos
  (their consent was given for the town's own pages), the thread, staff notes.

Sharing again replaces the snapshot; the source town's staff withdraw it (audited).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from app.accounts.models import Person
from app.audit import service as audit
from app.audit.models import AuditEntry
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.evaluation import service as evaluation
from app.history.csvfile import fold
from app.initiatives import permissions as perm
from app.initiatives import service as initiatives
from app.initiatives.models import Beneficiary, BeneficiaryKind, Initiative, InitiativeMember, ProjectType
from app.initiatives.models import InitiativeState as S
from app.ledger.models import CommitmentLine, LineKind, LineState
from app.ledger.service import totals_of
from app.library.forms import ShareInput
from app.library.models import LibraryEntry
from app.territories.models import Territory, Theme
from app.web.i18n import N_, _

# (key, upper bound exclusive or None, label): the size of the source town.
POPULATION_BRACKETS: tuple[tuple[str, int | None, str], ...] = (
    ("lt2k", 2_000, N_("moins de 2 000 habitant·es")),
    ("2k-10k", 10_000, N_("de 2 000 à 10 000 habitant·es")),
    ("10k-50k", 50_000, N_("de 10 000 à 50 000 habitant·es")),
    ("50k+", None, N_("plus de 50 000 habitant·es")),
)
# (key, lower bound, upper bound exclusive or None, label): the project's total value, all sides.
BUDGET_BRACKETS: tuple[tuple[str, int, int | None, str], ...] = (
    ("small", 0, 100_000, N_("moins de 1 000 €")),
    ("medium", 100_000, 500_000, N_("de 1 000 à 5 000 €")),
    ("large", 500_000, None, N_("plus de 5 000 €")),
)
PROJECT_TYPE_LABELS = {
    ProjectType.PHYSICAL.value: N_("travaux, aménagement"),
    ProjectType.ACTIVITY.value: N_("activité, événement"),
}
LIKE_ESCAPE = "\\"
MAX_RESULTS = 200
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
WORD_RE = re.compile(r"\w+")
PHONE_RE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")


def population_bracket(population: int) -> str:
    for key, upper, _label in POPULATION_BRACKETS:
        if upper is None or population < upper:
            return key
    return POPULATION_BRACKETS[-1][0]


def population_label(key: str) -> str:
    return next((_(label) for k, _upper, label in POPULATION_BRACKETS if k == key), "")


def project_type_label(kind: str) -> str:
    return _(PROJECT_TYPE_LABELS[kind]) if kind in PROJECT_TYPE_LABELS else kind


# ---------------------------------------------------------------- who may share and withdraw


def can_share(actor: Actor | None, initiative: Initiative) -> bool:
    """An agent of the initiative's town, once the initiative is evaluated."""
    return initiative.state == S.EVALUATED and perm.is_agent(actor, initiative.territory_id)


def can_withdraw(actor: Actor | None, entry: LibraryEntry) -> bool:
    return perm.is_staff(actor, entry.source_territory_id)


# ---------------------------------------------------------------- the snapshot


@dataclass(frozen=True)
class Snapshot:
    """What the library copies besides the texts the agent checks."""

    town_name: str
    population_bracket: str
    theme: str
    project_type: str
    year: int | None
    duration_days: int | None
    residents_value_cents: int
    town_value_cents: int
    partners_value_cents: int
    volunteer_minutes: int
    evaluation_summary: str
    lessons: str

    @property
    def population_label(self) -> str:
        return population_label(self.population_bracket)

    @property
    def project_type_label(self) -> str:
        return project_type_label(self.project_type)


def _evaluation_texts(db: Session, initiative: Initiative) -> tuple[str, str]:
    """The public summary of the town's final evaluation (goals and the three axes, no comment), and its lessons."""
    view = evaluation.public_summary(db, initiative)
    if view is None:
        return "", ""
    lines = []
    if view.goals_label:
        lines.append(_("Objectifs : %(value)s") % {"value": view.goals_label})
    lines += [f"{axis.label} : {axis.level_label}" for axis in view.axes if axis.level_label]
    return "\n".join(f"- {line}" for line in lines), view.lessons


def _duration_days(db: Session, initiative: Initiative) -> int | None:
    """From the planned dates, else from the audited start of the work to its delivery."""
    if initiative.start_on is not None and initiative.end_on is not None:
        return (initiative.end_on - initiative.start_on).days + 1
    moments: dict[str, list[dt.datetime]] = {}
    for action, at in db.execute(
        select(AuditEntry.action, AuditEntry.created_at)
        .where(
            AuditEntry.territory_id == initiative.territory_id,
            AuditEntry.subject_type == "initiative",
            AuditEntry.subject_id == initiative.public_id,
            AuditEntry.action.in_(["initiative.start_work", "initiative.deliver"]),
        )
        .order_by(AuditEntry.created_at)
    ):
        moments.setdefault(action, []).append(at)
    if not moments.get("initiative.start_work") or not moments.get("initiative.deliver"):
        return None
    started, delivered = moments["initiative.start_work"][0], moments["initiative.deliver"][-1]
    if delivered < started:
        return None
    return (delivered.date() - started.date()).days + 1


def snapshot(db: Session, initiative: Initiative) -> Snapshot:
    territory = db.get_one(Territory, initiative.territory_id)
    lines = list(
        db.scalars(
            select(CommitmentLine).where(
                CommitmentLine.initiative_id == initiative.id, CommitmentLine.state != LineState.CANCELLED
            )
        )
    )
    totals = totals_of(lines)
    theme = (
        db.scalar(select(Theme.name).where(Theme.id == initiative.theme_id, Theme.territory_id == territory.id))
        if initiative.theme_id is not None
        else None
    )
    year = initiative.fiscal_year or (initiative.submitted_at or initiative.created_at).year
    summary, lessons = _evaluation_texts(db, initiative)
    return Snapshot(
        town_name=territory.name,
        population_bracket=population_bracket(territory.population),
        theme=theme or "",
        project_type=initiative.project_type,
        year=year,
        duration_days=_duration_days(db, initiative),
        residents_value_cents=totals.residents_value_cents,
        town_value_cents=totals.town_value_cents,
        partners_value_cents=totals.partners_value_cents,
        volunteer_minutes=sum(line.quantity for line in lines if line.kind == LineKind.VOLUNTEER_HOURS),
        evaluation_summary=summary,
        lessons=lessons,
    )


def _names_to_keep_out(db: Session, initiative: Initiative) -> list[str]:
    """The names of the project's team and of a person beneficiary: none may reach the library."""
    person_ids = set(
        db.scalars(
            select(InitiativeMember.person_id).where(
                InitiativeMember.initiative_id == initiative.id, InitiativeMember.person_id.is_not(None)
            )
        )
    )
    if initiative.created_by_person_id is not None:
        person_ids.add(initiative.created_by_person_id)
    names = (
        list(
            db.scalars(
                select(Person.display_name).where(Person.id.in_(sorted(person_ids)), Person.anonymised_at.is_(None))
            )
        )
        if person_ids
        else []
    )
    beneficiary = db.get(Beneficiary, initiative.beneficiary_id) if initiative.beneficiary_id else None
    if beneficiary is not None:
        if beneficiary.legal_representative:
            names.append(beneficiary.legal_representative)
        if beneficiary.kind == BeneficiaryKind.PERSON:
            names.append(beneficiary.name)
    return [n for n in names if len(fold(n)) >= 3]


def _words(text: str) -> str:
    """The text's words, folded, between single spaces (and one at each end, to match whole words)."""
    return " " + " ".join(WORD_RE.findall(fold(text))) + " "


def check_no_personal_data(texts: dict[str, str], names: list[str]) -> None:
    """``Invalid`` on the first field holding an e-mail address, a phone number or a team member's name."""
    for field_name, text in texts.items():
        if EMAIL_RE.search(text):
            raise Invalid(
                _("Retirez l'adresse e-mail de ce texte : la bibliothèque ne nomme personne."), field=field_name
            )
        if PHONE_RE.search(text):
            raise Invalid(
                _("Retirez le numéro de téléphone de ce texte : la bibliothèque ne nomme personne."), field=field_name
            )
        folded = _words(text)
        for name in names:
            words = _words(name)
            if words.strip() and words in folded:
                raise Invalid(
                    _("Ce texte nomme « %(name)s », de l'équipe du projet : retirez son nom avant de partager.")
                    % {"name": name},
                    field=field_name,
                )


# ---------------------------------------------------------------- sharing, replacing, withdrawing


def _shareable(db: Session, actor: Actor, territory_id: int, public_id: str, *, for_update: bool = False) -> Initiative:
    initiative, _members = initiatives.get_visible(db, actor, territory_id, public_id, for_update=for_update)
    if not perm.is_agent(actor, territory_id):
        raise Forbidden(_("Seul·es les agent·es de la commune partagent une initiative avec les villes pairs."))
    if initiative.state != S.EVALUATED:
        raise Conflict(_("Seule une initiative évaluée se partage avec les villes pairs : évaluez-la d'abord."))
    return initiative


def entry_for(db: Session, initiative: Initiative) -> LibraryEntry | None:
    return db.scalar(select(LibraryEntry).where(LibraryEntry.source_initiative_id == initiative.id))


@dataclass(frozen=True)
class ShareDraft:
    initiative: Initiative
    snapshot: Snapshot
    entry: LibraryEntry | None
    values: dict[str, str]


def share_draft(db: Session, actor: Actor, territory_id: int, public_id: str) -> ShareDraft:
    """The share form: the snapshot as it would be copied, and the texts to re-read (the current entry's, if shared)."""
    initiative = _shareable(db, actor, territory_id, public_id)
    entry = entry_for(db, initiative)
    shot = snapshot(db, initiative)
    if entry is not None:
        values = {"title": entry.title, "description": entry.description, "lessons": entry.lessons}
    else:
        values = {"title": initiative.title, "description": initiative.description, "lessons": shot.lessons}
    return ShareDraft(initiative, shot, entry, values)


def _search_text(*parts: str) -> str:
    return fold(" ".join(parts))


def share(db: Session, actor: Actor, territory_id: int, public_id: str, data: ShareInput) -> LibraryEntry:
    """Copies (or replaces) the initiative's snapshot in the library; the promoters' agreement is required."""
    initiative = _shareable(db, actor, territory_id, public_id, for_update=True)
    if not data.promoters_agreed:
        raise Invalid(
            _("Cochez cette case : le partage suppose l'accord des porteur·ses du projet."), field="promoters_agreed"
        )
    check_no_personal_data(
        {"title": data.title, "description": data.description, "lessons": data.lessons},
        _names_to_keep_out(db, initiative),
    )
    shot = snapshot(db, initiative)
    entry = entry_for(db, initiative)
    replaced = entry is not None
    if entry is None:
        entry = LibraryEntry(source_territory_id=territory_id, source_initiative_id=initiative.id)
        db.add(entry)
    entry.town_name = shot.town_name
    entry.population_bracket = shot.population_bracket
    entry.title = data.title
    entry.description = data.description
    entry.theme = shot.theme
    entry.project_type = shot.project_type
    entry.year = shot.year
    entry.duration_days = shot.duration_days
    entry.residents_value_cents = shot.residents_value_cents
    entry.town_value_cents = shot.town_value_cents
    entry.partners_value_cents = shot.partners_value_cents
    entry.volunteer_minutes = shot.volunteer_minutes
    entry.evaluation_summary = shot.evaluation_summary
    entry.lessons = data.lessons
    entry.search_text = _search_text(data.title, data.description, data.lessons, shot.theme, shot.town_name)
    entry.shared_at = utcnow()
    db.flush()
    audit.record(
        db, actor, "library.share", "initiative", initiative.public_id, territory_id=territory_id,
        data={"entry": entry.public_id, "replaced": replaced, "promoters_agreed": True},
    )  # fmt: skip
    return entry


def _own_entry(db: Session, actor: Actor, territory_id: int, entry_public_id: str) -> LibraryEntry:
    """An entry of this town (another town's answers 404: it may be read, never changed, from here)."""
    entry = db.scalar(
        select(LibraryEntry).where(
            LibraryEntry.public_id == entry_public_id, LibraryEntry.source_territory_id == territory_id
        )
    )
    if entry is None:
        raise NotFound(_("Cette fiche n'existe pas dans la bibliothèque."))
    if not can_withdraw(actor, entry):
        raise Forbidden(_("Seul·es les agent·es de la commune qui l'a partagée retirent une fiche de la bibliothèque."))
    return entry


def withdraw(db: Session, actor: Actor, territory_id: int, entry_public_id: str, reason: str = "") -> None:
    entry = _own_entry(db, actor, territory_id, entry_public_id)
    initiative_public_id = db.scalar(
        select(Initiative.public_id).where(
            Initiative.id == entry.source_initiative_id, Initiative.territory_id == territory_id
        )
    )
    db.delete(entry)
    db.flush()
    audit.record(
        db, actor, "library.withdraw", "initiative", initiative_public_id or "", territory_id=territory_id,
        reason=reason, data={"entry": entry_public_id, "title": entry.title},
    )  # fmt: skip


# ---------------------------------------------------------------- reading (every territory of the deployment)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    theme: str = ""
    project_type: str = ""
    town_size: str = ""
    budget: str = ""

    @classmethod
    def parse(cls, q: str, theme: str, project_type: str, town_size: str, budget: str) -> Filters:
        """Values outside the allowlists are ignored, never passed on."""
        return cls(
            q=q.strip()[:200],
            theme=theme.strip()[:200],
            project_type=project_type if project_type in PROJECT_TYPE_LABELS else "",
            town_size=town_size if town_size in {k for k, _u, _l in POPULATION_BRACKETS} else "",
            budget=budget if budget in {k for k, _lo, _hi, _l in BUDGET_BRACKETS} else "",
        )

    @property
    def active(self) -> bool:
        return any((self.q, self.theme, self.project_type, self.town_size, self.budget))


def _like(query: str) -> str:
    escaped = (
        query.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _total() -> ColumnElement[int]:
    return LibraryEntry.residents_value_cents + LibraryEntry.town_value_cents + LibraryEntry.partners_value_cents


@dataclass(frozen=True)
class EntryRow:
    public_id: str
    title: str
    town_name: str
    population_label: str
    theme: str
    project_type_label: str
    year: int | None
    total_value_cents: int
    volunteer_minutes: int
    own: bool  # shared by the viewer's own town


def search(db: Session, viewer: Actor, filters: Filters) -> list[EntryRow]:
    """Every town's entries (no territory filter: the library is shared by the deployment)."""
    stmt = select(LibraryEntry)
    if filters.q:
        for word in fold(filters.q).split()[:8]:
            stmt = stmt.where(LibraryEntry.search_text.like(_like(word), escape=LIKE_ESCAPE))
    if filters.theme:
        stmt = stmt.where(LibraryEntry.theme == filters.theme)
    if filters.project_type:
        stmt = stmt.where(LibraryEntry.project_type == filters.project_type)
    if filters.town_size:
        stmt = stmt.where(LibraryEntry.population_bracket == filters.town_size)
    if filters.budget:
        _key, low, high, _label = next(b for b in BUDGET_BRACKETS if b[0] == filters.budget)
        total = _total()
        stmt = stmt.where(total >= low if high is None else and_(total >= low, total < high))
    stmt = stmt.order_by(LibraryEntry.shared_at.desc(), LibraryEntry.id.desc()).limit(MAX_RESULTS)
    return [
        EntryRow(
            public_id=e.public_id,
            title=e.title,
            town_name=e.town_name,
            population_label=population_label(e.population_bracket),
            theme=e.theme,
            project_type_label=project_type_label(e.project_type),
            year=e.year,
            total_value_cents=e.residents_value_cents + e.town_value_cents + e.partners_value_cents,
            volunteer_minutes=e.volunteer_minutes,
            own=e.source_territory_id == viewer.territory_id,
        )
        for e in db.scalars(stmt)
    ]


def theme_choices(db: Session) -> list[tuple[str, str]]:
    names = db.scalars(
        select(LibraryEntry.theme).where(LibraryEntry.theme != "").distinct().order_by(LibraryEntry.theme)
    )
    return [(n, n) for n in names]


@dataclass(frozen=True)
class EntryView:
    entry: LibraryEntry
    population_label: str
    project_type_label: str
    total_value_cents: int
    own: bool
    can_withdraw: bool
    can_update: bool
    initiative_public_id: str  # for the source town's staff only ("" otherwise)


def get_entry(db: Session, viewer: Actor, public_id: str) -> EntryView:
    """Any town's entry, read from any territory: the deliberate exception to isolation."""
    entry = db.scalar(select(LibraryEntry).where(LibraryEntry.public_id == public_id))
    if entry is None:
        raise NotFound(_("Cette fiche n'existe pas dans la bibliothèque."))
    own = entry.source_territory_id == viewer.territory_id
    staff = own and can_withdraw(viewer, entry)
    initiative_public_id = ""
    if staff:
        initiative_public_id = (
            db.scalar(
                select(Initiative.public_id).where(
                    Initiative.id == entry.source_initiative_id, Initiative.territory_id == entry.source_territory_id
                )
            )
            or ""
        )
    return EntryView(
        entry=entry,
        population_label=population_label(entry.population_bracket),
        project_type_label=project_type_label(entry.project_type),
        total_value_cents=entry.residents_value_cents + entry.town_value_cents + entry.partners_value_cents,
        own=own,
        can_withdraw=staff,
        can_update=own and perm.is_agent(viewer, entry.source_territory_id),
        initiative_public_id=initiative_public_id,
    )


@dataclass(frozen=True)
class LibraryStatus:
    """The library box of an initiative's page, for the town's staff."""

    entry_public_id: str
    shared_at: dt.datetime | None
    can_share: bool


def status_for(db: Session, viewer: Actor | None, initiative: Initiative) -> LibraryStatus | None:
    if not perm.is_staff(viewer, initiative.territory_id) or initiative.state != S.EVALUATED:
        return None
    entry = entry_for(db, initiative)
    return LibraryStatus(
        entry_public_id=entry.public_id if entry is not None else "",
        shared_at=entry.shared_at if entry is not None else None,
        can_share=can_share(viewer, initiative),
    )
