"""Administration of funds, envelopes and rates: admins only, audited, the past never edited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db.session import Database, unit_of_work
from app.funds.models import Fund, FundEnvelope, Rate
from tests.factories import Factory, post_form


def _admin(client: TestClient, factory: Factory) -> None:
    factory.login(client, factory.account("admin@loos.fr", roles=("admin",)))


def _fund(database: Database, name: str = "Fifty-fifty") -> Fund:
    with unit_of_work(database) as db:
        fund = db.scalar(select(Fund).where(Fund.name == name))
        assert fund is not None
        db.expunge(fund)
        return fund


def _actions(database: Database, prefix: str) -> list[str]:
    with unit_of_work(database) as db:
        return list(db.scalars(select(AuditEntry.action).where(AuditEntry.action.like(prefix + "%"))))


def test_residents_and_agents_may_not_open_the_pages(client: TestClient, factory: Factory) -> None:
    factory.login(client, factory.account("agent@loos.fr", roles=("agent",)))
    assert client.get("/admin/dispositifs").status_code == 403
    assert client.get("/admin/taux").status_code == 403


def test_the_seeded_fund_is_listed_and_its_rules_are_edited(
    client: TestClient, factory: Factory, database: Database
) -> None:
    _admin(client, factory)
    listing = client.get("/admin/dispositifs")
    assert listing.status_code == 200
    assert "Fifty-fifty" in listing.text
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}"
    edit = client.get(page)
    assert edit.status_code == 200
    assert "30\u202f000,00" in edit.text
    data = {
        "name": "Fifty-fifty",
        "is_active": "on",
        "match_physical_percent": "100",
        "match_activity_percent": "50",
        "match_priority_percent": "50",
        "match_first_time_percent": "",
        "partners_count": "on",
        "enforcement": "block",
        "cap_town_cash_cents": "10 000",
        "small_project_threshold_cents": "500",
        "decision_deadline_days": "30",
        "unsigned_release_days": "60",
    }
    # The rules form is the last one of the page: post it with the page's tokens.
    response = post_form(client, page, page, data=data)
    assert response.status_code == 303
    fund = _fund(database)
    assert (fund.enforcement, fund.cap_town_cash_cents, fund.match_priority_percent) == ("block", 1_000_000, 50)
    assert "fund.update" in _actions(database, "fund.")
    bad = post_form(client, page, page, data={**data, "match_physical_percent": "-3"})
    assert bad.status_code == 422
    assert _fund(database).match_physical_percent == 100


def test_a_new_fund_is_created(client: TestClient, factory: Factory, database: Database) -> None:
    _admin(client, factory)
    data = {
        "name": "Petits projets jeunes",
        "is_active": "on",
        "match_physical_percent": "50",
        "match_activity_percent": "25",
        "enforcement": "warn",
        "small_project_threshold_cents": "300",
        "decision_deadline_days": "20",
        "unsigned_release_days": "60",
    }
    response = post_form(client, "/admin/dispositifs", data=data)
    assert response.status_code == 303
    assert _fund(database, "Petits projets jeunes").small_project_threshold_cents == 30_000
    again = post_form(client, "/admin/dispositifs", data=data)
    assert again.status_code == 422
    assert "déjà ce nom" in again.text


def test_an_envelope_is_opened_adjusted_and_never_set_below_what_is_committed(
    client: TestClient, factory: Factory, database: Database
) -> None:
    _admin(client, factory)
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}"
    action = page + "/enveloppes"
    with unit_of_work(database) as db:
        envelope = db.scalar(select(FundEnvelope).where(FundEnvelope.fund_id == fund.id))
        assert envelope is not None
        year = envelope.fiscal_year
        envelope.committed_cents = 2_000_000
    refused = post_form(client, page, action, data={"fiscal_year": str(year), "amount_cents": "15 000"})
    assert refused.status_code == 409
    assert "déjà engagé" in refused.text
    raised = post_form(client, page, action, data={"fiscal_year": str(year), "amount_cents": "45 000"})
    assert raised.status_code == 303
    with unit_of_work(database) as db:
        neighbourhood = db.scalar(select(FundEnvelope.amount_cents).where(FundEnvelope.fund_id == fund.id))
        assert neighbourhood == 4_500_000
        from app.territories.models import Neighbourhood

        cite = db.scalar(select(Neighbourhood.public_id).where(Neighbourhood.name == "Cité 5"))
    opened = post_form(
        client, page, action, data={"fiscal_year": str(year), "neighbourhood": cite, "amount_cents": "5 000"}
    )
    assert opened.status_code == 303
    with unit_of_work(database) as db:
        assert db.scalar(select(FundEnvelope.amount_cents).where(FundEnvelope.neighbourhood_id.is_not(None))) == 500_000
    assert _actions(database, "envelope.set").count("envelope.set") == 3  # seeded + two changes


def test_rates_are_listed_and_a_new_rate_is_added_from_a_date(
    client: TestClient, factory: Factory, database: Database
) -> None:
    _admin(client, factory)
    page = client.get("/admin/taux")
    assert page.status_code == 200
    assert "11,88" in page.text
    assert "Bétonnière" in page.text
    assert "à valider" in page.text
    data = {"kind": "volunteer_hour", "value_cents": "12,40", "effective_from": "2027-01-01", "source": "Décret"}
    assert post_form(client, "/admin/taux", data=data).status_code == 303
    past = post_form(client, "/admin/taux", data={**data, "effective_from": "2025-06-01"})
    assert past.status_code == 409
    machine = post_form(
        client, "/admin/taux", data={"kind": "equipment_day", "value_cents": "20", "effective_from": "2025-01-01"}
    )
    assert machine.status_code == 422
    assert "matériel" in machine.text
    with unit_of_work(database) as db:
        assert db.scalar(select(Rate.value_cents).where(Rate.source == "Décret")) == 1240
        assert (
            db.scalar(
                select(Rate.id).where(
                    Rate.effective_from > db.scalar(select(Rate.effective_from).where(Rate.source == "Décret"))
                )
            )
            is None
        )
    assert _actions(database, "rate.add") == ["rate.add"]
