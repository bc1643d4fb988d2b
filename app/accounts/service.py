"""Accounts: registration, e-mail verification, login, password reset and change.

Accounts and their persons belong to one territory; every lookup is scoped by it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from email_normalize import normalize
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import passwords, sessions
from app.accounts.models import Account, AgeBracket, EmailToken, Person, PersonKind
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
    key = normalize(address, skip_dns=True).normalized_address.casefold()
    return address, key


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


def register(db: Session, territory_id: int, data: Registration, base_url: str) -> Account | None:
    """Creates an unverified account and mails the verification link.

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
