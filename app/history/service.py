"""Historical import: a town's past initiatives, from a CSV file, as real initiatives marked historical.

Two steps. The upload is read and checked line by line against the territory (neighbourhoods,
themes, rates) without writing anything; a file with a bad line is refused whole, each problem
given with its line number. A clean file is kept (``HistoricalImport``) for its confirmation,
which checks it again and imports every new line in one transaction, or none.

What an imported line becomes: an ``Initiative`` in its final state (evaluated, abandoned or
declined) dated in its year, a ``Beneficiary`` when a group or association is named, ledger
lines for the amounts (the residents' hours valued at the volunteer-hour rate of their date;
verified realisations when the project was carried out) and a ``HistoricalRecord``. Envelopes
are never touched (no fund, nothing committed) and nobody is notified: this is the past.
Idempotent: a line whose « référence » (or, without one, whose values) was already imported
is skipped, and the preview says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Person, Role
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.funds.models import Rate, RateKind
from app.funds.service import fiscal_year_of
from app.history import csvfile
from app.history.csvfile import COLUMN_HEADERS, CsvRow, fold
from app.history.models import HistoricalImport, HistoricalRecord
from app.initiatives import workflow as wf
from app.initiatives.models import Beneficiary, BeneficiaryKind, Initiative, ProjectType
from app.initiatives.models import InitiativeState as S
from app.ledger.models import (
    CommitmentLine,
    LineKind,
    LineState,
    RealisationLine,
    RealisationSource,
    RealisationState,
    Side,
    Unit,
)
from app.ledger.valuation import line_value
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood, Theme
from app.web.forms import clean_text
from app.web.i18n import N_, _, date, money

OUTCOMES: dict[str, S] = {
    "realisee": S.EVALUATED,
    "realise": S.EVALUATED,
    "evaluee": S.EVALUATED,
    "terminee": S.EVALUATED,
    "abandonnee": S.ABANDONED,
    "abandonne": S.ABANDONED,
    "refusee": S.DECLINED,
    "refuse": S.DECLINED,
}
PROJECT_TYPES: dict[str, ProjectType] = {
    "": ProjectType.PHYSICAL,
    "travaux": ProjectType.PHYSICAL,
    "amenagement": ProjectType.PHYSICAL,
    "activite": ProjectType.ACTIVITY,
    "evenement": ProjectType.ACTIVITY,
}
CARRIER_KINDS: dict[str, BeneficiaryKind] = {
    "collectif": BeneficiaryKind.INFORMAL_GROUP,
    "groupe": BeneficiaryKind.INFORMAL_GROUP,
    "association": BeneficiaryKind.ASSOCIATION,
    "asso": BeneficiaryKind.ASSOCIATION,
}
# A file checked but never confirmed is dropped after this long (it may hold names).
STAGED_FOR = dt.timedelta(days=1)
EARLIEST_YEAR = 1950
MAX_LENGTHS = {"title": 200, "description": 20_000, "address": 300, "carrier": 200, "reference": 100}
SPACES = dict.fromkeys(map(ord, " \u00a0\u202f"), None)
AMOUNT_RE = re.compile(r"^(\d{1,9})(?:[.,](\d{1,2}))?$")
HOURS_RE = re.compile(r"^(\d{1,7})(?:[.,](\d{1,2}))?h?$")
HOURS_MINUTES_RE = re.compile(r"^(\d{1,7})h(\d{1,2})$")
COORDINATE_RE = re.compile(r"^-?\d{1,3}(?:[.,]\d{1,12})?$")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")
LABEL_TOWN = N_("Apport de la commune (import historique)")
LABEL_RESIDENTS = N_("Apport des habitant·es (import historique)")
LABEL_HOURS = N_("Heures de bénévolat (import historique)")
LABEL_PARTNERS = N_("Partenaires (import historique)")


def _name(key: str) -> str:
    """A column's name in messages, without its unit ("apport de la commune")."""
    return re.sub(r"\s*\(.*\)", "", COLUMN_HEADERS[key])


class _Problem(ValueError):
    """One problem of one line, already translated."""


class ImportRefused(Invalid):
    """The file has bad lines: nothing was imported; ``preview`` says which and why."""

    def __init__(self, preview: Preview) -> None:
        super().__init__(_("Le fichier contient des erreurs : rien n'a été importé."), field="file")
        self.preview = preview


