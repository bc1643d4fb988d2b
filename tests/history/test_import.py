"""The historical import: preview then confirm, all or nothing, idempotent, bad lines reported by number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from app.core.actor import Actor
from app.db.session import Database, read_only, unit_of_work
from app.history import csvfile
from app.history import service as history
from app.history.models import HistoricalImport, HistoricalRecord
from app.initiatives import search
from app.initiatives.models import Beneficiary, Initiative
from app.ledger.models import CommitmentLine, RealisationLine
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood
from tests.factories import Factory, form_fields
from tests.history import helpers as h

FILE = h.csv_bytes([h.GARDEN, h.PARTY, h.SHELTER])


def _initiatives(database: Database) -> dict[str, Initiative]:
    with read_only(database) as db:
        rows = list(db.scalars(select(Initiative)))
        for r in rows:
            db.expunge(r)
        return {r.title: r for r in rows}


def _lines(database: Database, initiative_id: int) -> dict[str, CommitmentLine]:
    with read_only(database) as db:
        rows = list(db.scalars(select(CommitmentLine).where(CommitmentLine.initiative_id == initiative_id)))
        for r in rows:
            db.expunge(r)
        return {r.kind: r for r in rows}


# ---------------------------------------------------------------- template and example


def test_the_template_and_the_example_download_and_the_example_imports_as_is(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    page = client.get("/admin/import")
    assert page.status_code == 200
    assert 'action="/admin/import/modele.csv"' in page.text
    assert "date de dépôt" in page.text
    assert "Cité 5" in page.text
    template = client.get("/admin/import/modele.csv")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("text/csv")
    assert "attachment" in template.headers["content-disposition"]
    text = template.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert text.strip("\ufeff\r\n").split(";") == [c.header for c in csvfile.COLUMNS]

    example = client.get("/admin/import/exemple.csv")
    assert example.status_code == 200
    h.import_file(client, example.content)
    assert h.counts(database)["HistoricalRecord"] == 3


def test_the_admin_nav_links_to_the_import(client: TestClient, factory: Factory) -> None:
    h.login_admin(client, factory)
    assert 'href="/admin/import"' in client.get("/admin").text


# ---------------------------------------------------------------- a good file


def test_a_good_file_is_previewed_then_imported_with_its_states_years_and_values(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    envelopes_before = h.envelopes(database)
    before = h.counts(database)

    response = h.upload(client, FILE)
    assert response.status_code == 303, response.text[:2000]
    preview_url = response.headers["location"]
    # Checked and kept, nothing imported yet.
    after_upload = h.counts(database)
    assert after_upload["Initiative"] == before["Initiative"] == 0
    assert after_upload["HistoricalImport"] == 1
    preview = client.get(preview_url)
    assert preview.status_code == 200
    assert "Jardin partagé de la Cité 5" in preview.text
    assert "Importer ces initiatives" in preview.text
    assert "point-virgule" in preview.text

    done = h.confirm(client, preview_url)
    assert done.status_code == 303
    assert done.headers["location"] == preview_url
    result = client.get(preview_url)
    assert "Import terminé" in result.text
    assert "Fête des voisins" in result.text

    found = _initiatives(database)
    garden, party, shelter = found["Jardin partagé de la Cité 5"], found["Fête des voisins"], found["Abri à vélos"]
    assert (garden.state, party.state, shelter.state) == ("evaluated", "abandoned", "declined")
    assert (garden.fiscal_year, party.fiscal_year, shelter.fiscal_year) == (2022, 2023, 2024)
    paris = ZoneInfo("Europe/Paris")
    assert garden.submitted_at is not None
    assert garden.submitted_at.astimezone(paris).date() == dt.date(2022, 1, 1)
    assert party.created_at.astimezone(paris).date() == dt.date(2023, 5, 14)
    assert party.project_type == "activity"
    assert garden.project_type == "physical"
    assert garden.neighbourhood_id == factory.neighbourhood_id(factory.territory(), "Cité 5")
    assert garden.theme_id is not None
    assert (garden.address, garden.latitude, garden.longitude) == ("Rue Hoche", Decimal("50.4578"), Decimal("2.7931"))
    # Nothing committed: the envelopes of today are not the past's.
    assert all(i.fund_id is None and i.committed_cents == 0 and i.committed_envelope_id is None for i in found.values())
    assert h.envelopes(database) == envelopes_before

    with read_only(database) as db:
        carriers = {b.name: b.kind for b in db.scalars(select(Beneficiary))}
        records = {r.reference for r in db.scalars(select(HistoricalRecord))}
    assert carriers == {"Les Jardiniers de la Cité": "informal_group", "Association Vélo pour tous": "association"}
    assert garden.beneficiary_id is not None
    assert party.beneficiary_id is None
    assert records == {"FF-2022-01", "FF-2023-02", "FF-2024-03"}

    lines = _lines(database, garden.id)
    assert lines["purchase"].value_cents == 120_050
    assert lines["purchase"].is_town_cash
    assert lines["donated_materials"].value_cents == 15_000
    hours = lines["volunteer_hours"]
    # 180 h at the volunteer-hour rate in force on 1 January 2022 (SMIC 10,57 €).
    assert (hours.quantity, hours.unit_value_cents, hours.value_cents) == (180 * 60, 1057, 180 * 1057)
    assert hours.rate_id is not None
    assert lines["partner_cash"].value_cents == 25_000
    assert {line.state for line in lines.values()} == {"secured"}
    # 40 h given in the residents' column, valued at the rate of 14 May 2023 (11,52 €).
    party_hours = _lines(database, party.id)["volunteer_hours"]
    assert (party_hours.quantity, party_hours.value_cents) == (40 * 60, 40 * 1152)
    assert {line.state for line in _lines(database, shelter.id).values()} == {"pledged"}
    with read_only(database) as db:
        realised = [(r.initiative_id, r.state) for r in db.scalars(select(RealisationLine))]
    # A project carried out: its lines are verified realisations; abandoned and declined ones have none.
    assert {initiative_id for initiative_id, _state in realised} == {garden.id}
    assert {state for _id, state in realised} == {"verified"}
    assert len(realised) == 4

    # Real initiatives: the full-text search (hence the catalogue) finds them.
    with read_only(database) as db:
        assert [f.title for f in search.similar(db, factory.territory(), "potagers jardin")] == [garden.title]
    after = h.counts(database)
    assert (after["Notification"], after["OutboxEmail"]) == (before["Notification"], before["OutboxEmail"])
    [entry] = h.audit(database, "history.import")
    assert entry.data["created"] == 3
    assert entry.data["already_imported"] == 0
    assert entry.data["rows"] == 3
    with read_only(database) as db:
        staged = db.scalars(select(HistoricalImport)).one()
        assert staged.imported_at is not None
        assert staged.content == ""


def test_imported_initiatives_carry_the_historical_badge(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    h.import_file(client, FILE)
    garden = _initiatives(database)["Jardin partagé de la Cité 5"]
    client.cookies.clear()
    public = client.get(f"/initiatives/{garden.public_id}")
    assert public.status_code == 200
    assert "projet historique (importé)" in public.text
    assert "FF-2022-01" not in public.text  # the file's reference is for the staff
    assert "Les Jardiniers de la Cité" in public.text
    # Declined, like any declined initiative, stays private.
    shelter = _initiatives(database)["Abri à vélos"]
    assert client.get(f"/initiatives/{shelter.public_id}").status_code == 404
    h.login_admin(client, factory, "admin2@loos.fr")
    assert "FF-2022-01" in client.get(f"/initiatives/{garden.public_id}").text

    other = h.counts(database)
    assert other["HistoricalRecord"] == 3
    with unit_of_work(database) as db:
        db.add(Initiative(territory_id=factory.territory(), state="evaluated", title="Vécu sur la plateforme"))
    lived = _initiatives(database)["Vécu sur la plateforme"]
    assert "projet historique (importé)" not in client.get(f"/initiatives/{lived.public_id}").text


# ---------------------------------------------------------------- idempotence


def test_importing_the_same_file_again_creates_nothing_and_says_so(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    h.import_file(client, FILE)
    before = h.counts(database)
    again = h.upload(client, FILE)
    assert again.status_code == 200
    assert "Ce fichier est déjà importé" in again.text
    assert "Importer ces initiatives" not in again.text
    assert h.counts(database) == before  # not even kept

    # The same lines re-typed with commas, without BOM, columns in another order: still nothing new.
    reordered = list(reversed(h.HEADER))
    same = h.csv_bytes([h.GARDEN, h.PARTY, h.SHELTER], separator=",", bom=False, header=reordered)
    assert "déjà importé" in h.upload(client, same).text
    assert h.counts(database) == before


def test_lines_without_reference_are_recognised_by_their_values(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    plain = [{**r, "référence": ""} for r in (h.GARDEN, h.PARTY)]
    h.import_file(client, h.csv_bytes(plain))
    assert h.counts(database)["Initiative"] == 2
    # Amounts written differently are the same values: nothing new. A new line is imported alone.
    rewritten = {**plain[0], "apport de la commune (€)": "1200.5 €"}
    third = {**h.SHELTER, "référence": ""}
    location = h.import_file(client, h.csv_bytes([rewritten, plain[1], third]))
    assert h.counts(database)["Initiative"] == 3
    assert "Abri à vélos" in client.get(location).text
    with read_only(database) as db:
        assert all(r.startswith("sha256:") for r in db.scalars(select(HistoricalRecord.reference)))
    [_first, second] = h.audit(database, "history.import")
    assert (second.data["created"], second.data["already_imported"]) == (1, 2)


def test_a_file_checked_twice_then_confirmed_twice_imports_once(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    first = h.upload(client, FILE).headers["location"]
    second = h.upload(client, FILE).headers["location"]
    assert first != second
    assert h.confirm(client, first).status_code == 303
    done = h.confirm(client, second)
    assert done.status_code == 303
    assert h.counts(database)["Initiative"] == 3
    assert "Aucune nouvelle initiative" in client.get(second).text
    # Confirming an import already done does nothing either.
    page = client.get("/admin/import")
    again = client.post(first.rstrip("/") + "/confirmer", data=form_fields(page.text))
    assert again.status_code == 409
    assert h.counts(database)["Initiative"] == 3


# ---------------------------------------------------------------- bad lines


def test_bad_lines_are_reported_with_their_line_numbers_and_nothing_is_written(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    before = h.counts(database)
    bad = [
        h.GARDEN,
        {**h.PARTY, "quartier": "Cité 99"},
        {**h.SHELTER, "apport de la commune (€)": "douze"},
        {**h.SHELTER, "titre": "", "état final": "peut-être", "référence": "X"},
        {**h.GARDEN, "référence": "FF-2023-02"},  # the reference of line 3
    ]
    response = h.upload(client, h.csv_bytes(bad))
    assert response.status_code == 422
    text = response.text
    assert "ligne 3 : quartier « Cité 99 » inconnu" in text
    assert "ligne 4 : « apport de la commune » : « douze » n&#39;est pas un montant en euros" in text
    assert "ligne 5 : titre manquant" in text
    assert "ligne 5 : état final « peut-être » inconnu" in text
    assert "ligne 6 : la référence « FF-2023-02 » est déjà celle de la ligne 3" in text
    assert "Rien n'a été importé" in text
    assert "Importer ces initiatives" not in text
    assert h.counts(database) == before


def test_when_only_the_last_line_is_bad_nothing_is_written(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    before = h.counts(database)
    rows = [{**h.GARDEN, "titre": f"Projet {n}", "référence": f"R{n}"} for n in range(60)]
    rows.append({**h.GARDEN, "référence": "last", "année": "1812"})
    response = h.upload(client, h.csv_bytes(rows))
    assert response.status_code == 422
    assert "ligne 62 : année « 1812 »" in response.text
    assert h.counts(database) == before


def test_a_line_that_went_bad_before_the_confirmation_stops_the_whole_import(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    location = h.upload(client, FILE).headers["location"]
    page = client.get(location)
    with unit_of_work(database) as db:
        # The neighbourhood of line 2 is deleted between the preview and the confirmation.
        db.execute(delete(Neighbourhood).where(Neighbourhood.name == "Cité 5"))
    before = h.counts(database)
    response = client.post(location + "/confirmer", data=form_fields(page.text))
    assert response.status_code == 422
    assert "ligne 2 : quartier « cité 5 » inconnu" in response.text
    assert h.counts(database) == before


def test_a_failure_in_the_middle_of_the_import_leaves_nothing_half_imported(
    client: TestClient, factory: Factory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.login_admin(client, factory)
    location = h.upload(client, FILE).headers["location"]
    import_id = location.rsplit("/", 1)[-1]
    before = h.counts(database)
    real = history._lines
    calls: list[int] = []

    def failing(*args: object, **kwargs: object) -> list[CommitmentLine]:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "_lines", failing)
    admin = Actor(
        person_id=None, account_id=None, territory_id=factory.territory(), label="t", roles=frozenset({"admin"})
    )
    territory = TerritoryContext.from_row(factory.territory_row())
    with pytest.raises(RuntimeError), unit_of_work(database) as db:
        history.confirm(db, admin, territory, import_id)
    assert len(calls) == 3
    assert h.counts(database) == before


# ---------------------------------------------------------------- file format


@pytest.mark.parametrize(
    ("separator", "bom", "newline"), [(";", True, "\r\n"), (",", False, "\n"), (";", False, "\n"), (",", True, "\r\n")]
)
def test_separators_byte_order_mark_and_line_endings(
    client: TestClient, factory: Factory, database: Database, separator: str, bom: bool, newline: str
) -> None:
    h.login_admin(client, factory)
    # A description holding both separators, quotes and a line break stays one cell.
    tricky = {**h.GARDEN, "description": 'Bacs; bancs, et "composteur"\nsur deux lignes'}
    h.import_file(client, h.csv_bytes([tricky, h.PARTY], separator=separator, bom=bom, newline=newline))
    garden = _initiatives(database)["Jardin partagé de la Cité 5"]
    assert garden.description == 'Bacs; bancs, et "composteur"\nsur deux lignes'
    assert h.counts(database)["Initiative"] == 2


def test_a_line_number_counts_the_lines_of_a_multiline_cell(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    rows = [{**h.GARDEN, "description": "un\ndeux\ntrois"}, {**h.PARTY, "quartier": "Nulle part"}]
    response = h.upload(client, h.csv_bytes(rows))
    assert "ligne 5 : quartier « Nulle part » inconnu" in response.text


def test_formula_like_cells_are_kept_as_plain_text(client: TestClient, factory: Factory, database: Database) -> None:
    h.login_admin(client, factory)
    formula = {
        **h.GARDEN,
        "titre": '=HYPERLINK("http://evil.example","clic")',
        "description": "@SUM(A1:A9)",
        "nom du collectif ou de l'association": "+cmd|' /C calc'!A0",
        "adresse": "-2+3",
    }
    h.import_file(client, h.csv_bytes([formula]))
    [initiative] = _initiatives(database).values()
    assert initiative.title == '=HYPERLINK("http://evil.example","clic")'
    assert initiative.description == "@SUM(A1:A9)"
    assert initiative.address == "-2+3"
    with read_only(database) as db:
        assert db.scalars(select(Beneficiary.name)).one() == "+cmd|' /C calc'!A0"
    # Written back into a CSV by Cailloux, such a cell can never run as a formula.
    written = csvfile.write([["=1+1", "+2", "-3", "@A1", "texte"]]).decode("utf-8")
    assert written == "\ufeff'=1+1;'+2;'-3;'@A1;texte\r\n"


def test_a_negative_amount_is_refused(client: TestClient, factory: Factory, database: Database) -> None:
    h.login_admin(client, factory)
    response = h.upload(client, h.csv_bytes([{**h.GARDEN, "apport de la commune (€)": "-100"}]))
    assert response.status_code == 422
    assert "ligne 2 : « apport de la commune » : un montant ne peut pas être négatif" in response.text


def test_encoding_errors_are_reported_with_their_line(client: TestClient, factory: Factory, database: Database) -> None:
    h.login_admin(client, factory)
    latin1 = ("titre;année;état final\r\nJardin;2022;réalisée\r\n").encode("latin-1")
    response = h.upload(client, latin1)
    assert response.status_code == 422
    assert "encodé en UTF-8 (ligne 1)" in response.text
    assert 'aria-invalid="true"' in response.text
    assert h.counts(database)["HistoricalImport"] == 0


def test_missing_columns_and_empty_files_are_refused(client: TestClient, factory: Factory) -> None:
    h.login_admin(client, factory)
    missing = h.upload(client, "titre;quartier\r\nJardin;Cité 5\r\n".encode())
    assert missing.status_code == 422
    assert "il manque : « état final », « année »" in missing.text
    assert "est vide" in h.upload(client, b"\xef\xbb\xbf \r\n").text
    assert "ne contient que la ligne des noms de colonnes" in h.upload(client, h.csv_bytes([])).text
    page = client.get("/admin/import")
    no_file = client.post("/admin/import", data=form_fields(page.text))
    assert no_file.status_code == 422
    assert "Choisissez le fichier CSV" in no_file.text


def test_size_and_row_limits(client: TestClient, factory: Factory, database: Database) -> None:
    h.login_admin(client, factory)
    too_many = h.csv_bytes([{"titre": f"P{n}", "année": "2022", "état final": "réalisée"} for n in range(5001)])
    assert len(too_many) < csvfile.MAX_FILE_BYTES
    response = h.upload(client, too_many)
    assert response.status_code == 422
    assert "plus de 5\u202f000 lignes" in response.text
    just_enough = h.csv_bytes([{"titre": f"P{n}", "année": "2022", "état final": "réalisée"} for n in range(5000)])
    assert h.upload(client, just_enough).status_code == 303

    padding = "x" * (csvfile.MAX_FILE_BYTES + 10 - len(FILE))
    too_big = FILE + padding.encode()
    over = h.upload(client, too_big)
    assert over.status_code == 422
    assert "dépasse 2 Mo" in over.text
    # Far beyond: refused while streaming, before the body is read.
    assert h.upload(client, FILE + b"x" * (3 * 1024 * 1024)).status_code == 413
    assert h.counts(database)["Initiative"] == 0


def test_hours_before_the_first_known_rate_are_valued_at_it_with_a_warning(
    client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    old = {**h.GARDEN, "année": "2008", "référence": "FF-2008"}
    response = h.upload(client, h.csv_bytes([old]))
    assert response.status_code == 303
    preview = client.get(response.headers["location"])
    assert "aucun taux de l&#39;heure de bénévolat n&#39;était en vigueur le 01/01/2008" in preview.text
    h.confirm(client, response.headers["location"])
    garden = _initiatives(database)["Jardin partagé de la Cité 5"]
    assert garden.fiscal_year == 2008
    assert _lines(database, garden.id)["volunteer_hours"].unit_value_cents == 1025  # the oldest rate, 2021


# ---------------------------------------------------------------- who may import


def test_only_the_territory_admins_import(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account("agent@loos.fr", roles=("agent", "executive")))
    assert client.get("/admin/import").status_code == 403
    assert client.get("/admin/import/modele.csv").status_code == 403
    page = client.get("/")
    refused = client.post("/admin/import", data=form_fields(page.text), files={"file": ("a.csv", FILE, "text/csv")})
    assert refused.status_code == 403
    client.cookies.clear()
    assert client.get("/admin/import").status_code in (303, 401)
    assert h.counts(database)["HistoricalImport"] == 0


def test_another_territory_never_sees_nor_confirms_an_import(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    h.login_admin(client, factory)
    location = h.upload(client, FILE).headers["location"]
    h.login_admin(other_client, factory, "admin@autre.fr", territory="autre")
    assert other_client.get(location).status_code == 404
    page = other_client.get("/admin/import")
    assert other_client.post(location + "/confirmer", data=form_fields(page.text)).status_code == 404
    assert h.counts(database)["Initiative"] == 0
    h.confirm(client, location)
    ours = _initiatives(database)
    assert {i.territory_id for i in ours.values()} == {factory.territory()}
    assert other_client.get(f"/initiatives/{ours['Jardin partagé de la Cité 5'].public_id}").status_code == 404
    # References are the town's own: the same file is new for another town (with its own neighbourhoods).
    theirs = h.upload(other_client, FILE)
    assert theirs.status_code == 303
    assert "Importer ces initiatives" in other_client.get(theirs.headers["location"]).text
