"""Funds (match rules and yearly envelopes) and the dated table of in-kind rates.

A rate is never edited: a new value is added from a date, and the latest rate on or before a
day applies. Ledger lines copy the rate they used, so a new rate never rewrites the past.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.audit import service as audit
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.funds.forms import EnvelopeForm, FundForm, RateForm
from app.funds.models import Enforcement, Fund, FundEnvelope, Rate, RateKind
from app.territories.models import Neighbourhood, Territory
from app.web.i18n import _, money

SMIC_SOURCE = "SMIC horaire brut (décret de revalorisation)"
# The gross hourly SMIC by effective date: it changed mid-year several times.
SMIC_HISTORY: tuple[tuple[dt.date, int, str], ...] = (
    (dt.date(2021, 1, 1), 1025, SMIC_SOURCE),
    (dt.date(2021, 10, 1), 1048, SMIC_SOURCE),
    (dt.date(2022, 1, 1), 1057, SMIC_SOURCE),
    (dt.date(2022, 5, 1), 1085, SMIC_SOURCE),
    (dt.date(2022, 8, 1), 1107, SMIC_SOURCE),
    (dt.date(2023, 1, 1), 1127, SMIC_SOURCE),
    (dt.date(2023, 5, 1), 1152, SMIC_SOURCE),
    (dt.date(2024, 1, 1), 1165, SMIC_SOURCE),
    (dt.date(2024, 11, 1), 1188, SMIC_SOURCE),
    (dt.date(2026, 1, 1), 1202, SMIC_SOURCE + " — à valider"),
)
DEFAULTS_FROM = dt.date(2021, 1, 1)
DEFAULT_SOURCE = "Valeur par défaut de Cailloux, à ajuster par la commune"
# (kind, label, cents per hour or per day)
DEFAULT_FLAT_RATES: tuple[tuple[RateKind, str, int], ...] = (
    (RateKind.PROFESSIONAL_HOUR, "", 3000),
    (RateKind.STAFF_HOUR, "", 2500),
    (RateKind.EQUIPMENT_DAY, "Bétonnière", 3500),
    (RateKind.EQUIPMENT_DAY, "Échafaudage", 4500),
    (RateKind.EQUIPMENT_DAY, "Remorque", 3000),
)

DEFAULT_FUND_NAME = "Fifty-fifty"
DEFAULT_FUND_DESCRIPTION = (
    "Les habitant·es proposent un projet d'intérêt général et apportent leur temps, leurs savoir-faire "
    "ou des matériaux ; la commune apporte le reste, à parts égales pour des travaux."
)
DEFAULT_ENVELOPE_CENTS = 3_000_000
DEFAULT_CAP_CENTS = 800_000
DEFAULT_SMALL_PROJECT_CENTS = 50_000


def can_configure(actor: Actor, territory_id: int) -> bool:
    return actor.territory_id == territory_id and actor.has_role(Role.ADMIN)


def require_admin(actor: Actor, territory_id: int) -> None:
    if not can_configure(actor, territory_id):
        raise Forbidden(_("Seul·es les administrateur·rices modifient les dispositifs et les taux."))


def fiscal_year_of(day: dt.date, start_month: int = 1) -> int:
    """The fiscal year a day falls in, named after the calendar year in which it starts."""
    return day.year if day.month >= start_month else day.year - 1


def territory_today(db: Session, territory_id: int) -> dt.date:
    territory = db.get_one(Territory, territory_id)
    return dt.datetime.now(ZoneInfo(territory.timezone)).date()


def current_fiscal_year(db: Session, territory_id: int) -> int:
    territory = db.get_one(Territory, territory_id)
    today = dt.datetime.now(ZoneInfo(territory.timezone)).date()
    return fiscal_year_of(today, territory.settings.fifty_fifty.fiscal_year_start_month)


# ---------------------------------------------------------------- rates


def seed_default_rates(db: Session, territory_id: int, actor: Actor = SYSTEM) -> int:
    """Adds the default rates that are missing (SMIC history, service, staff and equipment rates);
    returns how many were added. Running it again adds nothing."""
    wanted: list[tuple[RateKind, str, dt.date, int, str]] = [
        (RateKind.VOLUNTEER_HOUR, "", day, cents, source) for day, cents, source in SMIC_HISTORY
    ]
    wanted += [(kind, label, DEFAULTS_FROM, cents, DEFAULT_SOURCE) for kind, label, cents in DEFAULT_FLAT_RATES]
    existing = {
        (r.kind, r.label, r.effective_from) for r in db.scalars(select(Rate).where(Rate.territory_id == territory_id))
    }
    added = 0
    for kind, label, day, cents, source in wanted:
        if (kind.value, label, day) in existing:
            continue
        db.add(
            Rate(
                territory_id=territory_id, kind=kind, label=label, value_cents=cents, effective_from=day, source=source
            )
        )
        added += 1
    if added:
        db.flush()
        audit.record(
            db, actor, "rate.seed", "territory", territory_id, territory_id=territory_id, data={"added": added}
        )
    return added


def rate_on(db: Session, territory_id: int, kind: RateKind | str, day: dt.date, label: str = "") -> Rate:
    """The rate in force on ``day`` (the latest one effective on or before it), or ``Invalid``."""
    rate = db.scalar(
        select(Rate)
        .where(
            Rate.territory_id == territory_id,
            Rate.kind == RateKind(kind).value,
            Rate.label == label,
            Rate.effective_from <= day,
        )
        .order_by(Rate.effective_from.desc())
        .limit(1)
    )
    if rate is None:
        raise Invalid(
            _(
                "Aucun taux n'est en vigueur à cette date pour ce type d'apport ; un·e administrateur·rice doit l'ajouter."
            )
        )
    return rate


def equipment_labels(db: Session, territory_id: int) -> list[str]:
    return list(
        db.scalars(
            select(Rate.label)
            .where(Rate.territory_id == territory_id, Rate.kind == RateKind.EQUIPMENT_DAY.value)
            .distinct()
            .order_by(Rate.label)
        )
    )


@dataclass(frozen=True)
class RateGroup:
    kind: str
    rates: list[Rate]


def list_rates(db: Session, territory_id: int) -> list[RateGroup]:
    rows = list(
        db.scalars(
            select(Rate)
            .where(Rate.territory_id == territory_id)
            .order_by(Rate.kind, Rate.label, Rate.effective_from.desc())
        )
    )
    return [RateGroup(kind.value, [r for r in rows if r.kind == kind.value]) for kind in RateKind]


def add_rate(db: Session, actor: Actor, territory_id: int, form: RateForm) -> Rate:
    """A new value from a date; rates already in force are never changed."""
    require_admin(actor, territory_id)
    label = form.label.strip() if form.kind is RateKind.EQUIPMENT_DAY else ""
    if form.kind is RateKind.EQUIPMENT_DAY and not label:
        raise Invalid(_("Indiquez le matériel concerné, par exemple « Bétonnière »."), field="label")
    latest = db.scalar(
        select(Rate.effective_from)
        .where(Rate.territory_id == territory_id, Rate.kind == form.kind.value, Rate.label == label)
        .order_by(Rate.effective_from.desc())
        .limit(1)
    )
    if latest is not None and form.effective_from <= latest:
        raise Conflict(
            _("Un nouveau taux s'applique après le dernier en vigueur (%(day)s) : le passé ne se modifie pas.")
            % {"day": latest.strftime("%d/%m/%Y")},
            field="effective_from",
        )
    rate = Rate(
        territory_id=territory_id,
        kind=form.kind,
        label=label,
        value_cents=form.value_cents,
        effective_from=form.effective_from,
        source=form.source,
    )
    db.add(rate)
    db.flush()
    audit.record(
        db,
        actor,
        "rate.add",
        "rate",
        rate.id,
        territory_id=territory_id,
        data={
            "kind": rate.kind,
            "label": label,
            "value_cents": rate.value_cents,
            "effective_from": rate.effective_from.isoformat(),
        },
    )
    return rate


# ---------------------------------------------------------------- funds


def _seed_convention_template(db: Session, fund: Fund, actor: Actor) -> None:
    """Every fund starts with the default convention template (version 1), to adapt later."""
    # Imported here: the conventions domain imports this module.
    from app.conventions.clauses import ensure_template

    ensure_template(db, fund, actor)


def seed_default_fund(db: Session, territory_id: int, actor: Actor = SYSTEM) -> Fund:
    """The "Fifty-fifty" fund (warn mode, k 100/50) with an envelope for the current fiscal year."""
    fund = db.scalar(select(Fund).where(Fund.territory_id == territory_id, Fund.name == DEFAULT_FUND_NAME))
    if fund is None:
        fund = Fund(
            territory_id=territory_id,
            name=DEFAULT_FUND_NAME,
            description=DEFAULT_FUND_DESCRIPTION,
            is_active=True,
            match_physical_percent=100,
            match_activity_percent=50,
            partners_count=True,
            enforcement=Enforcement.WARN,
            cap_town_cash_cents=DEFAULT_CAP_CENTS,
            small_project_threshold_cents=DEFAULT_SMALL_PROJECT_CENTS,
        )
        db.add(fund)
        db.flush()
        audit.record(db, actor, "fund.create", "fund", fund.id, territory_id=territory_id, data={"name": fund.name})
    _seed_convention_template(db, fund, actor)
    year = current_fiscal_year(db, territory_id)
    envelope = db.scalar(
        select(FundEnvelope).where(
            FundEnvelope.fund_id == fund.id, FundEnvelope.fiscal_year == year, FundEnvelope.neighbourhood_id.is_(None)
        )
    )
    if envelope is None:
        envelope = FundEnvelope(
            territory_id=territory_id, fund_id=fund.id, fiscal_year=year, amount_cents=DEFAULT_ENVELOPE_CENTS
        )
        db.add(envelope)
        db.flush()
        audit.record(
            db,
            actor,
            "envelope.set",
            "fund",
            fund.id,
            territory_id=territory_id,
            data={"fiscal_year": year, "neighbourhood_id": None, "amount_cents": DEFAULT_ENVELOPE_CENTS},
        )
    return fund


def list_funds(db: Session, territory_id: int) -> list[Fund]:
    return list(db.scalars(select(Fund).where(Fund.territory_id == territory_id).order_by(Fund.name)))


def default_fund(db: Session, territory_id: int) -> Fund | None:
    """The first open fund of the territory (the one a new initiative joins unless told otherwise)."""
    return db.scalar(
        select(Fund).where(Fund.territory_id == territory_id, Fund.is_active.is_(True)).order_by(Fund.id).limit(1)
    )


def get_fund(db: Session, territory_id: int, public_id: str) -> Fund:
    fund = db.scalar(select(Fund).where(Fund.territory_id == territory_id, Fund.public_id == public_id))
    if fund is None:
        raise NotFound(_("Ce dispositif n'existe pas."))
    return fund


FUND_FIELDS = (
    "name",
    "description",
    "is_active",
    "match_physical_percent",
    "match_activity_percent",
    "match_priority_percent",
    "match_first_time_percent",
    "partners_count",
    "enforcement",
    "cap_town_cash_cents",
    "small_project_threshold_cents",
    "decision_deadline_days",
    "unsigned_release_days",
)


def _check_name(db: Session, territory_id: int, name: str, fund_id: int | None) -> None:
    clash = db.scalar(select(Fund.id).where(Fund.territory_id == territory_id, Fund.name == name))
    if clash is not None and clash != fund_id:
        raise Invalid(_("Un dispositif porte déjà ce nom."), field="name")


def create_fund(db: Session, actor: Actor, territory_id: int, form: FundForm) -> Fund:
    require_admin(actor, territory_id)
    _check_name(db, territory_id, form.name, None)
    fund = Fund(territory_id=territory_id, **{f: getattr(form, f) for f in FUND_FIELDS})
    db.add(fund)
    db.flush()
    audit.record(db, actor, "fund.create", "fund", fund.id, territory_id=territory_id, data={"name": fund.name})
    _seed_convention_template(db, fund, actor)
    return fund


def update_fund(db: Session, actor: Actor, territory_id: int, public_id: str, form: FundForm) -> Fund:
    """Changes the rules for what is decided from now on (decisions keep their own copy)."""
    require_admin(actor, territory_id)
    fund = get_fund(db, territory_id, public_id)
    _check_name(db, territory_id, form.name, fund.id)
    changes = {}
    for field in FUND_FIELDS:
        old, new = getattr(fund, field), getattr(form, field)
        if old != new:
            changes[field] = {
                "from": str(old) if old is not None else None,
                "to": str(new) if new is not None else None,
            }
            setattr(fund, field, new)
    db.flush()
    if changes:
        audit.record(db, actor, "fund.update", "fund", fund.id, territory_id=territory_id, data=changes)
    return fund


# ---------------------------------------------------------------- envelopes


@dataclass(frozen=True)
class EnvelopeRow:
    envelope: FundEnvelope
    neighbourhood_name: str | None

    @property
    def left_cents(self) -> int:
        return self.envelope.amount_cents - self.envelope.committed_cents


def list_envelopes(db: Session, fund: Fund) -> list[EnvelopeRow]:
    rows = db.execute(
        select(FundEnvelope, Neighbourhood.name)
        .outerjoin(Neighbourhood, Neighbourhood.id == FundEnvelope.neighbourhood_id)
        .where(FundEnvelope.fund_id == fund.id)
        .order_by(FundEnvelope.fiscal_year.desc(), Neighbourhood.name.is_not(None), Neighbourhood.name)
    ).all()
    return [EnvelopeRow(envelope, name) for envelope, name in rows]


def set_envelope(db: Session, actor: Actor, territory_id: int, fund_public_id: str, form: EnvelopeForm) -> FundEnvelope:
    """Opens or adjusts the envelope of a fiscal year (overall or for one neighbourhood).
    An amount below what is already committed is refused (Conflict)."""
    require_admin(actor, territory_id)
    fund = get_fund(db, territory_id, fund_public_id)
    neighbourhood_id: int | None = None
    if form.neighbourhood:
        neighbourhood_id = db.scalar(
            select(Neighbourhood.id).where(
                Neighbourhood.territory_id == territory_id, Neighbourhood.public_id == form.neighbourhood
            )
        )
        if neighbourhood_id is None:
            raise Invalid(_("Choisissez un quartier de la liste."), field="neighbourhood")
    stmt = select(FundEnvelope).where(
        FundEnvelope.fund_id == fund.id,
        FundEnvelope.fiscal_year == form.fiscal_year,
        FundEnvelope.neighbourhood_id.is_(None)
        if neighbourhood_id is None
        else FundEnvelope.neighbourhood_id == neighbourhood_id,
    )
    envelope = db.scalar(stmt.with_for_update())
    before: int | None = None
    if envelope is None:
        envelope = FundEnvelope(
            territory_id=territory_id,
            fund_id=fund.id,
            fiscal_year=form.fiscal_year,
            neighbourhood_id=neighbourhood_id,
            amount_cents=form.amount_cents,
            committed_cents=0,
        )
        db.add(envelope)
    else:
        if form.amount_cents < envelope.committed_cents:
            raise Conflict(
                _("Le montant ne peut pas être inférieur à ce qui est déjà engagé (%(committed)s).")
                % {"committed": money(envelope.committed_cents)},
                field="amount_cents",
            )
        before = envelope.amount_cents
        envelope.amount_cents = form.amount_cents
    db.flush()
    audit.record(
        db,
        actor,
        "envelope.set",
        "fund",
        fund.id,
        territory_id=territory_id,
        data={
            "fiscal_year": form.fiscal_year,
            "neighbourhood_id": neighbourhood_id,
            "from_cents": before,
            "amount_cents": form.amount_cents,
        },
    )
    return envelope
