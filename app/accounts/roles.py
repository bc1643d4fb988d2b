"""Staff roles: granting, confirming and revoking them.

Only admins grant and revoke roles, and nobody grants a role to themselves. The executive role
(the mayor, or an adjoint·e or agent holding a delegation) commits the town: it needs the
reference of the delegation act and stays pending until another executive confirms it. The
operator's bootstrap at the command line grants any role directly, confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Account, Person, Role, RoleGrant
from app.audit import service as audit
from app.core.actor import OPERATOR, Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.mail.service import queue_email
from app.territories.models import Territory
from app.web.i18n import N_, _

ROLE_LABELS: dict[str, str] = {
    Role.AGENT: N_("agent·e de la commune"),
    Role.EXECUTIVE: N_("exécutif (maire ou délégataire)"),
    Role.COUNCIL_MEMBER: N_("élu·e au conseil municipal"),
    Role.ADMIN: N_("administrateur·rice de la plateforme"),
}

ROLE_DESCRIPTIONS: dict[str, str] = {
    Role.AGENT: N_("Prépare, instruit et suit les dossiers ; tient les contacts sans compte."),
    Role.EXECUTIVE: N_("Décide, signe pour la commune et publie les réponses officielles (délégation requise)."),
    Role.COUNCIL_MEMBER: N_("Consulte les tableaux de bord ; n'engage pas la commune."),
    Role.ADMIN: N_("Configure la plateforme : territoire, quartiers, thématiques, séances, rôles."),
}


def role_label(role: str) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def is_operator(actor: Actor) -> bool:
    return actor is OPERATOR or actor == OPERATOR


# Permissions: plain functions used by the service (which refuses) and the templates (which hide).


def can_grant_roles(actor: Actor, territory_id: int) -> bool:
    return is_operator(actor) or (actor.territory_id == territory_id and actor.has_role(Role.ADMIN))


def can_grant_to(actor: Actor, territory_id: int, account_id: int) -> bool:
    return can_grant_roles(actor, territory_id) and actor.account_id != account_id


def can_confirm(actor: Actor, grant: RoleGrant) -> bool:
    if grant.confirmed_at is not None or grant.revoked_at is not None:
        return False
    if is_operator(actor):
        return True
    return (
        actor.territory_id == grant.territory_id
        and actor.has_role(Role.EXECUTIVE)
        and actor.account_id is not None
        and actor.account_id not in (grant.account_id, grant.granted_by_account_id)
    )


def can_revoke(actor: Actor, grant: RoleGrant) -> bool:
    return grant.revoked_at is None and can_grant_roles(actor, grant.territory_id)


def is_active(grant: RoleGrant) -> bool:
    return grant.confirmed_at is not None and grant.revoked_at is None


def is_pending(grant: RoleGrant) -> bool:
    return grant.confirmed_at is None and grant.revoked_at is None


def _parse_role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid(_("Choisissez un des rôles proposés."), field="role") from None


def _account_for(db: Session, territory_id: int, ref: str | int) -> Account:
    """An account of the territory, by its id (CLI) or its person's public id (web)."""
    stmt = select(Account).where(Account.territory_id == territory_id)
    if isinstance(ref, int):
        stmt = stmt.where(Account.id == ref)
    else:
        stmt = stmt.join(Person, Person.id == Account.person_id).where(Person.public_id == ref)
    account = db.scalar(stmt)
    if account is None:
        raise NotFound(_("Cette personne n'existe pas ou n'a pas de compte sur ce territoire."))
    return account


def get_grant(db: Session, territory_id: int, public_id: str) -> RoleGrant:
    grant = db.scalar(select(RoleGrant).where(RoleGrant.public_id == public_id, RoleGrant.territory_id == territory_id))
    if grant is None:
        raise NotFound(_("Ce rôle n'existe pas."))
    return grant


