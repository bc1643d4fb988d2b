"""The initiatives JSON API: visibility, writes through the same services as the pages, idempotency,
problem+json errors, the OpenAPI document and a constant number of queries for the list."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from app.audit.models import AuditEntry
from app.db.session import Database, read_only, unit_of_work
from app.funds import service as funds
from app.funds.models import RateKind
from app.initiatives.models import Initiative, InitiativeState
from app.initiatives.permissions import PUBLIC_STATES
from app.ledger.models import CommitmentLine, LineKind, Side, Unit
from app.territories.models import Neighbourhood, Theme
from tests.api.test_api import bearer, make_token
from tests.factories import Factory
from tests.initiatives import helpers as h

S = InitiativeState
API = "/api/v1/initiatives"


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


def public_ids(database: Database, territory_id: int) -> tuple[str, str]:
    """A neighbourhood's and a (new) theme's public ids."""
    theme_id = h.theme(database, territory_id)
    with read_only(database) as db:
        hood = db.scalar(
            select(Neighbourhood.public_id).where(
                Neighbourhood.territory_id == territory_id, Neighbourhood.name == "Cité 5"
            )
        )
        theme = db.scalar(select(Theme.public_id).where(Theme.id == theme_id))
    assert hood is not None
    assert theme is not None
    return hood, theme


def proposal(hood: str, theme: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Jardin partagé de la cité 5",
        "description": "Un jardin au pied des immeubles.",
        "general_interest": "Un lieu de rencontre pour tout le quartier.",
        "residents_offer": "Dix bénévoles, deux samedis par mois.",
        "neighbourhood_id": hood,
        "theme_id": theme,
        "project_type": "physical",
        **extra,
    }


def count(database: Database, model: type[Initiative] | type[CommitmentLine]) -> int:
    with read_only(database) as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def audit_count(database: Database, action: str) -> int:
    with read_only(database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def add_line(database: Database, public_id: str, side: Side, value_cents: int, *, town_cash: bool = False) -> None:
    kind = {Side.RESIDENTS: LineKind.DONATED_MATERIALS, Side.TOWN: LineKind.PURCHASE}[side]
    with unit_of_work(database) as db:
        initiative = db.scalars(select(Initiative).where(Initiative.public_id == public_id)).one()
        db.add(
            CommitmentLine(
                territory_id=initiative.territory_id, initiative_id=initiative.id, side=side, kind=kind,
                label="Ligne", quantity=1, unit=Unit.UNITS, unit_value_cents=value_cents, value_cents=value_cents,
                is_town_cash=town_cash,
            )
        )  # fmt: skip


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# ---------------------------------------------------------------- writing through the API


def test_propose_add_lines_and_submit(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    hood, theme = public_ids(database, tid)
    token = bearer(make_token(factory, alice))

    created = client.post(API, json=proposal(hood, theme), headers=token)
    assert created.status_code == 201, created.text
    body = created.json()
    public_id = body["public_id"]
    assert body["state"] == "draft"
    assert body["neighbourhood"] == "Cité 5"
    assert body["theme"] == "Culture"
    assert body["can_submit"] is True
    assert [(m["role"], m["name"]) for m in body["members"]] == [("promoter", "Alice Martin")]
    assert h.audit_actions(database, public_id) == ["initiative.propose"]

    hours = client.post(
        f"{API}/{public_id}/ledger/lines",
        json={"kind": "volunteer_hours", "label": "Bêchage", "quantity": 90},
        headers=token,
    )
    assert hours.status_code == 201, hours.text
    with read_only(database) as db:
        rate_cents = funds.rate_on(db, tid, RateKind.VOLUNTEER_HOUR, funds.territory_today(db, tid)).value_cents
    expected = (2 * 90 * rate_cents + 60) // 120  # 1 h 30 at the rate in force, half-up
    assert hours.json()["side"] == "residents"
    assert hours.json()["unit"] == "minutes"
    assert hours.json()["unit_value_cents"] == rate_cents
    assert hours.json()["value_cents"] == expected
    materials = client.post(
        f"{API}/{public_id}/ledger/lines",
        json={"kind": "donated_materials", "label": "Planches", "quantity": 4, "unit_value_cents": 1250},
        headers=token,
    )
    assert materials.status_code == 201
    assert materials.json()["value_cents"] == 5000
    # A resident may not write the town's side: 403, nothing added.
    town = client.post(
        f"{API}/{public_id}/ledger/lines",
        json={"kind": "purchase", "label": "Bacs", "quantity": 1, "unit_value_cents": 10_000},
        headers=token,
    )
    assert_problem(town, 403)
    no_value = client.post(
        f"{API}/{public_id}/ledger/lines", json={"kind": "donated_materials", "label": "Terre"}, headers=token
    )
    assert assert_problem(no_value, 422)["code"] == "invalid"
    assert count(database, CommitmentLine) == 2

    submitted = client.post(f"{API}/{public_id}/submit", headers=token)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["submitted_at"] is not None
    assert h.audit_actions(database, public_id) == [
        "initiative.propose",
        "ledger.add_line",
        "ledger.add_line",
        "initiative.submit",
    ]

    detail = client.get(f"{API}/{public_id}", headers=token).json()
    ledger = detail["ledger"]
    assert [line["value_cents"] for line in ledger["lines"]] == [expected, 5000]
    balance = ledger["balance"]
    assert balance["residents_value_cents"] == expected + 5000
    assert balance["town_value_cents"] == 0
    assert balance["match_ok"] is True
    assert balance["cap_ok"] is True
    assert balance["leverage_residents_per_town"] is None
    assert "envelope_left_cents" in balance

    listed = client.get(API, headers=token).json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["public_id"] == public_id
    assert item["residents_value_cents"] == expected + 5000
    assert item["town_value_cents"] == item["town_cash_cents"] == item["partners_value_cents"] == 0
    assert item["neighbourhood"] == "Cité 5"
    assert item["theme"] == "Culture"


def test_propose_refuses_unknown_fields_and_foreign_references(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    alice = factory.account()
    tid = factory.territory()
    hood, theme = public_ids(database, tid)
    other_hood, _theme = public_ids(database, factory.territory("autre"))
    token = bearer(make_token(factory, alice))
    extra = client.post(API, json=proposal(hood, theme, state="approved"), headers=token)
    assert assert_problem(extra, 422)["code"] == "validation_error"
    internal_id = client.post(API, json=proposal(hood, theme, created_by_person_id=1), headers=token)
    assert_problem(internal_id, 422)
    foreign = client.post(API, json=proposal(other_hood, theme), headers=token)
    assert assert_problem(foreign, 422)["code"] == "invalid"
    dates = client.post(API, json=proposal(hood, theme, start_on="2030-05-02", end_on="2030-05-01"), headers=token)
    assert_problem(dates, 422)
    assert count(database, Initiative) == 0


def test_read_scope_cannot_write(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    hood, theme = public_ids(database, tid)
    public_id = h.propose(database, h.actor(alice), tid, title="Un verger")
    token = bearer(make_token(factory, alice, ("read",)))
    assert client.get(f"{API}/{public_id}", headers=token).status_code == 200
    assert_problem(client.post(API, json=proposal(hood, theme), headers=token), 403)
    assert_problem(client.post(f"{API}/{public_id}/withdraw", headers=token), 403)
    line = {"kind": "donated_materials", "label": "Planches", "unit_value_cents": 100}
    assert_problem(client.post(f"{API}/{public_id}/ledger/lines", json=line, headers=token), 403)
    assert count(database, Initiative) == 1
    assert h.initiative(database, public_id).state == "draft"


def test_idempotent_propose(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    hood, theme = public_ids(database, tid)
    headers = {**bearer(make_token(factory, alice)), "Idempotency-Key": "proposal-1"}
    first = client.post(API, json=proposal(hood, theme), headers=headers)
    second = client.post(API, json=proposal(hood, theme), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert count(database, Initiative) == 1
    assert audit_count(database, "initiative.propose") == 1
    reused = client.post(API, json=proposal(hood, theme, title="Autre chose"), headers=headers)
    assert_problem(reused, 422)
    assert count(database, Initiative) == 1


def test_illegal_transition_is_a_409_problem(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    public_id = h.propose(database, h.actor(alice), tid, title="Un verger")
    token = bearer(make_token(factory, alice))
    withdrawn = client.post(f"{API}/{public_id}/withdraw", json={"reason": "Plus le temps"}, headers=token)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn"
    again = client.post(f"{API}/{public_id}/submit", headers=token)
    assert assert_problem(again, 409)["code"] == "conflict"
    assert_problem(client.post(f"{API}/{public_id}/withdraw", headers=token), 409)
    assert h.initiative(database, public_id).state == "withdrawn"
    assert h.audit_actions(database, public_id) == ["initiative.propose", "initiative.withdraw"]


def test_review_steps_and_the_decision(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    agent = factory.account("agent@example.org", roles=("agent",), display_name="Annie Agent")
    mayor = factory.account("maire@example.org", roles=("executive",), display_name="Marc Maire")
    tid = factory.territory()
    public_id = h.propose(database, h.actor(alice), tid, title="Un verger")
    h.set_state(database, public_id, S.SUBMITTED.value)
    agent_token = bearer(make_token(factory, agent))
    alice_token = bearer(make_token(factory, alice))

    assert_problem(client.post(f"{API}/{public_id}/review/start", headers=alice_token), 403)
    assert_problem(client.post(f"{API}/{public_id}/review/approve", headers=agent_token), 422)
    started = client.post(f"{API}/{public_id}/review/start", headers=agent_token)
    assert started.status_code == 200, started.text
    assert started.json()["state"] == "in_review"
    assert_problem(client.post(f"{API}/{public_id}/review/changes", json={}, headers=agent_token), 422)
    changes = client.post(
        f"{API}/{public_id}/review/changes", json={"message": "Précisez le calendrier."}, headers=agent_token
    )
    assert changes.json()["state"] == "changes_requested"
    assert client.post(f"{API}/{public_id}/review/resubmit", headers=alice_token).json()["state"] == "in_review"

    decision = {"outcome": "decline", "reason": "Le terrain n'appartient pas à la commune."}
    by_agent = client.post(f"{API}/{public_id}/decision", json=decision, headers=agent_token)
    assert_problem(by_agent, 403)
    by_promoter = client.post(f"{API}/{public_id}/decision", json=decision, headers=alice_token)
    assert_problem(by_promoter, 403)
    assert h.initiative(database, public_id).state == "in_review"
    mayor_token = bearer(make_token(factory, mayor))
    assert_problem(client.post(f"{API}/{public_id}/decision", json={**decision, "x": 1}, headers=mayor_token), 422)
    decided = client.post(f"{API}/{public_id}/decision", json=decision, headers=mayor_token)
    assert decided.status_code == 201, decided.text
    assert decided.json()["outcome"] == "declined"
    assert decided.json()["initiative_public_id"] == public_id
    assert h.initiative(database, public_id).state == "declined"
    assert_problem(client.post(f"{API}/{public_id}/decision", json=decision, headers=mayor_token), 409)


# ---------------------------------------------------------------- reading and visibility


def test_visibility_of_the_list_and_the_details(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    alice = factory.account()
    bob = factory.account("bob@example.org", display_name="Bob Durand")
    agent = factory.account("agent@example.org", roles=("agent",))
    tid = factory.territory()
    bobs_draft = h.propose(database, h.actor(bob), tid, title="Brouillon de Bob")
    approved = h.propose(database, h.actor(bob), tid, title="Fresque acceptée")
    h.set_state(database, approved, S.APPROVED.value)
    alices = h.propose(database, h.actor(alice), tid, title="Mon verger")
    alice_token = bearer(make_token(factory, alice))

    listed = client.get(API, headers=alice_token).json()
    assert {i["public_id"] for i in listed["items"]} == {approved, alices}
    assert_problem(client.get(f"{API}/{bobs_draft}", headers=alice_token), 404)
    public = client.get(f"{API}/{approved}", headers=alice_token).json()
    assert public["title"] == "Fresque acceptée"
    assert [m["name"] for m in public["members"]] == ["Bob Durand"]
    assert public["can_withdraw"] is False
    assert public["beneficiary"] == {"kind": None, "name": "Bob Durand"}
    own = client.get(f"{API}/{alices}", headers=alice_token).json()
    assert own["beneficiary"] == {"kind": "person", "name": "Alice Martin"}

    agent_listed = client.get(API, headers=bearer(make_token(factory, agent))).json()
    assert agent_listed["total"] == 3
    assert client.get(f"{API}/{bobs_draft}", headers=bearer(make_token(factory, agent))).status_code == 200

    # Filter and pagination.
    only = client.get(API, params={"state": "approved"}, headers=alice_token).json()
    assert [i["public_id"] for i in only["items"]] == [approved]
    page = client.get(API, params={"limit": 1, "offset": 1}, headers=alice_token).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"state": "nope"}):
        assert_problem(client.get(API, params=params, headers=alice_token), 422)

    # Another territory: its token is refused here, its initiatives are not found here.
    factory.territory("autre")
    stranger = factory.account("stranger@example.org", territory="autre")
    foreign = h.propose(database, h.actor(stranger), factory.territories["autre"], title="Ailleurs")
    h.set_state(database, foreign, S.APPROVED.value)
    assert_problem(other_client.get(API, headers=alice_token), 401)
    assert_problem(client.get(f"{API}/{foreign}", headers=alice_token), 404)
    assert_problem(client.post(f"{API}/{foreign}/withdraw", headers=alice_token), 404)
    assert foreign not in {i["public_id"] for i in client.get(API, headers=alice_token).json()["items"]}


def test_the_list_shows_exactly_what_the_details_show(client: TestClient, factory: Factory, database: Database) -> None:
    """The list's SQL filter and the service's can_view agree, state by state."""
    alice = factory.account()
    bob = factory.account("bob@example.org", display_name="Bob Durand")
    tid = factory.territory()
    ids = []
    for state in S:
        public_id = h.propose(database, h.actor(bob), tid, title=f"Projet {state.value}")
        h.set_state(database, public_id, state.value)
        ids.append(public_id)
    opted_in = h.propose(database, h.actor(bob), tid, title="Retirée mais publique")
    h.set_state(database, opted_in, S.WITHDRAWN.value, public_despite_outcome=True)
    ids.append(opted_in)
    token = bearer(make_token(factory, alice))
    listed = {i["public_id"] for i in client.get(API, params={"limit": 100}, headers=token).json()["items"]}
    shown = {pid for pid in ids if client.get(f"{API}/{pid}", headers=token).status_code == 200}
    assert listed == shown
    assert opted_in in listed
    # Every public state (approved, awaiting envelope, two conventions, the three follow-up states,
    # abandoned) and the declined one whose promoters opted in.
    assert len(listed) == len(PUBLIC_STATES) + 1


def test_the_list_runs_a_constant_number_of_queries(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    token = bearer(make_token(factory, alice))
    client.get(API, headers=token)  # warm up: the token's first use is recorded once
    made = [0]

    def queries_for(total: int) -> int:
        while made[0] < total:
            public_id = h.propose(database, h.actor(alice), tid, title=f"Initiative {made[0]}")
            add_line(database, public_id, Side.RESIDENTS, 10_000)
            add_line(database, public_id, Side.TOWN, 5_000, town_cash=True)
            made[0] += 1
        with count_queries() as statements:
            response = client.get(API, params={"limit": 50}, headers=token)
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == total
        assert all(i["town_cash_cents"] == 5_000 and i["residents_value_cents"] == 10_000 for i in items)
        return len(statements)

    assert queries_for(5) == queries_for(15)


def test_openapi_documents_the_initiatives_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        API: {"get", "post"},
        API + "/{public_id}": {"get"},
        API + "/{public_id}/submit": {"post"},
        API + "/{public_id}/withdraw": {"post"},
        API + "/{public_id}/ledger/lines": {"post"},
        API + "/{public_id}/review/{action}": {"post"},
        API + "/{public_id}/decision": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            responses = paths[path][method]["responses"]
            assert {"400", "401", "403", "404", "409", "422"} <= set(responses), (path, method)
            assert "application/problem+json" in responses["409"]["content"]
    assert "201" in paths[API]["post"]["responses"]
    assert "201" in paths[API + "/{public_id}/ledger/lines"]["post"]["responses"]
    assert "idempotency-key" in {p["name"].lower() for p in paths[API]["post"]["parameters"]}
    list_params = {p["name"] for p in paths[API]["get"]["parameters"]}
    assert {"state", "limit", "offset"} <= list_params
