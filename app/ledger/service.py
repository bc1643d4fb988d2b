"""The two-sided ledger: lines, the live balance (match, cap, envelope, leverage) and the envelope.

Every line copies the rate or unit value in force when it is written; totals count the lines
that are not cancelled. The envelope is the one hard limit: ``commit_envelope`` moves money
only under a row lock and never past the envelope's amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.funds import service as funds
from app.funds.models import Enforcement, Fund, FundEnvelope, RateKind
from app.initiatives.models import (
    LEGAL_PERSON_KINDS,
    Beneficiary,
    Initiative,
    InitiativeMember,
    InitiativeState,
    MemberRole,
    ProjectType,
)
from app.ledger import permissions
from app.ledger.models import CommitmentLine, LineKind, LineState, Side, Unit
from app.ledger.valuation import line_value
from app.territories.models import Neighbourhood, Territory
from app.web.i18n import N_, _, money

if TYPE_CHECKING:
    from app.ledger.realisations import SideDone

K = LineKind
SIDE_KINDS: dict[Side, tuple[LineKind, ...]] = {
    Side.RESIDENTS: (K.VOLUNTEER_HOURS, K.DONATED_MATERIALS, K.DONATED_SERVICES, K.RESIDENTS_CASH),
    Side.TOWN: (K.PURCHASE, K.SUBSIDY, K.STOCK_MATERIALS, K.EQUIPMENT_LOAN, K.STAFF_HOURS, K.LOGISTICS),
    Side.PARTNERS: (K.PARTNER_CASH, K.PARTNER_IN_KIND),
}
KIND_SIDE: dict[LineKind, Side] = {kind: side for side, kinds in SIDE_KINDS.items() for kind in kinds}
# Kinds valued from the dated rate table (the rate in force on the start date is copied).
KIND_RATE: dict[LineKind, RateKind] = {
    K.VOLUNTEER_HOURS: RateKind.VOLUNTEER_HOUR,
    K.DONATED_SERVICES: RateKind.PROFESSIONAL_HOUR,
    K.STAFF_HOURS: RateKind.STAFF_HOUR,
    K.EQUIPMENT_LOAN: RateKind.EQUIPMENT_DAY,
}
TIMED_KINDS = frozenset({K.VOLUNTEER_HOURS, K.DONATED_SERVICES, K.STAFF_HOURS})
TOWN_CASH_KINDS = frozenset({K.PURCHASE, K.SUBSIDY})
APPROVED_STATES = frozenset(
    {
        InitiativeState.APPROVED,
        InitiativeState.AWAITING_ENVELOPE,
        InitiativeState.CONVENTION_PROPOSED,
        InitiativeState.CONVENTION_SIGNED,
        InitiativeState.IN_PROGRESS,
        InitiativeState.DELIVERED,
        InitiativeState.EVALUATED,
        InitiativeState.ABANDONED,
    }
)
MAX_INSTALMENTS = 24

SIDE_LABELS: dict[str, str] = {
    Side.RESIDENTS: N_("Apport des habitant·es"),
    Side.TOWN: N_("Apport de la commune"),
    Side.PARTNERS: N_("Apport des partenaires"),
}
KIND_LABELS: dict[str, str] = {
    K.VOLUNTEER_HOURS: N_("Heures de bénévolat"),
    K.DONATED_MATERIALS: N_("Matériaux donnés"),
    K.DONATED_SERVICES: N_("Prestation professionnelle offerte (heures)"),
    K.RESIDENTS_CASH: N_("Apport en argent des habitant·es"),
    K.PURCHASE: N_("Achat par la commune"),
    K.SUBSIDY: N_("Subvention"),
    K.STOCK_MATERIALS: N_("Matériaux du stock communal"),
    K.EQUIPMENT_LOAN: N_("Prêt de matériel (jours)"),
    K.STAFF_HOURS: N_("Heures d'agent·es de la commune"),
    K.LOGISTICS: N_("Logistique"),
    K.PARTNER_CASH: N_("Apport en argent d'un partenaire"),
    K.PARTNER_IN_KIND: N_("Apport en nature d'un partenaire"),
}
STATE_LABELS: dict[str, str] = {
    LineState.PLEDGED: N_("promis"),
    LineState.SECURED: N_("confirmé"),
    LineState.CANCELLED: N_("annulé"),
}


def unit_of(kind: LineKind) -> Unit:
    if kind in TIMED_KINDS:
        return Unit.MINUTES
    if kind is K.EQUIPMENT_LOAN:
        return Unit.DAYS
    return Unit.UNITS


# ---------------------------------------------------------------- lookups


def get_initiative(db: Session, territory_id: int, public_id: str, *, for_update: bool = False) -> Initiative:
    stmt = select(Initiative).where(Initiative.territory_id == territory_id, Initiative.public_id == public_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    initiative = db.scalar(stmt)
    if initiative is None:
        raise NotFound(_("Cette initiative n'existe pas."))
    return initiative


def is_member(db: Session, initiative: Initiative, actor: Actor | None) -> bool:
    """An accepted promoter, co-promoter or guardian of the initiative."""
    if actor is None or actor.person_id is None or actor.territory_id != initiative.territory_id:
        return False
    found = db.scalar(
        select(InitiativeMember.id).where(
            InitiativeMember.initiative_id == initiative.id,
            InitiativeMember.person_id == actor.person_id,
            InitiativeMember.accepted_at.is_not(None),
        )
    )
    return found is not None


def active_lines(db: Session, initiative: Initiative) -> list[CommitmentLine]:
    return list(
        db.scalars(
            select(CommitmentLine)
            .where(CommitmentLine.initiative_id == initiative.id, CommitmentLine.state != LineState.CANCELLED)
            .order_by(CommitmentLine.id)
        )
    )


def all_lines(db: Session, initiative: Initiative) -> list[CommitmentLine]:
    return list(
        db.scalars(
            select(CommitmentLine).where(CommitmentLine.initiative_id == initiative.id).order_by(CommitmentLine.id)
        )
    )


def valuation_day(db: Session, initiative: Initiative) -> dt.date:
    """The day whose rates value the in-kind lines: the start date, or today."""
    return initiative.start_on or funds.territory_today(db, initiative.territory_id)


# ---------------------------------------------------------------- writing lines


@dataclass(frozen=True)
class LineInput:
    """A line as entered (already parsed: minutes, days or units; cents)."""

    kind: LineKind
    label: str
    quantity: int
    side: Side | None = None
    unit_value_cents: int | None = None
    equipment: str = ""
    due_on: dt.date | None = None
    supplier: str = ""
    invoice_reference: str = ""
    commitment_number: str = ""
    instalments: int = 1
    partner_name: str = ""
    notes: str = ""


def build_line(db: Session, initiative: Initiative, data: LineInput, person_id: int | None = None) -> CommitmentLine:
    """A valid line, valued with the rate in force, not added to the session (``Invalid`` otherwise)."""
    kind = LineKind(data.kind)
    side = KIND_SIDE[kind]
    if data.side is not None and Side(data.side) is not side:
        raise Invalid(_("Ce type d'apport ne correspond pas à ce côté du registre."), field="kind")
    label = data.label.strip() or data.equipment.strip()
    if not label:
        raise Invalid(_("Décrivez l'apport en quelques mots."), field="label")
    unit = unit_of(kind)
    rate_id: int | None = None
    if kind in KIND_RATE:
        rate_label = data.equipment.strip() if kind is K.EQUIPMENT_LOAN else ""
        if kind is K.EQUIPMENT_LOAN and not rate_label:
            raise Invalid(_("Choisissez le matériel prêté."), field="equipment")
        try:
            rate = funds.rate_on(
                db, initiative.territory_id, KIND_RATE[kind], valuation_day(db, initiative), rate_label
            )
        except Invalid as exc:
            raise Invalid(exc.message, field="equipment" if rate_label else "kind") from None
        unit_value, rate_id = rate.value_cents, rate.id
    else:
        if data.unit_value_cents is None:
            raise Invalid(_("Indiquez la valeur en euros."), field="unit_value")
        unit_value = data.unit_value_cents
    try:
        value = line_value(data.quantity, unit, unit_value)
    except ValueError as exc:
        raise Invalid(str(exc), field="quantity") from None
    if kind is K.SUBSIDY:
        beneficiary = db.get(Beneficiary, initiative.beneficiary_id) if initiative.beneficiary_id else None
        if beneficiary is None or beneficiary.kind not in LEGAL_PERSON_KINDS:
            raise Invalid(_("Une subvention ne se verse qu'à une personne morale (association, école)."), field="kind")
        if not 1 <= data.instalments <= MAX_INSTALMENTS:
            raise Invalid(_("Entre 1 et %(n)s versements.") % {"n": MAX_INSTALMENTS}, field="instalments")
    if side is Side.PARTNERS and not data.partner_name.strip():
        raise Invalid(_("Indiquez le nom du partenaire."), field="partner_name")
    purchase = kind is K.PURCHASE
    return CommitmentLine(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        side=side.value,
        kind=kind.value,
        label=label[:300],
        quantity=data.quantity,
        unit=unit.value,
        unit_value_cents=unit_value,
        rate_id=rate_id,
        value_cents=value,
        is_town_cash=kind in TOWN_CASH_KINDS,
        state=LineState.PLEDGED.value,
        due_on=data.due_on,
        supplier=data.supplier.strip() if purchase else "",
        invoice_reference=data.invoice_reference.strip() if purchase else "",
        commitment_number=data.commitment_number.strip() if purchase else "",
        partner_name=data.partner_name.strip() if side is Side.PARTNERS else "",
        instalments=data.instalments if kind is K.SUBSIDY else 1,
        notes=data.notes.strip(),
        created_by_person_id=person_id,
    )


def _writable_initiative(
    db: Session, actor: Actor, territory_id: int, public_id: str, side: str
) -> tuple[Initiative, bool]:
    """The initiative, locked, if this person may write this side now: 404 / 403 / 409 otherwise."""
    initiative = get_initiative(db, territory_id, public_id, for_update=True)
    member = is_member(db, initiative, actor)
    if not permissions.can_see_ledger(actor, initiative, is_member=member):
        raise NotFound(_("Cette initiative n'existe pas."))
    if not permissions.may_write_side(actor, initiative, side, is_member=member):
        raise Forbidden(_("Vous ne pouvez pas modifier cette partie du registre."))
    if not permissions.ledger_open(actor, initiative, is_member=member):
        raise Conflict(
            _("Le registre est figé depuis la décision : il ne change plus que par un avenant.")
            if initiative.state not in permissions.AGENT_WRITABLE_STATES
            else _("Le registre ne peut pas être modifié dans l'état actuel de l'initiative.")
        )
    return initiative, member


def add_line(
    db: Session, actor: Actor, initiative_public_id: str, territory_id: int, data: LineInput
) -> CommitmentLine:
    side = KIND_SIDE[LineKind(data.kind)]
    initiative, _member = _writable_initiative(db, actor, territory_id, initiative_public_id, side)
    line = build_line(db, initiative, data, actor.person_id)
    db.add(line)
    db.flush()
    audit.record(
        db,
        actor,
        "ledger.add_line",
        "initiative",
        initiative.public_id,
        territory_id=territory_id,
        data={
            "line": line.public_id,
            "side": line.side,
            "kind": line.kind,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_value_cents": line.unit_value_cents,
            "rate_id": line.rate_id,
            "value_cents": line.value_cents,
        },
    )
    return line


def preview_line(db: Session, actor: Actor, initiative: Initiative, data: LineInput) -> CommitmentLine:
    """The line as it would be written, for the live preview: never added to the session."""
    member = is_member(db, initiative, actor)
    if not permissions.can_see_ledger(actor, initiative, is_member=member):
        raise NotFound(_("Cette initiative n'existe pas."))
    if not permissions.can_add_line(actor, initiative, KIND_SIDE[LineKind(data.kind)], is_member=member):
        raise Forbidden(_("Vous ne pouvez pas modifier cette partie du registre."))
    return build_line(db, initiative, data, actor.person_id)


def _line(db: Session, initiative: Initiative, line_public_id: str) -> CommitmentLine:
    line = db.scalar(
        select(CommitmentLine).where(
            CommitmentLine.initiative_id == initiative.id, CommitmentLine.public_id == line_public_id
        )
    )
    if line is None:
        raise NotFound(_("Cette ligne n'existe pas."))
    return line


def cancel_line(
    db: Session, actor: Actor, initiative_public_id: str, territory_id: int, line_public_id: str, reason: str = ""
) -> CommitmentLine:
    initiative = get_initiative(db, territory_id, initiative_public_id)
    line = _line(db, initiative, line_public_id)
    initiative, _member = _writable_initiative(db, actor, territory_id, initiative_public_id, line.side)
    if line.state == LineState.CANCELLED:
        raise Conflict(_("Cette ligne est déjà annulée."))
    line.state = LineState.CANCELLED.value
    line.cancelled_at = utcnow()
    db.flush()
    audit.record(
        db,
        actor,
        "ledger.cancel_line",
        "initiative",
        initiative.public_id,
        territory_id=territory_id,
        reason=reason,
        data={"line": line.public_id, "side": line.side, "value_cents": line.value_cents},
    )
    return line


def secure_line(
    db: Session, actor: Actor, initiative_public_id: str, territory_id: int, line_public_id: str
) -> CommitmentLine:
    """A pledge confirmed (pledged -> secured), by an agent."""
    initiative = get_initiative(db, territory_id, initiative_public_id, for_update=True)
    member = is_member(db, initiative, actor)
    if not permissions.can_see_ledger(actor, initiative, is_member=member):
        raise NotFound(_("Cette initiative n'existe pas."))
    if not permissions.is_staff(actor, initiative):
        raise Forbidden(_("Seul·es les agent·es confirment un apport."))
    line = _line(db, initiative, line_public_id)
    if not permissions.can_secure_line(actor, initiative, line):
        raise Conflict(_("Seul un apport promis peut être confirmé, et pas dans l'état actuel de l'initiative."))
    line.state = LineState.SECURED.value
    db.flush()
    audit.record(
        db,
        actor,
        "ledger.secure_line",
        "initiative",
        initiative.public_id,
        territory_id=territory_id,
        data={"line": line.public_id, "side": line.side, "value_cents": line.value_cents},
    )
    return line


# ---------------------------------------------------------------- the balance (pure maths in ``evaluate``)


@dataclass(frozen=True)
class Totals:
    residents_value_cents: int = 0
    town_value_cents: int = 0
    town_cash_cents: int = 0
    partners_value_cents: int = 0


@dataclass(frozen=True)
class Rules:
    k_percent: int = 100
    partners_count: bool = True
    cap_cents: int | None = None
    enforcement: str = Enforcement.WARN
    # None: no envelope is open for this initiative's fund and year.
    envelope_left_cents: int | None = None
    # What this initiative already holds in its envelope (counted as available to it).
    already_committed_cents: int = 0
    small_project_threshold_cents: int = 0
    fiscal_year: int | None = None


@dataclass(frozen=True)
class Balance:
    residents_value_cents: int
    town_value_cents: int
    town_cash_cents: int
    partners_value_cents: int
    k_percent: int
    counted_residents_cents: int
    required_residents_cents: int
    match_ok: bool
    cap_cents: int | None
    cap_ok: bool
    envelope_left_cents: int | None
    envelope_ok: bool
    leverage_residents_per_town: Decimal | None
    leverage_town_per_residents: Decimal | None
    enforcement: str
    is_small_project: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def all_ok(self) -> bool:
        return self.match_ok and self.cap_ok and self.envelope_ok


def totals_of(lines: list[CommitmentLine]) -> Totals:
    live = [line for line in lines if line.state != LineState.CANCELLED]
    return Totals(
        residents_value_cents=sum(line.value_cents for line in live if line.side == Side.RESIDENTS),
        town_value_cents=sum(line.value_cents for line in live if line.side == Side.TOWN),
        town_cash_cents=sum(line.value_cents for line in live if line.side == Side.TOWN and line.is_town_cash),
        partners_value_cents=sum(line.value_cents for line in live if line.side == Side.PARTNERS),
    )


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if denominator <= 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def evaluate(totals: Totals, rules: Rules) -> Balance:
    """The match, cap and envelope checks and the leverage, from the totals and the rules."""
    counted = totals.residents_value_cents + (totals.partners_value_cents if rules.partners_count else 0)
    # ceil(k x town / 100) in integers.
    required = -(-rules.k_percent * totals.town_value_cents // 100)
    match_ok = counted >= required
    cap_ok = rules.cap_cents is None or totals.town_cash_cents <= rules.cap_cents
    needed = max(0, totals.town_cash_cents - rules.already_committed_cents)
    envelope_ok = needed == 0 or (rules.envelope_left_cents is not None and needed <= rules.envelope_left_cents)
    warnings: list[str] = []
    if rules.enforcement != Enforcement.OFF:
        if not match_ok:
            warnings.append(
                _(
                    "L'apport des habitant·es (%(counted)s) n'atteint pas l'apport attendu de %(required)s "
                    "(%(k)s %% de l'apport de la commune)."
                )
                % {"counted": money(counted), "required": money(required), "k": rules.k_percent}
            )
        if not cap_ok and rules.cap_cents is not None:
            warnings.append(
                _("La dépense de la commune (%(cash)s) dépasse le plafond de %(cap)s par initiative.")
                % {"cash": money(totals.town_cash_cents), "cap": money(rules.cap_cents)}
            )
    if not envelope_ok:
        if rules.envelope_left_cents is None:
            warnings.append(_("Aucune enveloppe n'est ouverte pour cet exercice : la commune ne peut rien engager."))
        else:
            warnings.append(
                _("L'enveloppe n'a plus que %(left)s disponibles pour %(needed)s demandés.")
                % {"left": money(rules.envelope_left_cents), "needed": money(needed)}
            )
    return Balance(
        residents_value_cents=totals.residents_value_cents,
        town_value_cents=totals.town_value_cents,
        town_cash_cents=totals.town_cash_cents,
        partners_value_cents=totals.partners_value_cents,
        k_percent=rules.k_percent,
        counted_residents_cents=counted,
        required_residents_cents=required,
        match_ok=match_ok,
        cap_cents=rules.cap_cents,
        cap_ok=cap_ok,
        envelope_left_cents=rules.envelope_left_cents,
        envelope_ok=envelope_ok,
        leverage_residents_per_town=_ratio(counted, totals.town_value_cents),
        leverage_town_per_residents=_ratio(totals.town_value_cents, counted),
        enforcement=rules.enforcement,
        is_small_project=totals.town_value_cents < rules.small_project_threshold_cents,
        warnings=warnings,
    )


def initiative_fiscal_year(db: Session, initiative: Initiative) -> int:
    if initiative.fiscal_year is not None:
        return initiative.fiscal_year
    territory = db.get_one(Territory, initiative.territory_id)
    return funds.fiscal_year_of(valuation_day(db, initiative), territory.settings.fifty_fifty.fiscal_year_start_month)


def envelope_for(db: Session, initiative: Initiative, *, for_update: bool = False) -> FundEnvelope | None:
    """The envelope the initiative draws on: the one it holds money in, else its neighbourhood's
    envelope for its fund and fiscal year if there is one, else the fund's overall envelope."""
    if initiative.committed_envelope_id is not None:
        stmt = select(FundEnvelope).where(FundEnvelope.id == initiative.committed_envelope_id)
    else:
        if initiative.fund_id is None:
            return None
        year = initiative_fiscal_year(db, initiative)
        base = select(FundEnvelope).where(FundEnvelope.fund_id == initiative.fund_id, FundEnvelope.fiscal_year == year)
        if initiative.neighbourhood_id is not None:
            own = db.scalar(base.where(FundEnvelope.neighbourhood_id == initiative.neighbourhood_id))
            if own is not None:
                base = select(FundEnvelope).where(FundEnvelope.id == own.id)
            else:
                base = base.where(FundEnvelope.neighbourhood_id.is_(None))
        else:
            base = base.where(FundEnvelope.neighbourhood_id.is_(None))
        stmt = base
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.scalar(stmt)