# ---------------------------------------------------------------- who may import


def can_import(actor: Actor | None, territory_id: int) -> bool:
    return actor is not None and actor.territory_id == territory_id and actor.has_role(Role.ADMIN)


def _require_admin(actor: Actor, territory_id: int) -> None:
    if not can_import(actor, territory_id):
        raise Forbidden(_("Seul·es les administrateur·rices importent l'historique de la commune."))


# ---------------------------------------------------------------- one line, checked


@dataclass
class RowPlan:
    """A line of the file as it will be imported, or its problems."""

    line: int
    title: str = ""
    description: str = ""
    day: dt.date | None = None
    year_only: bool = True
    fiscal_year: int | None = None
    state: str = ""
    project_type: str = ProjectType.PHYSICAL.value
    neighbourhood_id: int | None = None
    neighbourhood: str = ""
    theme_id: int | None = None
    theme: str = ""
    carrier: str = ""
    carrier_kind: str = ""
    town_cents: int = 0
    residents_cents: int = 0
    volunteer_minutes: int = 0
    partners_cents: int = 0
    rate_id: int | None = None
    rate_cents: int = 0
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    reference: str = ""
    given_reference: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    already_imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def year(self) -> int | None:
        return self.day.year if self.day is not None else None

    @property
    def state_label(self) -> str:
        return wf.state_label(self.state) if self.state else ""

    @property
    def hours_text(self) -> str:
        hours, minutes = divmod(self.volunteer_minutes, 60)
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


@dataclass(frozen=True)
class Preview:
    file_name: str
    sha256: str
    separator: str
    ignored_columns: list[str]
    rows: list[RowPlan]

    @property
    def problems(self) -> list[str]:
        return [_("ligne %(line)s : %(problem)s") % {"line": r.line, "problem": e} for r in self.rows for e in r.errors]

    @property
    def warnings(self) -> list[str]:
        return [
            _("ligne %(line)s : %(problem)s") % {"line": r.line, "problem": w} for r in self.rows for w in r.warnings
        ]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def new_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if not r.already_imported]

    @property
    def existing_count(self) -> int:
        return sum(1 for r in self.rows if r.already_imported)

    @property
    def separator_label(self) -> str:
        return _("point-virgule") if self.separator == ";" else _("virgule")


@dataclass(frozen=True)
class _Territory:
    """What a line is checked against, loaded once per file."""

    id: int
    timezone: str
    fiscal_start_month: int
    today: dt.date
    neighbourhoods: dict[str, tuple[int, str]]
    themes: dict[str, tuple[int, str]]
    rates: list[Rate]  # volunteer-hour rates, oldest first
    references: set[str]


def _territory(db: Session, territory: TerritoryContext) -> _Territory:
    neighbourhoods = {
        fold(n.name): (n.id, n.name)
        for n in db.scalars(select(Neighbourhood).where(Neighbourhood.territory_id == territory.id))
    }
    themes = {fold(t.name): (t.id, t.name) for t in db.scalars(select(Theme).where(Theme.territory_id == territory.id))}
    rates = list(
        db.scalars(
            select(Rate)
            .where(Rate.territory_id == territory.id, Rate.kind == RateKind.VOLUNTEER_HOUR.value, Rate.label == "")
            .order_by(Rate.effective_from)
        )
    )
    references = set(
        db.scalars(select(HistoricalRecord.reference).where(HistoricalRecord.territory_id == territory.id))
    )
    return _Territory(
        id=territory.id,
        timezone=territory.timezone,
        fiscal_start_month=territory.settings.fifty_fifty.fiscal_year_start_month,
        today=dt.datetime.now(ZoneInfo(territory.timezone)).date(),
        neighbourhoods=neighbourhoods,
        themes=themes,
        rates=rates,
        references=references,
    )


def _text(cells: dict[str, str], key: str) -> str:
    value = cells.get(key, "")
    limit = MAX_LENGTHS.get(key)
    if limit is not None and len(value) > limit:
        raise _Problem(
            _("« %(column)s » trop long (%(length)s caractères, %(max)s au plus)")
            % {"column": _name(key), "length": len(value), "max": limit}
        )
    return value


