"""Petitions in the French full-text search (runs on SQLite, and on PostgreSQL when
CAILLOUX_TEST_DATABASE_URL is set): accents and case folded, only what the viewer may open."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.db.session import read_only, unit_of_work
from app.petitions import search, service
from app.petitions.forms import PetitionInput
from tests.factories import Factory
from tests.petitions import helpers as h


def test_similar_petitions_fold_accents_and_respect_visibility(factory: Factory) -> None:
    tid = factory.territory()
    author = h.viewer(factory.account("auteur@example.org"))
    agent = h.viewer(factory.account("agent@example.org", roles=("agent",)), "agent")
    other = h.viewer(factory.account("autre@example.org", display_name="Bob"))
    public = h.opened(
        factory.database, author, agent, tid, title="Éclairage du chemin des écoliers", request="Des lampadaires."
    )
    draft = h.start(factory.database, author, tid, title="Éclairage du parking", request="Des lampes.")
    h.opened(factory.database, author, agent, tid, title="Des bancs au parc", request="S'asseoir.")
    with read_only(factory.database) as db:
        found = [s.public_id for s in search.similar(db, tid, "ECLAIRAGE", viewer=other)]
        assert found == [public]
        mine = {s.public_id for s in search.similar(db, tid, "eclairage ecoliers", viewer=author)}
        assert mine == {public, draft}
        assert (
            search.similar(db, tid, "éclairage", viewer=agent, exclude_id=h.petition(factory.database, public).id) == []
        )
        assert search.similar(db, tid, "les des une", viewer=agent) == []
        assert search.similar(db, tid, '"*) OR NEAR(', viewer=agent) == []  # FTS syntax is plain data


def test_search_follows_edits(factory: Factory) -> None:
    tid = factory.territory()
    author = h.viewer(factory.account("auteur@example.org"))
    public_id = h.start(factory.database, author, tid, title="Composteur collectif")
    with unit_of_work(factory.database) as db:
        service.update_draft(
            db, author, tid, public_id, PetitionInput(title="Ramassage des encombrants", request="Un jour fixe.")
        )
    with read_only(factory.database) as db:
        assert search.similar(db, tid, "composteur", viewer=author) == []
        assert [s.public_id for s in search.similar(db, tid, "encombrant", viewer=author)] == [public_id]


def test_form_shows_similar_petitions_and_initiatives(client: TestClient, factory: Factory) -> None:
    from tests.initiatives import helpers as ih

    tid = factory.territories["loos"]
    author_account = factory.account("auteur@example.org")
    author = h.viewer(author_account)
    agent = h.viewer(factory.account("agent@example.org", roles=("agent",)), "agent")
    h.opened(factory.database, author, agent, tid, title="Jardin partagé rue Pasteur")
    initiative_id = ih.propose(factory.database, author, tid, title="Un jardin au pied des immeubles")
    ih.set_state(factory.database, initiative_id, "approved")
    factory.login(client, author_account)
    page = client.get("/petitions/similaires?title=&request=jardin", headers={"HX-Request": "true"})
    assert "Jardin partagé rue Pasteur" in page.text
    assert "Un jardin au pied des immeubles" in page.text