def is_first_time(db: Session, initiative: Initiative) -> bool:
    """Whether none of the initiative's promoters has carried an earlier approved initiative."""
    promoters = set(
        db.scalars(
            select(InitiativeMember.person_id).where(
                InitiativeMember.initiative_id == initiative.id,
                InitiativeMember.role == MemberRole.PROMOTER,
                InitiativeMember.person_id.is_not(None),
            )
        )
    )
    if initiative.created_by_person_id is not None:
        promoters.add(initiative.created_by_person_id)
    if not promoters:
        return False
    earlier = db.scalar(
        select(Initiative.id)
        .join(InitiativeMember, InitiativeMember.initiative_id == Initiative.id)
        .where(
            Initiative.territory_id == initiative.territory_id,
            Initiative.id != initiative.id,
            Initiative.state.in_([s.value for s in APPROVED_STATES]),
            InitiativeMember.person_id.in_(promoters),
        )
        .limit(1)
    )
    return earlier is None


def rules_for(db: Session, initiative: Initiative) -> Rules:
    fund = db.get(Fund, initiative.fund_id) if initiative.fund_id is not None else None
    if fund is None:
        k = 100 if initiative.project_type == ProjectType.PHYSICAL else 50
        return Rules(k_percent=k, envelope_left_cents=None, already_committed_cents=initiative.committed_cents)
    k = fund.match_physical_percent if initiative.project_type == ProjectType.PHYSICAL else fund.match_activity_percent
    candidates = [k]
    if fund.match_priority_percent is not None and initiative.neighbourhood_id is not None:
        neighbourhood = db.get(Neighbourhood, initiative.neighbourhood_id)
        if neighbourhood is not None and neighbourhood.is_priority:
            candidates.append(fund.match_priority_percent)
    if fund.match_first_time_percent is not None and is_first_time(db, initiative):
        candidates.append(fund.match_first_time_percent)
    envelope = envelope_for(db, initiative)
    return Rules(
        k_percent=min(candidates),
        partners_count=fund.partners_count,
        cap_cents=fund.cap_town_cash_cents,
        enforcement=fund.enforcement,
        envelope_left_cents=None if envelope is None else envelope.amount_cents - envelope.committed_cents,
        already_committed_cents=initiative.committed_cents,
        small_project_threshold_cents=fund.small_project_threshold_cents,
        fiscal_year=None if envelope is None else envelope.fiscal_year,
    )


