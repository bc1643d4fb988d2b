"""Server-side login sessions: opened (rotated) at login, checked per request, revocable.

Timeouts: staff (agent, executive, admin) sessions end after 2 hours idle and 12 hours in
all (ASVS L2); residents' after 14 days idle and 30 days in all, so that a resident writing a
proposal over several evenings is not logged out mid-draft.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import STAFF_ROLES, Account, Person, RoleGrant, UserSession
from app.accounts.viewer import Viewer
from app.core.tokens import hash_token, new_token
from app.db.base import utcnow

STAFF_IDLE = dt.timedelta(hours=2)
STAFF_ABSOLUTE = dt.timedelta(hours=12)
RESIDENT_IDLE = dt.timedelta(days=14)
RESIDENT_ABSOLUTE = dt.timedelta(days=30)
LAST_SEEN_GRANULARITY = dt.timedelta(minutes=1)


def timeouts(roles: frozenset[str]) -> tuple[dt.timedelta, dt.timedelta]:
    if roles & STAFF_ROLES:
        return STAFF_IDLE, STAFF_ABSOLUTE
    return RESIDENT_IDLE, RESIDENT_ABSOLUTE


def active_roles(db: Session, account_id: int) -> frozenset[str]:
    rows = db.scalars(
        select(RoleGrant.role).where(
            RoleGrant.account_id == account_id,
            RoleGrant.revoked_at.is_(None),
            RoleGrant.confirmed_at.is_not(None),
        )
    )
    return frozenset(rows)


def open_session(db: Session, account: Account, user_agent: str = "") -> str:
    """Creates a session and returns the raw token for the cookie (only its hash is stored)."""
    token = new_token()
    now = utcnow()
    _, absolute = timeouts(active_roles(db, account.id))
    db.add(
        UserSession(
            territory_id=account.territory_id,
            account_id=account.id,
            token_hash=hash_token(token),
            last_seen_at=now,
            expires_at=now + absolute,
            user_agent=user_agent[:300],
        )
    )
    db.flush()
    return token


@dataclass(frozen=True)
class SessionLookup:
    viewer: Viewer
    needs_touch: bool


def lookup(db: Session, token: str, territory_id: int) -> SessionLookup | None:
    """The viewer for a session token, or None if unknown, revoked, expired, idle too long,
    disabled, or issued by another territory (a replayed cookie is refused)."""
    row = db.execute(
        select(UserSession, Account, Person)
        .join(Account, Account.id == UserSession.account_id)
        .join(Person, Person.id == Account.person_id)
        .where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    sess, account, person = row
    now = utcnow()
    if sess.territory_id != territory_id or account.territory_id != territory_id:
        return None
    if sess.revoked_at is not None or account.disabled_at is not None or sess.expires_at <= now:
        return None
    roles = active_roles(db, account.id)
    idle, absolute = timeouts(roles)
    if now - sess.last_seen_at > idle or now - sess.created_at > absolute:
        return None
    viewer = Viewer(
        person_id=person.id,
        account_id=account.id,
        territory_id=territory_id,
        label=person.display_name,
        roles=roles,
        session_id=sess.id,
        display_name=person.display_name,
        email=account.email,
        email_verified=account.email_verified_at is not None,
        locale=account.locale,
        age_bracket=person.age_bracket,
        person_public_id=person.public_id,
    )
    return SessionLookup(viewer=viewer, needs_touch=now - sess.last_seen_at > LAST_SEEN_GRANULARITY)


def touch(db: Session, session_id: int, account_id: int) -> None:
    now = utcnow()
    db.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    db.execute(update(Account).where(Account.id == account_id).values(last_active_at=now))


def revoke(db: Session, session_id: int) -> None:
    db.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all(db: Session, account_id: int, *, except_session_id: int | None = None) -> int:
    stmt = update(UserSession).where(UserSession.account_id == account_id, UserSession.revoked_at.is_(None))
    if except_session_id is not None:
        stmt = stmt.where(UserSession.id != except_session_id)
    result = db.execute(stmt.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_by_token(db: Session, token: str, territory_id: int) -> int | None:
    """Revokes the session a cookie token points to (this territory only); returns its id."""
    session_id = db.scalar(
        select(UserSession.id).where(
            UserSession.token_hash == hash_token(token),
            UserSession.territory_id == territory_id,
            UserSession.revoked_at.is_(None),
        )
    )
    if session_id is not None:
        revoke(db, session_id)
    return session_id


def list_active(db: Session, account_id: int) -> list[UserSession]:
    """The account's sessions that are neither revoked nor past their absolute expiry, newest first."""
    return list(
        db.scalars(
            select(UserSession)
            .where(
                UserSession.account_id == account_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > utcnow(),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )
