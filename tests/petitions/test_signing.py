"""Signing through the pages: one click for residents, withdrawal, guests confirmed by a button,
duplicates that look like success, legal requests once per quarter, the box's count."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import AgeBracket
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.petitions.models import (
    LegalQuarterSignature,
    Petition,
    PetitionCount,
    PetitionKind,
    PetitionSignature,
    PetitionState,
)
from app.petitions.signing import quarter_label, quarter_of
from tests.factories import Factory, form_fields, link_from, post_form
from tests.petitions.signing_support import count_rows, make_petition, signature_rows

HX = {"HX-Request": "true"}


def _page(public_id: str) -> str:
    return f"/petitions/{public_id}/signer"


def _guest(name: str = "Jeanne Petit", email: str = "jeanne@example.org", **extra: str) -> dict[str, str]:
    return {"name": name, "email": email, "postcode": "62750", "relation": "lives", **extra}


# --- Signed-in residents --------------------------------------------------------------------------


def test_resident_signs_in_one_click_and_twice_changes_nothing(
    client: TestClient, factory: Factory, database: Database
) -> None:
    account = factory.account()
    factory.login(client, account)
    pid = make_petition(database, factory.territory())

    response = post_form(client, _page(pid), data={"relation": "works", "show_name": "on"})
    assert response.status_code == 303
    again = post_form(client, _page(pid), data={"relation": "lives"})
    assert again.status_code == 303

    rows = signature_rows(database, pid)
    assert len(rows) == 1
    row = rows[0]
    assert row.person_id == account.person_id
    assert row.method == "account"
    assert row.counted_at is not None
    assert row.relation == "works"
    assert row.show_name
    assert not row.notify
    assert not row.invite_if_project

    page = client.get(_page(pid))
    assert "Signature enregistrée" in page.text
    assert "Retirer ma signature" in page.text


def test_htmx_sign_swaps_the_box_with_the_count_including_ones_own(
    client: TestClient, factory: Factory, database: Database
) -> None:
    factory.login(client, factory.account())
    tid = factory.territory()
    pid = make_petition(database, tid)
    with unit_of_work(database) as db:
        petition = db.scalar(select(Petition).where(Petition.public_id == pid))
        assert petition is not None
        # The worker counted 7 a minute ago: the signer's own signature is newer.
        db.add(
            PetitionCount(
                petition_id=petition.id,
                territory_id=tid,
                total=7,
                town=7,
                computed_at=utcnow() - dt.timedelta(minutes=1),
            )
        )
    fields = form_fields(client.get(_page(pid)).text)
    response = client.post(_page(pid), data={**fields, "relation": "lives"}, headers=HX)
    assert response.status_code == 200
    assert 'id="sign-box"' in response.text
    assert "Signature enregistrée" in response.text
    assert "8 signatures" in response.text
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text
    assert "<html" not in response.text


def test_withdraw_while_open_then_sign_again(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account())
    pid = make_petition(database, factory.territory())
    post_form(client, _page(pid), data={"relation": "lives"})

    response = post_form(client, _page(pid), f"/petitions/{pid}/retirer-ma-signature")
    assert response.status_code == 303
    (row,) = signature_rows(database, pid)
    assert row.withdrawn_at is not None

    post_form(client, _page(pid), data={"relation": "uses"})
    (row,) = signature_rows(database, pid)
    assert row.withdrawn_at is None
    assert row.counted_at is not None
    assert row.relation == "uses"


def test_minors_sign_civic_petitions(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account(age_bracket=AgeBracket.FROM_15_TO_17))
    pid = make_petition(database, factory.territory())
    assert post_form(client, _page(pid), data={"relation": "lives"}).status_code == 303
    assert len(signature_rows(database, pid)) == 1


def test_signing_a_closed_petition_is_refused(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account())
    tid = factory.territory()
    open_pid = make_petition(database, tid)
    fields = form_fields(client.get(_page(open_pid)).text)
    closed = make_petition(database, tid, state=PetitionState.CLOSED)
    response = client.post(_page(closed), data={**fields, "relation": "lives"})
    assert response.status_code == 409
    assert signature_rows(database, closed) == []
    # Closed by date too (the job may not have run yet).
    late = make_petition(database, tid, closes_in_days=-2)
    response = client.post(_page(late), data={**form_fields(client.get(_page(open_pid)).text), "relation": "lives"})
    assert response.status_code == 409
    assert "close" in client.get(_page(late)).text


def test_another_territorys_petition_is_not_found(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    other = factory.territories["autre"]
    pid = make_petition(database, other)
    account = factory.account()
    factory.login(client, account)
    fields = form_fields(client.get(_page(make_petition(database, factory.territory()))).text)
    assert client.get(_page(pid)).status_code == 404
    assert client.post(_page(pid), data={**fields, "relation": "lives"}).status_code == 404
    assert client.post(f"/petitions/{pid}/signer-sans-compte", data={**fields, **_guest()}).status_code == 404
    assert signature_rows(database, pid) == []
    assert other_client.get(_page(pid)).status_code == 200


def test_drafts_are_not_signable(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory(), state=PetitionState.DRAFT)
    assert client.get(_page(pid)).status_code == 404


# --- Guests ---------------------------------------------------------------------------------------


def test_guest_signs_and_confirms_with_a_button(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    response = post_form(client, _page(pid), f"/petitions/{pid}/signer-sans-compte", data=_guest(notify="on"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/petitions/{pid}/signature-envoyee"

    (row,) = signature_rows(database, pid)
    assert row.method == "guest"
    assert row.counted_at is None
    assert row.confirmed_at is None
    assert row.email_slot == 1
    assert row.email_key == "jeanne@example.org"
    assert row.notify
    assert row.confirm_token_hash is not None
    assert len(row.confirm_token_hash) == 64

    (mail,) = factory.outbox("jeanne@example.org")
    link = link_from(mail)
    assert row.confirm_token_hash not in mail.body_text
    # Opening the link (as a mail scanner would) confirms nothing: it shows a button.
    page = client.get(link.replace("http://loos.test", ""))
    assert page.status_code == 200
    assert "Confirmer ma signature" in page.text
    assert signature_rows(database, pid)[0].confirmed_at is None

    fields = form_fields(page.text)
    token = link.split("token=")[1]
    done = client.post("/signature/confirmer", data={**fields, "token": token})
    assert done.status_code == 303
    (row,) = signature_rows(database, pid)
    assert row.confirmed_at is not None
    assert row.counted_at is not None

    # The link again: already confirmed, counted once.
    again = client.get(link.replace("http://loos.test", ""))
    assert again.status_code == 410
    assert "déjà confirmée" in again.text
    replay = client.post("/signature/confirmer", data={**form_fields(page.text), "token": token})
    assert replay.status_code in (303, 410)
    assert len(signature_rows(database, pid)) == 1


def test_unknown_confirmation_token(client: TestClient, factory: Factory) -> None:
    factory.territory()
    assert client.get("/signature/confirmer?token=nope").status_code == 404


def test_guest_duplicates_look_like_success_and_the_owner_is_told(
    client: TestClient, factory: Factory, database: Database
) -> None:
    pid = make_petition(database, factory.territory())
    guest_url = f"/petitions/{pid}/signer-sans-compte"
    post_form(client, _page(pid), guest_url, data=_guest(email="jean.dupont@gmail.com", name="Jean Dupont"))
    (first,) = signature_rows(database, pid)
    # Confirm it, so that a later attempt is a duplicate of a counted signature.
    token = link_from(factory.outbox("jean.dupont@gmail.com")[0]).split("token=")[1]
    page = client.get(f"/signature/confirmer?token={token}")
    client.post("/signature/confirmer", data={**form_fields(page.text), "token": token})

    # Same person: case, dots and a plus tag, accents and spacing of the name folded.
    response = post_form(
        client, _page(pid), guest_url, data=_guest(email="Jean.Du.Pont+petition@GMAIL.com", name="  JEAN   dupont ")
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/petitions/{pid}/signature-envoyee"
    assert len(signature_rows(database, pid)) == 1
    mails = factory.outbox("jean.dupont@gmail.com")
    assert len(mails) == 2
    assert "déjà enregistrée" in mails[1].body_text
    # A second attempt within the hour: still success, but no more e-mail (no spamming).
    post_form(client, _page(pid), guest_url, data=_guest(email="jeandupont@gmail.com", name="Jean Dupont"))
    assert len(factory.outbox("jean.dupont@gmail.com")) == 2
    assert first.email_key == "jeandupont@gmail.com"


def test_two_named_people_share_an_address_not_three(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    guest_url = f"/petitions/{pid}/signer-sans-compte"
    for name in ("Marie Leroy", "Paul Leroy", "Léa Leroy"):
        response = post_form(client, _page(pid), guest_url, data=_guest(name=name, email="famille@example.org"))
        assert response.status_code == 303
    rows = signature_rows(database, pid)
    assert sorted((r.display_name, r.email_slot) for r in rows) == [("Marie Leroy", 1), ("Paul Leroy", 2)]


def test_honeypot_looks_like_success_and_stores_nothing(
    client: TestClient, factory: Factory, database: Database
) -> None:
    pid = make_petition(database, factory.territory())
    response = post_form(
        client, _page(pid), f"/petitions/{pid}/signer-sans-compte", data=_guest(website="http://spam.example")
    )
    assert response.status_code == 303
    assert signature_rows(database, pid) == []
    assert factory.outbox() == []


def test_guests_cannot_sign_legal_requests(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    pid = make_petition(database, tid, kind=PetitionKind.LEGAL)
    page = client.get(_page(pid))
    assert page.status_code == 200
    assert 'name="email"' not in page.text
    fields = form_fields(client.get(_page(make_petition(database, tid))).text)
    assert client.post(f"/petitions/{pid}/signer-sans-compte", data={**fields, **_guest()}).status_code == 403
    assert signature_rows(database, pid) == []


# --- Legal requests -------------------------------------------------------------------------------

ELECTOR = {
    "surname": "Dupré",
    "first_names": "Anne Marie",
    "address": "3 rue des Écoles, 62750 Loos-en-Gohelle",
    "birth_date": "1980-05-17",
    "notify": "on",
}


def test_legal_request_once_per_quarter_across_requests(
    client: TestClient, factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    account = factory.account()
    factory.login(client, account)
    first = make_petition(database, tid, kind=PetitionKind.LEGAL)
    second = make_petition(database, tid, kind=PetitionKind.LEGAL, title="Une autre consultation")

    page = client.get(_page(first))
    assert 'name="birth_date"' in page.text
    response = client.post(_page(first), data={**form_fields(page.text), **ELECTOR})
    assert response.status_code == 303
    (row,) = signature_rows(database, first)
    assert row.counted_at is not None
    assert row.surname == "Dupré"
    assert row.birth_date == dt.date(1980, 5, 17)
    assert row.notify is False  # legal-request signers get no notifications
    assert count_rows(database, LegalQuarterSignature) == 1

    # The same elector (another spelling) on another request of the same quarter: refused, nothing stored.
    other = factory.account("bob@example.org", display_name="Bob")
    factory.login(client, other)
    page = client.get(_page(second))
    refused = client.post(
        _page(second), data={**form_fields(page.text), **ELECTOR, "surname": "DUPRE", "first_names": "anne-marie"}
    )
    assert refused.status_code == 409
    assert quarter_label(quarter_of(utcnow(), "Europe/Paris")) in refused.text
    assert signature_rows(database, second) == []
    assert count_rows(database, LegalQuarterSignature) == 1


def test_legal_request_needs_an_adult_account(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    pid = make_petition(database, tid, kind=PetitionKind.LEGAL)
    factory.login(client, factory.account(age_bracket=AgeBracket.FROM_15_TO_17))
    page = client.get(_page(pid))
    assert "électeurs majeurs" in page.text
    assert 'name="birth_date"' not in page.text
    fields = form_fields(client.get(_page(make_petition(database, tid))).text)
    assert client.post(_page(pid), data={**fields, **ELECTOR}).status_code == 403
    assert signature_rows(database, pid) == []


def test_legal_withdrawal_frees_the_quarter(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    factory.login(client, factory.account())
    pid = make_petition(database, tid, kind=PetitionKind.LEGAL)
    client.post(_page(pid), data={**form_fields(client.get(_page(pid)).text), **ELECTOR})
    post_form(client, _page(pid), f"/petitions/{pid}/retirer-ma-signature")
    assert count_rows(database, LegalQuarterSignature) == 0
    client.post(_page(pid), data={**form_fields(client.get(_page(pid)).text), **ELECTOR})
    assert count_rows(database, LegalQuarterSignature) == 1
    with unit_of_work(database) as db:
        assert db.scalar(select(PetitionSignature.withdrawn_at)) is None


def test_the_petition_page_shows_the_box(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    page = client.get(f"/petitions/{pid}")
    assert page.status_code == 200
    # Anonymous visitors get links (the public page sets no cookie), not the guest form itself.
    assert 'id="sign-box"' in page.text
    assert f"/petitions/{pid}/signer" in page.text
    assert "set-cookie" not in page.headers
    factory.login(client, factory.account())
    page = client.get(f"/petitions/{pid}")
    assert "Signer en un clic" in page.text
    response = client.post(f"/petitions/{pid}/signer", data={**form_fields(page.text), "relation": "lives"}, headers=HX)
    assert response.status_code == 200
    assert "Signature enregistrée" in response.text
    assert post_form(client, f"/petitions/{pid}", _page(pid), data={"relation": "lives"}).headers["location"] == (
        f"/petitions/{pid}"
    )


def test_box_fragment_and_english_confirmation_link(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    fragment = client.get(f"/petitions/{pid}/boite-signature")
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<section")
    response = post_form(client, f"/en{_page(pid)}", f"/en/petitions/{pid}/signer-sans-compte", data=_guest())
    assert response.status_code == 303
    (mail,) = factory.outbox()
    assert "/en/signature/confirmer?token=" in link_from(mail)


def test_names_are_escaped_on_the_agents_page(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    post_form(client, _page(pid), f"/petitions/{pid}/signer-sans-compte", data=_guest(name="<script>alert(1)</script>"))
    factory.login(client, factory.account("agent@example.org", roles=("agent",), display_name="Agent"))
    page = client.get(f"/petitions/{pid}/signatures")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
