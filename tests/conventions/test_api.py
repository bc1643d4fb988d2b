"""The conventions JSON API: propose, read, sign with the password, problem+json errors, OpenAPI."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.db.session import unit_of_work
from app.funds.models import Fund
from app.initiatives.models import InitiativeState
from tests.api.test_api import bearer, make_token
from tests.conventions.conftest import approved, signatures
from tests.factories import PASSWORD, Factory
from tests.review.conftest import World, state_of

S = InitiativeState


def url(public_id: str) -> str:
    return f"/api/v1/initiatives/{public_id}/convention"


def test_propose_read_and_sign_through_the_api(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    agent = bearer(make_token(factory, world.agent))
    promoter = bearer(make_token(factory, world.promoter))
    executive = bearer(make_token(factory, world.executive))

    assert client.get(url(initiative.public_id), headers=promoter).status_code == 404  # none yet
    refused = client.post(url(initiative.public_id), json={"upkeep_by": "Paula", "upkeep_months": 12}, headers=promoter)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")

    created = client.post(
        url(initiative.public_id), json={"upkeep_by": "Les voisins", "upkeep_months": 12},
        headers={**agent, "Idempotency-Key": "propose-1"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "convention"
    assert body["revision"] == 1
    assert body["totals"] == {
        "residents_value_cents": 100_000, "town_value_cents": 50_000, "town_cash_cents": 50_000,
        "partners_value_cents": 0,
    }  # fmt: skip
    assert body["snapshot"]["balance"]["town_cash_cents"] == 50_000
    assert "Les voisins" in body["text"]
    assert [p["party"] for p in body["parties"]] == ["promoters", "town"]
    replay = client.post(
        url(initiative.public_id), json={"upkeep_by": "Les voisins", "upkeep_months": 12},
        headers={**agent, "Idempotency-Key": "propose-1"},
    )  # fmt: skip
    assert replay.status_code == 201
    assert replay.json()["public_id"] == body["public_id"]

    read = client.get(url(initiative.public_id), headers=promoter)
    assert read.status_code == 200
    assert read.json()["sign_as"] == "promoters"
    sha = read.json()["text_sha256"]

    wrong = client.post(
        url(initiative.public_id) + "/sign", json={"password": "mauvais", "text_sha256": sha}, headers=promoter
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid"
    stale = client.post(
        url(initiative.public_id) + "/sign", json={"password": PASSWORD, "text_sha256": "b" * 64}, headers=promoter
    )
    assert stale.status_code == 409
    assert signatures(world, initiative.id) == []

    signed = client.post(
        url(initiative.public_id) + "/sign", json={"password": PASSWORD, "text_sha256": sha}, headers=promoter
    )
    assert signed.status_code == 200
    assert signed.json()["sign_as"] is None
    done = client.post(
        url(initiative.public_id) + "/sign", json={"password": PASSWORD, "text_sha256": sha}, headers=executive
    )
    assert done.status_code == 200
    assert done.json()["signed_at"] is not None
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED
    assert len(signatures(world, initiative.id)) == 2


def test_outsiders_and_read_only_tokens(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    outsider = factory.account("voisin@example.org", display_name="Victor Voisin")
    reader = bearer(make_token(factory, world.agent, ("read",)))
    refused = client.post(url(initiative.public_id), json={"upkeep_by": "X", "upkeep_months": 1}, headers=reader)
    assert refused.status_code == 403
    agent = bearer(make_token(factory, world.agent))
    assert (
        client.post(url(initiative.public_id), json={"upkeep_by": "X", "upkeep_months": 1}, headers=agent).status_code
        == 201
    )
    assert client.get(url(initiative.public_id), headers=bearer(make_token(factory, outsider))).status_code == 404
    unknown = client.post(
        url(initiative.public_id), json={"upkeep_by": "X", "upkeep_months": 1, "extra": 1}, headers=agent
    )
    assert unknown.status_code == 422


def test_template_versions_and_openapi(client: TestClient, factory: Factory, world: World) -> None:
    with unit_of_work(world.database) as db:
        fund = db.get_one(Fund, world.fund_id)
        from app.conventions.clauses import ensure_template

        ensure_template(db, fund)
        fund_id = fund.public_id
    versions = client.get(
        f"/api/v1/funds/{fund_id}/convention-templates", headers=bearer(make_token(factory, world.promoter))
    )
    assert versions.status_code == 200
    assert [v["version"] for v in versions.json()] == [1]
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/initiatives/{public_id}/convention" in paths
    assert "/api/v1/initiatives/{public_id}/convention/sign" in paths
    sign_body = schema["components"]["schemas"]["SignBody"]
    assert set(sign_body["required"]) == {"password", "text_sha256"}
    assert "town_cash_cents" in schema["components"]["schemas"]["LedgerTotals"]["properties"]
