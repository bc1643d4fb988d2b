"""Accounts: registration, e-mail verification, login, password reset and change.

Accounts and their persons belong to one territory; every lookup is scoped by it.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from email_normalize import Normalizer, Result, normalize
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import passwords, permissions, sessions
from app.accounts.models import Account, AgeBracket, EmailToken, Person, PersonKind, UserSession
from app.audit import service as audit
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Invalid, NotFound
from app.core.tokens import hash_token, new_token
from app.db.base import utcnow
from app.mail.service import queue_email
from app.territories.models import Neighbourhood
from app.web.i18n import _

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
TOKEN_LIFETIMES = {VERIFY_EMAIL: dt.timedelta(hours=48), RESET_PASSWORD: dt.timedelta(minutes=30)}


def normalise_email(raw: str) -> tuple[str, str]:
    """Returns (address to mail, canonical key for duplicates), or raises Invalid."""
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(_("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."), field="email") from None
    address = info.normalized
    return address, _canonical_key(address)


def _canonical_key(address: str) -> str:
    """Provider aliases folded (gmail dots, plus tags...) from a static map, without DNS.

    ``email_normalize.normalize`` wraps the coroutine in ``asyncio.run``, which fails in a
    thread that already runs an event loop (the worker, some test runners). Without DNS the
    coroutine never suspends, so it is driven here directly, with no event loop at all.
    """
    coroutine = Normalizer(skip_dns=True).normalize(address)
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: Result = done.value
        return result.normalized_address.casefold()
    coroutine.close()  # it suspended: a library change; fall back to a private loop in a thread
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(normalize, address, True).result().normalized_address.casefold()


def actor_for(account: Account, person: Person) -> Actor:
    return Actor(
        person_id=person.id, account_id=account.id, territory_id=account.territory_id, label=person.display_name
    )


def check_neighbourhood(db: Session, territory_id: int, neighbourhood_id: int | None) -> None:
    if neighbourhood_id is None:
        return
    found = db.scalar(
        select(Neighbourhood.id).where(Neighbourhood.id == neighbourhood_id, Neighbourhood.territory_id == territory_id)
    )
    if found is None:
        raise Invalid(_("Choisissez un quartier de la liste."), field="neighbourhood_id")


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    display_name: str
    neighbourhood_id: int | None
    age_bracket: AgeBracket
    guardian_contact: str | None
    locale: str


def register(
    db: Session, territory_id: int, data: Registration, base_url: str, *, verified_by_operator: bool = False
) -> Account | None:
    """Creates an unverified account and mails the verification link.

    ``verified_by_operator`` is for accounts the operator creates at the command line (first
    admin, demo data): the address is taken as verified and no link is mailed.

    If the address already has an account here, nothing is created and the owner is told
    by e-mail instead, so the form never reveals who is registered. Returns None then.
    """
    address, key = normalise_email(data.email)
    problem = passwords.password_problem(data.password, email=address, display_name=data.display_name)
    if problem:
        raise Invalid(problem, field="password")
    if data.age_bracket == AgeBracket.UNDER_15 and not (data.guardian_contact or "").strip():
        raise Invalid(
            _("Pour les moins de 15 ans, indiquez le nom et le téléphone ou l'e-mail d'un parent."),
            field="guardian_contact",
        )
    check_neighbourhood(db, territory_id, data.neighbourhood_id)
    existing = db.scalar(select(Account).where(Account.territory_id == territory_id, Account.email_key == key))
    if existing is not None:
        queue_email(
            db,
            territory_id=territory_id,
            person_id=existing.person_id,
            to=existing.email,
            template="account_exists",
            context={"base_url": base_url},
            locale=existing.locale,
        )
        return None
    person = Person(
        territory_id=territory_id,
        kind=PersonKind.ACCOUNT_HOLDER,
        display_name=data.display_name,
        email=address,
        neighbourhood_id=data.neighbourhood_id,
        age_bracket=data.age_bracket,
        guardian_contact=(data.guardian_contact or None) if data.age_bracket == AgeBracket.UNDER_15 else None,
    )
    db.add(person)
    db.flush()
    account = Account(
        territory_id=territory_id,
        person_id=person.id,
        email=address,
        email_key=key,
        password_hash=passwords.hash_password(data.password),
        locale=data.locale,
    )
    db.add(account)
    db.flush()
    audit.record(db, actor_for(account, person), "account.register", "account", account.id, territory_id=territory_id)
    if verified_by_operator:
        account.email_verified_at = utcnow()
    else:
        send_verification(db, account, base_url)
    return account


def _issue_token(db: Session, account: Account, purpose: str) -> str:
    token = new_token()
    db.add(
        EmailToken(
            territory_id=account.territory_id,
            account_id=account.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=utcnow() + TOKEN_LIFETIMES[purpose],
        )
    )
    db.flush()
    return token


def send_verification(db: Session, account: Account, base_url: str) -> None:
    token = _issue_token(db, account, VERIFY_EMAIL)
    queue_email(
        db,
        territory_id=account.territory_id,
        person_id=account.person_id,
        to=account.email,
        template="verify_email",
        context={
            "link": f"{base_url}/compte/verifier?token={token}"
            if account.locale == "fr"
            else f"{base_url}/en/compte/verifier?token={token}"
        },
        locale=account.locale,
    )


def _consume_token(db: Session, territory_id: int, token: str, purpose: str) -> EmailToken:
    row = db.scalar(
        select(EmailToken)
        .where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == purpose)
        .with_for_update()
    )
    if row is None or row.territory_id != territory_id:
        raise NotFound(_("Ce lien n'est pas valide. Vérifiez que vous avez copié l'adresse en entier."))
    if row.used_at is not None:
        raise Conflict(_("Ce lien a déjà été utilisé."))
    if row.expires_at <= utcnow():
        raise Conflict(_("Ce lien a expiré. Demandez-en un nouveau."))
    row.used_at = utcnow()
    return row


def peek_token(db: Session, territory_id: int, token: str, purpose: str) -> EmailToken | None:
    """The token if it is still usable (for showing the confirmation page), without using it."""
    row = db.scalar(select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == purpose))
    if row is None or row.territory_id != territory_id or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def confirm_email(db: Session, territory_id: int, token: str) -> Account:
    row = _consume_token(db, territory_id, token, VERIFY_EMAIL)
    account = db.get_one(Account, row.account_id)
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
        audit.record(db, SYSTEM, "account.verify_email", "account", account.id, territory_id=territory_id)
    db.flush()
    return account


def authenticate(db: Session, territory_id: int, email: str, password: str) -> Account | None:
    """The account for these credentials in this territory, or None (same timing either way)."""
    try:
        _address, key = normalise_email(email)
    except Invalid:
        passwords.verify_password(password, passwords.DUMMY_HASH)
        return None
    account = db.scalar(select(Account).where(Account.territory_id == territory_id, Account.email_key == key))
    if account is None or account.disabled_at is not None:
        passwords.verify_password(password, passwords.DUMMY_HASH)
        return None
    valid, new_hash = passwords.verify_password(password, account.password_hash)
    if not valid:
        return None
    if new_hash:
        account.password_hash = new_hash
    return account


def login(db: Session, account: Account, user_agent: str) -> str:
    account.last_login_at = utcnow()
    account.last_active_at = account.last_login_at
    account.inactivity_notice_at = None
    token = sessions.open_session(db, account, user_agent)
    person = db.get_one(Person, account.person_id)
    audit.record(
        db, actor_for(account, person), "account.login", "account", account.id, territory_id=account.territory_id
    )
    return token


def request_password_reset(db: Session, territory_id: int, email: str, base_url: str) -> None:
    """Mails a reset link if the address has an account here; says nothing either way."""
    try:
        _address, key = normalise_email(email)
    except Invalid:
        return
    account = db.scalar(select(Account).where(Account.territory_id == territory_id, Account.email_key == key))
    if account is None or account.disabled_at is not None:
        return
    token = _issue_token(db, account, RESET_PASSWORD)
    prefix = "" if account.locale == "fr" else "/en"
    queue_email(
        db,
        territory_id=territory_id,
        person_id=account.person_id,
        to=account.email,
        template="reset_password",
        context={"link": f"{base_url}{prefix}/mot-de-passe/nouveau?token={token}"},
        locale=account.locale,
    )


def reset_password(db: Session, territory_id: int, token: str, new_password: str) -> Account:
    row = peek_token(db, territory_id, token, RESET_PASSWORD)
    if row is None:
        raise Conflict(_("Ce lien n'est plus valide. Demandez un nouveau lien de réinitialisation."))
    account = db.get_one(Account, row.account_id)
    problem = passwords.password_problem(new_password, email=account.email)
    if problem:
        raise Invalid(problem, field="password")
    _consume_token(db, territory_id, token, RESET_PASSWORD)
    account.password_hash = passwords.hash_password(new_password)
    # A reset proves control of the mailbox: the address is verified too.
    account.email_verified_at = account.email_verified_at or utcnow()
    sessions.revoke_all(db, account.id)
    audit.record(db, SYSTEM, "account.reset_password", "account", account.id, territory_id=territory_id)
    db.flush()
    return account


def change_password(db: Session, actor: Actor, current: str, new_password: str) -> None:
    account = db.get_one(Account, actor.account_id)
    valid, _unused = passwords.verify_password(current, account.password_hash)
    if not valid:
        raise Invalid(_("Le mot de passe actuel n'est pas le bon."), field="current_password")
    problem = passwords.password_problem(new_password, email=account.email)
    if problem:
        raise Invalid(problem, field="new_password")
    account.password_hash = passwords.hash_password(new_password)
    session_id = getattr(actor, "session_id", None)
    sessions.revoke_all(db, account.id, except_session_id=session_id)
    audit.record(db, actor, "account.change_password", "account", account.id, territory_id=account.territory_id)
    db.flush()


# --- Link states, resending, logout ------------------------------------------------------------

TOKEN_VALID = "valid"
TOKEN_UNKNOWN = "unknown"
TOKEN_USED = "used"
TOKEN_EXPIRED = "expired"


def email_token_state(db: Session, territory_id: int, token: str, purpose: str) -> str:
    """Whether an e-mailed link can still be used, without using it (for the page it opens)."""
    if not token:
        return TOKEN_UNKNOWN
    row = db.scalar(select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == purpose))
    if row is None or row.territory_id != territory_id:
        return TOKEN_UNKNOWN
    if row.used_at is not None:
        return TOKEN_USED
    if row.expires_at <= utcnow():
        return TOKEN_EXPIRED
    return TOKEN_VALID


def resend_verification(db: Session, actor: Actor, base_url: str) -> bool:
    """Mails a new verification link; False when the address is already verified."""
    account = _own_account(db, actor)
    if account.email_verified_at is not None:
        return False
    send_verification(db, account, base_url)
    audit.record(db, actor, "account.resend_verification", "account", account.id, territory_id=account.territory_id)
    return True


def logout(db: Session, actor: Actor) -> None:
    session_id = getattr(actor, "session_id", None)
    if session_id is None or actor.account_id is None:
        return
    sessions.revoke(db, session_id)
    audit.record(db, actor, "account.logout", "account", actor.account_id, territory_id=actor.territory_id)


# --- Profile ("Mon espace") -------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    display_name: str
    email: str
    email_verified: bool
    neighbourhood_id: int | None
    neighbourhood_name: str | None
    age_bracket: str
    locale: str
    created_at: dt.datetime


def _own_account(db: Session, actor: Actor) -> Account:
    if actor.account_id is None:
        raise NotFound(_("Compte introuvable."))
    account = db.get(Account, actor.account_id)
    if account is None or account.territory_id != actor.territory_id or account.disabled_at is not None:
        raise NotFound(_("Compte introuvable."))
    return account


def get_profile(db: Session, actor: Actor) -> Profile:
    account = _own_account(db, actor)
    person = db.get_one(Person, account.person_id)
    neighbourhood = db.get(Neighbourhood, person.neighbourhood_id) if person.neighbourhood_id else None
    return Profile(
        display_name=person.display_name,
        email=account.email,
        email_verified=account.email_verified_at is not None,
        neighbourhood_id=person.neighbourhood_id,
        neighbourhood_name=neighbourhood.name if neighbourhood else None,
        age_bracket=person.age_bracket,
        locale=account.locale,
        created_at=account.created_at,
    )


SUPPORTED_LOCALES = ("fr", "en")


def update_profile(db: Session, actor: Actor, *, display_name: str, neighbourhood_id: int | None, locale: str) -> None:
    account = _own_account(db, actor)
    person = db.get_one(Person, account.person_id)
    display_name = display_name.strip()
    if not display_name:
        raise Invalid(_("Ce champ est obligatoire."), field="display_name")
    if len(display_name) > 120:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": 120}, field="display_name")
    if locale not in SUPPORTED_LOCALES:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="locale")
    check_neighbourhood(db, account.territory_id, neighbourhood_id)
    changed = [
        name
        for name, old, new in (
            ("display_name", person.display_name, display_name),
            ("neighbourhood_id", person.neighbourhood_id, neighbourhood_id),
            ("locale", account.locale, locale),
        )
        if old != new
    ]
    person.display_name = display_name
    person.neighbourhood_id = neighbourhood_id
    account.locale = locale
    db.flush()
    # The audit names what changed, not the values (no personal data in the log).
    audit.record(
        db,
        actor,
        "account.update_profile",
        "account",
        account.id,
        territory_id=account.territory_id,
        data={"changed": changed},
    )


# --- Sessions seen from "Mon espace" ------------------------------------------------------------


def list_sessions(db: Session, actor: Actor) -> list[UserSession]:
    account = _own_account(db, actor)
    return sessions.list_active(db, account.id)


def revoke_session(db: Session, actor: Actor, session_public_id: str) -> None:
    """Ends one of the actor's other sessions. Another person's session answers 404."""
    row = db.scalar(select(UserSession).where(UserSession.public_id == session_public_id))
    if row is None or not permissions.owns(actor, row.territory_id, row.account_id):
        raise NotFound(_("Cette session n'existe pas ou a déjà pris fin."))
    if row.revoked_at is not None:
        return
    if not permissions.can_revoke_session(actor, row):
        raise Conflict(_("Pour fermer la session en cours, utilisez « Se déconnecter »."))
    sessions.revoke(db, row.id)
    audit.record(db, actor, "session.revoke", "user_session", row.public_id, territory_id=row.territory_id)


def revoke_other_sessions(db: Session, actor: Actor) -> int:
    account = _own_account(db, actor)
    count = sessions.revoke_all(db, account.id, except_session_id=getattr(actor, "session_id", None))
    audit.record(
        db,
        actor,
        "session.revoke_all",
        "account",
        account.id,
        territory_id=account.territory_id,
        data={"count": count},
    )
    return count
