"""Demo data: loaded through the services, idempotent, refused in production."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.models import Person, PersonKind, RoleGrant
from app.accounts.service import authenticate
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.config import Settings
from app.db.base import Base
from app.db.session import Database, unit_of_work
from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoRefusedError, load_demo
from app.territories.models import Neighbourhood, Territory, TerritoryHost, Theme
from app.territories.service import CHARTE_THEMES


def _counts(database: Database) -> dict[str, int]:
    with unit_of_work(database) as db:
        return {t.name: db.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def test_demo_loads_both_towns_and_is_idempotent(database: Database, settings: Settings) -> None:
    first = load_demo(database, settings)
    assert first.changed
    assert first.territories == ["loos-en-gohelle", "malaunay"]
    assert sorted(first.accounts) == sorted(a.email for a in DEMO_ACCOUNTS)
    counts = _counts(database)

    second = load_demo(database, settings)
    assert not second.changed
    assert _counts(database) == counts
    assert counts["audit_entry"] > 0
    assert counts["outbox_email"] > 0  # role notices

    with unit_of_work(database) as db:
        from app.accounts.models import Account
        from app.mail.models import OutboxEmail

        subjects = list(db.scalars(select(OutboxEmail.subject)))
        assert not any("Confirmez votre adresse" in s for s in subjects), "demo accounts are verified: no link mailed"
        assert all(a.email_verified_at is not None for a in db.scalars(select(Account)))

    with unit_of_work(database) as db:
        loos = db.scalars(select(Territory).where(Territory.slug == "loos-en-gohelle")).one()
        assert (loos.insee_code, loos.population, loos.siret) == ("62528", 6850, "21620528600017")
        assert "à valider" in loos.settings.scheme_intro
        assert loos.legal.controller == "Commune de Loos-en-Gohelle"
        assert loos.legal.publication_director
        assert loos.accessibility.contact
        hosts = set(db.scalars(select(TerritoryHost.host).where(TerritoryHost.territory_id == loos.id)))
        assert hosts == {"localhost", "127.0.0.1", "loos.localhost"}
        themes = db.scalar(select(func.count(Theme.id)).where(Theme.territory_id == loos.id))
        assert themes == len(CHARTE_THEMES)
        hoods = {n.name: n for n in db.scalars(select(Neighbourhood).where(Neighbourhood.territory_id == loos.id))}
        assert {
            "Centre-ville",
            "Cité 5",
            "Cité Belgique",
            "Cité Bellevue",
            "Cité des Castors",
            "Cité 12",
            "Cité 14",
            "Base 11/19",
        } == set(hoods)
        assert sum(n.population for n in hoods.values()) == 6850
        ouest = ("Cité 5", "Cité Belgique", "Cité Bellevue")
        assert sum(hoods[n].population for n in ouest) == 2000
        assert {n for n, h in hoods.items() if h.is_priority} == set(ouest)

        malaunay = db.scalars(select(Territory).where(Territory.slug == "malaunay")).one()
        assert malaunay.insee_code == "76402"
        assert db.scalar(select(func.count(Neighbourhood.id)).where(Neighbourhood.territory_id == malaunay.id)) == 3
        assert db.scalar(select(TerritoryHost.host).where(TerritoryHost.territory_id == malaunay.id)) == (
            "malaunay.localhost"
        )

        # Every demo account is verified, logs in with the shared password and holds its active role.
        for demo in DEMO_ACCOUNTS:
            territory = loos if demo.territory == "loos-en-gohelle" else malaunay
            account = authenticate(db, territory.id, demo.email, DEMO_PASSWORD)
            assert account is not None, demo.email
            assert account.email_verified_at is not None
            roles = {
                g.role: g
                for g in db.scalars(
                    select(RoleGrant).where(RoleGrant.account_id == account.id, RoleGrant.revoked_at.is_(None))
                )
            }
            assert set(roles) == ({demo.role} if demo.role else set())
            for grant in roles.values():
                assert grant.confirmed_at is not None
            if demo.role == "executive":
                assert roles["executive"].delegation_reference == "Maire — pouvoirs propres"

        contact = db.scalars(
            select(Person).where(Person.territory_id == loos.id, Person.kind == PersonKind.CONTACT)
        ).one()
        assert contact.email is None
        assert contact.phone
        assert db.scalar(select(Account.id).where(Account.person_id == contact.id)) is None
        task = db.scalars(select(AgentTask).where(AgentTask.person_id == contact.id)).one()
        assert task.status == "open"
        assert task.channel == "phone"
        # The operator is the actor of the set-up, recorded in the audit trail.
        assert db.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "territory.create")) == 2


def test_demo_refuses_production(database: Database, database_url: str) -> None:
    production = Settings(
        environment="production",
        secret_key="p" * 40,  # type: ignore[arg-type]
        database_url=database_url,
        mail_backend="smtp",
        smtp_host="localhost",
        default_territory="",
        base_scheme="https",
    )
    with pytest.raises(DemoRefusedError):
        load_demo(database, production)
    assert _counts(database)["territory"] == 0
