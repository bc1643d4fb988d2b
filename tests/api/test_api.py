from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Account, Person
from app.accounts.tokens import create_token, revoke_token
from app.accounts.viewer import Viewer
from app.audit.models import AuditEntry
from app.db.session import unit_of_work
from tests.factories import Factory


def make_token(factory: Factory, account: Account, scopes: tuple[str, ...] = ("read", "write")) -> str:
    with unit_of_work(factory.database) as db:
        acc = db.get_one(Account, account.id)
        person = db.get_one(Person, acc.person_id)
        actor = Viewer(person_id=person.id, account_id=acc.id, territory_id=acc.territory_id, label=person.display_name)
        _token, raw = create_token(db, actor, "test", list(scopes), None)
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_me_with_a_personal_access_token(client: TestClient, factory: Factory) -> None:
    account = factory.account(roles=("agent",))
    raw = make_token(factory, account, ("read",))
    r = client.get("/api/v1/me", headers=bearer(raw))
    assert r.status_code == 200
    body = r.json()
    assert body["email"] == "alice@example.org"
    assert body["roles"] == ["agent"]
    assert body["territory"]["insee_code"] == "62528"
    assert body["token_scopes"] == ["read"]


def test_missing_or_bad_token_is_a_problem_json_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer cx_nope"}, {"Authorization": "Basic abc"}):
        r = client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"


def test_session_cookie_does_not_authenticate_the_api(client: TestClient, factory: Factory) -> None:
    account = factory.account()
    factory.login(client, account)
    assert client.get("/api/v1/me").status_code == 401


def test_token_replayed_on_another_territory_is_refused(
    client: TestClient, other_client: TestClient, factory: Factory
) -> None:
    raw = make_token(factory, factory.account())
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    assert other_client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_revoked_token_is_refused(client: TestClient, factory: Factory) -> None:
    account = factory.account()
    raw = make_token(factory, account)
    with unit_of_work(factory.database) as db:
        from app.accounts.models import ApiToken

        token = db.scalars(select(ApiToken)).one()
        person = db.get_one(Person, account.person_id)
        actor = Viewer(person_id=person.id, account_id=account.id, territory_id=account.territory_id, label="x")
        revoke_token(db, actor, token.public_id)
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_write_needs_the_write_scope(client: TestClient, factory: Factory) -> None:
    raw = make_token(factory, factory.account(), ("read",))
    r = client.patch("/api/v1/me", json={"display_name": "Nouvelle"}, headers=bearer(raw))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def audit_count(factory: Factory, action: str) -> int:
    with unit_of_work(factory.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def test_patch_me_with_idempotency_key_acts_once(client: TestClient, factory: Factory) -> None:
    raw = make_token(factory, factory.account())
    headers = {**bearer(raw), "Idempotency-Key": "abc-123"}
    first = client.patch("/api/v1/me", json={"display_name": "Alice M."}, headers=headers)
    second = client.patch("/api/v1/me", json={"display_name": "Alice M."}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["display_name"] == "Alice M."
    assert audit_count(factory, "account.update_profile") == 1
    reused = client.patch("/api/v1/me", json={"display_name": "Autre"}, headers=headers)
    assert reused.status_code == 422
    assert client.get("/api/v1/me", headers=bearer(raw)).json()["display_name"] == "Alice M."


def test_patch_me_rejects_unknown_fields_and_foreign_neighbourhoods(client: TestClient, factory: Factory) -> None:
    raw = make_token(factory, factory.account())
    r = client.patch("/api/v1/me", json={"roles": ["admin"]}, headers=bearer(raw))
    assert r.status_code == 422
    r = client.patch("/api/v1/me", json={"neighbourhood_id": "not-a-real-id"}, headers=bearer(raw))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"


def test_territory_info_is_public(client: TestClient) -> None:
    body = client.get("/api/v1/territory").json()
    assert body["territory"]["name"] == "Loos-en-Gohelle"
    assert body["petition_thresholds"] == {"answer": 69, "council": 343, "legal_request": 500}
    assert {n["name"] for n in body["neighbourhoods"]} == {"Cité 5", "Centre"}


def test_openapi_documents_the_api_only(app: FastAPI, client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["paths"], "the API is documented"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    assert "401" in schema["paths"]["/api/v1/me"]["get"]["responses"]
    # Two models of the same name in two modules get module-qualified names ("app__api__x__Y"):
    # every schema keeps a plain, stable name for the API's clients.
    assert not [name for name in schema["components"]["schemas"] if "__" in name]


def test_a_call_records_the_tokens_last_use(client: TestClient, factory: Factory) -> None:
    from app.accounts.models import ApiToken

    raw = make_token(factory, factory.account())
    with unit_of_work(factory.database) as db:
        assert db.scalars(select(ApiToken.last_used_at)).one() is None
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    with unit_of_work(factory.database) as db:
        assert db.scalars(select(ApiToken.last_used_at)).one() is not None
