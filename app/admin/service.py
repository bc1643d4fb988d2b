"""Administration: territory settings, neighbourhoods, themes, council sittings and the people list.

Admins configure; they never commit the town. Every change is audited with what changed, and
every object is looked up by its public id within the actor's territory (another town's id: 404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Account, Person, PersonKind, Role, RoleGrant
from app.admin.forms import GeneralForm, LegalForm, NeighbourhoodForm, RulesForm, SittingForm, ThemeForm
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.review.models import CouncilAgendaItem
from app.territories.models import CouncilSitting, Neighbourhood, Territory, Theme
from app.web.i18n import _

LIKE_ESCAPE = "\\"


def can_configure(actor: Actor, territory_id: int) -> bool:
    return actor.territory_id == territory_id and actor.has_role(Role.ADMIN)


def can_see_people(actor: Actor, territory_id: int) -> bool:
    return actor.territory_id == territory_id and actor.has_any_role(Role.ADMIN, Role.EXECUTIVE)


def _require_admin(actor: Actor, territory_id: int) -> None:
    if not can_configure(actor, territory_id):
        raise Forbidden(_("Seul·es les administrateur·rices modifient la configuration."))


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Changed keys only, nested dictionaries flattened with dots."""
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            for sub, change in _diff(old, new).items():
                changes[f"{key}.{sub}"] = change
        elif old != new:
            changes[key] = {"from": old, "to": new}
    return changes


def _territory(db: Session, territory_id: int) -> Territory:
    return db.get_one(Territory, territory_id)


# ---------------------------------------------------------------- territory settings


def update_general(db: Session, actor: Actor, territory_id: int, form: GeneralForm) -> dict[str, Any]:
    _require_admin(actor, territory_id)
    territory = _territory(db, territory_id)
    fields = ("name", "population", "registered_electors", "siret", "timezone")
    before = {f: getattr(territory, f) for f in fields}
    for f in fields:
        setattr(territory, f, getattr(form, f))
    changes = _diff(before, {f: getattr(territory, f) for f in fields})
    db.flush()
    audit.record(db, actor, "territory.update", "territory", territory_id, territory_id=territory_id, data=changes)
    return changes


def update_rules(db: Session, actor: Actor, territory_id: int, form: RulesForm) -> dict[str, Any]:
    _require_admin(actor, territory_id)
    territory = _territory(db, territory_id)
    before = territory.settings.model_dump(mode="json")
    after = form.apply(territory.settings).model_dump(mode="json")
    territory.settings_json = after
    changes = _diff(before, after)
    db.flush()
    audit.record(
        db, actor, "territory.update_rules", "territory", territory_id, territory_id=territory_id, data=changes
    )
    return changes


def update_legal(db: Session, actor: Actor, territory_id: int, form: LegalForm) -> dict[str, Any]:
    _require_admin(actor, territory_id)
    accessibility = form.accessibility()
    if accessibility.status != "non_conforme" and not accessibility.audit_date:
        # RGAA: without an audit, the site is not conforming.
        raise Invalid(_("Indiquez la date de l'audit qui établit ce niveau de conformité."), field="audit_date")
    territory = _territory(db, territory_id)
    before = {
        "legal": territory.legal.model_dump(mode="json"),
        "accessibility": territory.accessibility.model_dump(mode="json"),
    }
    territory.legal_json = form.legal().model_dump(mode="json")
    territory.accessibility_json = accessibility.model_dump(mode="json")
    changes = _diff(before, {"legal": territory.legal_json, "accessibility": territory.accessibility_json})
    db.flush()
    audit.record(
        db, actor, "territory.update_legal", "territory", territory_id, territory_id=territory_id, data=changes
    )
    return changes


# ---------------------------------------------------------------- neighbourhoods


def get_neighbourhood(db: Session, territory_id: int, public_id: str) -> Neighbourhood:
    row = db.scalar(
        select(Neighbourhood).where(Neighbourhood.public_id == public_id, Neighbourhood.territory_id == territory_id)
    )
    if row is None:
        raise NotFound(_("Ce quartier n'existe pas."))
    return row