def _cents(cells: dict[str, str], key: str) -> int:
    raw = cells.get(key, "")
    text = raw.translate(SPACES)
    folded = fold(text)
    for suffix in ("€", "eur", "euros"):
        folded = folded.removesuffix(suffix)
    if not folded:
        return 0
    if folded.startswith("-"):
        raise _Problem(_("« %(column)s » : un montant ne peut pas être négatif") % {"column": _name(key)})
    match = AMOUNT_RE.match(folded)
    if not match:
        raise _Problem(
            _("« %(column)s » : « %(value)s » n'est pas un montant en euros (par exemple 1 200 ou 1200,50)")
            % {"column": _name(key), "value": raw}
        )
    whole, frac = match.groups()
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


def _minutes(raw: str, column: str) -> int:
    text = fold(raw).replace(" ", "").replace("heures", "h").replace("heure", "h")
    if not text:
        return 0
    match = HOURS_MINUTES_RE.match(text)
    if match:
        whole, minutes = int(match.group(1)), int(match.group(2))
        if minutes < 60:
            return whole * 60 + minutes
    match = HOURS_RE.match(text)
    if match is None:
        raise _Problem(
            _("« %(column)s » : « %(value)s » n'est pas un nombre d'heures (par exemple 180, 12,5 ou 12 h 30)")
            % {"column": column, "value": raw}
        )
    hours = Decimal(match.group(1) + "." + (match.group(2) or "0"))
    return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _coordinate(raw: str, key: str, bound: int) -> Decimal | None:
    text = raw.translate(SPACES)
    if not text:
        return None
    try:
        if not COORDINATE_RE.match(text):
            raise InvalidOperation
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise _Problem(
            _("« %(column)s » : « %(value)s » n'est pas un nombre décimal") % {"column": key, "value": raw}
        ) from None
    if not -bound <= value <= bound:
        raise _Problem(
            _("« %(column)s » : %(value)s est hors des bornes (%(min)s à %(max)s)")
            % {"column": key, "value": raw, "min": -bound, "max": bound}
        )
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _when(plan: RowPlan, cells: dict[str, str], where: _Territory) -> None:
    raw_year, raw_date = cells.get("year", ""), cells.get("date", "")
    year: int | None = None
    if raw_year:
        if not re.fullmatch(r"\d{4}", raw_year) or not EARLIEST_YEAR <= int(raw_year) <= where.today.year:
            raise _Problem(
                _("année « %(value)s » : une année de %(first)s à %(last)s est attendue")
                % {"value": raw_year, "first": EARLIEST_YEAR, "last": where.today.year}
            )
        year = int(raw_year)
    day: dt.date | None = None
    if raw_date:
        for fmt in DATE_FORMATS:
            try:
                day = dt.datetime.strptime(raw_date, fmt).date()
                break
            except ValueError:
                continue
        if day is None:
            raise _Problem(
                _("date de dépôt « %(value)s » illisible : écrivez-la JJ/MM/AAAA, par exemple 14/03/2008")
                % {"value": raw_date}
            )
        if not dt.date(EARLIEST_YEAR, 1, 1) <= day <= where.today:
            raise _Problem(_("date de dépôt « %(value)s » : une date passée est attendue") % {"value": raw_date})
        if year is not None and day.year != year:
            raise _Problem(
                _("l'année (%(year)s) et la date de dépôt (%(date)s) ne concordent pas")
                % {"year": year, "date": raw_date}
            )
    if day is not None:
        plan.day, plan.year_only = day, False
        plan.fiscal_year = fiscal_year_of(day, where.fiscal_start_month)
    elif year is not None:
        # Only the year is known: the project is dated 1 January, and counted in that year.
        plan.day, plan.year_only, plan.fiscal_year = dt.date(year, 1, 1), True, year
    else:
        raise _Problem(_("ni année ni date de dépôt : indiquez au moins l'année"))