def balance(db: Session, initiative: Initiative, candidate: CommitmentLine | None = None) -> Balance:
    """The live balance of the lines that are not cancelled (plus ``candidate``, for a preview)."""
    lines = active_lines(db, initiative)
    if candidate is not None:
        lines.append(candidate)
    return evaluate(totals_of(lines), rules_for(db, initiative))


def town_cash_cents(db: Session, initiative: Initiative) -> int:
    return totals_of(active_lines(db, initiative)).town_cash_cents


# ---------------------------------------------------------------- the envelope (the hard limit)


def commit_envelope(db: Session, initiative: Initiative, amount_cents: int) -> bool:
    """Commits ``amount_cents`` of the initiative's envelope under a row lock, only if it fits.
    Returns False (nothing changed) when it does not: the caller refuses (409) or puts the
    initiative on the waiting list. The caller's transition writes the audit entry."""
    if amount_cents < 0:
        raise Invalid(_("Le montant à engager ne peut pas être négatif."))
    envelope = envelope_for(db, initiative, for_update=True)
    if envelope is None:
        return False
    if envelope.committed_cents + amount_cents > envelope.amount_cents:
        return False
    envelope.committed_cents += amount_cents
    initiative.committed_envelope_id = envelope.id
    initiative.committed_cents += amount_cents
    db.flush()
    return True


def release_envelope(db: Session, initiative: Initiative) -> int:
    """Gives the initiative's committed money back to its envelope; returns the amount released."""
    if initiative.committed_envelope_id is None:
        return 0
    envelope = envelope_for(db, initiative, for_update=True)
    released = initiative.committed_cents
    if envelope is not None:
        envelope.committed_cents = max(0, envelope.committed_cents - released)
    initiative.committed_envelope_id = None
    initiative.committed_cents = 0
    db.flush()
    return released


@dataclass(frozen=True)
class Waiting:
    initiative: Initiative
    amount_cents: int


def next_waiting(db: Session, envelope: FundEnvelope) -> list[Waiting]:
    """The approvals waiting for this envelope, first come first served, with what each needs.
    The review service commits them in this order (stopping at the first that does not fit)."""
    candidates = db.scalars(
        select(Initiative)
        .where(
            Initiative.territory_id == envelope.territory_id,
            Initiative.fund_id == envelope.fund_id,
            Initiative.state == InitiativeState.AWAITING_ENVELOPE,
        )
        .order_by(Initiative.decided_at.asc().nulls_last(), Initiative.id)
    ).all()
    waiting = []
    for initiative in candidates:
        target = envelope_for(db, initiative)
        if target is not None and target.id == envelope.id:
            waiting.append(Waiting(initiative, town_cash_cents(db, initiative) - initiative.committed_cents))
    return waiting


