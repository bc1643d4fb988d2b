"""Deleting an account: the person is anonymised, the account closed, public records stay.

The person row is kept (what they published or signed still points at it) but shows as
"ancien·ne habitant·e"; the account row is kept disabled with its e-mail removed, so that
rows pointing at it stay valid and the address is free to register again. Sessions, tokens,
notification preferences, notifications, follows and e-mails to the person are deleted.

Later domains may refuse a deletion until something is done first (a sole promoter of a live
project must hand it over): they register a blocker returning a translated message.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.accounts import passwords
from app.accounts.display import FORMER_RESIDENT_NAME
from app.accounts.models import Account, ApiToken, EmailToken, Person, RoleGrant, UserSession
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Invalid, NotFound
from app.db.base import utcnow
from app.follows.models import InitiativeFollow
from app.mail.models import OutboxEmail
from app.notifications.models import Notification, NotificationPreference
from app.web.i18n import _

# Stored as is: public records show this name once a person is anonymised
# (and app.accounts.display.public_name shows it translated).
ANONYMOUS_NAME = FORMER_RESIDENT_NAME
# Cannot match any Argon2 hash: the closed account can never log in.
UNUSABLE_PASSWORD = "!"

Blocker = Callable[[Session, Person], str | None]
_blockers: list[Blocker] = []


def register_blocker(blocker: Blocker) -> Blocker:
    """Declares a check run before deleting an account; it returns a translated reason or None."""
    if blocker not in _blockers:
        _blockers.append(blocker)
    return blocker


def unregister_blocker(blocker: Blocker) -> None:
    if blocker in _blockers:
        _blockers.remove(blocker)


def deletion_blockers(db: Session, person: Person) -> list[str]:
    return [reason for blocker in _blockers if (reason := blocker(db, person))]


def anonymise_person(db: Session, person: Person) -> None:
    person.display_name = ANONYMOUS_NAME
    person.email = None
    person.phone = None
    person.postal_address = None
    person.guardian_contact = None
    person.preferred_contact = None
    person.notes = None
    person.anonymised_at = person.anonymised_at or utcnow()
    db.execute(delete(NotificationPreference).where(NotificationPreference.person_id == person.id))
    # Which initiatives a person followed is theirs alone: it goes with the account.
    db.execute(delete(InitiativeFollow).where(InitiativeFollow.person_id == person.id))
    db.execute(delete(Notification).where(Notification.person_id == person.id))
    db.execute(delete(OutboxEmail).where(OutboxEmail.person_id == person.id))
    db.flush()


def close_account(db: Session, account: Account) -> None:
    """Disables the account for good, frees its e-mail and ends every way into it."""
    now = utcnow()
    account.email = ""
    account.email_key = f"erased:{account.id}"
    account.password_hash = UNUSABLE_PASSWORD
    account.email_verified_at = None
    account.last_login_at = None
    account.last_active_at = None
    account.inactivity_notice_at = None
    account.disabled_at = account.disabled_at or now
    db.execute(
        update(RoleGrant)
        .where(RoleGrant.account_id == account.id, RoleGrant.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.execute(delete(UserSession).where(UserSession.account_id == account.id))
    db.execute(delete(EmailToken).where(EmailToken.account_id == account.id))
    db.execute(delete(ApiToken).where(ApiToken.account_id == account.id))
    db.flush()


def erase_person(db: Session, person: Person, *, trigger: str, actor: Actor | None = None) -> None:
    """Anonymises the person and closes their account, unless a blocker refuses (Conflict).

    The audit entry names neither the person nor their address.
    """
    reasons = deletion_blockers(db, person)
    if reasons:
        raise Conflict(" ".join(reasons))
    account = db.scalar(select(Account).where(Account.person_id == person.id))
    anonymise_person(db, person)
    if account is not None:
        close_account(db, account)
    actor = actor or Actor(person_id=person.id, account_id=None, territory_id=person.territory_id, label=ANONYMOUS_NAME)
    audit.record(
        db,
        actor,
        "privacy.erase_account",
        "person",
        person.id,
        territory_id=person.territory_id,
        data={"trigger": trigger},
    )


def person_of(db: Session, actor: Actor) -> Person:
    person = db.scalar(select(Person).where(Person.id == actor.person_id, Person.territory_id == actor.territory_id))
    if person is None or person.anonymised_at is not None:
        raise NotFound(_("Compte introuvable."))
    return person


def delete_own_account(db: Session, actor: Actor, password: str) -> None:
    """The signed-in person deletes their account after typing their password again."""
    person = person_of(db, actor)
    account = db.scalar(select(Account).where(Account.id == actor.account_id, Account.person_id == person.id))
    if account is None:
        raise NotFound(_("Compte introuvable."))
    valid, _unused = passwords.verify_password(password, account.password_hash)
    if not valid:
        raise Invalid(_("Le mot de passe n'est pas le bon."), field="password")
    erase_person(db, person, trigger="self")
