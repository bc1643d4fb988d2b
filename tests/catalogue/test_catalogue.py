"""The public catalogue: who sees what, filters, French full-text search, pagination, HTMX, cards."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.initiatives.models import InitiativeState
from tests.catalogue import helpers as c
from tests.factories import Factory
from tests.review.conftest import YEAR, World

S = InitiativeState
HX = {"HX-Request": "true"}
CARD_RE = re.compile(r'<article class="catalogue-card" aria-labelledby="card-([^"]+)">')


def listed(response: object) -> list[str]:
    """The public ids of the cards on a page, in order."""
    text = response.text  # type: ignore[attr-defined]
    return CARD_RE.findall(text)


def test_the_public_sees_public_initiatives_of_its_town_only(
    client: TestClient, factory: Factory, world: World
) -> None:
    approved = world.initiative(S.APPROVED, title="Bancs de la place")
    in_progress = world.initiative(S.IN_PROGRESS, title="Fresque du préau")
    evaluated = world.initiative(S.EVALUATED, title="Verger partagé")
    shown_declined = world.initiative(S.DECLINED, title="Kiosque refusé mais montré")
    c.update(world, shown_declined.id, public_despite_outcome=True)
    draft = world.initiative(S.DRAFT, title="Brouillon secret")
    submitted = world.initiative(S.SUBMITTED, title="Demande en attente")
    declined = world.initiative(S.DECLINED, title="Refus discret")
    withdrawn = world.initiative(S.WITHDRAWN, title="Retrait discret")
    elsewhere_tid = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    foreign = world.initiative(S.APPROVED, title="Initiative d'Autreville", territory_id=elsewhere_tid, fund_id=None)

    page = client.get("/initiatives")
    assert page.status_code == 200
    assert set(listed(page)) == {
        approved.public_id,
        in_progress.public_id,
        evaluated.public_id,
        shown_declined.public_id,
    }
    for hidden in (draft, submitted, declined, withdrawn, foreign):
        assert hidden.title not in page.text
    assert "4 initiatives" in page.text
    # An anonymous list is the same for everyone: no cookie, cacheable.
    assert "set-cookie" not in page.headers

    # The promoter also sees the ones they carry; the town's staff see every submitted one.
    factory.login(client, world.promoter)
    mine = set(listed(client.get("/initiatives")))
    assert {submitted.public_id, declined.public_id, withdrawn.public_id} <= mine
    assert draft.public_id not in mine
    assert foreign.public_id not in mine
    factory.login(client, world.agent)
    staff = set(listed(client.get("/initiatives")))
    assert submitted.public_id in staff
    assert declined.public_id in staff
    assert draft.public_id not in staff
    assert foreign.public_id not in staff


def test_filters_by_state_group_neighbourhood_theme_year_and_type(
    client: TestClient, factory: Factory, world: World
) -> None:
    cite = factory.neighbourhood_id(world.territory_id, "Cité 5")
    centre = factory.neighbourhood_id(world.territory_id, "Centre")
    nature_id, nature = c.theme(world, "Nature en ville")
    garden = world.initiative(S.APPROVED, title="Jardin de la cité", neighbourhood_id=cite, theme_id=nature_id)
    mural = world.initiative(S.IN_PROGRESS, title="Fresque du centre", neighbourhood_id=centre)
    party = world.initiative(S.DELIVERED, title="Fête des voisins", neighbourhood_id=centre)
    c.update(world, party.id, project_type="activity", fiscal_year=YEAR - 3)

    def ids(**params: str) -> set[str]:
        response = client.get("/initiatives", params=params)
        assert response.status_code == 200
        return set(listed(response))

    assert ids(state="approved") == {garden.public_id}
    assert ids(state="in_progress") == {mural.public_id}
    assert ids(state="done") == {party.public_id}
    assert ids(state="review") == set()
    page = client.get("/initiatives")
    hood_id = re.search(r'<option value="([^"]+)">Cité 5</option>', page.text)
    assert hood_id is not None
    assert ids(neighbourhood=hood_id.group(1)) == {garden.public_id}
    assert ids(theme=nature) == {garden.public_id}
    assert ids(year=str(YEAR - 3)) == {party.public_id}
    assert ids(year=str(YEAR)) == {garden.public_id, mural.public_id}
    assert ids(type="activity") == {party.public_id}
    assert ids(type="physical", state="in_progress") == {mural.public_id}
    # The year filter offers the years that have initiatives, newest first.
    assert page.text.index(f'<option value="{YEAR}">') < page.text.index(f'<option value="{YEAR - 3}">')


def test_values_that_make_no_sense_are_ignored_and_echoed_safely(client: TestClient, world: World) -> None:
    shown = world.initiative(S.APPROVED, title="Bancs de la place")
    for params in (
        {"state": "drop table"},
        {"year": "abc"},
        {"year": "99999"},
        {"type": "rocket"},
        {"page": "-3"},
        {"page": "x"},
        {"neighbourhood": "<script>alert(1)</script>"},
    ):
        response = client.get("/initiatives", params=params)
        assert response.status_code == 200, params
        assert listed(response) == [shown.public_id], params
    response = client.get("/initiatives", params={"q": '"><script>alert(1)</script>'})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text or "&quot;&gt;&lt;script&gt;" in response.text


def test_french_full_text_search_folds_accents_and_needs_every_word(client: TestClient, world: World) -> None:
    school = world.initiative(S.APPROVED, title="Fresque de l'école Basly")
    garden = world.initiative(S.IN_PROGRESS, title="Jardins partagés")
    c.update(world, garden.id, description="Des bacs de légumes au pied des immeubles de la cité.")
    world.initiative(S.SUBMITTED, title="Fresque cachée")  # not public: never found by the public

    def found(q: str) -> list[str]:
        response = client.get("/initiatives", params={"q": q})
        assert response.status_code == 200
        return listed(response)

    assert found("ecole") == [school.public_id]
    assert found("ÉCOLE fresque") == [school.public_id]
    assert found("fresque légumes") == []  # every word must match
    assert found("legumes") == [garden.public_id]  # the description counts, accents folded
    assert found("jardin") == [garden.public_id]  # a word's beginning is enough
    assert "Aucune initiative ne correspond à votre recherche" in client.get("/initiatives?q=zeppelin").text
    # Search syntax is plain data.
    for q in ('" OR 1=1 --', "NEAR(fresque", "fresque*", "'; DROP TABLE initiative; --", "%_", "\x00fresque"):
        response = client.get("/initiatives", params={"q": q})
        assert response.status_code == 200, q
    # Only short or frequent words: nothing to search, the whole list.
    assert set(found("de la")) == {school.public_id, garden.public_id}


def test_pages_of_twenty(client: TestClient, world: World) -> None:
    made = [world.initiative(S.APPROVED, title=f"Initiative numéro {n}") for n in range(23)]
    first = client.get("/initiatives")
    assert len(listed(first)) == 20
    assert "Page 1 sur 2" in first.text
    assert 'href="/initiatives?page=2" rel="next"' in first.text
    second = client.get("/initiatives", params={"page": "2"})
    assert len(listed(second)) == 3
    assert set(listed(first)) | set(listed(second)) == {i.public_id for i in made}
    assert 'href="/initiatives" rel="prev"' in second.text
    beyond = client.get("/initiatives", params={"page": "40"})
    assert listed(beyond) == listed(second)  # past the end: the last page
    filtered = client.get("/initiatives", params={"q": "initiative", "page": "2"})
    assert 'href="/initiatives?q=initiative" rel="prev"' in filtered.text


def test_htmx_gets_the_results_and_the_count(client: TestClient, world: World) -> None:
    world.initiative(S.APPROVED, title="Bancs de la place")
    world.initiative(S.IN_PROGRESS, title="Fresque du préau")
    page = client.get("/initiatives")
    assert 'hx-get="/initiatives"' in page.text
    assert 'hx-push-url="true"' in page.text
    assert 'id="catalogue-count" role="status" aria-live="polite"' in page.text
    fragment = client.get("/initiatives", params={"state": "approved"}, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Bancs de la place" in fragment.text
    assert "Fresque du préau" not in fragment.text
    assert 'hx-swap-oob="innerHTML:#catalogue-count">1 initiative</span>' in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    # The pushed URL renders the whole page.
    assert "<html" in client.get("/initiatives", params={"state": "approved"}).text


def test_cards_show_the_sides_totals_and_the_first_photo(client: TestClient, world: World) -> None:
    with_photo = c.with_photo(world, S.APPROVED, title="Bacs du quartier", alt="Trois bacs en bois")
    world.initiative(S.APPROVED, title="Sans photo", residents_cents=250_000, town_cash_cents=120_050)
    page = client.get("/initiatives")
    text = page.text
    photo = c.photo_of(world, with_photo.id)
    assert (
        f'src="/initiatives/{with_photo.public_id}/photos/{photo.public_id}/miniature" alt="Trois bacs en bois"' in text
    )
    assert "2\u202f500,00\xa0€" in text  # residents' side
    assert "1\u202f200,50\xa0€" in text  # town's side
    assert "Paula" not in text  # no personal data on the cards
    # The thumbnail is served to the public.
    assert client.get(f"/initiatives/{with_photo.public_id}/photos/{photo.public_id}/miniature").status_code == 200


def test_a_page_costs_the_same_queries_whatever_its_length(client: TestClient, world: World) -> None:
    client.get("/initiatives")  # warm caches (territory, translations)
    made = [0]

    def queries_for(total: int) -> int:
        while made[0] < total:
            if made[0] % 2:
                c.with_photo(world, S.APPROVED, title=f"Avec photo {made[0]}")
            else:
                world.initiative(S.IN_PROGRESS, title=f"Sans photo {made[0]}")
            made[0] += 1
        with c.count_queries() as statements:
            response = client.get("/initiatives")
        assert response.status_code == 200
        assert len(listed(response)) == total
        return len(statements)

    few = queries_for(3)
    assert few == queries_for(14)
    assert few <= 8


def test_linked_from_the_header_and_the_home_page(client: TestClient, world: World) -> None:
    home = client.get("/")
    assert home.text.count('href="/initiatives"') >= 2
    assert 'href="/initiatives/carte"' in home.text
    english = client.get("/en/initiatives")
    assert english.status_code == 200