def _neighbourhood_name_taken(db: Session, territory_id: int, name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Neighbourhood.id).where(
        Neighbourhood.territory_id == territory_id, func.lower(Neighbourhood.name) == name.lower()
    )
    if exclude_id is not None:
        stmt = stmt.where(Neighbourhood.id != exclude_id)
    return db.scalar(stmt) is not None


def create_neighbourhood(db: Session, actor: Actor, territory_id: int, form: NeighbourhoodForm) -> Neighbourhood:
    _require_admin(actor, territory_id)
    if _neighbourhood_name_taken(db, territory_id, form.name):
        raise Invalid(_("Un quartier porte déjà ce nom."), field="name")
    position = db.scalar(select(func.max(Neighbourhood.position)).where(Neighbourhood.territory_id == territory_id))
    row = Neighbourhood(
        territory_id=territory_id,
        name=form.name,
        population=form.population,
        is_priority=form.is_priority,
        position=0 if position is None else position + 1,
    )
    db.add(row)
    db.flush()
    audit.record(
        db, actor, "neighbourhood.create", "neighbourhood", row.public_id, territory_id=territory_id,
        data=form.model_dump(),
    )  # fmt: skip
    return row


def update_neighbourhood(
    db: Session, actor: Actor, territory_id: int, public_id: str, form: NeighbourhoodForm
) -> Neighbourhood:
    _require_admin(actor, territory_id)
    row = get_neighbourhood(db, territory_id, public_id)
    if _neighbourhood_name_taken(db, territory_id, form.name, exclude_id=row.id):
        raise Invalid(_("Un quartier porte déjà ce nom."), field="name")
    before = {"name": row.name, "population": row.population, "is_priority": row.is_priority}
    row.name, row.population, row.is_priority = form.name, form.population, form.is_priority
    db.flush()
    audit.record(
        db, actor, "neighbourhood.update", "neighbourhood", row.public_id, territory_id=territory_id,
        data=_diff(before, form.model_dump()),
    )  # fmt: skip
    return row


def delete_neighbourhood(db: Session, actor: Actor, territory_id: int, public_id: str) -> None:
    """Deletes a neighbourhood; the people who lived there keep their account, without a neighbourhood."""
    _require_admin(actor, territory_id)
    row = get_neighbourhood(db, territory_id, public_id)
    people = db.scalar(select(func.count(Person.id)).where(Person.neighbourhood_id == row.id)) or 0
    audit.record(
        db, actor, "neighbourhood.delete", "neighbourhood", row.public_id, territory_id=territory_id,
        data={"name": row.name, "people_detached": people},
    )  # fmt: skip
    db.delete(row)
    db.flush()


def neighbourhood_people_count(db: Session, neighbourhood_id: int) -> int:
    return db.scalar(select(func.count(Person.id)).where(Person.neighbourhood_id == neighbourhood_id)) or 0


# ---------------------------------------------------------------- themes


def get_theme(db: Session, territory_id: int, public_id: str) -> Theme:
    row = db.scalar(select(Theme).where(Theme.public_id == public_id, Theme.territory_id == territory_id))
    if row is None:
        raise NotFound(_("Cette thématique n'existe pas."))
    return row


