"""Submitting, withdrawing and reworking: required fields, minor-led projects, illegal transitions."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.accounts.models import AgeBracket
from app.core.errors import Invalid
from app.db.session import Database, read_only, unit_of_work
from app.funds.models import Fund
from app.initiatives import service
from app.initiatives.forms import InviteInput
from app.notifications.models import Notification
from app.territories.context import TerritoryContext
from app.territories.service import local_today
from tests.factories import Factory, link_from, post_form
from tests.initiatives import helpers as h


def _territory(factory: Factory) -> TerritoryContext:
    return TerritoryContext.from_row(factory.territory_row())


def _today(factory: Factory) -> dt.date:
    return local_today(_territory(factory))


def test_submit_needs_the_required_fields(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    h.theme(database, tid)
    public_id = h.propose(database, h.actor(alice), tid, title="Un verger")
    factory.login(client, alice)
    page = client.get(f"/initiatives/{public_id}/deposer")
    assert page.status_code == 200
    assert "ce que les habitant·es apporteront" in page.text

    response = post_form(client, f"/initiatives/{public_id}/deposer")
    assert response.status_code == 422
    assert "Avant de déposer, complétez" in response.text
    assert "la thématique" in response.text
    assert "le quartier" in response.text
    row = h.initiative(database, public_id)
    assert row.state == "draft"
    assert row.submitted_at is None
    assert h.audit_actions(database, public_id) == ["initiative.propose"]


def test_submit_sets_the_deadline_and_acknowledges(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    fields = h.complete_fields(database, tid, h.theme(database, tid))
    public_id = h.propose(database, h.actor(alice), tid, **fields)
    factory.login(client, alice)

    response = post_form(client, f"/initiatives/{public_id}/deposer")
    assert response.status_code == 303
    row = h.initiative(database, public_id)
    assert row.state == "submitted"
    assert row.submitted_at is not None
    assert row.state_changed_at is not None
    with read_only(database) as db:
        fund = db.execute(
            select(Fund.id, Fund.decision_deadline_days)
            .where(Fund.territory_id == tid, Fund.is_active.is_(True))
            .order_by(Fund.id)
        ).first()
    days = fund[1] if fund else 60  # else the territory's review deadline
    assert row.fund_id == (fund[0] if fund else None)
    assert row.decision_due_on == _today(factory) + dt.timedelta(days=days)
    assert row.fiscal_year == _today(factory).year
    assert h.audit_actions(database, public_id) == ["initiative.propose", "initiative.submit"]
    with read_only(database) as db:
        notes = db.execute(
            select(Notification.kind, Notification.body).where(Notification.person_id == alice.person_id)
        ).all()
    assert [n[0] for n in notes] == ["initiatives"]
    assert "au plus tard le" in notes[0][1]

    # Submitting twice is an illegal transition: 409, nothing changes.
    again = post_form(client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/deposer")
    assert again.status_code == 409
    assert h.audit_actions(database, public_id) == ["initiative.propose", "initiative.submit"]


def test_submit_uses_the_active_fund(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    with unit_of_work(database) as db:
        db.execute(update(Fund).where(Fund.territory_id == tid).values(is_active=False))
        db.add(Fund(territory_id=tid, name="Ancien fonds", is_active=False, decision_deadline_days=90))
        db.add(Fund(territory_id=tid, name="Fifty-fifty 2026", decision_deadline_days=45))
    fields = h.complete_fields(database, tid, h.theme(database, tid))
    public_id = h.propose(database, h.actor(alice), tid, **fields)
    with unit_of_work(database) as db:
        service.submit(db, h.actor(alice), _territory(factory), public_id)
        fund_id = db.scalar(select(Fund.id).where(Fund.name == "Fifty-fifty 2026"))
    row = h.initiative(database, public_id)
    assert row.fund_id == fund_id
    assert row.decision_due_on == _today(factory) + dt.timedelta(days=45)


def test_minor_led_initiative_needs_an_adult_guardian(client: TestClient, factory: Factory, database: Database) -> None:
    young = factory.account("jeune@example.org", display_name="Léa Jeune", age_bracket=AgeBracket.FROM_15_TO_17)
    tid = factory.territory()
    fields = h.complete_fields(database, tid, h.theme(database, tid))
    public_id = h.propose(database, h.actor(young), tid, **fields)
    factory.login(client, young)

    refused = post_form(client, f"/initiatives/{public_id}/deposer")
    assert refused.status_code == 422
    assert "adulte garant·e" in refused.text
    assert h.initiative(database, public_id).state == "draft"

    # A minor cannot be the guardian.
    friend = factory.account("ami@example.org", display_name="Tom Ami", age_bracket=AgeBracket.FROM_15_TO_17)
    with unit_of_work(database) as db:
        service.invite(
            db,
            h.actor(young),
            tid,
            public_id,
            InviteInput(email="ami@example.org", role="guardian"),
            base_url="http://loos.test",
        )
    token = link_from(factory.outbox(to="ami@example.org")[-1]).rsplit("/", 1)[1]
    with unit_of_work(database) as db:
        try:
            service.accept_invitation(db, h.actor(friend), tid, token)
        except Invalid:
            pass
        else:
            raise AssertionError("a minor guardian must be refused")

    parent = factory.account("parent@example.org", display_name="Sophie Parent")
    with unit_of_work(database) as db:
        service.invite(
            db,
            h.actor(young),
            tid,
            public_id,
            InviteInput(email="parent@example.org", role="guardian"),
            base_url="http://loos.test",
        )
    token = link_from(factory.outbox(to="parent@example.org")[-1]).rsplit("/", 1)[1]
    with unit_of_work(database) as db:
        service.accept_invitation(db, h.actor(parent), tid, token)

    accepted = post_form(client, f"/initiatives/{public_id}/deposer")
    assert accepted.status_code == 303
    assert h.initiative(database, public_id).state == "submitted"
    with read_only(database) as db:
        notified = set(db.scalars(select(Notification.person_id).where(Notification.kind == "initiatives")))
    assert notified == {young.person_id, parent.person_id}


def test_withdraw_and_illegal_transitions(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    public_id = h.propose(database, h.actor(alice), tid, title="Un potager")
    factory.login(client, alice)

    # Rework is only for a declined initiative.
    assert (
        post_form(client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/retravailler").status_code
        == 409
    )

    response = post_form(
        client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/retirer", data={"reason": "Déménagement"}
    )
    assert response.status_code == 303
    assert h.initiative(database, public_id).state == "withdrawn"
    again = post_form(client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/retirer")
    assert again.status_code == 409
    assert h.audit_actions(database, public_id) == ["initiative.propose", "initiative.withdraw"]


def test_agent_may_not_withdraw(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    public_id = h.propose(database, h.actor(alice), tid, title="Un potager")
    factory.login(client, factory.account("agent@example.org", roles=("agent",)))
    response = post_form(client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/retirer")
    assert response.status_code == 403
    assert h.initiative(database, public_id).state == "draft"


def test_rework_after_a_decline(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    public_id = h.propose(database, h.actor(alice), tid, title="Un potager")
    h.set_state(database, public_id, "declined", decision_due_on=dt.date(2026, 1, 1))
    factory.login(client, alice)
    response = post_form(client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/retravailler")
    assert response.status_code == 303
    assert response.headers["location"].endswith("/modifier")
    row = h.initiative(database, public_id)
    assert row.state == "draft"
    assert row.decision_due_on is None
    assert h.audit_actions(database, public_id)[-1] == "initiative.rework"


def test_without_a_fund_a_new_fund_s_deadline_applies(factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    with unit_of_work(database) as db:
        db.execute(update(Fund).where(Fund.territory_id == tid).values(is_active=False))
    fields = h.complete_fields(database, tid, h.theme(database, tid))
    public_id = h.propose(database, h.actor(alice), tid, **fields)
    with unit_of_work(database) as db:
        service.submit(db, h.actor(alice), _territory(factory), public_id)
    row = h.initiative(database, public_id)
    assert row.fund_id is None
    assert row.decision_due_on == _today(factory) + dt.timedelta(days=30)  # the Fund model's default
