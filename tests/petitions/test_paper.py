"""Paper signatures: the printable blank sheet, sheets entered signer by signer (whole or not at
all, duplicates refused with their line number, legal requests once per quarter) or by their count,
batches invalidated, and all of it counted by the worker like the signatures given online."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.config import Settings
from app.db.session import Database, read_only, unit_of_work
from app.petitions import counting
from app.petitions.models import (
    LegalQuarterSignature,
    PaperBatch,
    Petition,
    PetitionKind,
    PetitionState,
)
from tests.factories import Factory, form_fields
from tests.petitions.signing_support import count_rows, make_petition, signature_rows

TODAY = dt.date.today().isoformat()


def _agent(client: TestClient, factory: Factory) -> None:
    factory.login(client, factory.account("agent@example.org", roles=("agent",), display_name="Agent"))


def _entry(public_id: str) -> str:
    return f"/petitions/{public_id}/papier"


def _civic_rows(*rows: tuple[str, str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for n, (name, relation) in enumerate(rows, start=1):
        data[f"row-{n}-name"] = name
        data[f"row-{n}-relation"] = relation
    return data


def _elector_rows(*rows: tuple[str, str, str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for n, (surname, first_names, born) in enumerate(rows, start=1):
        data[f"row-{n}-surname"] = surname
        data[f"row-{n}-first_names"] = first_names
        data[f"row-{n}-address"] = f"{n} rue Pasteur"
        data[f"row-{n}-birth_date"] = born
    return data


def _post_signers(client: TestClient, public_id: str, rows: dict[str, str], **extra: str) -> Any:
    fields = form_fields(client.get(_entry(public_id)).text)
    data = {**fields, "lines": "15", "sheet": "Marché, feuille 1", "signed_on": TODAY, **rows, **extra}
    return client.post(f"{_entry(public_id)}/signataires", data=data)


def _post_count(client: TestClient, public_id: str, signatures: str, town: str, sheet: str = "Lot 1") -> Any:
    fields = form_fields(client.get(_entry(public_id)).text)
    data = {**fields, "batch_sheet": sheet, "batch_signed_on": TODAY, "signatures": signatures, "town_signatures": town}
    return client.post(f"{_entry(public_id)}/nombre", data=data)


def _recount(database: Database, settings: Settings, public_id: str) -> counting.CountView:
    with unit_of_work(database) as db:
        counting.recount(db, settings=settings)
    with read_only(database) as db:
        petition = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        return counting.count_view(db, petition)


def _batches(database: Database) -> list[PaperBatch]:
    with read_only(database) as db:
        rows = list(db.scalars(select(PaperBatch).order_by(PaperBatch.id)))
        for row in rows:
            db.expunge(row)
        return rows


# --- Signer by signer -----------------------------------------------------------------------------


def test_signers_entered_from_a_sheet_count_in_the_job(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    pid = make_petition(database, factory.territory(), threshold_basis="town")
    _agent(client, factory)
    response = _post_signers(
        client, pid, _civic_rows(("Jeanne Petit", "lives"), ("Karim Benali", "works"), ("Tom Smith", "none"))
    )
    assert response.status_code == 303, response.text[:2000]

    rows = signature_rows(database, pid)
    assert len(rows) == 3
    assert {r.method for r in rows} == {"paper"}
    assert all(r.counted_at is not None and r.paper_sheet == "Marché, feuille 1" for r in rows)
    assert all(r.entered_by_person_id is not None and r.email is None for r in rows)
    view = _recount(database, settings, pid)
    assert (view.total, view.town) == (3, 2)

    page = client.get(_entry(pid))
    assert "Marché, feuille 1" in page.text
    with read_only(database) as db:
        actions = set(db.scalars(select(AuditEntry.action)))
    assert "petition.paper_signers_enter" in actions


def test_invalid_rows_answer_422_with_line_numbers_and_nothing_is_saved(
    client: TestClient, factory: Factory, database: Database
) -> None:
    pid = make_petition(database, factory.territory())
    _agent(client, factory)
    rows = _civic_rows(("Jeanne Petit", "lives"), ("", "works"), ("=cmd()", "lives"), ("Paul Durand", ""))
    response = _post_signers(client, pid, rows)
    assert response.status_code == 422
    for line in (2, 3, 4):
        assert f"Ligne {line} :" in response.text
    assert "Ligne 1 :" not in response.text
    assert 'value="Jeanne Petit"' in response.text  # what was typed stays
    assert signature_rows(database, pid) == []

    # A date after today, or a missing sheet reference: refused too.
    late = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    response = _post_signers(client, pid, _civic_rows(("Jeanne Petit", "lives")), signed_on=late, sheet="")
    assert response.status_code == 422
    assert 'id="f-signed_on-error"' in response.text
    assert 'id="f-sheet-error"' in response.text
    assert signature_rows(database, pid) == []


def test_duplicates_in_the_sheet_and_against_existing_signatures(
    client: TestClient, factory: Factory, database: Database
) -> None:
    pid = make_petition(database, factory.territory())
    _agent(client, factory)
    assert _post_signers(client, pid, _civic_rows(("Jeanne Petit", "lives"))).status_code == 303

    # "JEANNE  PÉTIT" folds to the name already on the petition; line 3 repeats line 2.
    rows = _civic_rows(
        ("Zoé Martin", "lives"), ("Paul Durand", "lives"), ("paul durand", "uses"), ("JEANNE  PÉTIT", "lives")
    )
    response = _post_signers(client, pid, rows, sheet="Marché, feuille 2")
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert re.search(r"Ligne 3 : même nom qu.à la ligne 2", text)
    assert "Ligne 4 :" in text
    assert "a déjà signé cette pétition" in text
    assert len(signature_rows(database, pid)) == 1  # nothing of the second sheet


def test_legal_request_once_per_quarter_across_requests(
    client: TestClient, factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    first = make_petition(database, tid, kind=PetitionKind.LEGAL)
    second = make_petition(database, tid, kind=PetitionKind.LEGAL, title="Une autre consultation")
    _agent(client, factory)
    ok = _post_signers(
        client, first, _elector_rows(("Dupré", "Anne-Marie", "17/05/1980"), ("Leroy", "Marc", "1975-02-03"))
    )
    assert ok.status_code == 303, ok.text[:2000]
    assert count_rows(database, LegalQuarterSignature) == 2
    (row, _other) = sorted(signature_rows(database, first), key=lambda r: r.surname)
    assert row.birth_date == dt.date(1980, 5, 17)
    assert row.roll_status == "pending"

    # The same elector (another spelling) on the other request this quarter: refused with the line number.
    refused = _post_signers(
        client, second, _elector_rows(("Martin", "Zoé", "01/01/1990"), ("DUPRE", "anne marie", "17/05/1980"))
    )
    assert refused.status_code == 422
    assert "Ligne 2 :" in refused.text
    assert "une signature par électeur et par trimestre" in refused.text
    assert "Ligne 1 :" not in refused.text
    assert signature_rows(database, second) == []
    assert count_rows(database, LegalQuarterSignature) == 2

    # The same elector again on the same request, and a minor: refused.
    again = _post_signers(client, first, _elector_rows(("Leroy", "Marc", "03/02/1975"), ("Petit", "Léa", "2015-01-01")))
    assert again.status_code == 422
    assert "a déjà signé cette demande" in again.text
    assert "Ligne 2 :" in again.text
    assert "majeurs" in again.text


def test_legal_request_is_not_entered_by_count(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory(), kind=PetitionKind.LEGAL)
    _agent(client, factory)
    page = client.get(_entry(pid))
    assert 'name="surname"' not in page.text
    assert 'name="row-1-surname"' in page.text
    assert 'name="signatures"' not in page.text
    assert _post_count(client, pid, "10", "5").status_code == 409
    assert _batches(database) == []


def test_more_lines_keep_what_was_typed(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory(), kind=PetitionKind.LEGAL)
    _agent(client, factory)
    fields = form_fields(client.get(_entry(pid)).text)
    data = {**fields, "lines": "15", "step": "more", "row-2-surname": "Dupré"}
    response = client.post(f"{_entry(pid)}/signataires", data=data)
    assert response.status_code == 200
    assert 'name="row-25-surname"' in response.text
    assert 'value="Dupré"' in response.text
    assert signature_rows(database, pid) == []


# --- By count -------------------------------------------------------------------------------------


def test_batches_count_town_and_total_and_invalidating_removes_them(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    pid = make_petition(database, factory.territory(), threshold_basis="town")
    _agent(client, factory)
    assert _post_count(client, pid, "12", "9").status_code == 303
    assert _post_count(client, pid, "5", "5", sheet="Lot 2").status_code == 303
    view = _recount(database, settings, pid)
    assert (view.total, view.town, view.basis_count) == (17, 14, 14)

    # Town count above the total, a sheet already entered: refused, nothing stored.
    refused = _post_count(client, pid, "3", "4", sheet="Lot 3")
    assert refused.status_code == 422
    assert 'id="f-town_signatures-error"' in refused.text
    assert _post_count(client, pid, "3", "1", sheet="lot  1").status_code == 422
    assert len(_batches(database)) == 2

    first = _batches(database)[0]
    fields = form_fields(client.get(_entry(pid)).text)
    action = f"{_entry(pid)}/lots/{first.public_id}/invalider"
    assert client.post(action, data={**fields, "reason": ""}).status_code == 422
    fields = form_fields(client.get(_entry(pid)).text)
    assert client.post(action, data={**fields, "reason": "Feuille saisie deux fois"}).status_code == 303
    assert _batches(database)[0].invalid_reason == "Feuille saisie deux fois"
    view = _recount(database, settings, pid)
    assert (view.total, view.town) == (5, 5)
    fields = form_fields(client.get(_entry(pid)).text)
    assert client.post(action, data={**fields, "reason": "encore"}).status_code == 409


def test_a_closed_petition_takes_sheets_dated_before_its_closing(
    client: TestClient, factory: Factory, database: Database
) -> None:
    pid = make_petition(database, factory.territory(), state=PetitionState.CLOSED)
    _agent(client, factory)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert _post_signers(client, pid, _civic_rows(("Jeanne Petit", "lives")), signed_on=yesterday).status_code == 303
    with unit_of_work(database) as db:
        petition = db.scalars(select(Petition).where(Petition.public_id == pid)).one()
        petition.closed_at = petition.closed_at - dt.timedelta(days=2)
    refused = _post_signers(client, pid, _civic_rows(("Paul Durand", "lives")), signed_on=TODAY)
    assert refused.status_code == 422
    assert "close à cette date" in refused.text


# --- Who may -------------------------------------------------------------------------------------


def test_only_agents_enter_sheets(client: TestClient, factory: Factory, database: Database) -> None:
    pid = make_petition(database, factory.territory())
    fields = form_fields(client.get(f"/petitions/{pid}/feuille").text)
    factory.login(client, factory.account())
    assert client.get(_entry(pid)).status_code == 403
    data = {**fields, "sheet": "x", "signed_on": TODAY, **_civic_rows(("Jeanne Petit", "lives"))}
    assert client.post(f"{_entry(pid)}/signataires", data=data).status_code == 403
    factory.login(client, factory.account("maire@example.org", roles=("executive",)))
    assert client.post(f"{_entry(pid)}/signataires", data=data).status_code == 403
    assert signature_rows(database, pid) == []


def test_another_towns_petition_is_not_found(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    other = make_petition(database, factory.territories["autre"])
    mine = make_petition(database, factory.territory())
    _agent(client, factory)
    fields = form_fields(client.get(_entry(mine)).text)
    assert client.get(_entry(other)).status_code == 404
    assert client.get(f"/petitions/{other}/feuille").status_code == 404
    data = {**fields, "sheet": "x", "signed_on": TODAY, **_civic_rows(("Jeanne Petit", "lives"))}
    assert client.post(f"{_entry(other)}/signataires", data=data).status_code == 404
    assert client.post(f"{_entry(other)}/nombre", data={**fields, "batch_sheet": "x"}).status_code == 404
    assert signature_rows(database, other) == []
    assert other_client.get(f"/petitions/{other}/feuille").status_code == 200


# --- The printable sheet -------------------------------------------------------------------------


def test_the_printable_sheet_renders_for_everyone(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    civic = make_petition(database, tid)
    page = client.get(f"/petitions/{civic}/feuille")
    assert page.status_code == 200
    text = page.text
    assert "Un passage piéton devant l&#39;école" in text
    assert "Sécuriser la traversée." in text
    assert "print.css" in text
    assert "<caption>" in text
    headers = re.findall(r"<th(\s[^>]*)?>", text)
    assert headers
    assert all('scope="' in attrs for attrs in headers)
    assert "Lien avec la commune" in text
    assert "Signature" in text
    assert "jamais publiés" in text  # the privacy notice
    assert "<input" not in text

    legal = make_petition(database, tid, kind=PetitionKind.LEGAL, title="Une consultation")
    text = client.get(f"/petitions/{legal}/feuille").text
    assert "Date de naissance" in text
    assert "trimestre" in text
    assert "liste électorale" in text

    # The petition page links to it while the petition is open; the agents' page too.
    assert f"/petitions/{civic}/feuille" in client.get(f"/petitions/{civic}").text
    _agent(client, factory)
    staff = client.get(f"/petitions/{civic}/signatures").text
    assert f"/petitions/{civic}/feuille" in staff
    assert f"/petitions/{civic}/papier" in staff