# ---------------------------------------------------------------- what the panel shows


@dataclass(frozen=True)
class LineRow:
    line: CommitmentLine
    kind_label: str
    quantity_text: str
    state_label: str
    can_cancel: bool
    can_secure: bool


@dataclass(frozen=True)
class SideView:
    side: str
    title: str
    rows: list[LineRow]
    total_cents: int


@dataclass(frozen=True)
class LedgerView:
    initiative_public_id: str
    sides: list[SideView]
    balance: Balance
    writable_sides: list[str]
    kind_choices: list[tuple[str, list[tuple[str, str]]]]
    equipment: list[str]
    valuation_day: dt.date
    frozen: bool
    # What was done next to what was committed, per side, once the convention is signed
    # (``app.ledger.realisations``): shown only, never used by the match, the cap or the envelope.
    done: list[SideDone] = field(default_factory=list)

    @property
    def can_write(self) -> bool:
        return bool(self.writable_sides)


def quantity_text(line: CommitmentLine) -> str:
    if line.unit == Unit.MINUTES:
        hours, minutes = divmod(line.quantity, 60)
        return _("%(h)s h %(m)02d") % {"h": hours, "m": minutes} if minutes else _("%(h)s h") % {"h": hours}
    if line.unit == Unit.DAYS:
        return _("%(n)s j") % {"n": line.quantity}
    return str(line.quantity)


