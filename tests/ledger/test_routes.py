"""The ledger over HTTP: who may write which side and when, the HTMX panel and preview."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.session import Database, unit_of_work
from app.initiatives.models import InitiativeState
from app.ledger.models import CommitmentLine, LineState
from tests.factories import Factory, form_fields, post_form
from tests.ledger.helpers import csrf_for, make_initiative, set_state

HTMX = {"HX-Request": "true"}


def _lines(database: Database) -> list[CommitmentLine]:
    with unit_of_work(database) as db:
        rows = list(db.scalars(select(CommitmentLine).order_by(CommitmentLine.id)))
        for row in rows:
            db.expunge(row)
        return rows


def _audits(database: Database) -> int:
    from app.audit.models import AuditEntry

    with unit_of_work(database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _promoter(client: TestClient, factory: Factory, database: Database, **kwargs: object) -> str:
    account = factory.account("porteuse@example.org")
    factory.login(client, account)
    return make_initiative(database, factory.territory(), promoter_person_id=account.person_id, **kwargs)  # type: ignore[arg-type]


def test_a_promoter_adds_hours_and_is_sent_back(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _promoter(client, factory, database, start_on=dt.date(2024, 12, 1))
    page = f"/initiatives/{public_id}/registre"
    assert "Ajouter un apport" in client.get(page).text
    response = post_form(
        client, page, page + "/lignes", data={"kind": "volunteer_hours", "label": "Plantation", "quantity": "2:30"}
    )
    assert response.status_code == 303
    [line] = _lines(database)
    assert (line.side, line.quantity, line.unit_value_cents, line.value_cents) == ("residents", 150, 1188, 2970)
    shown = client.get(page).text
    assert "Plantation" in shown
    assert "29,70" in shown


def test_bad_input_is_shown_with_422_and_changes_nothing(
    client: TestClient, factory: Factory, database: Database
) -> None:
    public_id = _promoter(client, factory, database)
    page = f"/initiatives/{public_id}/registre"
    before = _audits(database)
    response = post_form(
        client,
        page,
        page + "/lignes",
        data={"kind": "donated_materials", "label": "Terreau", "quantity": "2", "unit_value": "douze"},
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "douze" in response.text
    response = post_form(
        client, page, page + "/lignes", data={"kind": "volunteer_hours", "label": "x", "quantity": "3:75"}
    )
    assert response.status_code == 422
    assert _lines(database) == []
    assert _audits(database) == before


def test_promoters_do_not_write_the_town_side(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _promoter(client, factory, database)
    page = f"/initiatives/{public_id}/registre"
    response = post_form(
        client, page, page + "/lignes", data={"kind": "purchase", "label": "Bois", "unit_value": "100"}
    )
    assert response.status_code == 403
    assert _lines(database) == []


def test_the_ledger_is_frozen_after_the_decision(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _promoter(client, factory, database)
    page = f"/initiatives/{public_id}/registre"
    html = client.get(page).text  # the form was shown before the decision
    set_state(database, public_id, InitiativeState.APPROVED)
    response = client.post(
        page + "/lignes",
        data={**form_fields(html), "kind": "donated_materials", "label": "Terreau", "unit_value": "12,50"},
    )
    assert response.status_code == 409
    assert "figé" in client.get(page).text
    assert _lines(database) == []


def test_a_resident_who_is_not_a_promoter_gets_404_or_403(
    client: TestClient, factory: Factory, database: Database, app: FastAPI
) -> None:
    tid = factory.territory()
    draft = make_initiative(database, tid)
    submitted = make_initiative(database, tid, state=InitiativeState.SUBMITTED)
    resident = factory.account("voisin@example.org")
    token = factory.login(client, resident)
    data = {"csrf_token": csrf_for(app, token), "kind": "volunteer_hours", "label": "x", "quantity": "1"}
    assert client.get(f"/initiatives/{draft}/registre").status_code == 404
    assert client.post(f"/initiatives/{draft}/registre/lignes", data=data).status_code == 404
    assert client.post(f"/initiatives/{submitted}/registre/lignes", data=data).status_code == 403
    assert "Ajouter un apport" not in client.get(f"/initiatives/{submitted}/registre").text
    assert _lines(database) == []


def test_another_territory_answers_404(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database, app: FastAPI
) -> None:
    public_id = make_initiative(database, factory.territory(), state=InitiativeState.IN_REVIEW)
    outsider = factory.account("agent@autreville.fr", territory="autre", roles=("agent",))
    token = factory.login(other_client, outsider)
    data = {"csrf_token": csrf_for(app, token), "kind": "logistics", "label": "Barrières", "unit_value": "50"}
    assert other_client.get(f"/initiatives/{public_id}/registre").status_code == 404
    assert other_client.post(f"/initiatives/{public_id}/registre/lignes", data=data).status_code == 404
    assert _lines(database) == []


def test_an_agent_writes_the_town_side_secures_and_cancels_with_htmx(
    client: TestClient, factory: Factory, database: Database
) -> None:
    public_id = make_initiative(database, factory.territory(), state=InitiativeState.IN_REVIEW)
    factory.login(client, factory.account("agent@loos.fr", roles=("agent",)))
    page = f"/initiatives/{public_id}/registre"
    response = post_form(
        client,
        page,
        page + "/lignes",
        data={
            "kind": "purchase",
            "label": "Bois",
            "unit_value": "1 200,50",
            "supplier": "Scierie",
            "commitment_number": "E-42",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="ledger-panel"') or 'id="ledger-panel"' in response.text
    assert "<html" not in response.text
    assert "Scierie" in response.text
    [line] = _lines(database)
    assert (line.side, line.value_cents, line.is_town_cash, line.commitment_number) == ("town", 120_050, True, "E-42")

    response = post_form(client, page, f"{page}/lignes/{line.public_id}/securiser")
    assert response.status_code == 303
    assert _lines(database)[0].state == LineState.SECURED
    response = post_form(client, page, f"{page}/lignes/{line.public_id}/annuler")
    assert response.status_code == 303
    assert _lines(database)[0].state == LineState.CANCELLED


def test_the_preview_returns_only_the_balance_and_writes_nothing(
    client: TestClient, factory: Factory, database: Database
) -> None:
    public_id = make_initiative(database, factory.territory(), state=InitiativeState.IN_REVIEW)
    factory.login(client, factory.account("agent@loos.fr", roles=("agent",)))
    page = f"/initiatives/{public_id}/registre"
    before = _audits(database)
    response = post_form(
        client, page, page + "/apercu", data={"kind": "purchase", "label": "Bois", "unit_value": "9 000"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="ledger-balance"')
    assert "<form" not in response.text
    assert "<html" not in response.text
    assert "aperçu" in response.text
    assert "9\u202f000,00\u00a0€" in response.text or "9 000,00" in response.text
    assert "plafond" in response.text  # 9 000 € is above the 8 000 € cap
    assert _lines(database) == []
    assert _audits(database) == before
    response = post_form(
        client, page, page + "/apercu", data={"kind": "purchase", "label": "Bois", "unit_value": "abc"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "field-error" in response.text


def test_anyone_sees_the_ledger_of_a_submitted_initiative_without_the_forms(
    client: TestClient, factory: Factory, database: Database
) -> None:
    public_id = make_initiative(database, factory.territory(), state=InitiativeState.SUBMITTED)
    page = client.get(f"/initiatives/{public_id}/registre")
    assert page.status_code == 200
    assert "Apport des habitant·es" in page.text
    assert "<form" not in page.text.split('id="ledger-panel"')[1]
