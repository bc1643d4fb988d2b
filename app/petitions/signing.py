"""Signing petitions: signed-in residents in one click, guests confirmed from an e-mail's link,
legal requests (art. L1112-16 CGCT) with the elector's details, withdrawal, and the agents' work on
flagged or fraudulent signatures.

Uniqueness is the database's (one row per person, per canonical e-mail and slot, per canonical
e-mail and name, one legal signature per elector and quarter): rows are inserted in a savepoint
and a refused insert is read as "already signed", never counted first. Signatures are their own
append-only records (stamps, never deletions): only the agents' bulk actions are audited.
Services flush, the caller commits.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import AgeBracket, Person, Role
from app.accounts.service import normalise_email
from app.accounts.viewer import Viewer
from app.audit import service as audit
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.tokens import hash_token, new_token
from app.db.base import utcnow
from app.mail.service import queue_email
from app.petitions.models import (
    LegalQuarterSignature,
    Petition,
    PetitionCount,
    PetitionKind,
    PetitionSignature,
    PetitionState,
    SignatureMethod,
    SignerRelation,
)
from app.privacy.export import register_section
from app.territories.context import TerritoryContext
from app.web.i18n import N_, _

# A burst from one client address on one petition: beyond this many signatures in the window,
# the next ones are kept aside (flagged) until an agent releases them.
BURST_LIMIT = 20
BURST_WINDOW = dt.timedelta(minutes=5)
# A guest's confirmation link.
CONFIRM_LIFETIME = dt.timedelta(days=7)
CONFIRM_PATH = "/signature/confirmer"
# E-mails about one row after the first: at most this many, this far apart.
NOTICE_MAX = 5
NOTICE_INTERVAL = dt.timedelta(hours=1)
MAX_BULK_IDS = 1000

TOKEN_VALID = "valid"
TOKEN_UNKNOWN = "unknown"
TOKEN_USED = "used"
TOKEN_EXPIRED = "expired"

RELATIONS: tuple[tuple[str, str], ...] = (
    (SignerRelation.LIVES, N_("J'habite la commune")),
    (SignerRelation.WORKS, N_("Je travaille dans la commune")),
    (SignerRelation.USES, N_("J'utilise ses services (école, sport, culture…)")),
    (SignerRelation.NONE, N_("Aucun de ces liens")),
)
QUARTER_ORDINALS = (N_("1er"), N_("2e"), N_("3e"), N_("4e"))
VISIBLE_STATES = (PetitionState.OPEN, PetitionState.CLOSED)
NAME_FORBIDDEN_START = ("=", "+", "-", "@")
URL_RE = re.compile(r"(://|www\.)", re.IGNORECASE)
POSTCODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
FOLD_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´.]+")


class Outcome(enum.StrEnum):
    SIGNED = "signed"  # a new signature
    RESTORED = "restored"  # signed again after withdrawing
    ALREADY = "already"  # nothing changed: it looks like success
    PENDING = "pending"  # a guest's row waits for its confirmation
    IGNORED = "ignored"  # a honeypot was filled: nothing stored, success shown


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    relation: str = SignerRelation.LIVES
    show_name: bool = False
    notify: bool = False
    invite_if_project: bool = False


@dataclass(frozen=True)
class ElectorDetails:
    surname: str
    first_names: str
    address: str
    birth_date: dt.date


@dataclass(frozen=True)
class GuestDetails:
    name: str
    email: str
    postcode: str
    choices: Choices
    honeypot: str = ""


# --- Folding and keys ---------------------------------------------------------------------------


def fold(text: str) -> str:
    """NFKC, casefolded, accents dropped, spaces, hyphens, dots and apostrophes folded into one space."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return FOLD_SEPARATORS.sub(" ", text).strip()


def name_key(name: str) -> str:
    return fold(name)[:120]


def elector_key(details: ElectorDetails) -> str:
    return f"{fold(details.surname)}|{fold(details.first_names)}|{details.birth_date.isoformat()}"[:200]


