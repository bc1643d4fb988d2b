"""Who may act on account-level objects: plain functions used by services and templates."""

from __future__ import annotations

from app.accounts.models import ApiToken, UserSession
from app.core.actor import Actor


def owns(actor: Actor, territory_id: int, account_id: int) -> bool:
    return actor.account_id is not None and actor.account_id == account_id and actor.territory_id == territory_id


def can_revoke_session(actor: Actor, session: UserSession) -> bool:
    """A person ends their own other sessions; the current one ends by logging out."""
    current = getattr(actor, "session_id", None)
    return (
        owns(actor, session.territory_id, session.account_id) and session.revoked_at is None and session.id != current
    )


def can_revoke_token(actor: Actor, token: ApiToken) -> bool:
    return owns(actor, token.territory_id, token.account_id) and token.revoked_at is None
