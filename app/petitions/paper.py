"""Paper signatures: the agents enter the sheets signed at the town hall, at the market or door to
door, and they count like the others (``counted_at`` = the moment of entry, so the worker's count
and the threshold stamps take them in order).

- A sheet entered signer by signer (legal requests always; civic petitions when the agents choose
  it) is saved whole or not at all: every line is checked first and all the errors come back
  together, each with its line number. Duplicates are refused inside the sheet and against the
  signatures already recorded: for a civic petition the same name (folded as the guests' names
  are, there is no e-mail on paper); for a legal request the same elector (surname, first names,
  birth date) on the request, or on another legal request of the territory in the same calendar
  quarter (art. L1112-16 CGCT, the quarter of the date the sheet was signed, enforced by the same
  unique row as online).
- A civic sheet may instead be entered by its count (``PaperBatch``): the names stay on the paper at
  the town hall. A batch is invalidated with a reason, never deleted.

When: while the petition is open, for a sheet dated from its opening to today; once it closed, for
a sheet dated on or before its closing day, during the weeks the worker still recounts a closed
petition (``RECOUNT_AFTER_CLOSING``). A legal request takes no sheet once handed to the mayor: the
list the council gets is the one the town hall acknowledged.

Only the territory's agents enter or invalidate sheets; every entry is audited. Services flush,
the caller commits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.petitions import permissions as perm
from app.petitions import signing
from app.petitions.counting import RECOUNT_AFTER_CLOSING, TOWN_RELATIONS
from app.petitions.models import (
    LegalQuarterSignature,
    LegalStage,
    PaperBatch,
    Petition,
    PetitionKind,
    PetitionSignature,
    SignatureMethod,
    SignerRelation,
)
from app.territories.context import TerritoryContext
from app.web.i18n import _

SHEET_MAX_LENGTH = 60
REASON_MAX_LENGTH = 500
MAX_LINES = 100  # lines of one entry form
MAX_BATCH = 1000  # signatures of one sheet entered by its count
DATE_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignerLine:
    """One line of a sheet as typed: ``name`` and ``relation`` for a civic petition, the elector's
    details for a legal request (the birth date as typed: dd/mm/yyyy or yyyy-mm-dd)."""

    number: int
    name: str = ""
    relation: str = ""
    surname: str = ""
    first_names: str = ""
    address: str = ""
    birth_date: str = ""

    @property
    def is_blank(self) -> bool:
        return not (self.name or self.relation or self.surname or self.first_names or self.address or self.birth_date)


def parse_day(text: str) -> dt.date | None:
    """A date typed as 31/12/2026 (or with dots or dashes) or sent by a date field (2026-12-31)."""
    text = text.strip()
    if not text:
        return None
    try:
        match = DATE_RE.match(text)
        if match:
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _line_error(line: int, message: str) -> str:
    return _("Ligne %(n)s : %(message)s") % {"n": line, "message": message}


# --- Who and when -------------------------------------------------------------------------------


def can_enter(actor: Actor | None, petition: Petition) -> bool:
    """The territory's agents, on a published petition (open, or closed for late sheets)."""
    return perm.is_public(petition) and perm.is_agent(actor, petition.territory_id)