def quarter_of(moment: dt.datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def quarter_label(quarter: str) -> str:
    year, _sep, q = quarter.partition("-Q")
    return _("%(ordinal)s trimestre %(year)s") % {"ordinal": _(QUARTER_ORDINALS[int(q) - 1]), "year": year}


def relation_label(relation: str) -> str:
    return next((_(label) for value, label in RELATIONS if value == relation), relation)


def is_disposable(address: str, domains: Sequence[str]) -> bool:
    domain = address.rpartition("@")[2].strip().rstrip(".").casefold()
    for blocked in domains:
        blocked = blocked.strip().rstrip(".").casefold()
        if blocked and (domain == blocked or domain.endswith("." + blocked)):
            return True
    return False


# --- Petitions ----------------------------------------------------------------------------------


def get_petition(db: Session, territory_id: int, public_id: str) -> Petition:
    """A published petition of this territory (open or closed); anything else is not found."""
    petition = db.scalar(
        select(Petition).where(
            Petition.public_id == public_id[:64],
            Petition.territory_id == territory_id,
            Petition.state.in_(VISIBLE_STATES),
        )
    )
    if petition is None:
        raise NotFound(_("Cette pétition n'existe pas."))
    return petition


def is_open(petition: Petition, territory: TerritoryContext) -> bool:
    if petition.state != PetitionState.OPEN or petition.closed_at is not None:
        return False
    if petition.closes_on is None:
        return True
    return dt.datetime.now(ZoneInfo(territory.timezone)).date() <= petition.closes_on


def _require_open(petition: Petition, territory: TerritoryContext) -> None:
    if not is_open(petition, territory):
        raise Conflict(_("Cette pétition est close : elle ne recueille plus de signatures."))


def _check_choices(choices: Choices) -> None:
    if choices.relation not in {value for value, _label in RELATIONS}:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="relation")


def _is_burst(db: Session, petition_id: int, source_hash: str, now: dt.datetime) -> bool:
    if not source_hash:
        return False
    recent = db.scalar(
        select(func.count())
        .select_from(PetitionSignature)
        .where(
            PetitionSignature.petition_id == petition_id,
            PetitionSignature.source_hash == source_hash,
            PetitionSignature.created_at >= now - BURST_WINDOW,
        )
    )
    return (recent or 0) >= BURST_LIMIT


def _own_signature(db: Session, petition_id: int, person_id: int) -> PetitionSignature | None:
    return db.scalar(
        select(PetitionSignature).where(
            PetitionSignature.petition_id == petition_id, PetitionSignature.person_id == person_id
        )
    )


# --- Signed-in residents ------------------------------------------------------------------------


def can_sign(viewer: Viewer | None, petition: Petition) -> bool:
    """Who may sign with an account: any resident for a civic petition, adults for a legal request."""
    if viewer is None or viewer.person_id is None or viewer.territory_id != petition.territory_id:
        return False
    if petition.kind == PetitionKind.LEGAL:
        return viewer.age_bracket == AgeBracket.ADULT
    return True


def _check_elector(details: ElectorDetails | None, today: dt.date) -> ElectorDetails:
    if details is None:
        raise Invalid(_("Ce champ est obligatoire."), field="surname")
    for field, value, limit in (
        ("surname", details.surname, 120),
        ("first_names", details.first_names, 200),
        ("address", details.address, 500),
    ):
        if not value.strip():
            raise Invalid(_("Ce champ est obligatoire."), field=field)
        if len(value) > limit:
            raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": limit}, field=field)
    born = details.birth_date
    if born.year < 1900 or born > today:
        raise Invalid(_("Saisissez une date valide (jj/mm/aaaa)."), field="birth_date")
    adult_on = dt.date(born.year + 18, born.month, 28 if (born.month, born.day) == (2, 29) else born.day)
    if adult_on > today:
        raise Invalid(_("Seuls les électeurs majeurs peuvent signer une demande de consultation."), field="birth_date")
    return details


