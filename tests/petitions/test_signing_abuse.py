"""Bad inputs (422 naming the field, nothing stored), rate limits, bursts flagged silently, and
the agents' release and bulk invalidation (dry run first, audited)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from limits import parse
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.db.session import Database, unit_of_work
from app.mail.models import OutboxEmail
from app.petitions import signing
from app.petitions.models import PetitionKind, PetitionSignature
from tests.factories import Factory, form_fields, link_from, post_form
from tests.petitions.signing_support import count_rows, make_petition, signature_rows


def _guest(**extra: str) -> dict[str, str]:
    return {"name": "Jeanne Petit", "email": "jeanne@example.org", "postcode": "62750", "relation": "lives", **extra}


BAD_GUEST_INPUTS = [
    ({"name": ""}, "name", "Ce champ est obligatoire."),
    ({"name": "\u200b \ufeff"}, "name", "Ce champ est obligatoire."),
    ({"name": "x" * 121}, "name", "Saisissez au plus 120 caractères."),
    ({"name": "Jeanne\x00Petit"}, "name", "caractère interdit"),
    ({"name": '=HYPERLINK("http://evil")'}, "name", "sans lien ni symbole"),
    ({"name": "Jeanne https://spam.example"}, "name", "sans lien ni symbole"),
    ({"email": ""}, "email", "Ce champ est obligatoire."),
    ({"email": "pas-une-adresse"}, "email", "adresse e-mail valide"),
    ({"email": "jeanne@yopmail.com"}, "email", "jetables"),
    ({"email": "jeanne@mail.mailinator.com"}, "email", "jetables"),
    ({"postcode": ""}, "postcode", "Ce champ est obligatoire."),
    ({"postcode": "<script>"}, "postcode", "code postal valide"),
    ({"relation": "owner"}, "relation", "Choisissez une des valeurs proposées."),
    ({"notify": "peut-être"}, "notify", "Choisissez oui ou non."),
]


@pytest.mark.parametrize(("override", "field", "message"), BAD_GUEST_INPUTS)
def test_bad_guest_inputs_are_refused_and_nothing_is_stored(
    client: TestClient, factory: Factory, database: Database, override: dict[str, str], field: str, message: str
) -> None:
    pid = make_petition(database, factory.territory())
    response = post_form(
        client, f"/petitions/{pid}/signer", f"/petitions/{pid}/signer-sans-compte", data=_guest(**override)
    )
    assert response.status_code == 422
    assert message in response.text
    assert f'href="#f-{field}"' in response.text  # the error names and links the field
    assert 'aria-invalid="true"' in response.text
    if field != "name":
        assert 'value="Jeanne Petit"' in response.text  # other values kept
    assert signature_rows(database, pid) == []
    assert count_rows(database, OutboxEmail) == 0


def test_bad_input_with_htmx_swaps_the_box(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    fields = form_fields(client.get(f"/petitions/{pid}/signer").text)
    response = client.post(
        f"/petitions/{pid}/signer-sans-compte", data={**fields, **_guest(email="x")}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith("<section") or 'id="sign-box"' in response.text
    assert "<html" not in response.text


BAD_ELECTOR_INPUTS = [
    ({"surname": ""}, "surname"),
    ({"first_names": "y" * 201}, "first_names"),
    ({"address": ""}, "address"),
    ({"birth_date": "31/02/1980"}, "birth_date"),
    ({"birth_date": "2999-01-01"}, "birth_date"),
    ({"birth_date": "1850-01-01"}, "birth_date"),
    ({"birth_date": "2015-01-01"}, "birth_date"),  # a minor
]


@pytest.mark.parametrize(("override", "field"), BAD_ELECTOR_INPUTS)
def test_bad_elector_inputs_are_refused(
    client: TestClient, factory: Factory, database: Database, override: dict[str, str], field: str
) -> None:
    factory.login(client, factory.account())
    pid = make_petition(database, factory.territory(), kind=PetitionKind.LEGAL)
    data = {"surname": "Dupré", "first_names": "Anne", "address": "3 rue des Écoles", "birth_date": "1980-05-17"}
    response = post_form(client, f"/petitions/{pid}/signer", data={**data, **override})
    assert response.status_code == 422, response.text[:300]
    assert f'href="#f-{field}"' in response.text
    assert signature_rows(database, pid) == []


def test_past_the_ceiling_signing_answers_429(
    client: TestClient, factory: Factory, database: Database, app: FastAPI
) -> None:
    app.state.rate_limiter.items["sign:ip"] = parse("2/hour")
    pid = make_petition(database, factory.territory())
    guest_url = f"/petitions/{pid}/signer-sans-compte"
    for n in range(2):
        assert (
            post_form(client, f"/petitions/{pid}/signer", guest_url, data=_guest(email=f"p{n}@example.org")).status_code
            == 303
        )
    response = post_form(client, f"/petitions/{pid}/signer", guest_url, data=_guest(email="p9@example.org"))
    assert response.status_code == 429
    assert len(signature_rows(database, pid)) == 2
    app.state.rate_limiter.reset()


def test_per_address_ceiling(client: TestClient, factory: Factory, database: Database, app: FastAPI) -> None:
    app.state.rate_limiter.items["sign:email"] = parse("1/hour")
    pid = make_petition(database, factory.territory())
    guest_url = f"/petitions/{pid}/signer-sans-compte"
    assert post_form(client, f"/petitions/{pid}/signer", guest_url, data=_guest()).status_code == 303
    response = post_form(client, f"/petitions/{pid}/signer", guest_url, data=_guest(email="JEANNE@example.org"))
    assert response.status_code == 429
    app.state.rate_limiter.reset()


def _confirm_all(client: TestClient, factory: Factory) -> None:
    for mail in factory.outbox():
        token = link_from(mail).split("token=")[1]
        page = client.get(f"/signature/confirmer?token={token}")
        if page.status_code == 200:
            client.post("/signature/confirmer", data={**form_fields(page.text), "token": token})


def test_bursts_are_flagged_silently_then_released_by_an_agent(
    client: TestClient, factory: Factory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing, "BURST_LIMIT", 2)
    pid = make_petition(database, factory.territory())
    guest_url = f"/petitions/{pid}/signer-sans-compte"
    for n in range(4):
        response = post_form(
            client, f"/petitions/{pid}/signer", guest_url, data=_guest(name=f"Élève {n}", email=f"e{n}@example.org")
        )
        assert response.status_code == 303  # same answer for everyone
    _confirm_all(client, factory)
    rows = signature_rows(database, pid)
    assert [r.flagged_at is not None for r in rows] == [False, False, True, True]
    assert [r.counted_at is not None for r in rows] == [True, True, False, False]
    assert all(r.confirmed_at is not None for r in rows)
    source = rows[2].source_hash
    assert len(source) == 64
    assert "testclient" not in source

    # A resident may not open the agents' page.
    resident = factory.account("res@example.org")
    factory.login(client, resident)
    assert client.get(f"/petitions/{pid}/signatures").status_code == 403

    agent = factory.account("agent@example.org", roles=(Role.AGENT,), display_name="Agent")
    factory.login(client, agent)
    page = client.get(f"/petitions/{pid}/signatures")
    assert page.status_code == 200
    assert "e3@example.org" in page.text
    assert source[:12] in page.text
    response = client.post(f"/petitions/{pid}/signatures/liberer", data={**form_fields(page.text), "source": source})
    assert response.status_code == 303
    rows = signature_rows(database, pid)
    assert all(r.counted_at is not None for r in rows)
    assert rows[2].released_at is not None
    with unit_of_work(database) as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "petition.signatures_release"))
        assert entry is not None
        assert entry.data["count"] == 2
        assert entry.actor_person_id == agent.person_id


def test_bulk_invalidation_counts_first_then_applies_with_a_reason(
    client: TestClient, factory: Factory, database: Database
) -> None:
    pid = make_petition(database, factory.territory())
    guest_url = f"/petitions/{pid}/signer-sans-compte"
    for n in range(3):
        post_form(
            client, f"/petitions/{pid}/signer", guest_url, data=_guest(name=f"Robot {n}", email=f"r{n}@example.org")
        )
    rows = signature_rows(database, pid)
    agent = factory.account("agent@example.org", roles=(Role.AGENT,), display_name="Agent")
    factory.login(client, agent)
    page = client.get(f"/petitions/{pid}/signatures")
    ids = [rows[0].public_id, rows[1].public_id]

    dry = client.post(
        f"/petitions/{pid}/signatures/invalider", data={**form_fields(page.text), "ids": ids, "step": "count"}
    )
    assert dry.status_code == 200
    assert "2 signatures seront invalidées" in dry.text
    assert all(r.invalidated_at is None for r in signature_rows(database, pid))

    no_reason = client.post(
        f"/petitions/{pid}/signatures/invalider",
        data={**form_fields(dry.text), "ids": ids, "step": "apply", "reason": " "},
    )
    assert no_reason.status_code == 422
    assert 'href="#f-reason"' in no_reason.text
    assert all(r.invalidated_at is None for r in signature_rows(database, pid))

    applied = client.post(
        f"/petitions/{pid}/signatures/invalider",
        data={**form_fields(dry.text), "ids": ids, "step": "apply", "reason": "Adresses générées"},
    )
    assert applied.status_code == 303
    after = signature_rows(database, pid)
    assert [r.invalidated_at is not None for r in after] == [True, True, False]
    assert after[0].invalid_reason == "Adresses générées"
    with unit_of_work(database) as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "petition.signatures_invalidate"))
        assert entry is not None
        assert entry.reason == "Adresses générées"
        assert entry.data["count"] == 2


def test_public_pages_never_show_emails(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    post_form(client, f"/petitions/{pid}/signer", f"/petitions/{pid}/signer-sans-compte", data=_guest())
    client.cookies.clear()
    page = client.get(f"/petitions/{pid}/signer")
    assert "jeanne@example.org" not in page.text
    assert client.get(f"/petitions/{pid}/signatures").status_code in (303, 401)
    with unit_of_work(database) as db:
        assert db.scalar(select(PetitionSignature.email)) == "jeanne@example.org"
