"""Shared helpers for the administration tests."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Account, RoleGrant
from app.audit.models import AuditEntry
from app.core.actor import Actor
from app.db.session import Database, unit_of_work


def actor_of(account: Account, *roles: str) -> Actor:
    return Actor(
        person_id=account.person_id,
        account_id=account.id,
        territory_id=account.territory_id,
        label="test",
        roles=frozenset(roles),
    )


def audit_actions(database: Database, territory_id: int | None = None) -> list[str]:
    with unit_of_work(database) as db:
        stmt = select(AuditEntry.action).order_by(AuditEntry.id)
        if territory_id is not None:
            stmt = stmt.where(AuditEntry.territory_id == territory_id)
        return list(db.scalars(stmt))


def audit_entries(database: Database, action: str) -> list[AuditEntry]:
    with unit_of_work(database) as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for r in rows:
            db.expunge(r)
        return rows


def grants_of(database: Database, account_id: int) -> list[RoleGrant]:
    with unit_of_work(database) as db:
        rows = list(db.scalars(select(RoleGrant).where(RoleGrant.account_id == account_id).order_by(RoleGrant.id)))
        for r in rows:
            db.expunge(r)
        return rows