def sign(
    db: Session,
    viewer: Viewer,
    territory: TerritoryContext,
    petition: Petition,
    choices: Choices,
    *,
    elector: ElectorDetails | None = None,
    source_hash: str = "",
) -> tuple[Outcome, PetitionSignature]:
    """The viewer signs (again: nothing changes). Legal requests need the elector's details and
    take the elector's one signature of the quarter in the same transaction."""
    if petition.territory_id != territory.id or viewer.territory_id != territory.id:
        raise NotFound(_("Cette pétition n'existe pas."))
    if viewer.person_id is None:
        raise Forbidden(_("Connectez-vous avec votre compte pour signer."))
    legal = petition.kind == PetitionKind.LEGAL
    if legal and viewer.age_bracket != AgeBracket.ADULT:
        raise Forbidden(_("Seuls les électeurs majeurs peuvent signer une demande de consultation."))
    _require_open(petition, territory)
    _check_choices(choices)
    now = utcnow()
    if legal:
        elector = _check_elector(elector, dt.datetime.now(ZoneInfo(territory.timezone)).date())
        # Legal-request signers get no notifications: they follow the request from their account.
        choices = Choices(choices.relation, choices.show_name, False, choices.invite_if_project)

    existing = _own_signature(db, petition.id, viewer.person_id)
    if existing is not None:
        if existing.withdrawn_at is None:
            return Outcome.ALREADY, existing
        return Outcome.RESTORED, _restore(db, territory, petition, existing, choices, elector, now)

    flagged = _is_burst(db, petition.id, source_hash, now)
    signature = PetitionSignature(
        territory_id=territory.id,
        petition_id=petition.id,
        method=SignatureMethod.ACCOUNT,
        person_id=viewer.person_id,
        display_name=viewer.display_name[:120],
        relation=choices.relation,
        show_name=choices.show_name,
        notify=choices.notify,
        invite_if_project=choices.invite_if_project,
        counted_at=None if flagged else now,
        flagged_at=now if flagged else None,
        source_hash=source_hash,
    )
    if legal and elector is not None:
        _fill_elector(signature, elector)
    try:
        with db.begin_nested():
            db.add(signature)
            db.flush()
            if legal and elector is not None:
                db.add(_quarter_row(territory, signature, elector, now))
                db.flush()
    except IntegrityError:
        existing = _own_signature(db, petition.id, viewer.person_id)
        if existing is not None:  # a parallel click committed first
            return Outcome.ALREADY, existing
        if legal:
            raise _quarter_taken(territory, now) from None
        raise
    return Outcome.SIGNED, signature


def _fill_elector(signature: PetitionSignature, elector: ElectorDetails) -> None:
    signature.surname = elector.surname.strip()
    signature.first_names = elector.first_names.strip()
    signature.address = elector.address.strip()
    signature.birth_date = elector.birth_date
    signature.roll_status = "pending"


def _quarter_row(
    territory: TerritoryContext, signature: PetitionSignature, elector: ElectorDetails, now: dt.datetime
) -> LegalQuarterSignature:
    return LegalQuarterSignature(
        territory_id=territory.id,
        quarter=quarter_of(now, territory.timezone),
        elector_key=elector_key(elector),
        signature_id=signature.id,
    )


# The same checks and the same quarter row for the agents' entry of paper sheets (app.petitions.paper).
check_elector = _check_elector
fill_elector = _fill_elector
quarter_row = _quarter_row


def _quarter_taken(territory: TerritoryContext, now: dt.datetime) -> Conflict:
    label = quarter_label(quarter_of(now, territory.timezone))
    return Conflict(
        _(
            "Vous avez déjà signé une demande de consultation de la commune au %(quarter)s : la loi "
            "n'autorise qu'une signature par électeur et par trimestre. Vous pourrez signer de "
            "nouveau au trimestre suivant."
        )
        % {"quarter": label},
        field="surname",
    )