def ledger_view(db: Session, actor: Actor | None, initiative: Initiative) -> LedgerView:
    """The lines by side, the balance and what this viewer may do (404 if they may not see it)."""
    member = is_member(db, initiative, actor)
    if not permissions.can_see_ledger(actor, initiative, is_member=member):
        raise NotFound(_("Cette initiative n'existe pas."))
    lines = all_lines(db, initiative)
    sides = []
    for side in Side:
        rows = [
            LineRow(
                line=line,
                kind_label=_(KIND_LABELS[line.kind]),
                quantity_text=quantity_text(line),
                state_label=_(STATE_LABELS[line.state]),
                can_cancel=permissions.can_cancel_line(actor, initiative, line, is_member=member),
                can_secure=permissions.can_secure_line(actor, initiative, line),
            )
            for line in lines
            if line.side == side
        ]
        total = sum(r.line.value_cents for r in rows if r.line.state != LineState.CANCELLED)
        sides.append(SideView(side.value, _(SIDE_LABELS[side]), rows, total))
    writable = [s.value for s in Side if permissions.can_add_line(actor, initiative, s, is_member=member)]
    choices = [(_(SIDE_LABELS[s]), [(k.value, _(KIND_LABELS[k])) for k in SIDE_KINDS[Side(s)]]) for s in writable]
    frozen = initiative.state not in permissions.AGENT_WRITABLE_STATES
    from app.ledger.realisations import done_totals  # realisations build on this module

    return LedgerView(
        initiative_public_id=initiative.public_id,
        sides=sides,
        balance=evaluate(totals_of(lines), rules_for(db, initiative)),
        writable_sides=writable,
        kind_choices=choices,
        equipment=funds.equipment_labels(db, initiative.territory_id) if writable else [],
        valuation_day=valuation_day(db, initiative),
        frozen=frozen,
        done=done_totals(db, initiative),
    )