def _theme_name_taken(db: Session, territory_id: int, name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Theme.id).where(Theme.territory_id == territory_id, func.lower(Theme.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Theme.id != exclude_id)
    return db.scalar(stmt) is not None


def create_theme(db: Session, actor: Actor, territory_id: int, form: ThemeForm) -> Theme:
    _require_admin(actor, territory_id)
    if _theme_name_taken(db, territory_id, form.name):
        raise Invalid(_("Une thématique porte déjà ce nom."), field="name")
    position = db.scalar(select(func.max(Theme.position)).where(Theme.territory_id == territory_id))
    row = Theme(
        territory_id=territory_id,
        name=form.name,
        description=form.description,
        position=0 if position is None else position + 1,
    )
    db.add(row)
    db.flush()
    audit.record(db, actor, "theme.create", "theme", row.public_id, territory_id=territory_id, data=form.model_dump())
    return row


def update_theme(db: Session, actor: Actor, territory_id: int, public_id: str, form: ThemeForm) -> Theme:
    _require_admin(actor, territory_id)
    row = get_theme(db, territory_id, public_id)
    if _theme_name_taken(db, territory_id, form.name, exclude_id=row.id):
        raise Invalid(_("Une thématique porte déjà ce nom."), field="name")
    before = {"name": row.name, "description": row.description}
    row.name, row.description = form.name, form.description
    db.flush()
    audit.record(
        db, actor, "theme.update", "theme", row.public_id, territory_id=territory_id,
        data=_diff(before, form.model_dump()),
    )  # fmt: skip
    return row


def delete_theme(db: Session, actor: Actor, territory_id: int, public_id: str) -> None:
    _require_admin(actor, territory_id)
    row = get_theme(db, territory_id, public_id)
    audit.record(db, actor, "theme.delete", "theme", row.public_id, territory_id=territory_id, data={"name": row.name})
    db.delete(row)
    db.flush()


# ---------------------------------------------------------------- council sittings


def get_sitting(db: Session, territory_id: int, public_id: str) -> CouncilSitting:
    row = db.scalar(
        select(CouncilSitting).where(CouncilSitting.public_id == public_id, CouncilSitting.territory_id == territory_id)
    )
    if row is None:
        raise NotFound(_("Cette séance n'existe pas."))
    return row


def _sitting_data(form: SittingForm) -> dict[str, Any]:
    return form.model_dump(mode="json")


def create_sitting(db: Session, actor: Actor, territory_id: int, form: SittingForm) -> CouncilSitting:
    _require_admin(actor, territory_id)
    row = CouncilSitting(territory_id=territory_id, **form.model_dump())
    db.add(row)
    db.flush()
    audit.record(
        db, actor, "sitting.create", "council_sitting", row.public_id, territory_id=territory_id,
        data=_sitting_data(form),
    )  # fmt: skip
    return row


def update_sitting(db: Session, actor: Actor, territory_id: int, public_id: str, form: SittingForm) -> CouncilSitting:
    _require_admin(actor, territory_id)
    row = get_sitting(db, territory_id, public_id)
    before = {
        "sitting_date": row.sitting_date.isoformat(),
        "title": row.title,
        "agenda": row.agenda,
        "deliberation_numbers": row.deliberation_numbers,
        "minutes_url": row.minutes_url,
    }
    for key, value in form.model_dump().items():
        setattr(row, key, value)
    db.flush()
    audit.record(
        db, actor, "sitting.update", "council_sitting", row.public_id, territory_id=territory_id,
        data=_diff(before, _sitting_data(form)),
    )  # fmt: skip
    return row


def delete_sitting(db: Session, actor: Actor, territory_id: int, public_id: str) -> None:
    _require_admin(actor, territory_id)
    row = get_sitting(db, territory_id, public_id)
    if db.scalar(select(CouncilAgendaItem.id).where(CouncilAgendaItem.sitting_id == row.id).limit(1)) is not None:
        raise Conflict(
            _(
                "Des initiatives sont inscrites à l'ordre du jour de cette séance : déplacez-les d'abord vers une autre séance."
            )
        )
    audit.record(
        db, actor, "sitting.delete", "council_sitting", row.public_id, territory_id=territory_id,
        data={"title": row.title, "sitting_date": row.sitting_date.isoformat()},
    )  # fmt: skip
    db.delete(row)
    db.flush()


@dataclass(frozen=True)
class Sittings:
    upcoming: list[CouncilSitting]
    past: list[CouncilSitting]


def list_sittings(db: Session, territory_id: int, today: dt.date, past_limit: int = 50) -> Sittings:
    base = select(CouncilSitting).where(CouncilSitting.territory_id == territory_id)
    upcoming = db.scalars(base.where(CouncilSitting.sitting_date >= today).order_by(CouncilSitting.sitting_date))
    past = db.scalars(
        base.where(CouncilSitting.sitting_date < today).order_by(CouncilSitting.sitting_date.desc()).limit(past_limit)
    )
    return Sittings(upcoming=list(upcoming), past=list(past))


# ---------------------------------------------------------------- people


def like_pattern(query: str) -> str:
    """A LIKE pattern where the user's %, _ and backslash are plain characters."""
    escaped = (
        query.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped.lower()}%"


@dataclass(frozen=True)
class PersonRow:
    person: Person
    account: Account
    roles: list[str]
    pending: list[str]


def search_people(db: Session, actor: Actor, territory_id: int, query: str = "", limit: int = 100) -> list[PersonRow]:
    """Account holders of the territory, by name or e-mail, with their roles."""
    if not can_see_people(actor, territory_id):
        raise Forbidden(_("Cette page est réservée aux administrateur·rices et à l'exécutif."))
    stmt = (
        select(Person, Account)
        .join(Account, Account.person_id == Person.id)
        .where(
            Person.territory_id == territory_id, Account.territory_id == territory_id, Person.anonymised_at.is_(None)
        )
    )
    query = query.strip()[:200]
    if query:
        pattern = like_pattern(query)
        stmt = stmt.where(
            or_(
                func.lower(Person.display_name).like(pattern, escape=LIKE_ESCAPE),
                func.lower(Account.email).like(pattern, escape=LIKE_ESCAPE),
            )
        )
    rows = db.execute(stmt.order_by(Person.display_name, Person.id).limit(limit)).all()
    account_ids = [account.id for _person, account in rows]
    grants: dict[int, list[RoleGrant]] = {}
    if account_ids:
        for grant in db.scalars(
            select(RoleGrant).where(RoleGrant.account_id.in_(account_ids), RoleGrant.revoked_at.is_(None))
        ):
            grants.setdefault(grant.account_id, []).append(grant)
    return [
        PersonRow(
            person=person,
            account=account,
            roles=sorted(g.role for g in grants.get(account.id, []) if g.confirmed_at is not None),
            pending=sorted(g.role for g in grants.get(account.id, []) if g.confirmed_at is None),
        )
        for person, account in rows
    ]


@dataclass(frozen=True)
class PersonDetail:
    person: Person
    account: Account
    grants: list[RoleGrant]
    names: dict[int, str]  # account id -> display name, for "granted by" / "confirmed by"


def person_detail(db: Session, actor: Actor, territory_id: int, public_id: str) -> PersonDetail:
    if not can_see_people(actor, territory_id):
        raise Forbidden(_("Cette page est réservée aux administrateur·rices et à l'exécutif."))
    row = db.execute(
        select(Person, Account)
        .join(Account, Account.person_id == Person.id)
        .where(
            Person.public_id == public_id,
            Person.territory_id == territory_id,
            Person.kind == PersonKind.ACCOUNT_HOLDER.value,
        )
    ).first()
    if row is None:
        raise NotFound(_("Cette personne n'existe pas ou n'a pas de compte sur ce territoire."))
    person, account = row
    grants = list(
        db.scalars(
            select(RoleGrant)
            .where(RoleGrant.territory_id == territory_id, RoleGrant.account_id == account.id)
            .order_by(RoleGrant.created_at.desc(), RoleGrant.id.desc())
        )
    )
    ids = {
        i for g in grants for i in (g.granted_by_account_id, g.confirmed_by_account_id, g.revoked_by_account_id) if i
    }
    names: dict[int, str] = {}
    if ids:
        for account_id, name in db.execute(
            select(Account.id, Person.display_name)
            .join(Person, Person.id == Account.person_id)
            .where(Account.id.in_(ids))
        ):
            names[account_id] = name
    return PersonDetail(person=person, account=account, grants=grants, names=names)


def person_public_id_for_account(db: Session, territory_id: int, account_id: int) -> str:
    public_id = db.scalar(
        select(Person.public_id)
        .join(Account, Account.person_id == Person.id)
        .where(Account.id == account_id, Account.territory_id == territory_id)
    )
    if public_id is None:
        raise NotFound(_("Cette personne n'existe pas ou n'a pas de compte sur ce territoire."))
    return public_id