def _rate(plan: RowPlan, where: _Territory) -> None:
    if plan.volunteer_minutes == 0 or plan.day is None:
        return
    if not where.rates:
        raise _Problem(
            _(
                "aucun taux de l'heure de bénévolat n'est défini : un·e administrateur·rice doit en "
                "ajouter un dans « Taux de valorisation »"
            )
        )
    in_force = [r for r in where.rates if r.effective_from <= plan.day]
    rate = in_force[-1] if in_force else where.rates[0]
    if not in_force:
        plan.warnings.append(
            _(
                "aucun taux de l'heure de bénévolat n'était en vigueur le %(day)s : les heures sont "
                "valorisées au plus ancien taux connu (%(value)s, en vigueur le %(from)s)"
            )
            % {
                "day": date(plan.day, "short"),
                "value": money(rate.value_cents),
                "from": date(rate.effective_from, "short"),
            }
        )
    plan.rate_id, plan.rate_cents = rate.id, rate.value_cents


def _row_hash(plan: RowPlan) -> str:
    """The reference of a line without one: the hash of its values as read, whatever the file's layout."""
    values = [
        plan.title,
        plan.description,
        plan.day.isoformat() if plan.day else "",
        str(plan.year_only),
        plan.state,
        plan.project_type,
        str(plan.neighbourhood_id or ""),
        str(plan.theme_id or ""),
        fold(plan.carrier),
        plan.carrier_kind,
        str(plan.town_cents),
        str(plan.residents_cents),
        str(plan.volunteer_minutes),
        str(plan.partners_cents),
        plan.address,
        str(plan.latitude or ""),
        str(plan.longitude or ""),
    ]
    digest = hashlib.sha256(json.dumps(values, ensure_ascii=False).encode("utf-8")).hexdigest()
    return "sha256:" + digest


def _check(plan: RowPlan, cells: dict[str, str], where: _Territory) -> None:
    """Fills the plan from the cells; each problem is added to ``plan.errors``, and checking goes on."""

    def attempt(step: Callable[[], None]) -> None:
        try:
            step()
        except _Problem as exc:
            plan.errors.append(str(exc))

    def title() -> None:
        plan.title = _text(cells, "title")
        if not plan.title:
            raise _Problem(_("titre manquant"))

    def description() -> None:
        plan.description = _text(cells, "description")

    def address() -> None:
        plan.address = _text(cells, "address")

    def reference() -> None:
        plan.given_reference = _text(cells, "reference")

    def outcome() -> None:
        raw = cells.get("outcome", "")
        state = OUTCOMES.get(fold(raw).rstrip("s"))
        if state is None:
            raise _Problem(
                _("état final « %(value)s » inconnu : écrivez « réalisée », « abandonnée » ou « refusée »")
                % {"value": raw}
            )
        plan.state = state.value

    def project_type() -> None:
        raw = cells.get("project_type", "")
        kind = PROJECT_TYPES.get(fold(raw))
        if kind is None:
            raise _Problem(
                _("type de projet « %(value)s » inconnu : écrivez « travaux » ou « activité »") % {"value": raw}
            )
        plan.project_type = kind.value

    def places() -> None:
        raw = cells.get("neighbourhood", "")
        if raw:
            found = where.neighbourhoods.get(fold(raw))
            if found is None:
                raise _Problem(
                    _("quartier « %(name)s » inconnu : utilisez un nom de la liste des quartiers de la commune")
                    % {"name": raw}
                )
            plan.neighbourhood_id, plan.neighbourhood = found

    def theme() -> None:
        raw = cells.get("theme", "")
        if raw:
            found = where.themes.get(fold(raw))
            if found is None:
                raise _Problem(
                    _("thématique « %(name)s » inconnue : utilisez un nom de la liste des thématiques de la commune")
                    % {"name": raw}
                )
            plan.theme_id, plan.theme = found

    def carrier() -> None:
        plan.carrier = _text(cells, "carrier")
        raw = cells.get("carrier_kind", "")
        if raw:
            kind = CARRIER_KINDS.get(fold(raw))
            if kind is None:
                raise _Problem(
                    _("type de porteur « %(value)s » inconnu : écrivez « collectif » ou « association »")
                    % {"value": raw}
                )
            if not plan.carrier:
                raise _Problem(_("type de porteur sans nom du collectif ou de l'association"))
        elif plan.carrier:
            starts = fold(plan.carrier).split(" ", 1)[0]
            kind = BeneficiaryKind.ASSOCIATION if starts in ("association", "asso") else BeneficiaryKind.INFORMAL_GROUP
        else:
            return
        plan.carrier_kind = kind.value

    def town() -> None:
        plan.town_cents = _cents(cells, "town")

    def partners() -> None:
        plan.partners_cents = _cents(cells, "partners")

    def residents() -> None:
        raw = cells.get("residents", "")
        hours = _minutes(cells.get("hours", ""), _name("hours"))
        if "h" in fold(raw):
            given = _minutes(raw, _name("residents"))
            if given and hours:
                raise _Problem(
                    _(
                        "les heures sont données deux fois (« apport des habitant·es » et « heures de bénévolat ») : "
                        "gardez-les dans « heures de bénévolat »"
                    )
                )
            hours = hours or given
        else:
            plan.residents_cents = _cents(cells, "residents")
        plan.volunteer_minutes = hours

    def coordinates() -> None:
        plan.latitude = _coordinate(cells.get("latitude", ""), "latitude", 90)
        plan.longitude = _coordinate(cells.get("longitude", ""), "longitude", 180)
        if (plan.latitude is None) != (plan.longitude is None):
            raise _Problem(_("indiquez la latitude et la longitude, ou aucune des deux"))

    def when() -> None:
        _when(plan, cells, where)

    def rate() -> None:
        _rate(plan, where)

    for step in (
        title,
        description,
        address,
        reference,
        when,
        outcome,
        project_type,
        places,
        theme,
        carrier,
        town,
        residents,
        partners,
        coordinates,
    ):
        attempt(step)
    # The rate depends on the date and the hours: looked up once both are known to be right.
    if not plan.errors:
        attempt(rate)


def plan_rows(rows: Sequence[CsvRow], row_errors: dict[int, list[str]], where: _Territory) -> list[RowPlan]:
    plans: list[RowPlan] = []
    seen: dict[str, int] = {}
    for row in rows:
        plan = RowPlan(line=row.line, errors=list(row_errors.get(row.line, [])))
        _check(plan, row.cells, where)
        # A given reference is checked for duplicates even on a bad line; a line's hash only once it is valid.
        if plan.given_reference or plan.ok:
            plan.reference = plan.given_reference or _row_hash(plan)
            first = seen.get(plan.reference)
            if first is not None:
                plan.errors.append(
                    _("la référence « %(ref)s » est déjà celle de la ligne %(line)s")
                    % {"ref": plan.given_reference, "line": first}
                    if plan.given_reference
                    else _(
                        "mêmes valeurs que la ligne %(line)s : supprimez le doublon, ou donnez une référence "
                        "à chacune des deux lignes"
                    )
                    % {"line": first}
                )
            else:
                seen[plan.reference] = plan.line
                plan.already_imported = plan.reference in where.references
        plans.append(plan)
    return plans


def display_name(file_name: str) -> str:
    """The uploaded file's name as shown: no path, no control or direction characters, 200 characters."""
    base = re.split(r"[\\/]", file_name or "")[-1]
    visible = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf"))
    return clean_text(visible)[:200]


def preview(db: Session, territory: TerritoryContext, file_name: str, data: bytes) -> tuple[Preview, str]:
    """The file read and checked, line by line (nothing written), and its text."""
    text = csvfile.decode(data)
    parsed = csvfile.read(text)
    plans = plan_rows(parsed.rows, parsed.row_errors, _territory(db, territory))
    sha = hashlib.sha256(data).hexdigest()
    return Preview(display_name(file_name), sha, parsed.separator, parsed.ignored_columns, plans), text


# ---------------------------------------------------------------- keeping a checked file until it is confirmed


def stage(db: Session, actor: Actor, territory_id: int, checked: Preview, text: str) -> HistoricalImport:
    """Keeps a clean file for its confirmation; files never confirmed are dropped after a day."""
    _require_admin(actor, territory_id)
    if not checked.ok:
        raise ImportRefused(checked)
    db.execute(
        delete(HistoricalImport).where(
            HistoricalImport.territory_id == territory_id,
            HistoricalImport.imported_at.is_(None),
            HistoricalImport.created_at < utcnow() - STAGED_FOR,
        )
    )
    row = HistoricalImport(
        territory_id=territory_id,
        uploaded_by_person_id=actor.person_id,
        file_name=checked.file_name,
        sha256=checked.sha256,
        content=text,
        row_count=len(checked.rows),
    )
    db.add(row)
    db.flush()
    return row


