"""Conventions: proposed by an agent, signed by the promoters and the executive, then immutable.

Each public function checks the territory and visibility (404), the actor's capacity (403), the
state (409) and the input (422) before it changes anything; then it changes the rows, writes one
audit entry per change, moves the initiative through the workflow (``review.move``) and tells
the people concerned, all in the caller's transaction.

The text is generated once from the fund's current template, the initiative and its ledger; the
values in force (totals, ratios, rates, lines) are copied into its snapshot, so that a later
change never rewrites it. Before the last signature an agent may regenerate it (revision + 1,
earlier signatures voided but kept); once signed, it only changes through amendments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Account, AgeBracket, Person, Role, RoleGrant
from app.accounts.passwords import verify_password
from app.audit import service as audit
from app.config import Settings
from app.conventions import clauses
from app.conventions import text as texts
from app.conventions.models import (
    Convention,
    ConventionAmendment,
    ConventionKind,
    ConventionSignature,
    ConventionTemplate,
    SignatureMethod,
    SignatureParty,
)
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.funds.models import Fund, Rate
from app.initiatives import workflow
from app.initiatives.models import Beneficiary, BeneficiaryKind, Initiative, InitiativeMember, MemberRole
from app.initiatives.models import InitiativeState as S
from app.initiatives.permissions import ACTING_ROLES, PROMOTER_ROLES
from app.initiatives.workflow import Action
from app.jobs.registry import job_settings
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, Side
from app.media import service as media
from app.media.models import StoredFile
from app.media.service import Upload
from app.media.storage import MediaStore, media_store
from app.privacy.export import register_section
from app.review import permissions as perm
from app.review import service as review
from app.review.notifications import KIND, ensure_kind
from app.territories.models import Neighbourhood, Territory
from app.web import i18n
from app.web.forms import clean_text
from app.web.i18n import N_, _

UPKEEP_BY_MAX_LENGTH = 300
UPKEEP_MAX_MONTHS = 360
NAME_MAX_LENGTH = 200
REASON_MAX_LENGTH = 2_000
CHANGES_MAX_LENGTH = 10_000
REMIND_DAYS_BEFORE = 7
DEFAULT_RELEASE_DAYS = 60

KIND_LABELS: dict[str, str] = {
    ConventionKind.CONVENTION: N_("convention"),
    ConventionKind.COMMITMENT: N_("engagement simple (petit projet)"),
}
PARTY_LABELS: dict[str, str] = {
    SignatureParty.PROMOTERS: N_("Les porteur·ses de projet"),
    SignatureParty.TOWN: N_("La commune"),
}
METHOD_LABELS: dict[str, str] = {
    SignatureMethod.ONLINE: N_("en ligne"),
    SignatureMethod.PAPER: N_("sur papier"),
}
ROLE_CAPACITIES: dict[str, str] = {
    MemberRole.PROMOTER: N_("Porteur·se de projet"),
    MemberRole.CO_PROMOTER: N_("Co-porteur·se de projet"),
    MemberRole.GUARDIAN: N_("Adulte garant·e"),
}


# A scanned A4 page stays legible at 300 dpi: the stored copy keeps that size, re-encoded.
SCAN_MAX_SIDE = 3508


def required_parties(kind: str) -> tuple[SignatureParty, ...]:
    if kind == ConventionKind.COMMITMENT:
        return (SignatureParty.PROMOTERS,)
    return (SignatureParty.PROMOTERS, SignatureParty.TOWN)


def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


# ---------------------------------------------------------------- loading and checks


def _not_found() -> NotFound:
    return NotFound(_("Cette convention n'existe pas ou ne vous est pas accessible."))


def _involvement(db: Session, actor: Actor | None, initiative: Initiative) -> perm.Involvement:
    """The convention is private to the initiative's promoters and the town's staff: 404 otherwise."""
    if actor is None or actor.territory_id != initiative.territory_id:
        raise _not_found()
    involvement = review.involvement_of(db, actor, initiative)
    if not (involvement.member or perm.is_staff(actor)):
        raise _not_found()
    return involvement


def may_see(db: Session, actor: Actor | None, initiative: Initiative) -> bool:
    try:
        _involvement(db, actor, initiative)
    except NotFound:
        return False
    return True


def get_initiative(db: Session, actor: Actor | None, public_id: str) -> Initiative:
    """The initiative of the actor's territory whose convention the actor may see; 404 otherwise."""
    if actor is None:
        raise _not_found()
    initiative = db.scalar(
        select(Initiative).where(Initiative.public_id == public_id, Initiative.territory_id == actor.territory_id)
    )
    if initiative is None:
        raise _not_found()
    _involvement(db, actor, initiative)
    return initiative


def convention_of(db: Session, initiative: Initiative) -> Convention | None:
    return db.scalar(
        select(Convention).where(
            Convention.initiative_id == initiative.id, Convention.territory_id == initiative.territory_id
        )
    )


def get_convention(db: Session, actor: Actor | None, initiative: Initiative) -> Convention:
    _involvement(db, actor, initiative)
    convention = convention_of(db, initiative)
    if convention is None:
        raise NotFound(_("Aucune convention n'est encore proposée pour cette initiative."))
    return convention


def get_amendment(db: Session, convention: Convention, public_id: str) -> ConventionAmendment:
    amendment = db.scalar(
        select(ConventionAmendment).where(
            ConventionAmendment.convention_id == convention.id,
            ConventionAmendment.territory_id == convention.territory_id,
            ConventionAmendment.public_id == public_id,
        )
    )
    if amendment is None:
        raise NotFound(_("Cet avenant n'existe pas."))
    return amendment


def _initiative_of(db: Session, convention: Convention) -> Initiative:
    return db.get_one(Initiative, convention.initiative_id)


def _agent(db: Session, actor: Actor, initiative: Initiative) -> perm.Involvement:
    """An agent (staff not tied to the initiative) may prepare the convention; 404 / 403 otherwise."""
    involvement = _involvement(db, actor, initiative)
    if not perm.can_review(actor, involvement):
        if involvement.conflicted and perm.is_staff(actor):
            raise Forbidden(
                _("Vous êtes porteur·se ou lié·e à cette initiative : vous ne pouvez pas préparer sa convention.")
            )
        raise Forbidden(_("Seul·es les agent·es de la commune préparent la convention."))
    return involvement


def _required_text(value: str, field: str, limit: int) -> str:
    text = clean_text(value or "")
    if not text:
        raise Invalid(_("Ce champ est obligatoire."), field=field)
    if len(text) > limit:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": limit}, field=field)
    return text


