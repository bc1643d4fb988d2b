"""Similar initiatives through full-text search (accents, case, hostile input) and "Mes initiatives"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.accounts.models import Account
from app.db.session import Database, read_only
from app.initiatives.search import query_words, similar
from tests.factories import Factory
from tests.initiatives import helpers as h


@pytest.fixture
def alice(factory: Factory) -> Account:
    return factory.account()


@pytest.fixture
def fresque(factory: Factory, database: Database, alice: Account) -> dict[str, str]:
    tid = factory.territory()
    who = h.actor(alice)
    ids = {
        "fresque": h.propose(
            database, who, tid, title="Fresque de la mémoire minière", description="Peindre le mur de l'école."
        ),
        "draft": h.propose(database, who, tid, title="Fresque privée", description="Un brouillon."),
        "jardin": h.propose(database, who, tid, title="Jardin partagé", description="Des légumes et des fleurs."),
    }
    h.set_state(database, ids["fresque"], "approved")
    h.set_state(database, ids["jardin"], "convention_signed")
    return ids


def _titles(database: Database, territory_id: int, text: str, **kwargs: object) -> list[str]:
    with read_only(database) as db:
        return [s.title for s in similar(db, territory_id, text, **kwargs)]  # type: ignore[arg-type]


def test_accents_and_case_are_folded(factory: Factory, database: Database, fresque: dict[str, str]) -> None:
    tid = factory.territory()
    assert _titles(database, tid, "fresque memoire") == ["Fresque de la mémoire minière"]
    assert _titles(database, tid, "MÉMOIRE") == ["Fresque de la mémoire minière"]
    assert _titles(database, tid, "miniere") == ["Fresque de la mémoire minière"]
    assert _titles(database, tid, "ecole") == ["Fresque de la mémoire minière"]  # the description counts
    assert _titles(database, tid, "légumes") == ["Jardin partagé"]
    assert _titles(database, tid, "piscine") == []


def test_drafts_are_only_found_by_their_promoters(
    factory: Factory, database: Database, fresque: dict[str, str], alice: Account
) -> None:
    tid = factory.territory()
    assert "Fresque privée" not in _titles(database, tid, "fresque")
    bob = h.actor(factory.account("bob@example.org", display_name="Bob"))
    assert "Fresque privée" not in _titles(database, tid, "fresque", viewer=bob)
    assert "Fresque privée" in _titles(database, tid, "fresque", viewer=h.actor(alice))
    excluded = h.initiative(database, fresque["fresque"]).id
    assert _titles(database, tid, "fresque memoire", exclude_id=excluded) == []


def test_other_territories_are_not_searched(
    factory: Factory, database: Database, fresque: dict[str, str], other_client: TestClient
) -> None:
    assert _titles(database, factory.territories["autre"], "fresque memoire") == []


@pytest.mark.parametrize("hostile", ['" OR 1=1 --', "*", '"', "NEAR(a b", "fresque AND", "a'b; DROP TABLE x", "^", ""])
def test_hostile_queries_are_data(factory: Factory, database: Database, fresque: dict[str, str], hostile: str) -> None:
    tid = factory.territory()
    assert isinstance(_titles(database, tid, hostile), list)
    assert "Fresque de la mémoire minière" in _titles(database, tid, hostile + " fresque")


def test_query_words() -> None:
    assert query_words("La fresque de la Mémoire, la fresque !") == ["fresque", "mémoire"]
    assert len(query_words(" ".join(f"mot{i}" for i in range(50)))) == 12


def test_similar_endpoint_returns_a_live_fragment(
    client: TestClient, factory: Factory, fresque: dict[str, str]
) -> None:
    response = client.get("/initiatives/similaires", params={"q": "FRESQUE memoire"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Fresque de la mémoire minière" in response.text
    assert "Fresque privée" not in response.text
    assert "<html" not in response.text
    factory.login(client, factory.account("bob@example.org", display_name="Bob"))
    form = client.get("/initiatives/proposer").text
    assert '<div id="similar-initiatives" aria-live="polite">' in form
    assert 'hx-get="/initiatives/similaires"' in form
    hostile = client.get("/initiatives/similaires", params={"title": '" OR 1=1 --'})
    assert hostile.status_code == 200


def test_submit_page_shows_similar_initiatives(
    client: TestClient, factory: Factory, database: Database, fresque: dict[str, str]
) -> None:
    alice = factory.account("carole@example.org", display_name="Carole")
    public_id = h.propose(database, h.actor(alice), factory.territory(), title="Une fresque sur la mémoire du quartier")
    factory.login(client, alice)
    page = client.get(f"/initiatives/{public_id}/deposer")
    assert page.status_code == 200
    assert "Fresque de la mémoire minière" in page.text
    assert "Ce qui se passe ensuite" in page.text


@contextmanager
def _count_statements(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engines = {id(e): e for e in (database.write_engine, database.read_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listener)


def test_my_initiatives_uses_a_constant_number_of_queries(
    client: TestClient, factory: Factory, database: Database
) -> None:
    alice = factory.account()
    tid = factory.territory()
    factory.login(client, alice)
    empty = client.get("/mes-initiatives")
    assert empty.status_code == 200
    assert "Vous ne portez pas encore d'initiative." in empty.text
    assert "Proposer une initiative" in empty.text

    states = ["draft", "submitted", "approved"]
    for n in range(3):
        public_id = h.propose(database, h.actor(alice), tid, title=f"Projet {n}")
        h.set_state(database, public_id, states[n % 3])
    client.get("/mes-initiatives")  # warm caches (territory, translations)
    with _count_statements(database) as few:
        page = client.get("/mes-initiatives")
    assert page.status_code == 200
    assert "Projet 2" in page.text

    for n in range(3, 12):
        public_id = h.propose(database, h.actor(alice), tid, title=f"Projet {n}")
        h.set_state(database, public_id, states[n % 3])
    with _count_statements(database) as many:
        page = client.get("/mes-initiatives")
    assert page.status_code == 200
    assert "Projet 11" in page.text
    assert "Brouillon" in page.text
    assert "Acceptée" in page.text
    assert len(many) == len(few), (few, many)