def _restore(
    db: Session,
    territory: TerritoryContext,
    petition: Petition,
    signature: PetitionSignature,
    choices: Choices,
    elector: ElectorDetails | None,
    now: dt.datetime,
) -> PetitionSignature:
    """Signing again after withdrawing: the same row counts again from now."""
    try:
        with db.begin_nested():
            if petition.kind == PetitionKind.LEGAL and elector is not None:
                _fill_elector(signature, elector)
                db.add(_quarter_row(territory, signature, elector, now))
            signature.withdrawn_at = None
            signature.relation = choices.relation
            signature.show_name = choices.show_name
            signature.notify = choices.notify
            signature.invite_if_project = choices.invite_if_project
            if signature.flagged_at is None or signature.released_at is not None:
                signature.counted_at = now
            db.flush()
    except IntegrityError:
        raise _quarter_taken(territory, now) from None
    return signature


def withdraw(db: Session, viewer: Viewer, territory: TerritoryContext, petition: Petition) -> bool:
    """Withdraws the viewer's signature while the petition is open; False if there was none."""
    if petition.territory_id != territory.id or viewer.person_id is None:
        raise NotFound(_("Cette pétition n'existe pas."))
    _require_open(petition, territory)
    signature = _own_signature(db, petition.id, viewer.person_id)
    if signature is None or signature.withdrawn_at is not None:
        return False
    signature.withdrawn_at = utcnow()
    if petition.kind == PetitionKind.LEGAL:
        # A withdrawn signature no longer takes the elector's one signature of the quarter.
        db.execute(delete(LegalQuarterSignature).where(LegalQuarterSignature.signature_id == signature.id))
    db.flush()
    return True


# --- Guests -------------------------------------------------------------------------------------


def _check_guest(details: GuestDetails, territory: TerritoryContext) -> tuple[str, str, str, str]:
    """Returns (name, name key, address to mail, canonical e-mail key), or raises Invalid."""
    name = " ".join(details.name.split())
    if not name:
        raise Invalid(_("Ce champ est obligatoire."), field="name")
    if len(name) > 120:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": 120}, field="name")
    if name.startswith(NAME_FORBIDDEN_START) or URL_RE.search(name):
        raise Invalid(_("Saisissez votre nom tel qu'il s'écrit, sans lien ni symbole au début."), field="name")
    key = name_key(name)
    if not key:
        raise Invalid(_("Ce champ est obligatoire."), field="name")
    if not details.email.strip():
        raise Invalid(_("Ce champ est obligatoire."), field="email")
    address, email_key = normalise_email(details.email)
    if is_disposable(address, territory.settings.petitions.disposable_domains):
        raise Invalid(
            _("Les adresses e-mail jetables ne sont pas acceptées : utilisez votre adresse habituelle."),
            field="email",
        )
    postcode = details.postcode.strip()
    if not postcode:
        raise Invalid(_("Ce champ est obligatoire."), field="postcode")
    if not POSTCODE_RE.match(postcode):
        raise Invalid(_("Saisissez un code postal valide, par exemple 62750."), field="postcode")
    _check_choices(details.choices)
    return name, key, address, unicodedata.normalize("NFKC", email_key).casefold()[:254]


def _confirm_link(base_url: str, locale: str, token: str) -> str:
    prefix = "" if locale == "fr" else "/en"
    return f"{base_url}{prefix}{CONFIRM_PATH}?token={token}"


