"""Small helpers shared by the account tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Account, ApiToken, UserSession
from app.audit.models import AuditEntry
from app.db.session import Database, unit_of_work
from tests.factories import PASSWORD, post_form

SESSION_COOKIE = "cailloux_session"


def registration(email: str = "bea@example.org", **overrides: Any) -> dict[str, Any]:
    data = {
        "email": email,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "display_name": "Béa Durand",
        "neighbourhood_id": "",
        "age_bracket": "adult",
        "guardian_contact": "",
    }
    data.update(overrides)
    return data


def login(client: TestClient, email: str, password: str = PASSWORD, next_url: str | None = None) -> Any:
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return post_form(client, "/connexion", data=data)


def count(database: Database, model: type[Any], *where: Any) -> int:
    with unit_of_work(database) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def accounts(database: Database, email_key: str) -> int:
    return count(database, Account, Account.email_key == email_key)


def active_sessions(database: Database, account_id: int) -> int:
    return count(database, UserSession, UserSession.account_id == account_id, UserSession.revoked_at.is_(None))


def audit_actions(database: Database) -> list[str]:
    with unit_of_work(database) as db:
        return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def tokens(database: Database, account_id: int) -> list[ApiToken]:
    with unit_of_work(database) as db:
        rows = list(db.scalars(select(ApiToken).where(ApiToken.account_id == account_id)))
        for row in rows:
            db.expunge(row)
        return rows
