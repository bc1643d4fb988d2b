"""The public side in a real browser: a visitor browses the catalogue, searches and filters with
HTMX, opens the map (its list first, Leaflet drawing the markers, no tile ever fetched), opens an
initiative and reports it; an agent hides it; it is gone for the public. Every page is axe-checked."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, Route, expect

from app.core.actor import Actor
from app.db.session import Database
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.factories import Factory
from tests.initiatives import helpers as h

pytestmark = pytest.mark.e2e

MURAL = "Fresque de l'école Basly"
GARDEN = "Jardin partagé de la cité"


def _initiatives(factory: Factory, database: Database, territory_id: int) -> str:
    promoter = factory.account("paula@example.org", display_name="Paula Porteuse")
    who = Actor(promoter.person_id, promoter.id, territory_id, "test")
    mural = h.propose(database, who, territory_id, title=MURAL, description="Une fresque peinte avec les élèves.")
    h.set_state(database, mural, "in_progress", latitude=Decimal("50.457800"), longitude=Decimal("2.791500"))
    garden = h.propose(database, who, territory_id, title=GARDEN, description="Des bacs de légumes.")
    h.set_state(database, garden, "approved", latitude=Decimal("50.459000"), longitude=Decimal("2.785000"))
    h.set_state(database, h.propose(database, who, territory_id, title="Brouillon secret"), "draft")
    return mural


def _no_tiles(route: Route) -> None:
    """Only the test server answers: tile servers (and anything else outside) are never reached."""
    if re.match(r"^https?://[a-z0-9.-]*localhost(:\d+)?/", route.request.url):
        route.continue_()
    else:
        route.abort()


def test_browse_filter_map_report_then_an_agent_hides(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, database: Database, axe: AxeAudit
) -> None:
    off_loop(factory.account, "agent@example.org", display_name="Annie Agent", roles=("agent",))
    mural = off_loop(_initiatives, factory, database, towns["loos"])
    page.context.route("**/*", _no_tiles)

    # The catalogue, from the header.
    page.goto(live_server.url("/"))
    axe.check(page)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Les initiatives").click()
    page.wait_for_url(live_server.url("/initiatives"))
    axe.check(page)
    expect(page.locator("#catalogue-count")).to_have_text("2 initiatives")
    expect(page.get_by_role("heading", name=MURAL)).to_be_visible()
    expect(page.get_by_text("Brouillon secret")).to_have_count(0)

    # Searching and filtering swap the results only, and give them an address.
    page.get_by_label("Rechercher", exact=True).fill("ecole")
    page.get_by_role("button", name="Afficher les initiatives").click()
    expect(page.locator("#catalogue-count")).to_have_text("1 initiative")
    expect(page.get_by_role("heading", name=GARDEN)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/initiatives\?q=ecole"))
    axe.check(page, "after an HTMX search")
    page.get_by_label("Rechercher", exact=True).fill("")
    page.get_by_label("Avancement").select_option(label="acceptées")
    expect(page.locator("#catalogue-count")).to_have_text("1 initiative")
    expect(page.get_by_role("heading", name=GARDEN)).to_be_visible()
    expect(page.get_by_role("heading", name=MURAL)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"state=approved"))
    axe.check(page, "after an HTMX filter")

    # The map: the list first, then Leaflet's markers.
    page.goto(live_server.url("/initiatives"))
    axe.check(page)
    page.get_by_role("link", name="Voir ces initiatives sur une carte").click()
    page.wait_for_url(live_server.url("/initiatives/carte"))
    expect(page.get_by_role("heading", name="2 initiatives placées sur la carte")).to_be_visible()
    expect(page.get_by_role("heading", name=MURAL)).to_be_visible()
    expect(page.locator("#map-section")).to_be_visible()
    expect(page.locator(".leaflet-marker-icon")).to_have_count(2)
    expect(page.get_by_role("region", name=re.compile("^Carte des initiatives"))).to_be_visible()
    page.get_by_role("button", name=MURAL).click()
    expect(page.locator(".leaflet-popup").get_by_role("link", name=MURAL)).to_be_visible()
    axe.check(page, "map with a popup open")

    # The visitor opens the initiative and reports it.
    page.goto(live_server.url(f"/initiatives/{mural}"))
    axe.check(page)
    page.get_by_role("link", name="Signaler ce contenu").click()
    page.wait_for_url(live_server.url(f"/signaler/initiative/{mural}"))
    axe.check(page)
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.locator(".form-errors")).to_be_visible()
    axe.check(page, "report without a reason")
    page.get_by_label("Données personnelles (le nom, l'adresse ou le visage de quelqu'un)").check()
    page.get_by_label("Précisez si besoin (obligatoire pour « Autre raison »)").fill("Le nom d'un enfant.")
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.wait_for_url(live_server.url(f"/initiatives/{mural}"))
    expect(page.locator("#toasts")).to_contain_text("Votre signalement est transmis à la commune")
    axe.check(page, "after reporting")

    # An agent hides it, with a reason.
    agent = axe.new_page()
    log_in(agent, axe, live_server, "agent@example.org")
    agent.get_by_role("link", name="Modération").click()
    agent.wait_for_url(live_server.url("/moderation"))
    axe.check(agent)
    agent.get_by_role("link", name=f"« {MURAL} »").click()
    agent.wait_for_url(live_server.url(f"/moderation/initiative/{mural}"))
    expect(agent.get_by_text("Le nom d'un enfant.")).to_be_visible()
    axe.check(agent)
    agent.get_by_label("Motif du masquage").fill("Le texte nomme un enfant.")
    agent.get_by_role("button", name="Masquer ce contenu").click()
    agent.wait_for_url(live_server.url(f"/moderation/initiative/{mural}"))
    expect(agent.locator("#toasts")).to_contain_text("Le contenu est masqué au public.")
    axe.check(agent, "hidden")

    # Gone for the public.
    page.goto(live_server.url("/initiatives"))
    axe.check(page, "after hiding")
    expect(page.locator("#catalogue-count")).to_have_text("1 initiative")
    expect(page.get_by_role("heading", name=MURAL)).to_have_count(0)
    response = page.goto(live_server.url(f"/initiatives/{mural}"))
    assert response is not None
    assert response.status == 404
    axe.check(page, "hidden initiative")
