"""Personal access tokens for the JSON API: created on the profile page, shown once, hashed at rest.

A token reads ``cx_`` followed by 256 random bits. Only its SHA-256 and a short display prefix
are stored. Tokens are bound to the territory that issued them: replayed on another town's
host they are refused, like sessions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts import permissions
from app.accounts.models import Account, ApiToken
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.tokens import hash_token, new_token
from app.db.base import utcnow
from app.web.i18n import N_, _

TOKEN_PREFIX = "cx_"
DISPLAY_PREFIX_LENGTH = 10
SCOPES: dict[str, str] = {
    "read": N_("lecture"),
    "write": N_("écriture"),
}
MAX_NAME_LENGTH = 100
MAX_EXPIRY_DAYS = 366
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def scope_label(scope: str) -> str:
    return _(SCOPES[scope]) if scope in SCOPES else scope


def create_token(
    db: Session, actor: Actor, name: str, scopes: Iterable[str], expires_in_days: int | None
) -> tuple[ApiToken, str]:
    """Creates a token for the actor's own account; returns it with the raw value (shown once)."""
    if actor.account_id is None or actor.territory_id is None:
        raise Forbidden(_("Seul un compte connecté peut créer un jeton."))
    name = name.strip()
    if not name:
        raise Invalid(_("Ce champ est obligatoire."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": MAX_NAME_LENGTH}, field="name")
    chosen = sorted(set(scopes))
    if not chosen or any(scope not in SCOPES for scope in chosen):
        raise Invalid(_("Cochez au moins une portée : lecture ou écriture."), field="scopes")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise Invalid(
            _("Indiquez une durée entre 1 et %(n)s jours, ou laissez vide.") % {"n": MAX_EXPIRY_DAYS},
            field="expires_in_days",
        )
    raw = TOKEN_PREFIX + new_token(32)
    token = ApiToken(
        territory_id=actor.territory_id,
        account_id=actor.account_id,
        name=name,
        token_hash=hash_token(raw),
        prefix=raw[:DISPLAY_PREFIX_LENGTH],
        scopes=chosen,
        expires_at=utcnow() + dt.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.add(token)
    db.flush()
    audit.record(
        db,
        actor,
        "api_token.create",
        "api_token",
        token.public_id,
        territory_id=actor.territory_id,
        data={"scopes": chosen, "expires_in_days": expires_in_days},
    )
    return token, raw


def list_tokens(db: Session, actor: Actor) -> list[ApiToken]:
    """The actor's tokens, active ones first, newest first."""
    if actor.account_id is None:
        return []
    rows = db.scalars(
        select(ApiToken)
        .where(ApiToken.account_id == actor.account_id, ApiToken.territory_id == actor.territory_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return sorted(rows, key=lambda t: not is_active(t))


def is_active(token: ApiToken, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def revoke_token(db: Session, actor: Actor, public_id: str) -> ApiToken:
    """Revokes one of the actor's tokens (again: no change). Another person's token answers 404."""
    token = db.scalar(select(ApiToken).where(ApiToken.public_id == public_id))
    if token is None or not permissions.owns(actor, token.territory_id, token.account_id):
        raise NotFound(_("Ce jeton n'existe pas."))
    if not permissions.can_revoke_token(actor, token):
        return token
    token.revoked_at = utcnow()
    db.flush()
    audit.record(db, actor, "api_token.revoke", "api_token", token.public_id, territory_id=token.territory_id)
    return token


def find_token(db: Session, raw: str, territory_id: int) -> tuple[ApiToken, Account] | None:
    """The token and its account, or None if unknown, revoked, expired, disabled or issued by
    another territory. Reads only, so that API reads never take SQLite's write lock."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    row = db.execute(
        select(ApiToken, Account)
        .join(Account, Account.id == ApiToken.account_id)
        .where(ApiToken.token_hash == hash_token(raw))
    ).first()
    if row is None:
        return None
    token, account = row
    now = utcnow()
    if token.territory_id != territory_id or account.territory_id != territory_id:
        return None
    if not is_active(token, now) or account.disabled_at is not None:
        return None
    return token, account


def needs_touch(token: ApiToken) -> bool:
    return token.last_used_at is None or utcnow() - token.last_used_at > LAST_USED_GRANULARITY


def touch_token(db: Session, token_id: int) -> None:
    """Records the token's last use (to the minute)."""
    db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def authenticate_token(db: Session, raw: str, territory_id: int) -> tuple[ApiToken, Account] | None:
    """``find_token`` and, in the same (write) session, the record of its last use."""
    found = find_token(db, raw, territory_id)
    if found is not None and needs_touch(found[0]):
        found[0].last_used_at = utcnow()
        db.flush()
    return found