def get_import(
    db: Session, actor: Actor, territory_id: int, public_id: str, *, for_update: bool = False
) -> HistoricalImport:
    _require_admin(actor, territory_id)
    stmt = select(HistoricalImport).where(
        HistoricalImport.public_id == public_id, HistoricalImport.territory_id == territory_id
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = db.scalar(stmt)
    if row is None:
        raise NotFound(_("Cette importation n'existe pas (un fichier non confirmé est oublié au bout d'un jour)."))
    return row


def staged_preview(db: Session, territory: TerritoryContext, staged: HistoricalImport) -> Preview:
    """The kept file checked again: the town's neighbourhoods, themes or imports may have changed since."""
    parsed = csvfile.read(staged.content)
    plans = plan_rows(parsed.rows, parsed.row_errors, _territory(db, territory))
    return Preview(staged.file_name, staged.sha256, parsed.separator, parsed.ignored_columns, plans)


# ---------------------------------------------------------------- the import itself (all or nothing)


@dataclass(frozen=True)
class ImportResult:
    public_id: str
    created: int
    skipped: int


def _moment(day: dt.date, timezone: str) -> dt.datetime:
    """Noon, local time, on the line's day: stored in UTC like every moment."""
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def _existing_beneficiaries(db: Session, territory_id: int) -> dict[tuple[str, str], int]:
    rows = db.execute(
        select(Beneficiary.kind, Beneficiary.name, Beneficiary.id).where(
            Beneficiary.territory_id == territory_id,
            Beneficiary.person_id.is_(None),
            Beneficiary.kind.in_([BeneficiaryKind.INFORMAL_GROUP.value, BeneficiaryKind.ASSOCIATION.value]),
        )
    )
    return {(kind, fold(name)): row_id for kind, name, row_id in rows}


def _lines(plan: RowPlan, initiative: Initiative, actor: Actor, when: dt.datetime) -> list[CommitmentLine]:
    state = (LineState.PLEDGED if plan.state == S.DECLINED else LineState.SECURED).value

    def line(
        side: Side, kind: LineKind, label: str, quantity: int, unit: Unit, unit_value: int, **extra: object
    ) -> CommitmentLine:
        return CommitmentLine(
            territory_id=initiative.territory_id,
            initiative_id=initiative.id,
            side=side.value,
            kind=kind.value,
            label=_(label),
            quantity=quantity,
            unit=unit.value,
            unit_value_cents=unit_value,
            value_cents=line_value(quantity, unit, unit_value),
            state=state,
            created_by_person_id=actor.person_id,
            created_at=when,
            **extra,
        )

    lines: list[CommitmentLine] = []
    if plan.town_cents:
        lines.append(line(Side.TOWN, LineKind.PURCHASE, LABEL_TOWN, 1, Unit.UNITS, plan.town_cents, is_town_cash=True))
    if plan.residents_cents:
        lines.append(
            line(Side.RESIDENTS, LineKind.DONATED_MATERIALS, LABEL_RESIDENTS, 1, Unit.UNITS, plan.residents_cents)
        )
    if plan.volunteer_minutes:
        lines.append(
            line(
                Side.RESIDENTS, LineKind.VOLUNTEER_HOURS, LABEL_HOURS, plan.volunteer_minutes, Unit.MINUTES,
                plan.rate_cents, rate_id=plan.rate_id,
            )
        )  # fmt: skip
    if plan.partners_cents:
        lines.append(
            line(
                Side.PARTNERS, LineKind.PARTNER_CASH, LABEL_PARTNERS, 1, Unit.UNITS, plan.partners_cents,
                partner_name=_(LABEL_PARTNERS),
            )
        )  # fmt: skip
    return lines


def _write(
    db: Session, actor: Actor, territory: TerritoryContext, staged: HistoricalImport, plans: list[RowPlan]
) -> None:
    now = utcnow()
    beneficiaries = _existing_beneficiaries(db, territory.id)
    created: dict[tuple[str, str], Beneficiary] = {}
    for plan in plans:
        key = (plan.carrier_kind, fold(plan.carrier))
        if plan.carrier and key not in beneficiaries and key not in created:
            created[key] = Beneficiary(territory_id=territory.id, kind=plan.carrier_kind, name=plan.carrier)
            db.add(created[key])
    db.flush()
    beneficiaries.update({key: b.id for key, b in created.items()})

    initiatives: list[tuple[RowPlan, Initiative, dt.datetime]] = []
    for plan in plans:
        assert plan.day is not None  # a plan without errors is dated
        when = _moment(plan.day, territory.timezone)
        initiative = Initiative(
            territory_id=territory.id,
            beneficiary_id=beneficiaries.get((plan.carrier_kind, fold(plan.carrier))) if plan.carrier else None,
            state=plan.state,
            title=plan.title,
            description=plan.description,
            project_type=plan.project_type,
            neighbourhood_id=plan.neighbourhood_id,
            theme_id=plan.theme_id,
            address=plan.address,
            latitude=plan.latitude,
            longitude=plan.longitude,
            created_at=when,
            submitted_at=when,
            state_changed_at=when,
            decided_at=when,
            fiscal_year=plan.fiscal_year,
        )
        db.add(initiative)
        initiatives.append((plan, initiative, when))
    db.flush()

    realised: list[tuple[RowPlan, Initiative, CommitmentLine]] = []
    for plan, initiative, when in initiatives:
        db.add(
            HistoricalRecord(
                initiative_id=initiative.id,
                territory_id=territory.id,
                reference=plan.reference,
                source_file_sha256=staged.sha256,
                import_id=staged.id,
                imported_at=now,
                imported_by_person_id=actor.person_id,
            )
        )
        for line in _lines(plan, initiative, actor, when):
            db.add(line)
            if plan.state == S.EVALUATED:
                realised.append((plan, initiative, line))
    db.flush()

    # A project carried out delivered what was committed: verified, so the reports of what was done count it.
    for plan, initiative, line in realised:
        assert plan.day is not None
        db.add(
            RealisationLine(
                territory_id=territory.id,
                initiative_id=initiative.id,
                commitment_line_id=line.id,
                quantity=line.quantity,
                value_cents=line.value_cents,
                state=RealisationState.VERIFIED.value,
                delivered_on=plan.day,
                source=RealisationSource.MANUAL.value,
                source_key=f"history:{line.public_id}",
                notes=_("Import historique"),
                created_by_person_id=actor.person_id,
                verified_at=now,
                verified_by_person_id=actor.person_id,
                cancel_reason="",
            )
        )
    db.flush()


def confirm(db: Session, actor: Actor, territory: TerritoryContext, public_id: str) -> ImportResult:
    """Imports every new line of a kept file in the caller's transaction, or nothing (``ImportRefused``)."""
    staged = get_import(db, actor, territory.id, public_id, for_update=True)
    if staged.imported_at is not None:
        raise Conflict(_("Ce fichier est déjà importé : rien n'a été fait deux fois."))
    checked = staged_preview(db, territory, staged)
    if not checked.ok:
        raise ImportRefused(checked)
    new = checked.new_rows
    try:
        with db.begin_nested():
            _write(db, actor, territory, staged, new)
    except IntegrityError:
        # The same references were imported at the same moment by another request: it won, this one does nothing.
        raise Conflict(_("Ces lignes viennent d'être importées par une autre personne : rechargez la page.")) from None
    staged.imported_at = utcnow()
    staged.imported_by_person_id = actor.person_id
    staged.created_count = len(new)
    staged.skipped_count = checked.existing_count
    # The initiatives now hold what the file said: its text is not kept.
    staged.content = ""
    db.flush()
    audit.record(
        db, actor, "history.import", "historical_import", staged.public_id, territory_id=territory.id,
        data={
            "file_name": staged.file_name, "sha256": staged.sha256, "rows": len(checked.rows),
            "created": len(new), "already_imported": checked.existing_count,
        },
    )  # fmt: skip
    return ImportResult(staged.public_id, len(new), checked.existing_count)


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class ImportRow:
    public_id: str
    file_name: str
    imported_at: dt.datetime
    imported_by: str
    rows: int
    created: int
    skipped: int


def list_imports(db: Session, actor: Actor, territory_id: int, limit: int = 50) -> list[ImportRow]:
    _require_admin(actor, territory_id)
    rows = db.execute(
        select(HistoricalImport, Person.display_name)
        .outerjoin(Person, Person.id == HistoricalImport.imported_by_person_id)
        .where(HistoricalImport.territory_id == territory_id, HistoricalImport.imported_at.is_not(None))
        .order_by(HistoricalImport.imported_at.desc(), HistoricalImport.id.desc())
        .limit(limit)
    )
    return [
        ImportRow(i.public_id, i.file_name, i.imported_at, name or "", i.row_count, i.created_count, i.skipped_count)
        for i, name in rows
        if i.imported_at is not None
    ]


@dataclass(frozen=True)
class ImportedInitiative:
    public_id: str
    title: str
    state_label: str
    fiscal_year: int | None


def imported_initiatives(db: Session, staged: HistoricalImport, limit: int = 1000) -> list[ImportedInitiative]:
    rows = db.execute(
        select(Initiative.public_id, Initiative.title, Initiative.state, Initiative.fiscal_year)
        .join(HistoricalRecord, HistoricalRecord.initiative_id == Initiative.id)
        .where(HistoricalRecord.import_id == staged.id, Initiative.territory_id == staged.territory_id)
        .order_by(Initiative.fiscal_year, Initiative.id)
        .limit(limit)
    )
    return [ImportedInitiative(p, t, wf.state_label(s), y) for p, t, s, y in rows]


@dataclass(frozen=True)
class HistoricalMarker:
    """Shown on an imported initiative's page: it was not lived on the platform."""

    imported_at: dt.datetime
    reference: str  # the file's reference, for the territory's staff only ("" otherwise)


def marker(db: Session, initiative: Initiative, *, staff: bool) -> HistoricalMarker | None:
    record = db.scalar(select(HistoricalRecord).where(HistoricalRecord.initiative_id == initiative.id))
    if record is None or record.territory_id != initiative.territory_id:
        return None
    shown = record.reference if staff and not record.reference.startswith("sha256:") else ""
    return HistoricalMarker(imported_at=record.imported_at, reference=shown)


def is_historical(db: Session, initiative_id: int) -> bool:
    return db.scalar(select(HistoricalRecord.id).where(HistoricalRecord.initiative_id == initiative_id)) is not None


# ---------------------------------------------------------------- the template and the example


def template_csv() -> bytes:
    return csvfile.write([[c.header for c in csvfile.COLUMNS]])


def example_csv(db: Session, territory_id: int) -> bytes:
    """Three lines that import as they are in this town (its own neighbourhood and theme names)."""
    neighbourhood = (
        db.scalar(
            select(Neighbourhood.name)
            .where(Neighbourhood.territory_id == territory_id)
            .order_by(Neighbourhood.position, Neighbourhood.id)
            .limit(1)
        )
        or ""
    )
    theme = (
        db.scalar(
            select(Theme.name).where(Theme.territory_id == territory_id).order_by(Theme.position, Theme.id).limit(1)
        )
        or ""
    )
    header = [c.header for c in csvfile.COLUMNS]
    examples = [
        {
            "title": _("Jardin partagé au pied des immeubles"), "description": _("Six bacs potagers et un composteur."),
            "year": "2021", "neighbourhood": neighbourhood, "theme": theme, "project_type": "travaux",
            "carrier": _("Les Jardiniers de la Cité"), "carrier_kind": "collectif", "outcome": "réalisée",
            "town": "1200", "residents": "150", "hours": "180", "partners": "", "reference": "EXEMPLE-2021-01",
        },
        {
            "title": _("Fête des voisins de la rue Hoche"), "date": "14/05/2022", "project_type": "activité",
            "outcome": "abandonnée", "town": "300", "residents": "40 h", "reference": "EXEMPLE-2022-01",
        },
        {
            "title": _("Abri à vélos près de l'école"), "year": "2023", "neighbourhood": neighbourhood,
            "carrier": _("Association Vélo pour tous"), "carrier_kind": "association", "outcome": "refusée",
            "town": "1 800,50", "hours": "50", "partners": "250", "reference": "EXEMPLE-2023-01",
        },
    ]  # fmt: skip
    return csvfile.write([header] + [[row.get(c.key, "") for c in csvfile.COLUMNS] for row in examples])