def _local(moment: dt.datetime, timezone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def closing_day(petition: Petition, territory: TerritoryContext) -> dt.date | None:
    """The last day signatures were collected: the day it closed, else the planned last day."""
    if petition.closed_at is not None:
        return _local(petition.closed_at, territory.timezone)
    return petition.closes_on


def _require_agent(actor: Actor, territory: TerritoryContext, petition: Petition) -> None:
    if petition.territory_id != territory.id or actor.territory_id != territory.id:
        raise NotFound(_("Cette pétition n'existe pas."))
    if not perm.is_public(petition):
        raise NotFound(_("Cette pétition n'existe pas."))
    if not can_enter(actor, petition):
        raise Forbidden(_("Seul·es les agent·es de la commune saisissent les feuilles papier."))


def _require_entry_window(petition: Petition, territory: TerritoryContext) -> None:
    if petition.kind == PetitionKind.LEGAL and petition.legal_stage not in (None, LegalStage.COLLECTING):
        raise Conflict(
            _("La demande a été remise au maire : la liste des signatures est arrêtée, aucune feuille ne s'y ajoute.")
        )
    last = closing_day(petition, territory)
    today = dt.datetime.now(ZoneInfo(territory.timezone)).date()
    # The worker recounts a closed petition this long: a sheet entered later would never count.
    if last is not None and today > last + RECOUNT_AFTER_CLOSING:
        raise Conflict(
            _("La pétition est close depuis plus de %(days)s jours : une feuille ne peut plus être saisie.")
            % {"days": RECOUNT_AFTER_CLOSING.days}
        )


def _date_error(petition: Petition, territory: TerritoryContext, signed_on: dt.date | None) -> str | None:
    """Why the sheet's date does not fit the petition's open period (None: it fits)."""
    if signed_on is None:
        return _("Saisissez une date valide (jj/mm/aaaa).")
    today = dt.datetime.now(ZoneInfo(territory.timezone)).date()
    if petition.opened_at is not None and signed_on < _local(petition.opened_at, territory.timezone):
        return _("La pétition n'était pas encore ouverte à cette date.")
    if signed_on > today:
        return _("La date de signature ne peut pas être dans le futur.")
    last = closing_day(petition, territory)
    if last is not None and signed_on > last:
        return _("La pétition était close à cette date : ces signatures ne comptent pas.")
    return None


def _check_sheet(sheet: str, field: str) -> str:
    sheet = " ".join(sheet.split())
    if not sheet:
        raise Invalid(_("Ce champ est obligatoire."), field=field, errors={field: _("Ce champ est obligatoire.")})
    if len(sheet) > SHEET_MAX_LENGTH:
        message = _("Saisissez au plus %(n)s caractères.") % {"n": SHEET_MAX_LENGTH}
        raise Invalid(message, field=field, errors={field: message})
    return sheet


def _lock(db: Session, petition: Petition) -> None:
    # Two agents entering sheets of the same petition at once: the duplicate checks run one after the other.
    db.execute(select(Petition.id).where(Petition.id == petition.id).with_for_update())


# --- A sheet, signer by signer ------------------------------------------------------------------


@dataclass
class _Checked:
    line: SignerLine
    display_name: str
    name_key: str
    relation: str
    elector: signing.ElectorDetails | None = None
    elector_key: str = ""


def _check_civic_line(line: SignerLine, errors: dict[str, str]) -> _Checked | None:
    prefix = f"row-{line.number}"
    name = " ".join(line.name.split())
    key = signing.name_key(name)
    ok = True
    if not name or not key:
        errors[f"{prefix}-name"] = _line_error(line.number, _("indiquez le nom de la personne."))
        ok = False
    elif len(name) > 120:
        errors[f"{prefix}-name"] = _line_error(line.number, _("saisissez au plus %(n)s caractères.") % {"n": 120})
        ok = False
    elif name.startswith(signing.NAME_FORBIDDEN_START) or signing.URL_RE.search(name):
        errors[f"{prefix}-name"] = _line_error(
            line.number, _("saisissez le nom tel qu'il s'écrit, sans lien ni symbole au début.")
        )
        ok = False
    if line.relation not in {value for value, _label in signing.RELATIONS}:
        errors[f"{prefix}-relation"] = _line_error(line.number, _("choisissez le lien de la personne avec la commune."))
        ok = False
    return _Checked(line, name, key, line.relation) if ok else None


def _check_legal_line(line: SignerLine, signed_on: dt.date, errors: dict[str, str]) -> _Checked | None:
    prefix = f"row-{line.number}"
    born = parse_day(line.birth_date)
    if born is None:
        message = (
            _("Ce champ est obligatoire.")
            if not line.birth_date.strip()
            else _("Saisissez une date valide (jj/mm/aaaa).")
        )
        errors[f"{prefix}-birth_date"] = _line_error(line.number, message)
    details = signing.ElectorDetails(
        " ".join(line.surname.split()), " ".join(line.first_names.split()), line.address.strip(), born or signed_on
    )
    try:
        # The online form's checks, on the day the sheet was signed (an elector of age that day).
        signing.check_elector(details, signed_on)
    except Invalid as exc:
        errors.setdefault(f"{prefix}-{exc.field or 'surname'}", _line_error(line.number, exc.message))
        return None
    if born is None:
        return None
    display = f"{details.first_names} {details.surname}"[:120]
    return _Checked(
        line, display, signing.name_key(display), SignerRelation.LIVES, details, signing.elector_key(details)
    )


def _civic_duplicates(db: Session, petition: Petition, checked: list[_Checked], errors: dict[str, str]) -> None:
    seen: dict[str, int] = {}
    for item in checked:
        first = seen.setdefault(item.name_key, item.line.number)
        if first != item.line.number:
            errors[f"row-{item.line.number}-name"] = _line_error(
                item.line.number, _("même nom qu'à la ligne %(first)s de cette feuille.") % {"first": first}
            )
    s = PetitionSignature
    taken = set(
        db.scalars(
            select(s.name_key).where(
                s.petition_id == petition.id,
                s.name_key.in_(list(seen)),
                s.invalidated_at.is_(None),
                s.withdrawn_at.is_(None),
            )
        )
    )
    for item in checked:
        if item.name_key in taken:
            errors.setdefault(
                f"row-{item.line.number}-name",
                _line_error(
                    item.line.number, _("« %(name)s » a déjà signé cette pétition.") % {"name": item.display_name}
                ),
            )


def _legal_duplicates(
    db: Session, territory: TerritoryContext, petition: Petition, quarter: str, checked: list[_Checked],
    errors: dict[str, str],
) -> None:  # fmt: skip
    seen: dict[str, int] = {}
    for item in checked:
        first = seen.setdefault(item.elector_key, item.line.number)
        if first != item.line.number:
            errors[f"row-{item.line.number}-surname"] = _line_error(
                item.line.number, _("même électeur·rice qu'à la ligne %(first)s de cette feuille.") % {"first": first}
            )
    s = PetitionSignature
    births = {item.elector.birth_date for item in checked if item.elector is not None}
    on_petition = set()
    for surname, first_names, address, born in db.execute(
        select(s.surname, s.first_names, s.address, s.birth_date).where(
            s.petition_id == petition.id,
            s.birth_date.in_(births),
            s.invalidated_at.is_(None),
            s.withdrawn_at.is_(None),
            s.erased_at.is_(None),
        )
    ):
        if born is not None:
            on_petition.add(signing.elector_key(signing.ElectorDetails(surname, first_names, address, born)))
    this_quarter = set(
        db.scalars(
            select(LegalQuarterSignature.elector_key).where(
                LegalQuarterSignature.territory_id == territory.id,
                LegalQuarterSignature.quarter == quarter,
                LegalQuarterSignature.elector_key.in_(list(seen)),
            )
        )
    )
    label = signing.quarter_label(quarter)
    for item in checked:
        key = f"row-{item.line.number}-surname"
        if item.elector_key in on_petition:
            errors.setdefault(key, _line_error(item.line.number, _("cet·te électeur·rice a déjà signé cette demande.")))
        elif item.elector_key in this_quarter:
            errors.setdefault(key, _line_error(item.line.number, _quarter_message(label)))


def _quarter_message(label: str) -> str:
    return _(
        "cet·te électeur·rice a déjà signé une demande de consultation de la commune au %(quarter)s : la loi "
        "n'autorise qu'une signature par électeur et par trimestre."
    ) % {"quarter": label}


def _sheet_moment(signed_on: dt.date, territory: TerritoryContext) -> dt.datetime:
    """Noon of the day the sheet was signed, in the town's time: its quarter is that day's."""
    return dt.datetime.combine(signed_on, dt.time(12), tzinfo=ZoneInfo(territory.timezone))


def enter_signers(
    db: Session,
    actor: Actor,
    territory: TerritoryContext,
    petition: Petition,
    *,
    sheet: str,
    signed_on: dt.date | None,
    lines: Sequence[SignerLine],
) -> list[PetitionSignature]:
    """Enters a paper sheet one signer per line, whole or not at all: ``Invalid`` carries every
    line's errors (``errors`` parameter, keys ``row-<line>-<field>``, messages with the line number)."""
    _require_agent(actor, territory, petition)
    _require_entry_window(petition, territory)
    errors: dict[str, str] = {}
    try:
        sheet = _check_sheet(sheet, "sheet")
    except Invalid as exc:
        errors.update(exc.params["errors"])
    date_error = _date_error(petition, territory, signed_on)
    if date_error is not None:
        errors["signed_on"] = date_error
    filled = [line for line in lines if not line.is_blank][:MAX_LINES]
    if not filled:
        errors["row-1-name" if petition.kind == PetitionKind.CIVIC else "row-1-surname"] = _(
            "La feuille est vide : saisissez au moins une ligne."
        )
    if errors or signed_on is None:
        raise Invalid(_("La feuille contient des erreurs : rien n'est enregistré."), errors=errors)

    legal = petition.kind == PetitionKind.LEGAL
    _lock(db, petition)
    checked: list[_Checked] = []
    for line in filled:
        item = _check_legal_line(line, signed_on, errors) if legal else _check_civic_line(line, errors)
        if item is not None:
            checked.append(item)
    moment = _sheet_moment(signed_on, territory)
    quarter = signing.quarter_of(moment, territory.timezone)
    if legal:
        _legal_duplicates(db, territory, petition, quarter, checked, errors)
    else:
        _civic_duplicates(db, petition, checked, errors)
    if errors:
        raise Invalid(_("La feuille contient des erreurs : rien n'est enregistré."), errors=errors)

    now = utcnow()
    rows: list[PetitionSignature] = []
    with db.begin_nested():
        for item in checked:
            row = PetitionSignature(
                territory_id=territory.id,
                petition_id=petition.id,
                method=SignatureMethod.PAPER,
                display_name=item.display_name,
                name_key=item.name_key,
                relation=item.relation,
                paper_sheet=sheet,
                entered_by_person_id=actor.person_id,
                counted_at=now,
            )
            if item.elector is not None:
                signing.fill_elector(row, item.elector)
            db.add(row)
            db.flush()
            rows.append(row)
            if item.elector is not None:
                try:
                    # The elector's one signature of the quarter: the database's unique key decides.
                    with db.begin_nested():
                        db.add(signing.quarter_row(territory, row, item.elector, moment))
                        db.flush()
                except IntegrityError:
                    errors[f"row-{item.line.number}-surname"] = _line_error(
                        item.line.number, _quarter_message(signing.quarter_label(quarter))
                    )
        if errors:  # another agent took an elector's quarter meanwhile: nothing of the sheet stays
            raise Invalid(_("La feuille contient des erreurs : rien n'est enregistré."), errors=errors)
    town = sum(1 for r in rows if r.relation in TOWN_RELATIONS)
    audit.record(
        db, actor, "petition.paper_signers_enter", "petition", petition.public_id, territory_id=territory.id,
        data={"sheet": sheet, "signed_on": signed_on.isoformat(), "count": len(rows), "town": town,
              "ids": [r.public_id for r in rows][:200]},
    )  # fmt: skip
    return rows


# --- A civic sheet by its count -----------------------------------------------------------------


def enter_count(
    db: Session,
    actor: Actor,
    territory: TerritoryContext,
    petition: Petition,
    *,
    sheet: str,
    signed_on: dt.date | None,
    signatures: int | None,
    town_signatures: int | None,
) -> PaperBatch:
    """Enters a civic sheet by its count (of which the signers who live, work or use services in
    the town). ``Invalid`` carries every field's error; a sheet reference already entered and not
    invalidated is refused (the same sheet twice would count twice)."""
    _require_agent(actor, territory, petition)
    if petition.kind != PetitionKind.CIVIC:
        raise Conflict(
            _("Une demande de consultation se saisit signataire par signataire : chaque électeur est vérifié.")
        )
    _require_entry_window(petition, territory)
    errors: dict[str, str] = {}
    try:
        sheet = _check_sheet(sheet, "batch_sheet")
    except Invalid as exc:
        errors.update(exc.params["errors"])
    date_error = _date_error(petition, territory, signed_on)
    if date_error is not None:
        errors["batch_signed_on"] = date_error
    if signatures is None:
        errors["signatures"] = _("Saisissez un nombre entier.")
    elif not 1 <= signatures <= MAX_BATCH:
        errors["signatures"] = _("Saisissez un nombre entre 1 et %(max)s.") % {"max": MAX_BATCH}
    if town_signatures is None:
        errors["town_signatures"] = _("Saisissez un nombre entier.")
    elif town_signatures < 0:
        errors["town_signatures"] = _("La valeur est trop petite.")
    elif signatures is not None and town_signatures > signatures:
        errors["town_signatures"] = _("Il ne peut y avoir plus de signatures de la commune que de signatures en tout.")
    if not errors:
        _lock(db, petition)
        sheets = db.scalars(
            select(PaperBatch.sheet).where(PaperBatch.petition_id == petition.id, PaperBatch.invalidated_at.is_(None))
        )
        if signing.fold(sheet) in {signing.fold(s) for s in sheets}:
            errors["batch_sheet"] = _("Cette feuille est déjà saisie : invalidez l'ancienne saisie pour la corriger.")
    if errors or signatures is None or town_signatures is None or signed_on is None:
        raise Invalid(_("La saisie contient des erreurs : rien n'est enregistré."), errors=errors)
    batch = PaperBatch(
        territory_id=territory.id,
        petition_id=petition.id,
        signatures=signatures,
        town_signatures=town_signatures,
        sheet=sheet,
        entered_by_person_id=actor.person_id,
        counted_at=utcnow(),
    )
    db.add(batch)
    db.flush()
    audit.record(
        db, actor, "petition.paper_batch_enter", "petition", petition.public_id, territory_id=territory.id,
        data={"batch": batch.public_id, "sheet": sheet, "signed_on": signed_on.isoformat(),
              "signatures": signatures, "town_signatures": town_signatures},
    )  # fmt: skip
    return batch


def invalidate_batch(
    db: Session, actor: Actor, territory: TerritoryContext, petition: Petition, batch_public_id: str, reason: str
) -> PaperBatch:
    """Invalidates a sheet entered by its count, with a reason: it stops counting from the next count."""
    _require_agent(actor, territory, petition)
    batch = db.scalar(
        select(PaperBatch)
        .where(PaperBatch.public_id == batch_public_id[:64], PaperBatch.petition_id == petition.id)
        .with_for_update()
    )
    if batch is None:
        raise NotFound(_("Cette feuille n'existe pas."))
    if batch.invalidated_at is not None:
        raise Conflict(_("Cette feuille est déjà invalidée."))
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid(_("Indiquez la raison de l'invalidation."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": REASON_MAX_LENGTH}, field="reason")
    batch.invalidated_at = utcnow()
    batch.invalid_reason = reason
    db.flush()
    audit.record(
        db, actor, "petition.paper_batch_invalidate", "petition", petition.public_id, territory_id=territory.id,
        reason=reason, data={"batch": batch.public_id, "sheet": batch.sheet, "signatures": batch.signatures},
    )  # fmt: skip
    return batch


# --- The agents' page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EnteredSheet:
    """A sheet entered signer by signer: its lines, and how many of them count now."""

    sheet: str
    lines: int
    counting: int
    entered_at: dt.datetime


@dataclass(frozen=True)
class PaperOverview:
    sheets: list[EnteredSheet]
    batches: list[PaperBatch]
    lines_counting: int
    batches_counting: int
    batches_town: int


def overview(db: Session, actor: Actor, territory: TerritoryContext, petition: Petition) -> PaperOverview:
    _require_agent(actor, territory, petition)
    s = PetitionSignature
    live = and_(s.invalidated_at.is_(None), s.withdrawn_at.is_(None), s.counted_at.is_not(None))
    sheets = [
        EnteredSheet(sheet, int(lines), int(counting or 0), entered_at)
        for sheet, lines, counting, entered_at in db.execute(
            select(s.paper_sheet, func.count(), func.sum(case((live, 1), else_=0)), func.min(s.created_at))
            .where(s.petition_id == petition.id, s.method == SignatureMethod.PAPER)
            .group_by(s.paper_sheet)
            .order_by(func.min(s.created_at).desc())
        )
    ]
    batches = list(
        db.scalars(
            select(PaperBatch)
            .where(PaperBatch.petition_id == petition.id)
            .order_by(PaperBatch.created_at.desc(), PaperBatch.id.desc())
        )
    )
    live_batches = [b for b in batches if b.invalidated_at is None]
    return PaperOverview(
        sheets=sheets,
        batches=batches,
        lines_counting=sum(x.counting for x in sheets),
        batches_counting=sum(b.signatures for b in live_batches),
        batches_town=sum(b.town_signatures for b in live_batches),
    )