def _clean(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


def grant_role(
    db: Session,
    actor: Actor,
    territory_id: int,
    account: str | int,
    role: str | Role,
    delegation_reference: str | None = None,
    delegation_scope: str | None = None,
    reason: str = "",
) -> RoleGrant:
    """Grants ``role`` to an account of the territory (by account id or person public id)."""
    operator = is_operator(actor)
    if not can_grant_roles(actor, territory_id):
        raise Forbidden(_("Seul·es les administrateur·rices attribuent les rôles."))
    target = _account_for(db, territory_id, account)
    if actor.account_id is not None and actor.account_id == target.id:
        raise Forbidden(_("Personne ne peut s'attribuer un rôle à soi-même."))
    parsed = _parse_role(role)
    reason = reason.strip()
    if not reason and not operator:
        raise Invalid(_("Indiquez la raison de cette attribution."), field="reason")
    reference = _clean(delegation_reference, 200)
    scope = _clean(delegation_scope, 2000)
    if parsed == Role.EXECUTIVE and not reference:
        raise Invalid(
            _("Le rôle exécutif demande la référence de l'arrêté de délégation (par exemple « arrêté n° 2026-014 »)."),
            field="delegation_reference",
        )
    existing = db.scalar(
        select(RoleGrant.id).where(
            RoleGrant.account_id == target.id, RoleGrant.role == parsed.value, RoleGrant.revoked_at.is_(None)
        )
    )
    if existing is not None:
        raise Conflict(_("Cette personne a déjà ce rôle, ou il attend sa confirmation."), field="role")
    now = utcnow()
    # The executive role waits for another executive's confirmation, except at the operator's bootstrap.
    confirmed = operator or parsed != Role.EXECUTIVE
    grant = RoleGrant(
        territory_id=territory_id,
        account_id=target.id,
        role=parsed.value,
        delegation_reference=reference if parsed == Role.EXECUTIVE else None,
        delegation_scope=scope if parsed == Role.EXECUTIVE else None,
        granted_by_account_id=actor.account_id,
        confirmed_at=now if confirmed else None,
        confirmed_by_account_id=actor.account_id if confirmed else None,
    )
    db.add(grant)
    db.flush()
    audit.record(
        db,
        actor,
        "role.grant",
        "role_grant",
        grant.public_id,
        territory_id=territory_id,
        reason=reason,
        data={
            "account_id": target.id,
            "role": parsed.value,
            "delegation_reference": grant.delegation_reference,
            "pending": not confirmed,
        },
    )
    if confirmed:
        _notify(db, target, grant)
    return grant


def confirm_role(db: Session, actor: Actor, grant: RoleGrant) -> RoleGrant:
    """Another executive confirms a pending executive grant, which becomes active."""
    if not is_operator(actor) and actor.territory_id != grant.territory_id:
        raise NotFound(_("Ce rôle n'existe pas."))
    if not is_pending(grant):
        raise Conflict(_("Ce rôle n'attend pas de confirmation."))
    if actor.account_id is not None and actor.account_id == grant.account_id:
        raise Forbidden(_("Personne ne peut confirmer son propre rôle."))
    if actor.account_id is not None and actor.account_id == grant.granted_by_account_id:
        raise Forbidden(
            _("La confirmation revient à un·e autre membre de l'exécutif que la personne qui a attribué le rôle.")
        )
    if not can_confirm(actor, grant):
        raise Forbidden(_("Seul·e un·e autre membre de l'exécutif peut confirmer ce rôle."))
    grant.confirmed_at = utcnow()
    grant.confirmed_by_account_id = actor.account_id
    db.flush()
    audit.record(
        db,
        actor,
        "role.confirm",
        "role_grant",
        grant.public_id,
        territory_id=grant.territory_id,
        data={"account_id": grant.account_id, "role": grant.role},
    )
    _notify(db, db.get_one(Account, grant.account_id), grant)
    return grant


def active_admin_count(db: Session, territory_id: int) -> int:
    return (
        db.scalar(
            select(func.count(RoleGrant.id))
            .join(Account, Account.id == RoleGrant.account_id)
            .where(
                RoleGrant.territory_id == territory_id,
                RoleGrant.role == Role.ADMIN.value,
                RoleGrant.confirmed_at.is_not(None),
                RoleGrant.revoked_at.is_(None),
                Account.disabled_at.is_(None),
            )
        )
        or 0
    )


def revoke_role(db: Session, actor: Actor, grant: RoleGrant, reason: str) -> RoleGrant:
    """Ends a grant (kept for the record). The territory always keeps one admin."""
    if not is_operator(actor) and actor.territory_id != grant.territory_id:
        raise NotFound(_("Ce rôle n'existe pas."))
    if not can_grant_roles(actor, grant.territory_id):
        raise Forbidden(_("Seul·es les administrateur·rices retirent les rôles."))
    if grant.revoked_at is not None:
        raise Conflict(_("Ce rôle a déjà été retiré."))
    reason = reason.strip()
    if not reason and not is_operator(actor):
        raise Invalid(_("Indiquez la raison de ce retrait."), field="reason")
    if grant.role == Role.ADMIN and is_active(grant) and active_admin_count(db, grant.territory_id) <= 1:
        raise Conflict(
            _("C'est le dernier rôle d'administration du territoire : attribuez-le d'abord à une autre personne.")
        )
    grant.revoked_at = utcnow()
    grant.revoked_by_account_id = actor.account_id
    db.flush()
    audit.record(
        db,
        actor,
        "role.revoke",
        "role_grant",
        grant.public_id,
        territory_id=grant.territory_id,
        reason=reason,
        data={"account_id": grant.account_id, "role": grant.role},
    )
    return grant


def _notify(db: Session, account: Account, grant: RoleGrant) -> None:
    if not account.email or account.disabled_at is not None:
        return
    territory = db.get_one(Territory, grant.territory_id)
    queue_email(
        db,
        territory_id=grant.territory_id,
        person_id=account.person_id,
        to=account.email,
        template="role_granted",
        context={
            "territory_name": territory.name,
            "role": grant.role,
            "delegation_reference": grant.delegation_reference or "",
        },
        locale=account.locale,
    )


def grants_for_account(db: Session, territory_id: int, account_id: int) -> list[RoleGrant]:
    return list(
        db.scalars(
            select(RoleGrant)
            .where(RoleGrant.territory_id == territory_id, RoleGrant.account_id == account_id)
            .order_by(RoleGrant.created_at.desc(), RoleGrant.id.desc())
        )
    )


@dataclass(frozen=True)
class PendingGrant:
    grant: RoleGrant
    person_public_id: str
    display_name: str


def pending_executive_grants(db: Session, territory_id: int) -> list[PendingGrant]:
    rows = db.execute(
        select(RoleGrant, Person.public_id, Person.display_name)
        .join(Account, Account.id == RoleGrant.account_id)
        .join(Person, Person.id == Account.person_id)
        .where(
            RoleGrant.territory_id == territory_id,
            RoleGrant.confirmed_at.is_(None),
            RoleGrant.revoked_at.is_(None),
        )
        .order_by(RoleGrant.created_at, RoleGrant.id)
    ).all()
    return [PendingGrant(grant=g, person_public_id=pid, display_name=name) for g, pid, name in rows]
