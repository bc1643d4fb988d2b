"""The petitions JSON API: the public list and the detail with the worker's counts, drafting and
moderating through the same services as the pages, signing with the pages' rules (a duplicate is a
success, a legal request's quarter clash is a 409), the agents' audited export, isolation between
territories, idempotent retries, the OpenAPI document and a constant number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db.base import utcnow
from app.db.session import Database, read_only, unit_of_work
from app.petitions.models import Petition, PetitionAnswer, PetitionCount, PetitionSignature
from app.territories.models import Neighbourhood
from tests.api.test_api import bearer, make_token
from tests.api.test_initiatives_api import assert_problem, count_queries
from tests.factories import Factory
from tests.petitions.signing_support import make_petition

API = "/api/v1/petitions"
ELECTOR = {"surname": "Dupré", "first_names": "Anne Marie", "address": "3 rue des Écoles", "birth_date": "1980-05-17"}


def set_count(database: Database, public_id: str, total: int, town: int) -> None:
    with unit_of_work(database) as db:
        p = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        db.add(
            PetitionCount(petition_id=p.id, territory_id=p.territory_id, total=total, town=town, computed_at=utcnow())
        )


def publish_answer(database: Database, public_id: str, *, published: bool = True) -> None:
    with unit_of_work(database) as db:
        p = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        db.add(
            PetitionAnswer(
                territory_id=p.territory_id, petition_id=p.id, outcome="transmitted", text="Transmise.",
                authority="Communauté d'agglomération", transmitted_on=dt.date(2026, 10, 1),
                published_at=utcnow() if published else None,
            )
        )  # fmt: skip


def rows(database: Database, model: type[Any], *where: Any) -> int:
    with read_only(database) as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def audit_actions(database: Database, public_id: str) -> list[str]:
    with read_only(database) as db:
        return list(
            db.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == public_id).order_by(AuditEntry.id))
        )


# ---------------------------------------------------------------- reading


def test_list_and_detail_show_the_workers_counts(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    token = bearer(make_token(factory, factory.account(), ("read",)))
    counted = make_petition(database, tid, title="Des bancs au parc", threshold_basis="town")
    set_count(database, counted, total=80, town=62)
    closed = make_petition(database, tid, title="Une piste cyclable", state="closed")
    publish_answer(database, closed)
    draft = make_petition(database, tid, title="Un brouillon", state="draft")

    listed = client.get(API, headers=token)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 2
    by_id = {i["public_id"]: i for i in body["items"]}
    assert set(by_id) == {counted, closed}
    item = by_id[counted]
    assert (item["total"], item["town"], item["basis"], item["basis_count"]) == (80, 62, "town", 62)
    assert item["next_threshold"] == 50
    assert by_id[closed]["answered"] is True
    assert by_id[closed]["total"] == 0

    assert [i["public_id"] for i in client.get(API, params={"tab": "closed"}, headers=token).json()["items"]] == [
        closed
    ]
    assert [i["public_id"] for i in client.get(API, params={"tab": "answered"}, headers=token).json()["items"]] == [
        closed
    ]
    found = client.get(API, params={"q": "bancs"}, headers=token).json()
    assert [i["public_id"] for i in found["items"]] == [counted]
    page = client.get(API, params={"limit": 1, "offset": 1}, headers=token).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"tab": "nope"}, {"theme": "a b"}):
        assert_problem(client.get(API, params=params, headers=token), 422)

    detail = client.get(f"{API}/{counted}", headers=token)
    assert detail.status_code == 200, detail.text
    d = detail.json()
    assert d["kind"] == "civic"
    assert d["state"] == "open"
    assert d["counts"]["total"] == 80
    assert d["counts"]["town"] == 62
    assert d["counts"]["basis"] == "town"
    assert d["counts"]["basis_count"] == 62
    assert d["counts"]["next_kind"] == "answer"  # 62 >= 50, but only the worker stamps a threshold
    assert d["counts"]["progress_percent"] == 100
    assert d["counts"]["days_left"] is not None
    assert d["thresholds"]["answer"] == 50
    assert d["thresholds"]["council"] == 300
    assert d["thresholds"]["answer_reached_at"] is None
    assert d["answer"] is None
    assert d["my_signature"]["can_sign"] is True

    answered = client.get(f"{API}/{closed}", headers=token).json()
    assert answered["answer"]["outcome"] == "transmitted"
    assert answered["answer"]["authority"] == "Communauté d'agglomération"
    assert answered["my_signature"]["open"] is False
    assert client.get(f"{API}/{closed}/answer", headers=token).json()["text"] == "Transmise."
    # A draft answer: the town's staff read it, nobody else (and the detail shows only a published one).
    publish_answer(database, counted, published=False)
    assert_problem(client.get(f"{API}/{counted}/answer", headers=token), 404)
    agent_token = bearer(make_token(factory, factory.account("agent@example.org", roles=("agent",)), ("read",)))
    draft_answer = client.get(f"{API}/{counted}/answer", headers=agent_token).json()
    assert (draft_answer["published"], draft_answer["text"]) == (False, "Transmise.")
    assert client.get(f"{API}/{counted}", headers=agent_token).json()["answer"] is None
    write_only = bearer(make_token(factory, factory.account("w@example.org"), ("write",)))
    assert client.get(f"{API}/{counted}", headers=write_only).status_code == 200  # any token reads the detail
    assert_problem(client.get(f"{API}/{closed}/answer", headers=write_only), 403)  # the others need "read"
    assert_problem(client.get(f"{API}/{draft}", headers=token), 404)


# ---------------------------------------------------------------- drafting and moderating


def test_create_submit_and_publish_through_the_api(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    agent = factory.account("agent@example.org", roles=("agent",), display_name="Annie Agent")
    tid = factory.territory()
    with read_only(database) as db:
        hood = db.scalar(select(Neighbourhood.public_id).where(Neighbourhood.territory_id == tid).limit(1))
    alice_token = bearer(make_token(factory, alice))
    agent_token = bearer(make_token(factory, agent))

    legal_without_purpose = client.post(API, json={"kind": "legal", "title": "Consulter"}, headers=alice_token)
    assert_problem(legal_without_purpose, 422)
    assert_problem(client.post(API, json={"title": "X", "state": "open"}, headers=alice_token), 422)
    assert_problem(client.post(API, json={"title": "X", "neighbourhood_id": "nope"}, headers=alice_token), 422)
    read_only_token = bearer(make_token(factory, alice, ("read",)))
    assert_problem(client.post(API, json={"title": "X"}, headers=read_only_token), 403)
    assert rows(database, Petition) == 0

    created = client.post(
        API,
        json={
            "kind": "legal",
            "legal_purpose": "consultation",
            "title": "Consulter les habitants sur la place",
            "request": "Organiser une consultation locale sur le réaménagement de la place.",
            "neighbourhood_id": hood,
        },
        headers=alice_token,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    public_id = body["public_id"]
    assert (body["kind"], body["legal_purpose"], body["state"]) == ("legal", "consultation", "draft")
    assert body["can_submit"] is True
    assert body["neighbourhood"] is not None

    assert_problem(client.post(f"{API}/{public_id}/submit", headers=agent_token), 404)  # a draft is its author's
    submitted = client.post(f"{API}/{public_id}/submit", headers=alice_token)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    assert_problem(client.post(f"{API}/{public_id}/submit", headers=alice_token), 409)
    assert_problem(client.post(f"{API}/{public_id}/publish", headers=alice_token), 403)

    published = client.post(f"{API}/{public_id}/publish", headers=agent_token)
    assert published.status_code == 200, published.text
    p = published.json()
    assert p["state"] == "open"
    assert p["legal_stage"] == "collecting"
    assert p["thresholds"]["electors_frozen"] == 5000
    assert p["thresholds"]["answer"] == 500  # a tenth of the registered electors
    assert p["counts"]["basis"] == "total"
    assert_problem(client.post(f"{API}/{public_id}/publish", headers=agent_token), 409)
    assert audit_actions(database, public_id) == ["petition.start", "petition.submit", "petition.publish"]
    assert client.get(API, headers=alice_token).json()["items"][0]["public_id"] == public_id


def test_reject_with_a_reason_of_the_charter(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    agent = factory.account("agent@example.org", roles=("agent",))
    factory.territory()
    alice_token = bearer(make_token(factory, alice))
    agent_token = bearer(make_token(factory, agent))
    public_id = client.post(
        API, json={"title": "Un parking", "request": "Plus de places."}, headers=alice_token
    ).json()["public_id"]
    client.post(f"{API}/{public_id}/submit", headers=alice_token)

    assert_problem(
        client.post(f"{API}/{public_id}/reject", json={"reason": "outside_powers"}, headers=alice_token), 403
    )
    assert_problem(client.post(f"{API}/{public_id}/reject", json={"reason": "because"}, headers=agent_token), 422)
    assert_problem(client.post(f"{API}/{public_id}/reject", json={}, headers=agent_token), 422)
    rejected = client.post(
        f"{API}/{public_id}/reject",
        json={"reason": "outside_powers", "comment": "Le stationnement relève de l'agglomération."},
        headers=agent_token,
    )
    assert rejected.status_code == 200, rejected.text
    r = rejected.json()
    assert (r["state"], r["rejection_reason"]) == ("rejected", "outside_powers")
    assert r["rejection_label"]
    mine = client.get(f"{API}/{public_id}", headers=alice_token).json()
    assert mine["rejection_comment"] == "Le stationnement relève de l'agglomération."
    assert_problem(client.post(f"{API}/{public_id}/publish", headers=agent_token), 409)
    assert audit_actions(database, public_id)[-1] == "petition.reject"


# ---------------------------------------------------------------- signing


def test_sign_duplicate_and_withdraw(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    token = bearer(make_token(factory, factory.account()))
    public_id = make_petition(database, tid)

    signed = client.post(
        f"{API}/{public_id}/signature", json={"relation": "works", "show_name": True, "notify": True}, headers=token
    )
    assert signed.status_code == 200, signed.text
    s = signed.json()
    assert s["outcome"] == "signed"
    assert s["my_signature"]["signed"] is True
    assert s["my_signature"]["count"] == 1  # the signer's own, before the worker counts
    assert s["my_signature"]["relation"] == "works"
    again = client.post(f"{API}/{public_id}/signature", json={}, headers=token)
    assert again.status_code == 200
    assert again.json()["outcome"] == "already"
    assert again.json()["my_signature"]["count"] == 1
    assert rows(database, PetitionSignature) == 1
    sig = rows(database, PetitionSignature, PetitionSignature.notify.is_(True), PetitionSignature.show_name.is_(True))
    assert sig == 1
    assert_problem(client.post(f"{API}/{public_id}/signature", json={"relation": "cousin"}, headers=token), 422)
    assert_problem(client.post(f"{API}/{public_id}/signature", json={"elector": ELECTOR}, headers=token), 422)

    withdrawn = client.delete(f"{API}/{public_id}/signature", headers=token)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn"] is True
    assert withdrawn.json()["my_signature"]["signed"] is False
    assert client.delete(f"{API}/{public_id}/signature", headers=token).json()["withdrawn"] is False
    restored = client.post(f"{API}/{public_id}/signature", json={}, headers=token)
    assert restored.json()["outcome"] == "restored"
    assert rows(database, PetitionSignature) == 1

    closed = make_petition(database, tid, title="Close", state="closed")
    assert_problem(client.post(f"{API}/{closed}/signature", json={}, headers=token), 409)
    assert_problem(client.delete(f"{API}/{closed}/signature", headers=token), 409)
    draft = make_petition(database, tid, title="Brouillon", state="draft")
    assert_problem(client.post(f"{API}/{draft}/signature", json={}, headers=token), 404)


def test_legal_request_needs_the_elector_and_one_signature_a_quarter(
    client: TestClient, factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    alice = factory.account()
    token = bearer(make_token(factory, alice))
    first = make_petition(database, tid, kind="legal", title="Consultation sur la place")
    second = make_petition(database, tid, kind="legal", title="Consultation sur l'école")

    assert_problem(client.post(f"{API}/{first}/signature", json={}, headers=token), 422)
    minor_details = {**ELECTOR, "birth_date": (dt.date.today() - dt.timedelta(days=365 * 10)).isoformat()}
    assert_problem(client.post(f"{API}/{first}/signature", json={"elector": minor_details}, headers=token), 422)
    signed = client.post(f"{API}/{first}/signature", json={"elector": ELECTOR, "notify": True}, headers=token)
    assert signed.status_code == 200, signed.text
    assert signed.json()["my_signature"]["quarter"]
    # The same elector, from another account too, may not sign another request this quarter.
    bob_token = bearer(make_token(factory, factory.account("bob@example.org", display_name="Bob")))
    clash = client.post(f"{API}/{second}/signature", json={"elector": ELECTOR}, headers=bob_token)
    assert assert_problem(clash, 409)["code"] == "conflict"
    assert_problem(client.post(f"{API}/{second}/signature", json={"elector": ELECTOR}, headers=token), 409)
    with read_only(database) as db:
        sigs = [(s.notify, s.roll_status) for s in db.scalars(select(PetitionSignature))]
    assert sigs == [(False, "pending")]  # legal-request signers are never notified


# ---------------------------------------------------------------- the agents' export


def test_agents_export_is_audited_and_refused_to_residents(
    client: TestClient, factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    alice = factory.account()
    agent = factory.account("agent@example.org", roles=("agent",), display_name="Annie Agent")
    alice_token = bearer(make_token(factory, alice))
    agent_token = bearer(make_token(factory, agent, ("read",)))
    civic = make_petition(database, tid)
    legal = make_petition(database, tid, kind="legal", title="Consultation")
    client.post(f"{API}/{civic}/signature", json={"relation": "uses"}, headers=alice_token)
    client.post(f"{API}/{legal}/signature", json={"elector": ELECTOR}, headers=alice_token)

    assert_problem(client.get(f"{API}/{civic}/signatures", headers=alice_token), 403)
    assert_problem(client.get(f"{API}/{civic}/signatures.csv", headers=alice_token), 403)
    assert audit_actions(database, civic).count("petition.signatures_export") == 0

    exported = client.get(f"{API}/{civic}/signatures", headers=agent_token)
    assert exported.status_code == 200, exported.text
    e = exported.json()
    assert e["total"] == 1
    row = e["items"][0]
    assert (row["name"], row["relation"], row["method"], row["status"]) == (
        "Alice Martin",
        "uses",
        "account",
        "counted",
    )
    assert row["roll"] is None
    assert "alice@example.org" not in exported.text

    csv = client.get(f"{API}/{civic}/signatures.csv", headers=agent_token)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Alice Martin" in csv.text
    assert "alice@example.org" not in csv.text
    assert "date_de_naissance" not in csv.text

    legal_csv = client.get(f"{API}/{legal}/signatures.csv", headers=agent_token)
    assert "date_de_naissance" in legal_csv.text
    assert "1980-05-17" in legal_csv.text
    assert "3 rue des Écoles" in legal_csv.text
    legal_json = client.get(f"{API}/{legal}/signatures", headers=agent_token).json()
    assert legal_json["items"][0]["roll"]["surname"] == "Dupré"

    with read_only(database) as db:
        entries = [
            (x.subject_id, x.data["format"], x.data["rows"], x.actor_label)
            for x in db.scalars(
                select(AuditEntry).where(AuditEntry.action == "petition.signatures_export").order_by(AuditEntry.id)
            )
        ]
    assert entries == [
        (civic, "json", 1, "Annie Agent"),
        (civic, "csv", 1, "Annie Agent"),
        (legal, "csv", 1, "Annie Agent"),
        (legal, "json", 1, "Annie Agent"),
    ]


# ---------------------------------------------------------------- isolation and retries


def test_another_territorys_petition_is_not_found(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    factory.territory()
    alice = factory.account()
    agent = factory.account("agent@example.org", roles=("agent",))
    token = bearer(make_token(factory, alice))
    agent_token = bearer(make_token(factory, agent))
    foreign = make_petition(database, factory.territories["autre"], title="Ailleurs")
    foreign_draft = make_petition(database, factory.territories["autre"], title="Ailleurs", state="submitted")

    assert_problem(client.get(f"{API}/{foreign}", headers=token), 404)
    assert_problem(client.post(f"{API}/{foreign}/signature", json={}, headers=token), 404)
    assert_problem(client.delete(f"{API}/{foreign}/signature", headers=token), 404)
    assert_problem(client.get(f"{API}/{foreign}/signatures", headers=agent_token), 404)
    assert_problem(client.post(f"{API}/{foreign_draft}/publish", headers=agent_token), 404)
    assert foreign not in {i["public_id"] for i in client.get(API, headers=token).json()["items"]}
    assert_problem(other_client.get(API, headers=token), 401)  # the token belongs to the first territory
    assert rows(database, PetitionSignature) == 0


def test_idempotent_retries(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    token = bearer(make_token(factory, factory.account()))
    draft = {"title": "Un abri vélo", "request": "Un abri devant la gare."}
    headers = {**token, "Idempotency-Key": "create-1"}
    first = client.post(API, json=draft, headers=headers)
    second = client.post(API, json=draft, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert rows(database, Petition) == 1
    assert_problem(client.post(API, json={**draft, "title": "Autre"}, headers=headers), 422)

    public_id = make_petition(database, tid)
    sign_headers = {**token, "Idempotency-Key": "sign-1"}
    once = client.post(f"{API}/{public_id}/signature", json={"relation": "lives"}, headers=sign_headers)
    twice = client.post(f"{API}/{public_id}/signature", json={"relation": "lives"}, headers=sign_headers)
    assert once.json() == twice.json()
    assert twice.json()["outcome"] == "signed"  # the first answer, replayed
    assert rows(database, PetitionSignature) == 1


# ---------------------------------------------------------------- the document and the queries


def test_openapi_documents_the_petitions_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        API: {"get", "post"},
        API + "/{public_id}": {"get"},
        API + "/{public_id}/submit": {"post"},
        API + "/{public_id}/publish": {"post"},
        API + "/{public_id}/reject": {"post"},
        API + "/{public_id}/signature": {"post", "delete"},
        API + "/{public_id}/signatures": {"get"},
        API + "/{public_id}/signatures.csv": {"get"},
        API + "/{public_id}/answer": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            responses = paths[path][method]["responses"]
            assert {"401", "403", "404", "409", "422"} <= set(responses), (path, method)
            assert "application/problem+json" in responses["409"]["content"]
    assert "201" in paths[API]["post"]["responses"]
    assert "idempotency-key" in {p["name"].lower() for p in paths[API + "/{public_id}/signature"]["post"]["parameters"]}
    assert {"tab", "neighbourhood", "theme", "q", "limit", "offset"} <= {
        p["name"] for p in paths[API]["get"]["parameters"]
    }
    assert "text/csv" in paths[API + "/{public_id}/signatures.csv"]["get"]["responses"]["200"]["content"]


def test_the_list_runs_a_constant_number_of_queries(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    token = bearer(make_token(factory, factory.account()))
    client.get(API, headers=token)  # warm up: the token's first use is recorded once
    made = [0]

    def queries_for(total: int) -> int:
        while made[0] < total:
            public_id = make_petition(database, tid, title=f"Pétition {made[0]}")
            set_count(database, public_id, total=made[0] + 10, town=made[0])
            publish_answer(database, public_id)
            made[0] += 1
        with count_queries() as statements:
            response = client.get(API, params={"limit": 50, "q": "pétition"}, headers=token)
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == total
        assert all(i["answered"] and i["total"] >= 10 for i in items)
        return len(statements)

    assert queries_for(3) == queries_for(12)
