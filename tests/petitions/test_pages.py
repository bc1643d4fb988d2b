"""The petition pages over HTTP: the list and its filters (without and with HTMX), the petition's
page, the polled count fragment, the author's and the agents' forms, the answer pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db.base import utcnow
from app.db.session import read_only, unit_of_work
from app.petitions import counting
from app.petitions.models import Petition, PetitionState
from app.territories.models import Neighbourhood
from tests.catalogue.helpers import count_queries
from tests.factories import Factory, form_fields, post_form
from tests.petitions import helpers as h


@pytest.fixture
def world(factory: Factory, client: TestClient) -> dict[str, object]:
    tid = factory.territories["loos"]
    author_account = factory.account("auteur@example.org")
    agent_account = factory.account("agent@example.org", roles=("agent",))
    mayor_account = factory.account("maire@example.org", roles=("executive",))
    return {
        "tid": tid,
        "author_account": author_account,
        "agent_account": agent_account,
        "mayor_account": mayor_account,
        "author": h.viewer(author_account),
        "agent": h.viewer(agent_account, "agent"),
    }


def _open(factory: Factory, world: dict[str, object], **fields: object) -> str:
    return h.opened(factory.database, world["author"], world["agent"], world["tid"], **fields)  # type: ignore[arg-type]


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2 id="petition-[^"]+"><a href="[^"]+">([^<]+)</a>', html)


def test_list_shows_public_petitions_with_filters(
    client: TestClient, factory: Factory, world: dict[str, object]
) -> None:
    tid = world["tid"]
    with read_only(factory.database) as db:
        hood = db.scalars(
            select(Neighbourhood).where(Neighbourhood.territory_id == tid, Neighbourhood.name == "Centre")
        ).one()
        hood_id, hood_public = hood.id, hood.public_id
    lights = _open(factory, world, title="Éclairer le chemin du stade", neighbourhood_id=hood_id)
    crossing = _open(factory, world, title="Un passage piéton rue Pasteur")
    closed = _open(factory, world, title="Des bancs au parc")
    h.update(factory.database, closed, state=PetitionState.CLOSED, closed_at=utcnow())
    h.start(factory.database, world["author"], tid, title="Brouillon secret")  # type: ignore[arg-type]
    h.update(factory.database, crossing, answer_threshold_reached_at=utcnow())

    page = client.get("/petitions")
    assert page.status_code == 200
    assert sorted(_titles(page.text)) == sorted(
        ["Éclairer le chemin du stade", "Un passage piéton rue Pasteur", "Des bancs au parc"]
    )
    assert "Brouillon secret" not in page.text
    assert _titles(client.get("/petitions?tab=closed").text) == ["Des bancs au parc"]
    assert _titles(client.get("/petitions?tab=awaiting").text) == ["Un passage piéton rue Pasteur"]
    assert sorted(_titles(client.get("/petitions?tab=open").text)) == [
        "Un passage piéton rue Pasteur",
        "Éclairer le chemin du stade",
    ]
    assert _titles(client.get(f"/petitions?neighbourhood={hood_public}").text) == ["Éclairer le chemin du stade"]
    assert _titles(client.get("/petitions?q=eclair+STADE").text) == ["Éclairer le chemin du stade"]
    assert _titles(client.get("/petitions?tab=nonsense&page=abc").text)  # ignored, never an error
    fragment = client.get("/petitions?tab=closed", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'hx-swap-oob="innerHTML:#petition-count"' in fragment.text
    assert "HX-Request" in fragment.headers.get("vary", "")
    assert lights


def test_list_query_count_does_not_grow(client: TestClient, factory: Factory, world: dict[str, object]) -> None:
    made = [0]

    def queries_for(total: int) -> int:
        while made[0] < total:
            public_id = _open(factory, world, title=f"Pétition {made[0]}")
            h.add_signatures(factory.database, public_id, 2, prefix=f"p{made[0]}-")
            made[0] += 1
        with unit_of_work(factory.database) as db:
            counting.recount(db)
        client.get("/petitions")  # the territory's cache is warm
        with count_queries() as statements:
            response = client.get("/petitions")
        assert response.status_code == 200
        assert len(_titles(response.text)) == total
        return len(statements)

    few = queries_for(2)
    assert few == queries_for(9)
    assert few <= 6


def test_petition_page_count_and_fragment(
    client: TestClient, factory: Factory, world: dict[str, object], settings: Settings
) -> None:
    public_id = _open(factory, world, body="Le soir, **personne** ne voit les enfants.")
    h.update(factory.database, public_id, answer_threshold=3, council_threshold=6)
    h.add_signatures(factory.database, public_id, 2)
    with unit_of_work(factory.database) as db:
        counting.recount(db, settings=settings)
    page = client.get(f"/petitions/{public_id}")
    assert page.status_code == 200
    assert "<strong>personne</strong>" in page.text
    assert "Alice Martin" in page.text  # the author's public name
    assert 'hx-trigger="every 30s"' in page.text
    assert 'aria-live="polite"' in page.text
    assert 'value="66"' in page.text  # 2 of 3
    fragment = client.get(f"/petitions/{public_id}/compteur?status=none", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "hx-swap-oob" not in fragment.text  # nothing crossed: the announcement stays as it is
    paused = client.get(f"/petitions/{public_id}/compteur?pause=1&status=none", headers={"HX-Request": "true"})
    assert "every 30s" not in paused.text
    assert "Reprendre" in paused.text
    no_js = client.get(f"/petitions/{public_id}/compteur")
    assert "<html" in no_js.text  # never a bare fragment without HTMX
    h.add_signatures(factory.database, public_id, 1, prefix="x")
    with unit_of_work(factory.database) as db:
        counting.recount(db, settings=settings)
    crossed = client.get(f"/petitions/{public_id}/compteur?status=none", headers={"HX-Request": "true"})
    assert 'hx-swap-oob="innerHTML:#petition-status"' in crossed.text
    assert "seuil de réponse est atteint" in crossed.text
    again = client.get(f"/petitions/{public_id}/compteur?status=answer", headers={"HX-Request": "true"})
    assert "hx-swap-oob" not in again.text


def test_minor_author_is_not_named(client: TestClient, factory: Factory, world: dict[str, object]) -> None:
    from app.accounts.models import AgeBracket

    minor = h.viewer(
        factory.account("jeune@example.org", display_name="Léo Petit", age_bracket=AgeBracket.FROM_15_TO_17)
    )
    public_id = h.opened(factory.database, minor, world["agent"], world["tid"])  # type: ignore[arg-type]
    page = client.get(f"/petitions/{public_id}")
    assert "Léo Petit" not in page.text
    assert "jeune habitant" in page.text


def test_drafts_are_hidden_from_others(client: TestClient, factory: Factory, world: dict[str, object]) -> None:
    public_id = h.start(factory.database, world["author"], world["tid"])  # type: ignore[arg-type]
    assert client.get(f"/petitions/{public_id}").status_code == 404
    factory.login(client, world["agent_account"])  # type: ignore[arg-type]
    assert client.get(f"/petitions/{public_id}").status_code == 404


def test_author_starts_edits_and_submits_without_javascript(
    client: TestClient, factory: Factory, world: dict[str, object]
) -> None:
    _open(factory, world, title="Un passage piéton devant l'école")
    factory.login(client, world["author_account"])  # type: ignore[arg-type]
    created = post_form(
        client, "/petitions/nouvelle",
        data={"kind": "civic", "title": "Passage piéton école Jaurès", "request": "Peindre un passage.", "body": ""},
    )  # fmt: skip
    assert created.status_code == 303, created.text[:500]
    public_id = created.headers["location"].rsplit("/", 1)[1]
    submit_page = client.get(f"/petitions/{public_id}/deposer")
    assert "Un passage piéton devant l" in submit_page.text  # the similar open petition is shown first
    submitted = client.post(f"/petitions/{public_id}/deposer", data=form_fields(submit_page.text))
    assert submitted.status_code == 303
    with read_only(factory.database) as db:
        assert db.scalars(select(Petition.state).where(Petition.public_id == public_id)).one() == "submitted"
    bad = post_form(client, "/petitions/nouvelle", data={"kind": "legal", "title": "Consultation"})
    assert bad.status_code == 422
    assert "conseil municipal" in bad.text


def test_agents_queue_publish_and_reject(client: TestClient, factory: Factory, world: dict[str, object]) -> None:
    first = h.start(factory.database, world["author"], world["tid"], title="Première")  # type: ignore[arg-type]
    second = h.start(factory.database, world["author"], world["tid"], title="Seconde")  # type: ignore[arg-type]
    for public_id in (first, second):
        with unit_of_work(factory.database) as db:
            from app.petitions import service

            service.submit(db, world["author"], world["tid"], public_id)  # type: ignore[arg-type]
    factory.login(client, world["author_account"])  # type: ignore[arg-type]
    assert client.get("/petitions/a-moderer").status_code == 403
    factory.login(client, world["agent_account"])  # type: ignore[arg-type]
    queue = client.get("/petitions/a-moderer")
    assert queue.status_code == 200
    assert "Première" in queue.text
    assert "Seconde" in queue.text
    published = post_form(client, f"/petitions/{first}", f"/petitions/{first}/publier")
    assert published.status_code == 303
    no_reason = post_form(client, f"/petitions/{second}", f"/petitions/{second}/rejeter", data={"reason": ""})
    assert no_reason.status_code == 422
    rejected = post_form(client, f"/petitions/{second}", f"/petitions/{second}/rejeter", data={"reason": "duplicate"})
    assert rejected.status_code == 303
    assert h.petition(factory.database, first).state == "open"
    assert h.petition(factory.database, second).state == "rejected"
    h.update(factory.database, first, answer_threshold_reached_at=utcnow(), answer_due_on=dt.date(2020, 1, 1))
    due = client.get("/petitions/a-moderer")
    assert f"/petitions/{first}/reponse" in due.text
    assert "en retard" in due.text
    factory.login(client, world["author_account"])  # type: ignore[arg-type]
    assert "Une pétition ouverte demande déjà" in client.get(f"/petitions/{second}").text
    again = post_form(client, f"/petitions/{first}", f"/petitions/{first}/deposer")
    assert again.status_code in (404, 409)


def test_answer_pages(client: TestClient, factory: Factory, world: dict[str, object]) -> None:
    public_id = _open(factory, world)
    factory.login(client, world["agent_account"])  # type: ignore[arg-type]
    saved = post_form(
        client, f"/petitions/{public_id}/reponse",
        data={"outcome": "transmitted", "text": "Nous avons saisi l'agglomération.", "authority": "CALL", "transmitted_on": "2026-11-20"},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text[:300]
    assert "Publier la réponse officielle" not in client.get(f"/petitions/{public_id}/reponse").text
    assert "projet de réponse" in client.get(f"/petitions/{public_id}").text
    factory.login(client, world["mayor_account"])  # type: ignore[arg-type]
    published = post_form(client, f"/petitions/{public_id}/reponse", f"/petitions/{public_id}/reponse/publier")
    assert published.status_code == 303
    factory.login(client, world["agent_account"])  # type: ignore[arg-type]
    reply = post_form(
        client, f"/petitions/{public_id}/reponse", f"/petitions/{public_id}/reponse/suite",
        data={"reply_on": "2026-12-01", "text": "L'agglomération accepte."},
    )  # fmt: skip
    assert reply.status_code == 303, reply.text[:300]
    client.cookies.clear()
    public = client.get(f"/petitions/{public_id}")
    assert "Transmise à l&#39;autorité compétente" in public.text or "Transmise à l'autorité compétente" in public.text
    assert "L&#39;agglomération accepte." in public.text or "L'agglomération accepte." in public.text


def test_charter_page_and_nav(client: TestClient) -> None:
    charter = client.get("/petitions/charte")
    assert charter.status_code == 200
    assert "compétences de la commune" in charter.text
    assert 'href="/petitions"' in client.get("/").text


def test_declined_initiative_page_offers_a_petition(
    client: TestClient, factory: Factory, world: dict[str, object]
) -> None:
    from tests.initiatives import helpers as ih

    initiative_id = ih.propose(factory.database, world["author"], world["tid"], description="Un jardin.")  # type: ignore[arg-type]
    ih.set_state(factory.database, initiative_id, "declined")
    factory.login(client, world["author_account"])  # type: ignore[arg-type]
    page = client.get(f"/initiatives/{initiative_id}")
    assert f"/initiatives/{initiative_id}/en-petition" in page.text
    made = post_form(client, f"/initiatives/{initiative_id}", f"/initiatives/{initiative_id}/en-petition")
    assert made.status_code == 303
    assert "/modifier" in made.headers["location"]


def test_conversion_from_the_page(client: TestClient, factory: Factory, world: dict[str, object]) -> None:
    public_id = _open(factory, world)
    factory.login(client, world["author_account"])  # type: ignore[arg-type]
    converted = post_form(client, f"/petitions/{public_id}", f"/petitions/{public_id}/convertir")
    assert converted.status_code == 303
    assert converted.headers["location"].startswith("/initiatives/")
    page = client.get(f"/petitions/{public_id}")
    assert "est devenue une initiative" in page.text
    assert dt.date.today()