def sign_as_guest(
    db: Session,
    territory: TerritoryContext,
    petition: Petition,
    details: GuestDetails,
    *,
    source_hash: str,
    base_url: str,
    locale: str,
) -> Outcome:
    """A guest signs a civic petition: the row waits, uncounted, for the e-mailed link's button.

    Up to two named people share one address (slot 1, else slot 2, each insert in a savepoint).
    The same address and name again, or a third name, looks like success to the visitor; the
    address is told instead (a new link if theirs was never confirmed), a few times at most."""
    if petition.territory_id != territory.id:
        raise NotFound(_("Cette pétition n'existe pas."))
    if petition.kind != PetitionKind.CIVIC:
        raise Forbidden(_("Une demande de consultation se signe avec un compte, par les électeurs."))
    _require_open(petition, territory)
    if details.honeypot.strip():
        return Outcome.IGNORED
    name, key, address, email_key = _check_guest(details, territory)
    now = utcnow()
    flagged = _is_burst(db, petition.id, source_hash, now)
    token = new_token()
    for slot in (1, 2):
        signature = PetitionSignature(
            territory_id=territory.id,
            petition_id=petition.id,
            method=SignatureMethod.GUEST,
            display_name=name,
            name_key=key,
            email=address,
            email_key=email_key,
            email_slot=slot,
            postcode=details.postcode.strip().upper(),
            relation=details.choices.relation,
            show_name=details.choices.show_name,
            notify=details.choices.notify,
            invite_if_project=details.choices.invite_if_project,
            confirm_token_hash=hash_token(token),
            flagged_at=now if flagged else None,
            source_hash=source_hash,
        )
        try:
            with db.begin_nested():
                db.add(signature)
                db.flush()
        except IntegrityError:
            same = _guest_row(db, petition.id, email_key, PetitionSignature.name_key == key)
            if same is not None:
                _tell_owner(db, territory, petition, same, base_url, locale)
                return Outcome.ALREADY
            continue
        queue_email(
            db,
            territory_id=territory.id,
            person_id=None,
            to=address,
            template="petition_signature_confirm",
            context={"petition_title": petition.title, "link": _confirm_link(base_url, locale, token)},
            locale=locale,
        )
        return Outcome.PENDING
    first = _guest_row(db, petition.id, email_key, PetitionSignature.email_slot == 1)
    if first is not None:
        _tell_owner(db, territory, petition, first, base_url, locale)
    return Outcome.ALREADY


def _guest_row(db: Session, petition_id: int, email_key: str, extra: ColumnElement[bool]) -> PetitionSignature | None:
    return db.scalar(
        select(PetitionSignature).where(
            PetitionSignature.petition_id == petition_id, PetitionSignature.email_key == email_key, extra
        )
    )


