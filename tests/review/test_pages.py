"""The agents' queue, the review actions, the thread and the decision, through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from app.db.session import unit_of_work
from app.funds.models import Enforcement, FundEnvelope
from app.initiatives.models import Decision, InitiativeState
from app.territories.models import Neighbourhood
from tests.factories import Factory, form_fields, post_form
from tests.review.conftest import World, state_of

S = InitiativeState
HX = {"HX-Request": "true"}


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", listener)


def hood(world: World, name: str) -> tuple[int, str]:
    with unit_of_work(world.database) as db:
        row = db.scalar(
            select(Neighbourhood).where(Neighbourhood.territory_id == world.territory_id, Neighbourhood.name == name)
        )
        assert row is not None
        return row.id, row.public_id


def test_queue_is_for_staff(client: TestClient, factory: Factory, world: World) -> None:
    assert client.get("/instruction").status_code == 303
    factory.login(client, world.promoter)
    assert client.get("/instruction").status_code == 403


def test_queue_lists_oldest_first_with_filters_and_overdue(client: TestClient, factory: Factory, world: World) -> None:
    cite, cite_pid = hood(world, "Cité 5")
    centre, _ = hood(world, "Centre")
    world.initiative(S.SUBMITTED, title="Fresque du centre", neighbourhood_id=centre, submitted_days_ago=2)
    world.initiative(
        S.IN_REVIEW, title="Verger de la cité", neighbourhood_id=cite, submitted_days_ago=40, due_in_days=-3
    )
    world.initiative(S.CHANGES_REQUESTED, title="Bancs en pause", submitted_days_ago=35, due_in_days=-1)
    world.initiative(S.DRAFT, title="Brouillon caché")
    world.initiative(S.APPROVED, title="Déjà acceptée")
    factory.login(client, world.agent)
    page = client.get("/instruction")
    assert page.status_code == 200
    text = page.text
    assert "Brouillon caché" not in text
    assert "Déjà acceptée" not in text
    assert text.index("Verger de la cité") < text.index("Bancs en pause") < text.index("Fresque du centre")
    assert text.count("En retard") == 1  # the paused one is not overdue
    assert "délai suspendu" in text
    filtered = client.get("/instruction", params={"neighbourhood": cite_pid})
    assert "Verger de la cité" in filtered.text
    assert "Fresque du centre" not in filtered.text
    by_state = client.get("/instruction", params={"state": "submitted"})
    assert "Fresque du centre" in by_state.text
    assert "Verger de la cité" not in by_state.text
    mine = client.get("/instruction", params={"mine": "1"})
    assert "Aucune initiative ne correspond" in mine.text
    fragment = client.get("/instruction", params={"state": "submitted"}, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="queue-results"' in fragment.text
    assert "Fresque du centre" in fragment.text


def test_queue_runs_a_constant_number_of_queries(client: TestClient, factory: Factory, world: World) -> None:
    cite, _ = hood(world, "Cité 5")
    factory.login(client, world.agent)
    client.get("/instruction")  # warm caches (territory, session touch)

    def queries_for(total: int) -> int:
        while count[0] < total:
            world.initiative(S.SUBMITTED, title=f"Initiative {count[0]}", neighbourhood_id=cite)
            count[0] += 1
        with count_queries() as statements:
            response = client.get("/instruction")
        assert response.status_code == 200
        assert response.text.count('id="queue-row-') == total
        return len(statements)

    count = [0]
    assert queries_for(5) == queries_for(20)


def test_assign_from_the_queue(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.SUBMITTED, title="Boîte à livres")
    factory.login(client, world.agent)
    action = f"/initiatives/{initiative.public_id}/instruction/assign"
    page = client.get("/instruction")
    response = client.post(action, data={**form_fields(page.text), "from": "queue"}, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(("{#", "<tr"))
    assert "<html" not in response.text
    assert f'id="queue-row-{initiative.public_id}"' in response.text
    assert "vous" in response.text
    assert world.reload(initiative.id).assigned_agent_person_id == world.agent.person_id
    other = world.initiative(S.SUBMITTED, title="Composteur")
    response = post_form(
        client, "/instruction", f"/initiatives/{other.public_id}/instruction/assign", {"from": "queue"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/instruction"
    assert world.reload(other.id).assigned_agent_person_id == world.agent.person_id


def test_review_actions_redirect_to_the_workspace(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.SUBMITTED)
    base = f"/initiatives/{initiative.public_id}"
    factory.login(client, world.agent)
    thread_page = client.get(f"{base}/echanges")
    assert "Commencer l'instruction" in thread_page.text
    response = post_form(client, "/instruction", f"{base}/instruction/start")
    assert response.status_code == 303
    assert response.headers["location"] == base
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    empty = post_form(client, "/instruction", f"{base}/instruction/changes", {"message": ""})
    assert empty.status_code == 422
    assert "Ce champ est obligatoire." in empty.text
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    response = post_form(client, "/instruction", f"{base}/instruction/changes", {"message": "Ajoutez un plan."})
    assert response.status_code == 303
    assert state_of(world.database, initiative.id) == S.CHANGES_REQUESTED
    again = post_form(client, "/instruction", f"{base}/instruction/changes", {"message": "Encore ?"})
    assert again.status_code == 409
    assert post_form(client, "/instruction", f"{base}/instruction/nimporte").status_code == 404
    # The promoter sends it back.
    factory.login(client, world.promoter)
    promoter_page = client.get(f"{base}/echanges")
    assert "Renvoyer à la commune" in promoter_page.text
    assert "Commencer l'instruction" not in promoter_page.text
    response = post_form(client, f"{base}/echanges", f"{base}/instruction/resubmit")
    assert response.status_code == 303
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    forbidden = post_form(client, f"{base}/echanges", f"{base}/instruction/hold", {"reason": "Je fais une pause"})
    assert forbidden.status_code == 403
    assert state_of(world.database, initiative.id) == S.IN_REVIEW


def test_staff_notes_over_http(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    base = f"/initiatives/{initiative.public_id}"
    factory.login(client, world.agent)
    response = post_form(
        client, f"{base}/echanges", f"{base}/messages", {"body": "Avis réservé du service voirie", "staff_only": "on",
                                                         "from": "thread"},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == f"{base}/echanges"
    post_form(client, f"{base}/echanges", f"{base}/messages", {"body": "Bonjour, où seront les bacs ?"})
    agent_view = client.get(f"{base}/echanges").text
    assert "Avis réservé du service voirie" in agent_view
    assert "note interne — communicable sur demande (loi CADA)" in agent_view
    factory.login(client, world.promoter)
    promoter_view = client.get(f"{base}/echanges").text
    assert "Bonjour, où seront les bacs ?" in promoter_view
    assert "Avis réservé du service voirie" not in promoter_view
    assert 'name="staff_only"' not in promoter_view
    sneaky = post_form(client, f"{base}/echanges", f"{base}/messages", {"body": "note ?", "staff_only": "on"})
    assert sneaky.status_code == 403
    too_long = post_form(client, f"{base}/echanges", f"{base}/messages", {"body": "x" * 5001})
    assert too_long.status_code == 422
    assert "Saisissez au plus 5000 caractères." in too_long.text


def test_markdown_in_messages_is_sanitised(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    base = f"/initiatives/{initiative.public_id}"
    factory.login(client, world.promoter)
    post_form(client, f"{base}/echanges", f"{base}/messages", {"body": "**gras** <script>alert(1)</script>"})
    page = client.get(f"{base}/echanges").text
    assert "<strong>gras</strong>" in page
    assert "<script>alert(1)</script>" not in page


def test_a_promoter_who_is_executive_cannot_decide(client: TestClient, factory: Factory, world: World) -> None:
    mayor = factory.account("maire-porteur@example.org", roles=("executive",))
    initiative = world.initiative(S.IN_REVIEW, promoter=mayor)
    factory.login(client, mayor)
    base = f"/initiatives/{initiative.public_id}"
    assert client.get(f"{base}/decision").status_code == 403
    page = client.get(f"{base}/echanges")
    response = client.post(f"{base}/decision", data={**form_fields(page.text), "outcome": "approve"})
    assert response.status_code == 403
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    factory.login(client, world.agent)
    assert client.get(f"{base}/decision").status_code == 403  # agents prepare, the executive decides


def test_decision_form_block_mode_and_envelope(client: TestClient, factory: Factory, world: World) -> None:
    world.set_fund(enforcement=Enforcement.BLOCK)
    initiative = world.initiative(S.IN_REVIEW, town_cash_cents=50_000, residents_cents=10_000)
    base = f"/initiatives/{initiative.public_id}"
    factory.login(client, world.executive)
    page = client.get(f"{base}/decision")
    assert page.status_code == 200
    assert "non respectée" in page.text
    assert "Reste de l'enveloppe" in page.text
    refused = post_form(client, f"{base}/decision", data={"outcome": "approve", "act_kind": "decision"})
    assert refused.status_code == 422
    assert "raison écrite" in refused.text
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    world.set_envelope(20_000)
    short = post_form(
        client, f"{base}/decision",
        data={"outcome": "approve", "act_kind": "decision", "override_reason": "Quartier prioritaire"},
    )  # fmt: skip
    assert short.status_code == 409
    assert "il reste 200,00" in short.text.replace("\u202f", " ").replace("\xa0", " ")
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    world.set_envelope(1_000_000)
    ok = post_form(
        client, f"{base}/decision",
        data={"outcome": "approve", "act_kind": "decision", "override_reason": "Quartier prioritaire"},
    )  # fmt: skip
    assert ok.status_code == 303
    assert ok.headers["location"] == base
    assert state_of(world.database, initiative.id) == S.APPROVED
    with unit_of_work(world.database) as db:
        assert db.scalar(select(func.count()).select_from(Decision)) == 1
        assert db.get_one(FundEnvelope, world.envelope_id).committed_cents == 50_000


def test_another_territory_gets_not_found(
    client: TestClient, other_client: TestClient, factory: Factory, world: World
) -> None:
    initiative = world.initiative(S.SUBMITTED)
    stranger = factory.account("agent@autre.example.org", territory="autre", roles=("agent", "executive"))
    factory.login(other_client, stranger)
    base = f"/initiatives/{initiative.public_id}"
    page = other_client.get("/instruction")
    assert page.status_code == 200
    assert initiative.title not in page.text
    response = other_client.post(f"{base}/instruction/start", data=form_fields(page.text))
    assert response.status_code == 404
    assert other_client.get(f"{base}/decision").status_code == 404
    assert other_client.get(f"{base}/echanges").status_code == 404
    assert state_of(world.database, initiative.id) == S.SUBMITTED


def test_workspace_page_offers_the_actions_of_each_role(client: TestClient, factory: Factory, world: World) -> None:
    submitted = world.initiative(S.SUBMITTED)
    changes = world.initiative(S.CHANGES_REQUESTED, title="Bancs")
    factory.login(client, world.agent)
    page = client.get(f"/initiatives/{submitted.public_id}")
    assert page.status_code == 200
    assert f"/initiatives/{submitted.public_id}/instruction/start" in page.text
    factory.login(client, world.promoter)
    page = client.get(f"/initiatives/{changes.public_id}")
    assert f"/initiatives/{changes.public_id}/instruction/resubmit" in page.text
    assert "/instruction/changes" not in page.text
    assert "/decision" not in page.text
