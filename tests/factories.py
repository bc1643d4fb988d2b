"""Test data built through the services (so the rules hold), committed like a real request."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts import sessions
from app.accounts.models import Account, AgeBracket, Person, RoleGrant
from app.accounts.service import Registration, register
from app.core.actor import OPERATOR
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.mail.models import OutboxEmail
from app.territories import service as territories
from app.territories.models import Neighbourhood, Territory
from app.web.auth import session_cookie_name

PASSWORD = "une phrase de passe solide"


class Factory:
    def __init__(self, database: Database, app: FastAPI) -> None:
        self.database = database
        self.app = app
        self.territories: dict[str, int] = {}

    def territory(
        self,
        slug: str = "loos",
        name: str = "Loos-en-Gohelle",
        host: str = "loos.test",
        insee: str = "62528",
        population: int = 6850,
        electors: int = 5000,
    ) -> int:
        if slug in self.territories:
            return self.territories[slug]
        with unit_of_work(self.database) as db:
            t = territories.create_territory(
                db,
                OPERATOR,
                slug=slug,
                name=name,
                insee_code=insee,
                population=population,
                registered_electors=electors,
            )
            territories.add_host(db, OPERATOR, t, host)
            db.add(Neighbourhood(territory_id=t.id, name="Cité 5", population=2000, is_priority=True, position=0))
            db.add(Neighbourhood(territory_id=t.id, name="Centre", population=3000, position=1))
            tid = t.id
        self.app.state.territory_resolver.invalidate()
        self.territories[slug] = tid
        return tid

    def neighbourhood_id(self, territory_id: int, name: str = "Cité 5") -> int:
        with unit_of_work(self.database) as db:
            return db.scalar(
                select(Neighbourhood.id).where(Neighbourhood.territory_id == territory_id, Neighbourhood.name == name)
            )  # type: ignore[return-value]

    def account(
        self,
        email: str = "alice@example.org",
        *,
        territory: str = "loos",
        roles: tuple[str, ...] = (),
        verified: bool = True,
        display_name: str = "Alice Martin",
        age_bracket: AgeBracket = AgeBracket.ADULT,
        password: str = PASSWORD,
    ) -> Account:
        tid = self.territory() if territory == "loos" else self.territories[territory]
        with unit_of_work(self.database) as db:
            account = register(
                db,
                tid,
                Registration(
                    email=email,
                    password=password,
                    display_name=display_name,
                    neighbourhood_id=None,
                    age_bracket=age_bracket,
                    guardian_contact="Parent, 06 00 00 00 00" if age_bracket == AgeBracket.UNDER_15 else None,
                    locale="fr",
                ),
                base_url="http://loos.test",
            )
            assert account is not None, "an account with this e-mail already exists"
            if verified:
                account.email_verified_at = utcnow()
            for role in roles:
                db.add(RoleGrant(territory_id=tid, account_id=account.id, role=role, confirmed_at=utcnow()))
            db.flush()
            db.expunge(account)
        return account

    def person(self, account: Account) -> Person:
        with unit_of_work(self.database) as db:
            person = db.get_one(Person, account.person_id)
            db.expunge(person)
            return person

    def login(self, client: TestClient, account: Account) -> str:
        """Opens a session for the account and sets its cookie on the client."""
        with unit_of_work(self.database) as db:
            fresh = db.get_one(Account, account.id)
            token = sessions.open_session(db, fresh, "pytest")
        client.cookies.set(session_cookie_name(self.app.state.settings), token)
        return token

    def territory_row(self, slug: str = "loos") -> Territory:
        with unit_of_work(self.database) as db:
            t = db.get_one(Territory, self.territories[slug])
            db.expunge(t)
            return t

    def outbox(self, to: str | None = None) -> list[OutboxEmail]:
        with unit_of_work(self.database) as db:
            stmt = select(OutboxEmail).order_by(OutboxEmail.id)
            if to:
                stmt = stmt.where(OutboxEmail.to_address == to)
            rows = list(db.scalars(stmt))
            for r in rows:
                db.expunge(r)
            return rows


FIELD_RE = re.compile(r'<input type="hidden" name="(csrf_token|form_nonce)" value="([^"]+)">')


def form_fields(html: str) -> dict[str, str]:
    """The hidden CSRF token and nonce of the first form in a page."""
    fields: dict[str, str] = {}
    for name, value in FIELD_RE.findall(html):
        fields.setdefault(name, value)
    return fields


def post_form(
    client: TestClient, page_url: str, action: str | None = None, data: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """GETs the page holding the form (as a browser would), then POSTs it with its hidden fields."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text[:500]
    payload = {**form_fields(page.text), **(data or {})}
    return client.post(action or page_url, data=payload, **kwargs)


def link_from(email: OutboxEmail) -> str:
    match = re.search(r"https?://[^\s]+", email.body_text)
    assert match, email.body_text
    return match.group(0)
