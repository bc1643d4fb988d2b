"""Proposing an initiative, its promoters and its first transitions (submit, withdraw, rework).

Every function checks the territory and the actor's rights, changes state only through the
workflow (``target_state``: an illegal transition is a 409 and nothing changes) and writes one
audit entry in the caller's transaction. Pages get plain dataclasses: templates never query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.accounts import contacts
from app.accounts.display import public_name
from app.accounts.models import AgeBracket, Person, PersonKind
from app.accounts.service import check_neighbourhood, normalise_email
from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.tokens import hash_token, new_token
from app.db.base import utcnow
from app.funds.models import Fund
from app.initiatives import permissions as perm
from app.initiatives import workflow as wf
from app.initiatives.forms import MEMBER_ROLE_LABELS, AddContactInput, InitiativeInput, InviteInput
from app.initiatives.models import (
    LEGAL_PERSON_KINDS,
    Beneficiary,
    BeneficiaryKind,
    Initiative,
    InitiativeMember,
    MemberRole,
)
from app.initiatives.models import InitiativeState as S
from app.mail.service import queue_email
from app.notifications.kinds import register_kind
from app.notifications.service import notify
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood, Territory, Theme
from app.territories.service import fund_default, local_today
from app.web import i18n
from app.web.i18n import N_, _

INITIATIVES_KIND = register_kind(
    "initiatives",
    N_("Mes initiatives fifty-fifty"),
    description=N_("Dépôt, réponses de la commune et étapes des initiatives que vous portez."),
)

INVITATION_PATH = "/initiatives/invitation/"
EDITABLE_FIELDS = (
    "title",
    "description",
    "general_interest",
    "residents_offer",
    "town_request",
    "project_type",
    "neighbourhood_id",
    "theme_id",
    "address",
    "latitude",
    "longitude",
    "start_on",
    "end_on",
)
REQUIRED_FOR_SUBMISSION = (
    ("title", N_("le titre")),
    ("description", N_("la description du projet")),
    ("residents_offer", N_("ce que les habitant·es apporteront")),
    ("neighbourhood_id", N_("le quartier")),
    ("theme_id", N_("la thématique")),
)
# The order of the groups on "Mes initiatives".
STATE_ORDER = (
    S.DRAFT,
    S.CHANGES_REQUESTED,
    S.SUBMITTED,
    S.IN_REVIEW,
    S.ON_HOLD,
    S.AWAITING_ENVELOPE,
    S.APPROVED,
    S.CONVENTION_PROPOSED,
    S.CONVENTION_SIGNED,
    S.IN_PROGRESS,
    S.DELIVERED,
    S.EVALUATED,
    S.DECLINED,
    S.WITHDRAWN,
    S.ABANDONED,
)


# ---------------------------------------------------------------- loading


def _get(db: Session, territory_id: int, public_id: str, *, for_update: bool = False) -> Initiative:
    stmt = select(Initiative).where(Initiative.public_id == public_id, Initiative.territory_id == territory_id)
    if for_update:
        stmt = stmt.with_for_update()
    initiative = db.scalar(stmt)
    if initiative is None:
        raise NotFound(_("Cette initiative n'existe pas."))
    return initiative


def _members(db: Session, initiative_id: int) -> list[InitiativeMember]:
    return list(
        db.scalars(
            select(InitiativeMember)
            .where(InitiativeMember.initiative_id == initiative_id)
            .order_by(InitiativeMember.id)
        )
    )


def get_visible(
    db: Session, actor: Actor | None, territory_id: int, public_id: str, *, for_update: bool = False
) -> tuple[Initiative, list[InitiativeMember]]:
    """The initiative and its members, or 404 if the actor may not see it (or it is another town's)."""
    initiative = _get(db, territory_id, public_id, for_update=for_update)
    members = _members(db, initiative.id)
    if not perm.can_view(actor, initiative, members):
        raise NotFound(_("Cette initiative n'existe pas."))
    return initiative, members


def _require_resident(actor: Actor, territory_id: int) -> int:
    if actor.person_id is None or actor.territory_id != territory_id:
        raise Forbidden(_("Connectez-vous avec un compte de cette commune pour proposer une initiative."))
    return actor.person_id


def _check_theme(db: Session, territory_id: int, theme_id: int | None) -> None:
    if theme_id is None:
        return
    found = db.scalar(select(Theme.id).where(Theme.id == theme_id, Theme.territory_id == territory_id))
    if found is None:
        raise Invalid(_("Choisissez une thématique de la liste."), field="theme_id")


def _contact(db: Session, actor: Actor, territory_id: int, public_id: str) -> Person:
    try:
        return contacts.get_contact(db, actor, territory_id, public_id)
    except NotFound:
        raise Invalid(_("Choisissez un contact de la liste."), field="contact_id") from None


def _field_values(data: InitiativeInput) -> dict[str, Any]:
    return {name: getattr(data, name) for name in EDITABLE_FIELDS}


def _beneficiary_values(data: InitiativeInput, promoter: Person) -> dict[str, Any]:
    kind = data.beneficiary_kind
    if kind == BeneficiaryKind.PERSON:
        return {
            "kind": kind.value,
            "name": promoter.display_name,
            "siret": None,
            "rna": None,
            "legal_representative": None,
            "person_id": promoter.id,
        }
    legal = kind in LEGAL_PERSON_KINDS
    return {
        "kind": kind.value,
        "name": data.beneficiary_name,
        "siret": (data.siret or None) if legal else None,
        "rna": (data.rna or None) if kind == BeneficiaryKind.ASSOCIATION else None,
        "legal_representative": (data.legal_representative or None) if legal else None,
        "person_id": None,
    }


# ---------------------------------------------------------------- proposing and editing


def propose(db: Session, actor: Actor, territory_id: int, data: InitiativeInput) -> Initiative:
    """Creates a draft with its beneficiary and its promoter (the actor, or the contact who
    brought a paper form when an agent enters it)."""
    person_id = _require_resident(actor, territory_id)
    from_paper_form = bool(data.contact_id)
    if from_paper_form:
        if not perm.is_agent(actor, territory_id):
            raise Forbidden(_("Seul·es les agent·es saisissent une initiative pour un contact."))
        promoter = _contact(db, actor, territory_id, data.contact_id)
    else:
        promoter = db.get_one(Person, person_id)
    check_neighbourhood(db, territory_id, data.neighbourhood_id)
    _check_theme(db, territory_id, data.theme_id)
    beneficiary = Beneficiary(territory_id=territory_id, **_beneficiary_values(data, promoter))
    db.add(beneficiary)
    db.flush()
    now = utcnow()
    initiative = Initiative(
        territory_id=territory_id,
        beneficiary_id=beneficiary.id,
        state=S.DRAFT.value,
        state_changed_at=now,
        created_by_person_id=person_id,
        from_paper_form=from_paper_form,
        **_field_values(data),
    )
    db.add(initiative)
    db.flush()
    db.add(
        InitiativeMember(
            territory_id=territory_id,
            initiative_id=initiative.id,
            person_id=promoter.id,
            role=MemberRole.PROMOTER.value,
            accepted_at=now,
        )
    )
    db.flush()
    audit.record(
        db,
        actor,
        "initiative.propose",
        "initiative",
        initiative.public_id,
        territory_id=territory_id,
        data={"from_paper_form": from_paper_form, "beneficiary_kind": beneficiary.kind},
    )
    return initiative


def _main_promoter(db: Session, members: Sequence[InitiativeMember]) -> Person | None:
    for m in members:
        if m.role == MemberRole.PROMOTER and m.person_id is not None:
            return db.get(Person, m.person_id)
    return None


def update_draft(db: Session, actor: Actor, territory_id: int, public_id: str, data: InitiativeInput) -> Initiative:
    initiative, members = get_visible(db, actor, territory_id, public_id, for_update=True)
    if S(initiative.state) not in wf.EDITABLE_STATES:
        raise Conflict(
            _("Cette initiative ne se modifie plus : elle est « %(state)s ».")
            % {"state": wf.state_label(initiative.state)}
        )
    if not perm.can_edit(actor, initiative, members):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es peuvent le modifier."))
    check_neighbourhood(db, territory_id, data.neighbourhood_id)
    _check_theme(db, territory_id, data.theme_id)
    values = _field_values(data)
    changed = sorted(k for k, v in values.items() if getattr(initiative, k) != v)
    for key, value in values.items():
        setattr(initiative, key, value)
    beneficiary = db.get(Beneficiary, initiative.beneficiary_id) if initiative.beneficiary_id else None
    promoter = _main_promoter(db, members)
    if beneficiary is not None and promoter is not None:
        for key, value in _beneficiary_values(data, promoter).items():
            if getattr(beneficiary, key) != value:
                setattr(beneficiary, key, value)
                changed.append("beneficiary." + key)
    db.flush()
    audit.record(
        db, actor, "initiative.update", "initiative", initiative.public_id, territory_id=territory_id,
        data={"fields": changed},
    )  # fmt: skip
    return initiative


def form_values(db: Session, initiative: Initiative) -> dict[str, Any]:
    """The edit form's values for a stored initiative."""
    values: dict[str, Any] = {name: getattr(initiative, name) for name in EDITABLE_FIELDS}
    values = {k: ("" if v is None else v) for k, v in values.items()}
    beneficiary = db.get(Beneficiary, initiative.beneficiary_id) if initiative.beneficiary_id else None
    if beneficiary is not None:
        values.update(
            beneficiary_kind=beneficiary.kind,
            beneficiary_name=beneficiary.name if beneficiary.kind != BeneficiaryKind.PERSON else "",
            siret=beneficiary.siret or "",
            rna=beneficiary.rna or "",
            legal_representative=beneficiary.legal_representative or "",
        )
    return values


# ---------------------------------------------------------------- submission


def missing_for_submission(db: Session, initiative: Initiative) -> list[tuple[str, str]]:
    """(field, translated label) of what must be filled in before submitting.

    The neighbourhood and the theme are asked only if the town has defined some.
    """
    missing: list[tuple[str, str]] = []
    for name, label in REQUIRED_FOR_SUBMISSION:
        value = getattr(initiative, name)
        if value not in (None, ""):
            continue
        if name == "neighbourhood_id" and not _has_rows(db, Neighbourhood, initiative.territory_id):
            continue
        if name == "theme_id" and not _has_rows(db, Theme, initiative.territory_id):
            continue
        missing.append((name, _(label)))
    return missing


def _has_rows(db: Session, model: type[Neighbourhood] | type[Theme], territory_id: int) -> bool:
    return db.scalar(select(model.id).where(model.territory_id == territory_id).limit(1)) is not None


def needs_guardian(db: Session, members: Sequence[InitiativeMember]) -> bool:
    """True for a minor-led initiative (every promoter is a minor) without an adult guardian."""
    accepted = [m for m in members if m.accepted_at is not None and m.person_id is not None]
    ids = {m.person_id for m in accepted}
    if not ids:
        return False
    ages: dict[int | None, str] = {
        pid: age for pid, age in db.execute(select(Person.id, Person.age_bracket).where(Person.id.in_(ids)))
    }
    promoters = [m for m in accepted if m.role in perm.PROMOTER_ROLES]
    if not promoters or any(ages.get(m.person_id) == AgeBracket.ADULT for m in promoters):
        return False
    return not any(m.role == MemberRole.GUARDIAN and ages.get(m.person_id) == AgeBracket.ADULT for m in accepted)


def _acting_as(actor: Actor, initiative: Initiative, members: Sequence[InitiativeMember]) -> wf.Actor:
    if perm.is_member(actor, initiative, members):
        return wf.Actor.PROMOTER
    if perm.is_agent(actor, initiative.territory_id):
        return wf.Actor.AGENT
    raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es peuvent faire cela."))


def active_fund(db: Session, territory_id: int) -> Fund | None:
    return db.scalar(
        select(Fund).where(Fund.territory_id == territory_id, Fund.is_active.is_(True)).order_by(Fund.id).limit(1)
    )


def submit(
    db: Session,
    actor: Actor,
    territory: TerritoryContext,
    public_id: str,
    *,
    settings: Settings | None = None,
    base_url: str | None = None,
) -> Initiative:
    """Draft -> submitted: the fund, the fiscal year and the date by which the town answers are set."""
    initiative, members = get_visible(db, actor, territory.id, public_id, for_update=True)
    target = wf.target_state(initiative.state, wf.Action.SUBMIT, _acting_as(actor, initiative, members))
    missing = missing_for_submission(db, initiative)
    if missing:
        raise Invalid(
            _("Avant de déposer, complétez : %(fields)s.") % {"fields": ", ".join(label for _f, label in missing)},
            field=missing[0][0],
        )
    if needs_guardian(db, members):
        raise Invalid(
            _(
                "Les porteur·ses de ce projet sont mineur·es : ajoutez un·e adulte garant·e "
                "qui signe pour le projet avant de le déposer."
            )
        )
    fund = active_fund(db, territory.id)
    today = local_today(territory)
    days = fund.decision_deadline_days if fund is not None else fund_default("decision_deadline_days")
    now = utcnow()
    initiative.state = target.value
    initiative.submitted_at = now
    initiative.state_changed_at = now
    initiative.fund_id = fund.id if fund is not None else None
    initiative.fiscal_year = today.year
    initiative.decision_due_on = today + dt.timedelta(days=days)
    db.flush()
    audit.record(
        db, actor, "initiative.submit", "initiative", initiative.public_id, territory_id=territory.id,
        data={"fund_id": initiative.fund_id, "decision_due_on": initiative.decision_due_on.isoformat()},
    )  # fmt: skip
    _acknowledge(db, initiative, members, territory, settings=settings, base_url=base_url)
    return initiative


def _acknowledge(
    db: Session,
    initiative: Initiative,
    members: Sequence[InitiativeMember],
    territory: TerritoryContext,
    *,
    settings: Settings | None,
    base_url: str | None,
) -> None:
    due = i18n.date(initiative.decision_due_on, tz=territory.timezone)
    for person_id in sorted(perm.acting_person_ids(members)):
        notify(
            db,
            territory_id=initiative.territory_id,
            person_id=person_id,
            kind=INITIATIVES_KIND.key,
            subject=_("Votre initiative « %(title)s » est déposée") % {"title": initiative.title},
            body=_(
                "La commune a bien reçu votre proposition. Un·e agent·e l'étudie avec vous ; "
                "la commune vous répondra au plus tard le %(date)s."
            )
            % {"date": due},
            link=f"/initiatives/{initiative.public_id}",
            settings=settings,
            base_url=base_url,
        )


def withdraw(db: Session, actor: Actor, territory_id: int, public_id: str, reason: str = "") -> Initiative:
    initiative, members = get_visible(db, actor, territory_id, public_id, for_update=True)
    if not perm.is_member(actor, initiative, members):
        raise Forbidden(_("Seul·es les porteur·ses du projet peuvent le retirer."))
    target = wf.target_state(initiative.state, wf.Action.WITHDRAW, wf.Actor.PROMOTER)
    # Imported here: the ledger and the review build on the initiatives, not the other way round.
    from app.ledger import service as ledger
    from app.review import service as review

    envelope = ledger.envelope_for(db, initiative) if initiative.committed_envelope_id is not None else None
    if initiative.committed_cents or initiative.committed_envelope_id is not None:
        ledger.release_envelope(db, initiative)
    initiative.state = target.value
    initiative.state_changed_at = utcnow()
    db.flush()
    audit.record(
        db, actor, "initiative.withdraw", "initiative", initiative.public_id, territory_id=territory_id, reason=reason
    )
    if envelope is not None:
        # The money freed goes first to the initiatives waiting for this envelope.
        review.process_releases(db, envelope)
    return initiative


def rework(db: Session, actor: Actor, territory_id: int, public_id: str) -> Initiative:
    """A declined initiative goes back to draft, to be reworked and submitted again."""
    initiative, members = get_visible(db, actor, territory_id, public_id, for_update=True)
    if not perm.is_member(actor, initiative, members):
        raise Forbidden(_("Seul·es les porteur·ses du projet peuvent le retravailler."))
    target = wf.target_state(initiative.state, wf.Action.REWORK, wf.Actor.PROMOTER)
    initiative.state = target.value
    initiative.state_changed_at = utcnow()
    initiative.decision_due_on = None
    db.flush()
    audit.record(db, actor, "initiative.rework", "initiative", initiative.public_id, territory_id=territory_id)
    return initiative


# ---------------------------------------------------------------- promoters


def _require_manage(actor: Actor, initiative: Initiative, members: Sequence[InitiativeMember]) -> None:
    if S(initiative.state) in perm.CLOSED_STATES:
        raise Conflict(
            _("L'initiative est « %(state)s » : son équipe ne change plus.")
            % {"state": wf.state_label(initiative.state)}
        )
    if not perm.can_manage_members(actor, initiative, members):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es gèrent son équipe."))


def invite(
    db: Session, actor: Actor, territory_id: int, public_id: str, data: InviteInput, *, base_url: str
) -> InitiativeMember:
    """Invites a co-promoter (or the guardian) by e-mail, with a single-use link."""
    initiative, members = get_visible(db, actor, territory_id, public_id, for_update=True)
    _require_manage(actor, initiative, members)
    address, _key = normalise_email(str(data.email))
    if any(m.accepted_at is None and (m.invited_email or "").lower() == address.lower() for m in members):
        raise Invalid(_("Cette adresse a déjà reçu une invitation pour ce projet."), field="email")
    token = new_token()
    member = InitiativeMember(
        territory_id=territory_id,
        initiative_id=initiative.id,
        person_id=None,
        role=data.role,
        invited_email=address,
        invitation_token_hash=hash_token(token),
    )
    db.add(member)
    db.flush()
    town = db.scalar(select(Territory.name).where(Territory.id == territory_id)) or ""
    prefix = "/en" if i18n.get_locale() == "en" else ""
    queue_email(
        db,
        territory_id=territory_id,
        person_id=None,
        to=address,
        template="initiative_invitation",
        context={
            "title": initiative.title,
            "town": town,
            "role": _(MEMBER_ROLE_LABELS[MemberRole(data.role)]),
            "guardian": data.role == MemberRole.GUARDIAN.value,
            "link": f"{base_url}{prefix}{INVITATION_PATH}{token}",
        },
        locale=i18n.get_locale(),
    )
    audit.record(
        db, actor, "initiative.member.invite", "initiative", initiative.public_id, territory_id=territory_id,
        data={"member": member.public_id, "role": data.role},
    )  # fmt: skip
    return member


@dataclass(frozen=True)
class InvitationView:
    initiative_public_id: str
    title: str
    role: str
    role_label: str


def _invitation(db: Session, territory_id: int, token: str, *, for_update: bool = False) -> InitiativeMember:
    stmt = select(InitiativeMember).where(InitiativeMember.invitation_token_hash == hash_token(token))
    if for_update:
        stmt = stmt.with_for_update()
    member = db.scalar(stmt)
    if member is None or member.territory_id != territory_id:
        raise NotFound(_("Cette invitation n'est pas valide. Vérifiez que vous avez copié l'adresse en entier."))
    if member.accepted_at is not None:
        raise Conflict(_("Cette invitation a déjà été utilisée."))
    return member


def invitation_view(db: Session, territory_id: int, token: str) -> InvitationView:
    """What the invitation page shows (the link alone grants seeing the title)."""
    member = _invitation(db, territory_id, token)
    initiative = db.get_one(Initiative, member.initiative_id)
    return InvitationView(
        initiative_public_id=initiative.public_id,
        title=initiative.title,
        role=member.role,
        role_label=_(MEMBER_ROLE_LABELS[MemberRole(member.role)]),
    )


def _check_guardian(person: Person, field: str | None = None) -> None:
    if person.age_bracket != AgeBracket.ADULT:
        raise Invalid(_("L'adulte garant·e doit avoir 18 ans ou plus."), field=field)


def _check_not_member(members: Sequence[InitiativeMember], person_id: int, field: str | None = None) -> None:
    if any(m.person_id == person_id for m in members):
        raise Invalid(_("Cette personne fait déjà partie de l'équipe du projet."), field=field)


def accept_invitation(db: Session, actor: Actor, territory_id: int, token: str) -> Initiative:
    """Links the signed-in person to the invitation; the token cannot be used again."""
    member = _invitation(db, territory_id, token, for_update=True)
    if actor.person_id is None or actor.territory_id != territory_id:
        raise NotFound(_("Cette invitation n'est pas valide. Vérifiez que vous avez copié l'adresse en entier."))
    initiative = db.get_one(Initiative, member.initiative_id)
    if S(initiative.state) in perm.CLOSED_STATES:
        raise Conflict(_("Ce projet est clos : l'invitation ne vaut plus."))
    person = db.get_one(Person, actor.person_id)
    if member.role == MemberRole.GUARDIAN:
        _check_guardian(person)
    _check_not_member(_members(db, initiative.id), person.id)
    member.person_id = person.id
    member.accepted_at = utcnow()
    db.flush()
    audit.record(
        db, actor, "initiative.member.accept", "initiative", initiative.public_id, territory_id=territory_id,
        data={"member": member.public_id, "role": member.role},
    )  # fmt: skip
    return initiative


def add_contact(
    db: Session, actor: Actor, territory_id: int, public_id: str, data: AddContactInput
) -> InitiativeMember:
    """An agent adds a contact (no account) as co-promoter or guardian, accepted at once."""
    initiative, members = get_visible(db, actor, territory_id, public_id, for_update=True)
    _require_manage(actor, initiative, members)
    if not perm.can_add_contact(actor, initiative):
        raise Forbidden(_("Seul·es les agent·es ajoutent un contact à l'équipe d'un projet."))
    person = _contact(db, actor, territory_id, data.contact_id)
    if data.contact_role == MemberRole.GUARDIAN.value:
        _check_guardian(person, "contact_id")
    _check_not_member(members, person.id, "contact_id")
    member = InitiativeMember(
        territory_id=territory_id,
        initiative_id=initiative.id,
        person_id=person.id,
        role=data.contact_role,
        accepted_at=utcnow(),
    )
    db.add(member)
    db.flush()
    audit.record(
        db, actor, "initiative.member.add_contact", "initiative", initiative.public_id, territory_id=territory_id,
        data={"member": member.public_id, "role": data.contact_role},
    )  # fmt: skip
    return member


def remove_member(db: Session, actor: Actor, territory_id: int, public_id: str, member_public_id: str) -> None:
    initiative, members = get_visible(db, actor, territory_id, public_id, for_update=True)
    _require_manage(actor, initiative, members)
    member = next((m for m in members if m.public_id == member_public_id), None)
    if member is None:
        raise NotFound(_("Cette personne ne fait pas partie de l'équipe du projet."))
    if member.role == MemberRole.PROMOTER:
        raise Conflict(_("Le ou la porteur·se principal·e reste dans l'équipe du projet."))
    db.delete(member)
    db.flush()
    audit.record(
        db, actor, "initiative.member.remove", "initiative", initiative.public_id, territory_id=territory_id,
        data={"member": member_public_id, "role": member.role},
    )  # fmt: skip


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class MemberView:
    public_id: str
    role: str
    role_label: str
    name: str  # the real name: for staff and the project's own team only
    public_name: str  # minors and erased persons are never named publicly
    is_minor: bool
    is_contact: bool
    pending: bool
    invited_email: str


@dataclass(frozen=True)
class Workspace:
    initiative: Initiative
    beneficiary: Beneficiary | None
    beneficiary_public_name: str
    members: list[MemberView]
    neighbourhood: str
    theme: str
    fund: str
    state_label: str
    is_staff: bool
    is_member: bool
    private: bool
    can_edit: bool
    can_submit: bool
    can_withdraw: bool
    can_rework: bool
    can_manage_members: bool
    can_add_contact: bool
    missing: list[tuple[str, str]]
    needs_guardian: bool


def _member_views(
    db: Session, members: Sequence[InitiativeMember], *, private: bool
) -> tuple[list[MemberView], dict[int, Person]]:
    ids = {m.person_id for m in members if m.person_id is not None}
    persons = {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
    views: list[MemberView] = []
    for m in members:
        person = persons.get(m.person_id) if m.person_id is not None else None
        pending = m.accepted_at is None
        if pending and not private:
            continue
        views.append(
            MemberView(
                public_id=m.public_id,
                role=m.role,
                role_label=_(MEMBER_ROLE_LABELS[MemberRole(m.role)]),
                name=person.display_name if person else "",
                public_name=public_name(person) if person else "",
                is_minor=bool(person and person.age_bracket != AgeBracket.ADULT),
                is_contact=bool(person and person.kind == PersonKind.CONTACT),
                pending=pending,
                invited_email=(m.invited_email or "") if private else "",
            )
        )
    return views, persons


def _name_of(db: Session, model: type[Neighbourhood] | type[Theme] | type[Fund], row_id: int | None) -> str:
    if row_id is None:
        return ""
    return db.scalar(select(model.name).where(model.id == row_id)) or ""


def workspace(db: Session, actor: Actor | None, territory_id: int, public_id: str) -> Workspace:
    initiative, members = get_visible(db, actor, territory_id, public_id)
    private = perm.can_see_private_details(actor, initiative, members)
    views, persons = _member_views(db, members, private=private)
    beneficiary = db.get(Beneficiary, initiative.beneficiary_id) if initiative.beneficiary_id else None
    beneficiary_public = ""
    if beneficiary is not None:
        person = persons.get(beneficiary.person_id) if beneficiary.person_id else None
        if beneficiary.kind == BeneficiaryKind.PERSON:
            beneficiary_public = public_name(person) if person else ""
        else:
            beneficiary_public = beneficiary.name
    editable = perm.can_edit(actor, initiative, members)
    return Workspace(
        initiative=initiative,
        beneficiary=beneficiary if private else None,
        beneficiary_public_name=beneficiary_public,
        members=views,
        neighbourhood=_name_of(db, Neighbourhood, initiative.neighbourhood_id),
        theme=_name_of(db, Theme, initiative.theme_id),
        fund=_name_of(db, Fund, initiative.fund_id),
        state_label=wf.state_label(initiative.state),
        is_staff=perm.is_staff(actor, territory_id),
        is_member=perm.is_member(actor, initiative, members),
        private=private,
        can_edit=editable,
        can_submit=perm.can_submit(actor, initiative, members),
        can_withdraw=perm.can_withdraw(actor, initiative, members),
        can_rework=perm.can_rework(actor, initiative, members),
        can_manage_members=perm.can_manage_members(actor, initiative, members),
        can_add_contact=perm.can_add_contact(actor, initiative),
        missing=missing_for_submission(db, initiative) if initiative.state == S.DRAFT and private else [],
        needs_guardian=needs_guardian(db, members) if initiative.state == S.DRAFT and private else False,
    )


@dataclass(frozen=True)
class MyInitiativeRow:
    public_id: str
    title: str
    state: str
    neighbourhood: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    decision_due_on: dt.date | None


@dataclass(frozen=True)
class StateGroup:
    state: str
    label: str
    rows: list[MyInitiativeRow]


def my_initiatives(db: Session, actor: Actor, territory_id: int) -> list[StateGroup]:
    """The initiatives the actor promotes (or entered for a contact), grouped by state, in one query."""
    if actor.person_id is None or actor.territory_id != territory_id:
        return []
    mine = select(InitiativeMember.initiative_id).where(
        InitiativeMember.person_id == actor.person_id, InitiativeMember.accepted_at.is_not(None)
    )
    rows = db.execute(
        select(
            Initiative.public_id,
            Initiative.title,
            Initiative.state,
            Neighbourhood.name,
            Initiative.created_at,
            Initiative.submitted_at,
            Initiative.decision_due_on,
        )
        .outerjoin(Neighbourhood, Neighbourhood.id == Initiative.neighbourhood_id)
        .where(
            Initiative.territory_id == territory_id,
            or_(Initiative.id.in_(mine), Initiative.created_by_person_id == actor.person_id),
        )
        .order_by(Initiative.created_at.desc(), Initiative.id.desc())
    ).all()
    by_state: dict[str, list[MyInitiativeRow]] = {}
    for r in rows:
        by_state.setdefault(r[2], []).append(MyInitiativeRow(r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6]))
    return [StateGroup(s.value, wf.state_label(s), by_state[s.value]) for s in STATE_ORDER if s.value in by_state]