def _claim_notice(db: Session, signature: PetitionSignature, now: dt.datetime, token_hash: str | None) -> bool:
    """One more e-mail about this row, if it stays within the limits (a conditional UPDATE, so
    two attempts at once send one e-mail)."""
    values: dict[str, object] = {
        "notices_sent": PetitionSignature.notices_sent + 1,
        "last_notice_at": now,
    }
    if token_hash is not None:
        values["confirm_token_hash"] = token_hash
    result = db.execute(
        update(PetitionSignature)
        .where(
            PetitionSignature.id == signature.id,
            PetitionSignature.notices_sent < NOTICE_MAX,
            or_(PetitionSignature.last_notice_at.is_(None), PetitionSignature.last_notice_at <= now - NOTICE_INTERVAL),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.expire(signature)
    return bool(getattr(result, "rowcount", 0))


def _tell_owner(
    db: Session,
    territory: TerritoryContext,
    petition: Petition,
    signature: PetitionSignature,
    base_url: str,
    locale: str,
) -> None:
    if signature.email is None or signature.erased_at is not None:
        return
    address = signature.email
    now = utcnow()
    if signature.confirmed_at is None and signature.invalidated_at is None:
        token = new_token()
        if _claim_notice(db, signature, now, hash_token(token)):
            queue_email(
                db,
                territory_id=territory.id,
                person_id=None,
                to=address,
                template="petition_signature_confirm",
                context={"petition_title": petition.title, "link": _confirm_link(base_url, locale, token)},
                locale=locale,
            )
        return
    if _claim_notice(db, signature, now, None):
        queue_email(
            db,
            territory_id=territory.id,
            person_id=None,
            to=address,
            template="petition_signature_duplicate",
            context={"petition_title": petition.title},
            locale=locale,
        )


def _token_row(db: Session, territory_id: int, token: str) -> PetitionSignature | None:
    if not token or len(token) > 200:
        return None
    row = db.scalar(select(PetitionSignature).where(PetitionSignature.confirm_token_hash == hash_token(token)))
    if row is None or row.territory_id != territory_id:
        return None
    return row


def token_state(db: Session, territory_id: int, token: str) -> tuple[str, Petition | None]:
    """Whether a confirmation link can still be used (showing the page changes nothing)."""
    row = _token_row(db, territory_id, token)
    if row is None or row.invalidated_at is not None or row.erased_at is not None:
        return TOKEN_UNKNOWN, None
    petition = db.get_one(Petition, row.petition_id)
    if row.confirmed_at is not None:
        return TOKEN_USED, petition
    issued = row.last_notice_at or row.created_at
    if issued + CONFIRM_LIFETIME <= utcnow():
        return TOKEN_EXPIRED, petition
    return TOKEN_VALID, petition


def confirm(db: Session, territory: TerritoryContext, token: str) -> tuple[str, Petition | None]:
    """The button of the e-mailed link: the guest's signature counts from now (unless it waits
    for an agent's release). Returns the token's state: valid (confirmed now) or why not."""
    state, petition = token_state(db, territory.id, token)
    if state != TOKEN_VALID or petition is None:
        return state, petition
    _require_open(petition, territory)
    now = utcnow()
    # Conditional UPDATE: two clicks at once confirm (and count) once.
    result = db.execute(
        update(PetitionSignature)
        .where(PetitionSignature.confirm_token_hash == hash_token(token), PetitionSignature.confirmed_at.is_(None))
        .values(confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return TOKEN_USED, petition
    db.execute(
        update(PetitionSignature)
        .where(
            PetitionSignature.confirm_token_hash == hash_token(token),
            PetitionSignature.counted_at.is_(None),
            or_(PetitionSignature.flagged_at.is_(None), PetitionSignature.released_at.is_not(None)),
        )
        .values(counted_at=now)
        .execution_options(synchronize_session=False)
    )
    db.flush()
    return TOKEN_VALID, petition


# --- Agents: flagged and fraudulent signatures ------------------------------------------------


def can_manage_signatures(viewer: Viewer | None, petition: Petition) -> bool:
    return (
        viewer is not None
        and viewer.territory_id == petition.territory_id
        and viewer.has_any_role(Role.AGENT, Role.EXECUTIVE)
    )


def _require_manager(actor: Viewer, petition: Petition) -> None:
    if not can_manage_signatures(actor, petition):
        raise Forbidden(_("Cette page est réservée aux agent·es de la commune."))


def _selection(petition: Petition, public_ids: Sequence[str], source_hash: str) -> ColumnElement[bool]:
    ids = [p for p in public_ids if p][:MAX_BULK_IDS]
    if not ids and not source_hash:
        raise Invalid(_("Choisissez des signatures ou une adresse d'origine."), field="ids")
    clauses = [PetitionSignature.petition_id == petition.id]
    if ids:
        clauses.append(PetitionSignature.public_id.in_(ids))
    if source_hash:
        clauses.append(PetitionSignature.source_hash == source_hash[:64])
    return and_(*clauses)


def release_flagged(
    db: Session, actor: Viewer, petition: Petition, *, public_ids: Sequence[str] = (), source_hash: str = ""
) -> int:
    """Releases flagged signatures: they count from now (guests once they have confirmed)."""
    _require_manager(actor, petition)
    now = utcnow()
    rows = list(
        db.scalars(
            select(PetitionSignature).where(
                _selection(petition, public_ids, source_hash),
                PetitionSignature.flagged_at.is_not(None),
                PetitionSignature.released_at.is_(None),
                PetitionSignature.invalidated_at.is_(None),
            )
        )
    )
    for row in rows:
        row.released_at = now
        if row.counted_at is None and (row.method != SignatureMethod.GUEST or row.confirmed_at is not None):
            row.counted_at = now
    db.flush()
    if rows:
        audit.record(
            db,
            actor,
            "petition.signatures_release",
            "petition",
            petition.public_id,
            territory_id=petition.territory_id,
            data={"count": len(rows), "source_hash": source_hash[:12], "ids": [r.public_id for r in rows][:200]},
        )
    return len(rows)


def _invalidation_query(petition: Petition, public_ids: Sequence[str], source_hash: str) -> ColumnElement[bool]:
    return and_(_selection(petition, public_ids, source_hash), PetitionSignature.invalidated_at.is_(None))


def count_invalidation(
    db: Session, actor: Viewer, petition: Petition, *, public_ids: Sequence[str] = (), source_hash: str = ""
) -> int:
    """The dry run: how many signatures an invalidation would touch."""
    _require_manager(actor, petition)
    return (
        db.scalar(
            select(func.count())
            .select_from(PetitionSignature)
            .where(_invalidation_query(petition, public_ids, source_hash))
        )
        or 0
    )


def invalidate(
    db: Session,
    actor: Viewer,
    petition: Petition,
    reason: str,
    *,
    public_ids: Sequence[str] = (),
    source_hash: str = "",
) -> int:
    """Invalidates the selected signatures with a reason (they stop counting; rows stay)."""
    _require_manager(actor, petition)
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid(_("Indiquez la raison de l'invalidation."), field="reason")
    if len(reason) > 500:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": 500}, field="reason")
    rows = list(db.scalars(select(PetitionSignature).where(_invalidation_query(petition, public_ids, source_hash))))
    now = utcnow()
    for row in rows:
        row.invalidated_at = now
        row.invalid_reason = reason
    db.flush()
    if not rows:
        return 0
    audit.record(
        db,
        actor,
        "petition.signatures_invalidate",
        "petition",
        petition.public_id,
        territory_id=petition.territory_id,
        reason=reason,
        data={"count": len(rows), "source_hash": source_hash[:12], "ids": [r.public_id for r in rows][:200]},
    )
    return len(rows)


@dataclass(frozen=True)
class SignatureSummary:
    counted: int
    awaiting_confirmation: int
    flagged: int
    withdrawn: int
    invalidated: int


@dataclass(frozen=True)
class FlaggedSource:
    source_hash: str
    count: int


def staff_summary(db: Session, actor: Viewer, petition: Petition) -> SignatureSummary:
    _require_manager(actor, petition)
    s = PetitionSignature
    live = and_(s.invalidated_at.is_(None), s.withdrawn_at.is_(None))

    def n(*where: ColumnElement[bool]) -> int:
        return db.scalar(select(func.count()).select_from(s).where(s.petition_id == petition.id, *where)) or 0

    return SignatureSummary(
        counted=n(live, s.counted_at.is_not(None)),
        awaiting_confirmation=n(live, s.method == SignatureMethod.GUEST, s.confirmed_at.is_(None)),
        flagged=n(live, s.flagged_at.is_not(None), s.released_at.is_(None)),
        withdrawn=n(s.withdrawn_at.is_not(None)),
        invalidated=n(s.invalidated_at.is_not(None)),
    )


def flagged_sources(db: Session, actor: Viewer, petition: Petition) -> list[FlaggedSource]:
    _require_manager(actor, petition)
    s = PetitionSignature
    rows = db.execute(
        select(s.source_hash, func.count())
        .where(
            s.petition_id == petition.id,
            s.flagged_at.is_not(None),
            s.released_at.is_(None),
            s.invalidated_at.is_(None),
        )
        .group_by(s.source_hash)
        .order_by(func.count().desc())
    ).all()
    return [FlaggedSource(source_hash=h, count=c) for h, c in rows]


def recent_signatures(db: Session, actor: Viewer, petition: Petition, limit: int = 200) -> list[PetitionSignature]:
    """For the agents' work only (names and e-mails): never shown to the public."""
    _require_manager(actor, petition)
    return list(
        db.scalars(
            select(PetitionSignature)
            .where(PetitionSignature.petition_id == petition.id)
            .order_by(PetitionSignature.created_at.desc(), PetitionSignature.id.desc())
            .limit(limit)
        )
    )


# --- The box on the petition's page -------------------------------------------------------------


@dataclass(frozen=True)
class SignBox:
    """What the signing box shows to this viewer."""

    petition_public_id: str
    petition_title: str
    legal: bool
    open: bool
    signed_in: bool
    can_sign: bool  # a one-click form (civic) or the elector form (legal)
    signed: bool  # the viewer's signature is recorded (and not withdrawn)
    counted: bool  # ... and counts (as far as the viewer is told)
    can_withdraw: bool
    guest_form: bool  # anonymous visitor, civic and open: name, e-mail and postcode
    legal_form: bool  # signed-in adult on an open legal request
    refusal: str  # why the viewer may not sign, if so
    count: int  # the public count, with the viewer's own signature even if the count lags
    quarter: str  # legal requests: the current quarter, spelled out
    relation: str  # the viewer's answer when signed


def _public_count(db: Session, petition: Petition) -> tuple[int, dt.datetime | None]:
    row = db.get(PetitionCount, petition.id)
    if row is None:
        return 0, None
    return (row.town if petition.threshold_basis == "town" else row.total), row.computed_at


def sign_box(db: Session, viewer: Viewer | None, territory: TerritoryContext, petition: Petition) -> SignBox:
    legal = petition.kind == PetitionKind.LEGAL
    open_now = is_open(petition, territory)
    count, computed_at = _public_count(db, petition)
    own = None
    if viewer is not None and viewer.person_id is not None and viewer.territory_id == petition.territory_id:
        own = _own_signature(db, petition.id, viewer.person_id)
    signed = own is not None and own.withdrawn_at is None and own.invalidated_at is None
    counted = False
    if own is not None and signed:
        # A flagged signature is kept aside silently: its signer is told it is recorded.
        counted = own.counted_at is not None or own.flagged_at is not None
        in_basis = petition.threshold_basis != "town" or own.relation != SignerRelation.NONE
        not_yet_in_count = own.counted_at is None or computed_at is None or own.counted_at > computed_at
        if counted and in_basis and not_yet_in_count:
            count += 1
    refusal = ""
    allowed = can_sign(viewer, petition)
    if not open_now:
        refusal = _("Cette pétition est close : elle ne recueille plus de signatures.")
    elif legal and viewer is not None and not allowed:
        refusal = _("Seuls les électeurs majeurs peuvent signer une demande de consultation.")
    return SignBox(
        petition_public_id=petition.public_id,
        petition_title=petition.title,
        legal=legal,
        open=open_now,
        signed_in=viewer is not None,
        can_sign=open_now and allowed and not signed,
        signed=signed,
        counted=counted,
        can_withdraw=open_now and signed,
        guest_form=open_now and viewer is None and not legal,
        legal_form=open_now and legal and allowed and not signed,
        refusal=refusal,
        count=count,
        quarter=quarter_label(quarter_of(utcnow(), territory.timezone)) if legal else "",
        relation=own.relation if own is not None else "",
    )


# ---------------------------------------------------------------- the person's data export


@register_section("petition_signatures")
def _my_signatures(db: Session, person: Person) -> list[dict[str, Any]]:
    """The petitions the person signed with their account, as the town holds the signature."""
    rows = db.execute(
        select(Petition.public_id, Petition.title, Petition.kind, PetitionSignature)
        .join(Petition, Petition.id == PetitionSignature.petition_id)
        .where(PetitionSignature.person_id == person.id, PetitionSignature.territory_id == person.territory_id)
        .order_by(PetitionSignature.id)
    )
    return [
        {
            "petition": public_id,
            "title": title,
            "kind": kind,
            "signed_at": s.created_at.isoformat(),
            "counted_at": s.counted_at.isoformat() if s.counted_at else None,
            "withdrawn_at": s.withdrawn_at.isoformat() if s.withdrawn_at else None,
            "invalidated_at": s.invalidated_at.isoformat() if s.invalidated_at else None,
            "relation": s.relation,
            "show_name": s.show_name,
            "notify": s.notify,
            "invite_if_project": s.invite_if_project,
            # Legal requests: what the electoral roll check was given.
            "surname": s.surname,
            "first_names": s.first_names,
            "address": s.address,
            "birth_date": s.birth_date.isoformat() if s.birth_date else None,
            "roll_status": s.roll_status,
        }
        for public_id, title, kind, s in rows
    ]