def _check_upkeep(upkeep_by: str, upkeep_months: int) -> str:
    who = _required_text(upkeep_by, "upkeep_by", UPKEEP_BY_MAX_LENGTH)
    if not 0 <= upkeep_months <= UPKEEP_MAX_MONTHS:
        raise Invalid(_("Entre 0 et %(n)s mois.") % {"n": UPKEEP_MAX_MONTHS}, field="upkeep_months")
    return who


def _timezone(db: Session, territory_id: int) -> ZoneInfo:
    return review.territory_timezone(db, territory_id)


def _local_date(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    return review.local_date(moment, tz)


# ---------------------------------------------------------------- the team and who signs


@dataclass(frozen=True)
class Team:
    members: list[InitiativeMember]
    persons: dict[int, Person]
    minor_led: bool


def _team(db: Session, initiative: Initiative) -> Team:
    members = [
        m
        for m in db.scalars(
            select(InitiativeMember)
            .where(InitiativeMember.initiative_id == initiative.id, InitiativeMember.accepted_at.is_not(None))
            .order_by(InitiativeMember.id)
        )
        if m.person_id is not None and m.role in ACTING_ROLES
    ]
    ids = {m.person_id for m in members if m.person_id is not None}
    persons = {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
    promoters = [persons[m.person_id] for m in members if m.role in PROMOTER_ROLES and m.person_id in persons]
    minor_led = bool(promoters) and all(p.age_bracket != AgeBracket.ADULT for p in promoters)
    return Team(members, persons, minor_led)


def _with_persons(team: Team) -> list[tuple[InitiativeMember, Person]]:
    return [
        (m, team.persons[m.person_id]) for m in team.members if m.person_id is not None and m.person_id in team.persons
    ]


def _promoter_capacity(team: Team, person_id: int) -> tuple[str | None, str]:
    """(capacity, "") if this person signs for the promoters, else (None, why not)."""
    member = next((m for m in team.members if m.person_id == person_id), None)
    person = team.persons.get(person_id)
    if member is None or person is None:
        return None, _("Seul·es les porteur·ses du projet et la commune signent la convention.")
    adult = person.age_bracket == AgeBracket.ADULT
    if team.minor_led:
        if member.role != MemberRole.GUARDIAN or not adult:
            return None, _(
                "Les porteur·ses de ce projet sont mineur·es : c'est leur adulte garant·e qui signe pour eux."
            )
    elif not adult:
        return None, _("Un·e porteur·se majeur·e ou l'adulte garant·e signe pour le projet.")
    return _(ROLE_CAPACITIES[MemberRole(member.role)]), ""


def _executive_capacity(db: Session, actor: Actor) -> str:
    reference = db.scalar(
        select(RoleGrant.delegation_reference).where(
            RoleGrant.account_id == actor.account_id,
            RoleGrant.role == Role.EXECUTIVE.value,
            RoleGrant.revoked_at.is_(None),
            RoleGrant.confirmed_at.is_not(None),
        )
    )
    if reference:
        return _("Exécutif de la commune (%(reference)s)") % {"reference": reference}
    return _("Exécutif de la commune")


@dataclass(frozen=True)
class Signer:
    party: SignatureParty | None
    capacity: str = ""
    blocker: str = ""  # why this person may not sign (shown instead of the form)


def _signer(db: Session, actor: Actor, involvement: perm.Involvement, kind: str, team: Team) -> Signer:
    if involvement.member and actor.person_id is not None:
        capacity, why = _promoter_capacity(team, actor.person_id)
        if capacity is None:
            return Signer(None, blocker=why)
        return Signer(SignatureParty.PROMOTERS, capacity)
    if actor.has_role(Role.EXECUTIVE):
        if involvement.conflicted:
            return Signer(
                None, blocker=_("Vous êtes lié·e à cette initiative : vous ne pouvez pas signer pour la commune.")
            )
        if SignatureParty.TOWN not in required_parties(kind):
            return Signer(None, blocker=_("Un engagement simple est signé par les porteur·ses de projet seulement."))
        return Signer(SignatureParty.TOWN, _executive_capacity(db, actor))
    return Signer(None, blocker=_("Seul l'exécutif de la commune (le maire ou son délégataire) signe pour la commune."))


# ---------------------------------------------------------------- telling people


def _agent_ids(initiative: Initiative, convention: Convention) -> list[int]:
    ids = [initiative.assigned_agent_person_id, convention.proposed_by_person_id]
    return list(dict.fromkeys(i for i in ids if i is not None))


def _tell(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    person_ids: list[int],
    subject: str,
    body: str,
    settings: Settings | None,
) -> None:
    ensure_kind()
    from app.notifications.service import notify

    for person_id in dict.fromkeys(person_ids):
        if person_id == actor.person_id:
            continue
        notify(
            db,
            territory_id=initiative.territory_id,
            person_id=person_id,
            kind=KIND,
            subject=subject,
            body=body,
            link=f"/initiatives/{initiative.public_id}/convention",
            settings=settings,
        )


# ---------------------------------------------------------------- generating the text


def _number(db: Session, territory_id: int, year: int) -> str:
    prefix = f"{year}-"
    existing = db.scalars(
        select(Convention.number).where(Convention.territory_id == territory_id, Convention.number.like(prefix + "%"))
    )
    highest = max((int(n[len(prefix) :]) for n in existing if n[len(prefix) :].isdigit()), default=0)
    return f"{prefix}{highest + 1:03d}"


def _kind_for(fund: Fund, balance: ledger.Balance) -> ConventionKind:
    """Small projects (the town's whole contribution, cash and in kind, under the fund's threshold, as the
    ledger shows it) sign a simple commitment."""
    if balance.is_small_project:
        return ConventionKind.COMMITMENT
    return ConventionKind.CONVENTION


def _fund(db: Session, initiative: Initiative) -> Fund:
    fund = db.get(Fund, initiative.fund_id) if initiative.fund_id is not None else None
    if fund is None or fund.territory_id != initiative.territory_id:
        raise Conflict(
            _("Cette initiative n'est rattachée à aucun dispositif : sa convention ne peut pas être rédigée.")
        )
    return fund


@dataclass(frozen=True)
class Draft:
    """A generated text with what it was generated from."""

    kind: ConventionKind
    text: str
    snapshot: dict[str, Any]
    balance: ledger.Balance
    lines: list[CommitmentLine]


def _facts(
    db: Session,
    initiative: Initiative,
    fund: Fund,
    template: clauses.TemplateView,
    *,
    kind: ConventionKind,
    number: str,
    upkeep_by: str,
    upkeep_months: int,
    balance: ledger.Balance,
    lines: list[CommitmentLine],
) -> texts.Facts:
    territory = db.get_one(Territory, initiative.territory_id)
    team = _team(db, initiative)
    beneficiary = db.get(Beneficiary, initiative.beneficiary_id) if initiative.beneficiary_id else None
    neighbourhood = (
        db.scalar(select(Neighbourhood.name).where(Neighbourhood.id == initiative.neighbourhood_id))
        if initiative.neighbourhood_id
        else None
    )
    members = [
        texts.MemberFact(name=person.display_name, role=m.role, is_minor=person.age_bracket != AgeBracket.ADULT)
        for m, person in _with_persons(team)
    ]
    town_aid = any(line.side == Side.TOWN and line.value_cents > 0 for line in lines)
    is_association = beneficiary is not None and beneficiary.kind == BeneficiaryKind.ASSOCIATION
    return texts.Facts(
        kind=kind,
        number=number,
        town=territory.name,
        town_siret=territory.siret,
        fund_name=fund.name,
        template=template,
        title=initiative.title,
        description=initiative.description,
        general_interest=initiative.general_interest,
        address=initiative.address,
        neighbourhood=neighbourhood or "",
        start_on=initiative.start_on,
        end_on=initiative.end_on,
        beneficiary_kind=beneficiary.kind if beneficiary else None,
        beneficiary_name=(beneficiary.name if beneficiary else "") or "",
        beneficiary_siret=beneficiary.siret if beneficiary else None,
        beneficiary_rna=beneficiary.rna if beneficiary else None,
        beneficiary_representative=beneficiary.legal_representative if beneficiary else None,
        members=members,
        minor_led=team.minor_led,
        lines=lines,
        balance=balance,
        upkeep_by=upkeep_by,
        upkeep_months=upkeep_months,
        republican=is_association and town_aid,
        partners_count=fund.partners_count,
    )


def _snapshot(
    db: Session,
    fund: Fund,
    template: clauses.TemplateView,
    kind: ConventionKind,
    balance: ledger.Balance,
    lines: list[CommitmentLine],
    upkeep_by: str,
    upkeep_months: int,
) -> dict[str, Any]:
    """Totals, ratios, rules, rates and lines as they stand now: never read again from the live rows."""
    rate_ids = {line.rate_id for line in lines if line.rate_id is not None}
    rates = list(db.scalars(select(Rate).where(Rate.id.in_(rate_ids)).order_by(Rate.id))) if rate_ids else []
    return {
        "kind": kind.value,
        "template": {"public_id": template.public_id, "version": template.version},
        "balance": review.jsonable(balance),
        "fund": {
            "public_id": fund.public_id,
            "name": fund.name,
            "match_physical_percent": fund.match_physical_percent,
            "match_activity_percent": fund.match_activity_percent,
            "match_priority_percent": fund.match_priority_percent,
            "match_first_time_percent": fund.match_first_time_percent,
            "partners_count": fund.partners_count,
            "enforcement": fund.enforcement,
            "cap_town_cash_cents": fund.cap_town_cash_cents,
            "small_project_threshold_cents": fund.small_project_threshold_cents,
            "unsigned_release_days": fund.unsigned_release_days,
        },
        "rates": [
            {
                "id": r.id,
                "kind": r.kind,
                "label": r.label,
                "value_cents": r.value_cents,
                "effective_from": r.effective_from.isoformat(),
            }
            for r in rates
        ],
        "lines": [
            {
                "public_id": line.public_id,
                "side": line.side,
                "kind": line.kind,
                "label": line.label,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_value_cents": line.unit_value_cents,
                "rate_id": line.rate_id,
                "value_cents": line.value_cents,
                "is_town_cash": line.is_town_cash,
                "state": line.state,
                "due_on": line.due_on.isoformat() if line.due_on else None,
                "partner_name": line.partner_name,
                "instalments": line.instalments,
            }
            for line in lines
        ],
        "upkeep": {"by": upkeep_by, "months": upkeep_months},
    }


def _draft(
    db: Session,
    initiative: Initiative,
    fund: Fund,
    template: clauses.TemplateView,
    *,
    number: str,
    upkeep_by: str,
    upkeep_months: int,
) -> Draft:
    lines = ledger.active_lines(db, initiative)
    balance = ledger.balance(db, initiative)
    kind = _kind_for(fund, balance)
    facts = _facts(
        db, initiative, fund, template, kind=kind, number=number, upkeep_by=upkeep_by,
        upkeep_months=upkeep_months, balance=balance, lines=lines,
    )  # fmt: skip
    snapshot = _snapshot(db, fund, template, kind, balance, lines, upkeep_by, upkeep_months)
    return Draft(kind, texts.convention_text(facts), snapshot, balance, lines)


def default_upkeep_by(db: Session, initiative: Initiative) -> str:
    beneficiary = db.get(Beneficiary, initiative.beneficiary_id) if initiative.beneficiary_id else None
    if beneficiary is not None and beneficiary.kind != BeneficiaryKind.PERSON and beneficiary.name:
        return beneficiary.name
    names = [person.display_name for _m, person in _with_persons(_team(db, initiative))]
    return ", ".join(names)[:UPKEEP_BY_MAX_LENGTH] or _("Les porteur·ses du projet")


# ---------------------------------------------------------------- proposing and regenerating


def propose(
    db: Session,
    agent: Actor,
    initiative: Initiative,
    upkeep_by: str,
    upkeep_months: int,
    *,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Convention:
    """Approved -> convention proposed: the text is generated and frozen with its snapshot."""
    _agent(db, agent, initiative)
    review.lock_initiative(db, initiative)
    target = workflow.target_state(initiative.state, Action.PROPOSE_CONVENTION, workflow.Actor.AGENT)
    if convention_of(db, initiative) is not None:
        raise Conflict(_("Une convention existe déjà pour cette initiative."))
    who = _check_upkeep(upkeep_by, upkeep_months)
    fund = _fund(db, initiative)
    moment = now or utcnow()
    template = clauses.ensure_template(db, fund, agent)
    number = _number(db, initiative.territory_id, _local_date(moment, _timezone(db, initiative.territory_id)).year)
    draft = _draft(
        db, initiative, fund, clauses.view_of(template), number=number, upkeep_by=who, upkeep_months=upkeep_months
    )
    convention = Convention(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        template_id=template.id,
        kind=draft.kind.value,
        number=number,
        revision=1,
        text=draft.text,
        text_sha256=texts.sha256(draft.text),
        snapshot=draft.snapshot,
        upkeep_by=who,
        upkeep_months=upkeep_months,
        proposed_at=moment,
        proposed_by_person_id=agent.person_id,
    )
    db.add(convention)
    db.flush()
    review.move(
        db, agent, initiative, target, Action.PROPOSE_CONVENTION,
        data={
            "convention": convention.public_id, "number": number, "kind": convention.kind, "revision": 1,
            "text_sha256": convention.text_sha256, "template_version": template.version,
        },
    )  # fmt: skip
    _tell(
        db,
        agent,
        initiative,
        review.promoter_ids(db, initiative),
        _("La convention de « %(title)s » est prête à être signée") % {"title": initiative.title},
        _("Relisez-la sur la page de l'initiative, puis signez-la en ligne ou sur papier avec la commune."),
        settings,
    )
    return convention


def regenerate(
    db: Session,
    agent: Actor,
    initiative: Initiative,
    upkeep_by: str | None = None,
    upkeep_months: int | None = None,
    *,
    settings: Settings | None = None,
) -> Convention:
    """Before the last signature: the text is generated again (revision + 1) and earlier signatures voided."""
    _agent(db, agent, initiative)
    review.lock_initiative(db, initiative)
    convention = convention_of(db, initiative)
    if convention is None:
        raise NotFound(_("Aucune convention n'est encore proposée pour cette initiative."))
    if convention.signed_at is not None:
        raise Conflict(_("La convention est signée : elle ne change plus que par un avenant."))
    if initiative.state != S.CONVENTION_PROPOSED:
        raise Conflict(
            _("Action impossible : l'initiative est « %(state)s ».") % {"state": workflow.state_label(initiative.state)}
        )
    months = convention.upkeep_months if upkeep_months is None else upkeep_months
    who = _check_upkeep(convention.upkeep_by if upkeep_by is None else upkeep_by, months)
    fund = _fund(db, initiative)
    template = clauses.ensure_template(db, fund, agent)
    draft = _draft(
        db, initiative, fund, clauses.view_of(template), number=convention.number, upkeep_by=who, upkeep_months=months
    )
    voided = 0
    for signature in _signatures(db, convention):
        if not signature.voided:
            signature.voided = True
            voided += 1
    previous = convention.text_sha256
    convention.revision += 1
    convention.template_id = template.id
    convention.kind = draft.kind.value
    convention.text = draft.text
    convention.text_sha256 = texts.sha256(draft.text)
    convention.snapshot = draft.snapshot
    convention.upkeep_by = who
    convention.upkeep_months = months
    db.flush()
    audit.record(
        db, agent, "convention.regenerate", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={
            "convention": convention.public_id, "revision": convention.revision, "from_sha256": previous,
            "text_sha256": convention.text_sha256, "voided_signatures": voided, "template_version": template.version,
        },
    )  # fmt: skip
    _tell(
        db,
        agent,
        initiative,
        review.promoter_ids(db, initiative),
        _("La convention de « %(title)s » a été mise à jour") % {"title": initiative.title},
        _(
            "Le texte a changé : relisez-le et signez à nouveau. Les signatures données sur l'ancien texte ne valent plus."
        ),
        settings,
    )
    return convention


# ---------------------------------------------------------------- signing


def _signatures(db: Session, convention: Convention, amendment_id: int | None = None) -> list[ConventionSignature]:
    stmt = select(ConventionSignature).where(
        ConventionSignature.convention_id == convention.id,
        ConventionSignature.territory_id == convention.territory_id,
    )
    if amendment_id is None:
        stmt = stmt.where(ConventionSignature.amendment_id.is_(None))
    else:
        stmt = stmt.where(ConventionSignature.amendment_id == amendment_id)
    return list(db.scalars(stmt.order_by(ConventionSignature.signed_at, ConventionSignature.id)))


def _valid(signatures: list[ConventionSignature], sha: str) -> dict[str, ConventionSignature]:
    """The first valid signature of each party on the text with this fingerprint."""
    found: dict[str, ConventionSignature] = {}
    for signature in signatures:
        if not signature.voided and signature.text_sha256 == sha:
            found.setdefault(signature.party, signature)
    return found


@dataclass(frozen=True)
class _Target:
    """What is being signed: the convention itself, or one of its amendments."""

    convention: Convention
    amendment: ConventionAmendment | None

    @property
    def sha(self) -> str:
        return self.amendment.text_sha256 if self.amendment is not None else self.convention.text_sha256

    @property
    def amendment_id(self) -> int | None:
        return self.amendment.id if self.amendment is not None else None

    @property
    def signed(self) -> bool:
        return (self.amendment.signed_at if self.amendment is not None else self.convention.signed_at) is not None


def _open_for_signature(initiative: Initiative, target: _Target) -> None:
    if target.amendment is not None:
        if target.amendment.cancelled_at is not None:
            raise Conflict(_("Cet avenant a été annulé : il ne se signe plus."))
        if target.amendment.signed_at is not None or initiative.state not in workflow.SIGNED_STATES:
            raise Conflict(_("Cet avenant ne peut plus être signé."))
        return
    if target.convention.signed_at is not None:
        raise Conflict(_("La convention est déjà signée par toutes les parties."))
    if initiative.state != S.CONVENTION_PROPOSED:
        raise Conflict(
            _("Action impossible : l'initiative est « %(state)s ».") % {"state": workflow.state_label(initiative.state)}
        )


def _check_hash(target: _Target, expected_sha256: str) -> None:
    if (expected_sha256 or "").strip().lower() != target.sha:
        raise Conflict(_("Le texte a changé depuis que vous l'avez ouvert : relisez-le, puis signez à nouveau."))


def _check_password(db: Session, actor: Actor, password: str) -> None:
    account = db.scalar(
        select(Account).where(
            Account.id == actor.account_id,
            Account.person_id == actor.person_id,
            Account.territory_id == actor.territory_id,
        )
    )
    if account is None or account.disabled_at is not None:
        raise Forbidden(
            _("Signer en ligne demande un compte actif : la commune peut enregistrer une signature sur papier.")
        )
    valid, _unused = verify_password(password or "", account.password_hash)
    if not valid:
        raise Invalid(
            _("Le mot de passe n'est pas le bon. Saisissez le mot de passe de votre compte."), field="password"
        )


def sign_online(
    db: Session,
    actor: Actor,
    convention: Convention,
    password: str,
    expected_sha256: str,
    *,
    amendment: ConventionAmendment | None = None,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> ConventionSignature:
    """A promoter (or the guardian) or the executive signs the convention, or ``amendment`` of it,
    in the app, typing the password again.

    ``expected_sha256`` is the fingerprint of the text the person read: if the text changed since,
    nothing is signed (Conflict). The last required signature signs the text.
    """
    target = _Target(convention, amendment)
    initiative = _initiative_of(db, convention)
    involvement = _involvement(db, actor, initiative)
    review.lock_initiative(db, initiative)
    signer = _signer(db, actor, involvement, convention.kind, _team(db, initiative))
    if signer.party is None:
        raise Forbidden(signer.blocker)
    _check_password(db, actor, password)
    _check_hash(target, expected_sha256)
    existing = _valid(_signatures(db, convention, target.amendment_id), target.sha).get(signer.party)
    if existing is not None:
        return existing  # this side has signed this exact text already: signing twice changes nothing
    _open_for_signature(initiative, target)
    person = db.get_one(Person, actor.person_id)
    signature = ConventionSignature(
        territory_id=convention.territory_id,
        convention_id=convention.id,
        amendment_id=target.amendment_id,
        party=signer.party.value,
        method=SignatureMethod.ONLINE.value,
        person_id=person.id,
        signatory_name=person.display_name[:NAME_MAX_LENGTH],
        signatory_capacity=signer.capacity[:NAME_MAX_LENGTH],
        signed_at=now or utcnow(),
        text_sha256=target.sha,
        revision=convention.revision,
        recorded_by_person_id=person.id,
    )
    return _record(db, actor, initiative, target, signature, settings=settings)


def _record(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    target: _Target,
    signature: ConventionSignature,
    *,
    settings: Settings | None,
) -> ConventionSignature:
    db.add(signature)
    db.flush()
    audit.record(
        db, actor, "convention.sign", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={
            "convention": target.convention.public_id,
            "amendment": target.amendment.public_id if target.amendment else None,
            "signature": signature.public_id, "party": signature.party, "method": signature.method,
            "text_sha256": signature.text_sha256, "revision": signature.revision,
        },
    )  # fmt: skip
    _complete_if_signed(db, initiative, target, signature.signed_at, settings=settings)
    return signature


def _complete_if_signed(
    db: Session, initiative: Initiative, target: _Target, moment: dt.datetime, *, settings: Settings | None
) -> None:
    convention = target.convention
    signed = _valid(_signatures(db, convention, target.amendment_id), target.sha)
    if not all(p.value in signed for p in required_parties(convention.kind)):
        return
    system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
    people = review.promoter_ids(db, initiative) + _agent_ids(initiative, convention)
    title = {"title": initiative.title}
    if target.amendment is not None:
        target.amendment.signed_at = moment
        db.flush()
        audit.record(
            db, system, "convention.amendment_signed", "initiative", initiative.public_id,
            territory_id=initiative.territory_id,
            data={"convention": convention.public_id, "amendment": target.amendment.public_id,
                  "number": target.amendment.number},
        )  # fmt: skip
        _tell(
            db, system, initiative, people,
            _("L'avenant n° %(n)s de « %(title)s » est signé") % {"n": target.amendment.number, **title},
            _("Toutes les parties ont signé l'avenant : il s'applique désormais."), settings,
        )  # fmt: skip
        return
    state = workflow.target_state(initiative.state, Action.SIGN_CONVENTION, workflow.Actor.SYSTEM)
    convention.signed_at = moment
    review.move(
        db, system, initiative, state, Action.SIGN_CONVENTION,
        data={"convention": convention.public_id, "revision": convention.revision, "text_sha256": convention.text_sha256},
    )  # fmt: skip
    _tell(
        db, system, initiative, people,
        _("La convention de « %(title)s » est signée") % title,
        _("Toutes les parties ont signé : le projet peut commencer. La convention signée ne change plus que par un avenant."),
        settings,
    )  # fmt: skip


def _store_scan(
    db: Session, actor: Actor, territory_id: int, scan: Upload, store: MediaStore | None, settings: Settings | None
) -> int:
    """Re-encodes the scan (an image: JPEG, PNG or WebP) and stores it; returns the stored file's id."""
    if store is None:
        store = media_store(settings or job_settings())
    row = media.store_image(db, actor, territory_id, scan, store=store, max_side=SCAN_MAX_SIDE, field="scan")
    return row.id


def record_paper_signature(
    db: Session,
    agent: Actor,
    convention: Convention,
    party: str,
    signatory_name: str,
    signatory_capacity: str,
    signed_on: dt.date | None,
    scan: Upload | None,
    expected_sha256: str | None = None,
    *,
    amendment: ConventionAmendment | None = None,
    now: dt.datetime | None = None,
    store: MediaStore | None = None,
    settings: Settings | None = None,
) -> ConventionSignature:
    """An agent records a signature given on paper for the convention, or ``amendment`` of it,
    with the scan of the signed page. ``expected_sha256`` (the text the agent printed) defaults to
    the current text."""
    target = _Target(convention, amendment)
    if expected_sha256 is None:
        expected_sha256 = target.sha
    initiative = _initiative_of(db, convention)
    _agent(db, agent, initiative)
    review.lock_initiative(db, initiative)
    parties = {p.value for p in required_parties(convention.kind)}
    if party not in parties:
        raise Invalid(_("Choisissez une des parties qui signent ce texte."), field="party")
    name = _required_text(signatory_name, "signatory_name", NAME_MAX_LENGTH)
    capacity = clean_text(signatory_capacity or "")[:NAME_MAX_LENGTH]
    moment = now or utcnow()
    if signed_on is None:
        raise Invalid(_("Indiquez la date écrite sous la signature."), field="signed_on")
    if signed_on > _local_date(moment, _timezone(db, initiative.territory_id)):
        raise Invalid(_("La date de signature ne peut pas être dans le futur."), field="signed_on")
    if scan is None:
        raise Invalid(_("Joignez le scan (ou une photo lisible) de la page signée."), field="scan")
    _check_hash(target, expected_sha256)
    _open_for_signature(initiative, target)
    if party in _valid(_signatures(db, convention, target.amendment_id), target.sha):
        raise Conflict(_("Cette partie a déjà signé ce texte."))
    file_id = _store_scan(db, agent, initiative.territory_id, scan, store, settings)
    signature = ConventionSignature(
        territory_id=convention.territory_id,
        convention_id=convention.id,
        amendment_id=target.amendment_id,
        party=party,
        method=SignatureMethod.PAPER.value,
        person_id=None,
        signatory_name=name,
        signatory_capacity=capacity,
        signed_on=signed_on,
        signed_at=moment,
        text_sha256=target.sha,
        revision=convention.revision,
        scan_file_id=file_id,
        recorded_by_person_id=agent.person_id,
    )
    return _record(db, agent, initiative, target, signature, settings=settings)


# ---------------------------------------------------------------- amendments


def _open_amendment(db: Session, convention: Convention) -> ConventionAmendment | None:
    return db.scalar(
        select(ConventionAmendment).where(
            ConventionAmendment.convention_id == convention.id,
            ConventionAmendment.signed_at.is_(None),
            ConventionAmendment.cancelled_at.is_(None),
        )
    )


def propose_amendment(
    db: Session,
    agent: Actor,
    convention: Convention,
    reason: str,
    changes: str,
    *,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> ConventionAmendment:
    """A change to a signed convention: its own text, signed by the same parties."""
    initiative = _initiative_of(db, convention)
    _agent(db, agent, initiative)
    review.lock_initiative(db, initiative)
    if convention.signed_at is None:
        raise Conflict(_("La convention n'est pas encore signée : mettez plutôt son texte à jour."))
    if initiative.state not in workflow.SIGNED_STATES:
        raise Conflict(
            _("Action impossible : l'initiative est « %(state)s ».") % {"state": workflow.state_label(initiative.state)}
        )
    if _open_amendment(db, convention) is not None:
        raise Conflict(_("Un avenant attend déjà les signatures : faites-le signer ou annulez-le d'abord."))
    why = _required_text(reason, "reason", REASON_MAX_LENGTH)
    what = (changes or "").strip()
    if not what:
        raise Invalid(_("Ce champ est obligatoire."), field="changes")
    if len(what) > CHANGES_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": CHANGES_MAX_LENGTH}, field="changes")
    number = (
        db.scalar(
            select(func.max(ConventionAmendment.number)).where(ConventionAmendment.convention_id == convention.id)
        )
        or 0
    ) + 1
    territory = db.get_one(Territory, initiative.territory_id)
    tz = _timezone(db, initiative.territory_id)
    body = texts.amendment_text(
        texts.AmendmentFacts(
            number=number,
            convention_number=convention.number,
            convention_kind=convention.kind,
            convention_signed_on=_local_date(convention.signed_at, tz),
            title=initiative.title,
            town=territory.name,
            reason=why,
            changes=what,
            small=convention.kind == ConventionKind.COMMITMENT,
        )
    )
    amendment = ConventionAmendment(
        territory_id=convention.territory_id,
        convention_id=convention.id,
        number=number,
        reason=why,
        changes=what,
        text=body,
        text_sha256=texts.sha256(body),
        proposed_at=now or utcnow(),
        proposed_by_person_id=agent.person_id,
    )
    db.add(amendment)
    db.flush()
    audit.record(
        db, agent, "convention.amendment_propose", "initiative", initiative.public_id,
        territory_id=initiative.territory_id,
        data={"convention": convention.public_id, "amendment": amendment.public_id, "number": number,
              "text_sha256": amendment.text_sha256},
    )  # fmt: skip
    _tell(
        db,
        agent,
        initiative,
        review.promoter_ids(db, initiative),
        _("Un avenant à la convention de « %(title)s » est à signer") % {"title": initiative.title},
        why,
        settings,
    )
    return amendment


def cancel_amendment(
    db: Session, agent: Actor, amendment: ConventionAmendment, reason: str = "", *, settings: Settings | None = None
) -> ConventionAmendment:
    """An amendment not signed by everyone yet is withdrawn; its signatures are voided, never deleted."""
    convention = db.get_one(Convention, amendment.convention_id)
    initiative = _initiative_of(db, convention)
    _agent(db, agent, initiative)
    review.lock_initiative(db, initiative)
    if amendment.signed_at is not None:
        raise Conflict(_("Cet avenant est signé : il ne s'annule plus ; un nouvel avenant peut le modifier."))
    if amendment.cancelled_at is not None:
        raise Conflict(_("Cet avenant est déjà annulé."))
    amendment.cancelled_at = utcnow()
    for signature in _signatures(db, convention, amendment.id):
        signature.voided = True
    db.flush()
    audit.record(
        db, agent, "convention.amendment_cancel", "initiative", initiative.public_id,
        territory_id=initiative.territory_id, reason=clean_text(reason or "")[:REASON_MAX_LENGTH],
        data={"convention": convention.public_id, "amendment": amendment.public_id, "number": amendment.number},
    )  # fmt: skip
    _tell(
        db,
        agent,
        initiative,
        review.promoter_ids(db, initiative),
        _("L'avenant n° %(n)s de « %(title)s » est annulé") % {"n": amendment.number, "title": initiative.title},
        _("La convention signée reste valable telle quelle."),
        settings,
    )
    return amendment


# ---------------------------------------------------------------- unsigned conventions release the envelope


@dataclass
class ReleaseReport:
    reminded: list[str] = dataclasses.field(default_factory=list)
    abandoned: list[str] = dataclasses.field(default_factory=list)
    released_cents: int = 0
    committed_from_waiting_list: list[str] = dataclasses.field(default_factory=list)


def release_on(db: Session, convention: Convention, initiative: Initiative) -> dt.date:
    """The day the envelope is released if the convention is still unsigned, counted from the first
    proposal: regenerating the text does not give the signatories a new delay."""
    fund = db.get(Fund, initiative.fund_id) if initiative.fund_id is not None else None
    days = fund.unsigned_release_days if fund is not None else DEFAULT_RELEASE_DAYS
    return _local_date(convention.proposed_at, _timezone(db, initiative.territory_id)) + dt.timedelta(days=days)


def release_unsigned(db: Session, *, now: dt.datetime | None = None, settings: Settings | None = None) -> ReleaseReport:
    """Abandons the initiatives whose convention stayed unsigned past their fund's delay (releasing
    their envelope, which commits the next waiting initiatives), after one reminder 7 days before.
    Safe to run twice: an abandoned initiative no longer matches, a reminder is sent once."""
    moment = now or utcnow()
    report = ReleaseReport()
    rows = db.execute(
        select(Convention, Initiative)
        .join(Initiative, Initiative.id == Convention.initiative_id)
        .where(Convention.signed_at.is_(None), Initiative.state == S.CONVENTION_PROPOSED)
        .order_by(Convention.proposed_at, Convention.id)
    ).all()
    for convention, initiative in rows:
        tz = _timezone(db, initiative.territory_id)
        today = _local_date(moment, tz)
        deadline = release_on(db, convention, initiative)
        if today >= deadline:
            _abandon_unsigned(db, convention, initiative, deadline, report, settings)
        elif convention.reminded_at is None and today >= deadline - dt.timedelta(days=REMIND_DAYS_BEFORE):
            _remind(db, convention, initiative, deadline, moment, settings)
            report.reminded.append(initiative.public_id)
    return report


def _remind(
    db: Session,
    convention: Convention,
    initiative: Initiative,
    deadline: dt.date,
    moment: dt.datetime,
    settings: Settings | None,
) -> None:
    system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
    convention.reminded_at = moment
    db.flush()
    audit.record(
        db, system, "convention.remind", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={"convention": convention.public_id, "release_on": deadline.isoformat()},
    )  # fmt: skip
    _tell(
        db,
        system,
        initiative,
        review.promoter_ids(db, initiative) + _agent_ids(initiative, convention),
        _("La convention de « %(title)s » attend votre signature") % {"title": initiative.title},
        _(
            "Sans signature de toutes les parties d'ici le %(date)s, les crédits réservés pour le projet seront "
            "libérés et l'initiative abandonnée."
        )
        % {"date": i18n.date(deadline)},
        settings,
    )


def _abandon_unsigned(
    db: Session,
    convention: Convention,
    initiative: Initiative,
    deadline: dt.date,
    report: ReleaseReport,
    settings: Settings | None,
) -> None:
    system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
    review.lock_initiative(db, initiative)
    target = workflow.target_state(initiative.state, Action.ABANDON, workflow.Actor.SYSTEM)
    fund = db.get(Fund, initiative.fund_id) if initiative.fund_id is not None else None
    days = fund.unsigned_release_days if fund is not None else DEFAULT_RELEASE_DAYS
    envelope = ledger.envelope_for(db, initiative) if initiative.committed_envelope_id is not None else None
    released = ledger.release_envelope(db, initiative)
    reason = _("convention non signée dans les %(n)s jours") % {"n": days}
    review.move(
        db, system, initiative, target, Action.ABANDON, reason=reason,
        data={"convention": convention.public_id, "released_cents": released, "release_on": deadline.isoformat()},
    )  # fmt: skip
    _tell(
        db,
        system,
        initiative,
        review.promoter_ids(db, initiative) + _agent_ids(initiative, convention),
        _("L'initiative « %(title)s » est abandonnée") % {"title": initiative.title},
        _(
            "La convention n'a pas été signée dans les %(n)s jours : les crédits réservés pour le projet sont "
            "libérés. Vous pouvez en parler avec la commune et proposer à nouveau votre projet."
        )
        % {"n": days},
        settings,
    )
    report.abandoned.append(initiative.public_id)
    report.released_cents += released
    if envelope is not None and released:
        for committed in review.process_releases(db, envelope, settings=settings):
            report.committed_from_waiting_list.append(committed.public_id)


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class SignatureView:
    public_id: str
    party: str
    party_label: str
    method: str
    method_label: str
    signatory_name: str
    signatory_capacity: str
    signed_at: dt.datetime
    signed_on: dt.date | None
    revision: int
    text_sha256: str
    voided: bool
    current: bool  # on the text as it is now
    has_scan: bool


@dataclass(frozen=True)
class PartyStatus:
    party: str
    label: str
    signed: bool
    signatory: str


@dataclass(frozen=True)
class SigningState:
    parties: list[PartyStatus]
    signatures: list[SignatureView]
    sign_as: str | None  # the party this viewer may sign for now
    sign_as_label: str
    blocker: str
    paper_parties: list[tuple[str, str]]  # the parties still to sign, for the paper form
    complete: bool


@dataclass(frozen=True)
class AmendmentView:
    amendment: ConventionAmendment
    signing: SigningState
    open: bool
    can_record_paper: bool
    can_cancel: bool


@dataclass(frozen=True)
class ConventionPage:
    initiative: Initiative
    convention: Convention
    kind_label: str
    template_version: int
    signing: SigningState
    is_staff: bool
    can_record_paper: bool
    can_regenerate: bool
    can_amend: bool
    amendments: list[AmendmentView]
    release_on: dt.date | None


def _signature_view(signature: ConventionSignature, sha: str) -> SignatureView:
    return SignatureView(
        public_id=signature.public_id,
        party=signature.party,
        party_label=_(PARTY_LABELS.get(signature.party, signature.party)),
        method=signature.method,
        method_label=_(METHOD_LABELS.get(signature.method, signature.method)),
        signatory_name=signature.signatory_name,
        signatory_capacity=signature.signatory_capacity,
        signed_at=signature.signed_at,
        signed_on=signature.signed_on,
        revision=signature.revision,
        text_sha256=signature.text_sha256,
        voided=signature.voided,
        current=not signature.voided and signature.text_sha256 == sha,
        has_scan=signature.scan_file_id is not None,
    )


def _signing(
    db: Session,
    viewer: Actor,
    involvement: perm.Involvement,
    team: Team,
    target: _Target,
    open_now: bool,
) -> SigningState:
    kind = target.convention.kind
    signatures = _signatures(db, target.convention, target.amendment_id)
    valid = _valid(signatures, target.sha)
    parties = [
        PartyStatus(
            p.value, _(PARTY_LABELS[p]), p.value in valid, valid[p.value].signatory_name if p.value in valid else ""
        )
        for p in required_parties(kind)
    ]
    signer = _signer(db, viewer, involvement, kind, team)
    sign_as = signer.party.value if signer.party is not None and open_now and signer.party.value not in valid else None
    return SigningState(
        parties=parties,
        signatures=[_signature_view(s, target.sha) for s in signatures],
        sign_as=sign_as,
        sign_as_label=signer.capacity if sign_as else "",
        blocker=signer.blocker if open_now else "",
        paper_parties=[(p.party, p.label) for p in parties if not p.signed] if open_now else [],
        complete=all(p.signed for p in parties),
    )


def convention_page(db: Session, viewer: Actor, initiative: Initiative) -> ConventionPage:
    involvement = _involvement(db, viewer, initiative)
    convention = convention_of(db, initiative)
    if convention is None:
        raise NotFound(_("Aucune convention n'est encore proposée pour cette initiative."))
    team = _team(db, initiative)
    agent = perm.can_review(viewer, involvement)
    open_convention = convention.signed_at is None and initiative.state == S.CONVENTION_PROPOSED
    signed_open = convention.signed_at is not None and initiative.state in workflow.SIGNED_STATES
    amendments = []
    rows = db.scalars(
        select(ConventionAmendment)
        .where(ConventionAmendment.convention_id == convention.id)
        .order_by(ConventionAmendment.number)
    )
    has_open = False
    for amendment in rows:
        is_open = amendment.signed_at is None and amendment.cancelled_at is None and signed_open
        has_open = has_open or (amendment.signed_at is None and amendment.cancelled_at is None)
        amendments.append(
            AmendmentView(
                amendment=amendment,
                signing=_signing(db, viewer, involvement, team, _Target(convention, amendment), is_open),
                open=is_open,
                can_record_paper=agent and is_open,
                can_cancel=agent and amendment.signed_at is None and amendment.cancelled_at is None,
            )
        )
    version = db.scalar(select(ConventionTemplate.version).where(ConventionTemplate.id == convention.template_id)) or 0
    return ConventionPage(
        initiative=initiative,
        convention=convention,
        kind_label=kind_label(convention.kind),
        template_version=version,
        signing=_signing(db, viewer, involvement, team, _Target(convention, None), open_convention),
        is_staff=perm.is_staff(viewer),
        can_record_paper=agent and open_convention,
        can_regenerate=agent and open_convention,
        can_amend=agent and signed_open and not has_open,
        amendments=amendments,
        release_on=release_on(db, convention, initiative) if open_convention else None,
    )


@dataclass(frozen=True)
class ConventionPanel:
    """The convention's box on the initiative page (promoters and staff only)."""

    initiative_public_id: str
    number: str
    kind_label: str
    signed_at: dt.datetime | None
    missing: list[str]
    can_propose: bool
    can_sign: bool
    release_on: dt.date | None
    open_amendments: int


def panel(db: Session, viewer: Actor | None, initiative: Initiative) -> ConventionPanel | None:
    """None when there is nothing to show this viewer (the public never sees the convention)."""
    if viewer is None or not may_see(db, viewer, initiative):
        return None
    involvement = review.involvement_of(db, viewer, initiative)
    convention = convention_of(db, initiative)
    if convention is None:
        can_propose = initiative.state == S.APPROVED and perm.can_review(viewer, involvement)
        if not can_propose:
            return None
        return ConventionPanel(initiative.public_id, "", "", None, [], True, False, None, 0)
    page = convention_page(db, viewer, initiative)
    open_amendments = sum(1 for a in page.amendments if a.open)
    can_sign = page.signing.sign_as is not None or any(a.signing.sign_as for a in page.amendments)
    return ConventionPanel(
        initiative_public_id=initiative.public_id,
        number=convention.number,
        kind_label=page.kind_label,
        signed_at=convention.signed_at,
        missing=[p.label for p in page.signing.parties if not p.signed],
        can_propose=False,
        can_sign=can_sign,
        release_on=page.release_on,
        open_amendments=open_amendments,
    )


@dataclass(frozen=True)
class ProposePage:
    initiative: Initiative
    kind: ConventionKind
    kind_label: str
    upkeep_by: str
    upkeep_months: int
    preview: str
    template_version: int


def propose_page(
    db: Session, agent: Actor, initiative: Initiative, upkeep_by: str | None = None, upkeep_months: int | None = None
) -> ProposePage:
    """The proposal form's defaults and a preview of the text (nothing is written)."""
    _agent(db, agent, initiative)
    workflow.target_state(initiative.state, Action.PROPOSE_CONVENTION, workflow.Actor.AGENT)
    fund = _fund(db, initiative)
    template = clauses.current_view(db, fund)
    who = upkeep_by if upkeep_by is not None else default_upkeep_by(db, initiative)
    months = upkeep_months if upkeep_months is not None else template.default_upkeep_months
    year = _local_date(utcnow(), _timezone(db, initiative.territory_id)).year
    draft = _draft(
        db, initiative, fund, template, number=_number(db, initiative.territory_id, year), upkeep_by=who,
        upkeep_months=months,
    )  # fmt: skip
    return ProposePage(initiative, draft.kind, kind_label(draft.kind), who, months, draft.text, template.version)


# ---------------------------------------------------------------- the scan of a paper signature


def scan_of(db: Session, viewer: Actor, initiative: Initiative, signature_public_id: str) -> StoredFile:
    """The scan of a paper signature, for the promoters and the town's staff only (404 otherwise)."""
    convention = get_convention(db, viewer, initiative)
    file_id = db.scalar(
        select(ConventionSignature.scan_file_id).where(
            ConventionSignature.convention_id == convention.id,
            ConventionSignature.territory_id == initiative.territory_id,
            ConventionSignature.public_id == signature_public_id,
        )
    )
    if file_id is None:
        raise NotFound(_("Ce scan n'existe pas."))
    return media.get_stored_file(db, initiative.territory_id, file_id)


# ---------------------------------------------------------------- personal data


@register_section("convention_signatures")
def _my_signatures(db: Session, person: Person) -> list[dict[str, Any]]:
    """The conventions and amendments the person signed online (paper scans stay with the town)."""
    rows = db.execute(
        select(ConventionSignature, Convention.number, Initiative.public_id, Initiative.title)
        .join(Convention, Convention.id == ConventionSignature.convention_id)
        .join(Initiative, Initiative.id == Convention.initiative_id)
        .where(ConventionSignature.person_id == person.id, ConventionSignature.territory_id == person.territory_id)
        .order_by(ConventionSignature.signed_at, ConventionSignature.id)
    ).all()
    return [
        {
            "public_id": s.public_id,
            "convention_number": number,
            "initiative": initiative_public_id,
            "initiative_title": title,
            "amendment": s.amendment_id is not None,
            "party": s.party,
            "method": s.method,
            "signatory_name": s.signatory_name,
            "signatory_capacity": s.signatory_capacity,
            "signed_at": s.signed_at.isoformat(),
            "text_sha256": s.text_sha256,
            "revision": s.revision,
            "voided": s.voided,
        }
        for s, number, initiative_public_id, title in rows
    ]
