"""Walks the pages reachable from the footer, « Mon espace » and the staff menus, and checks
each one with axe-core: a new page linked from these menus is audited without a new test."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.factories import Factory

pytestmark = pytest.mark.e2e

MAX_PAGES = 40
# Records appear in addresses by their public id (secrets.token_urlsafe(16): 22 characters).
PUBLIC_ID_RE = re.compile(r"/[A-Za-z0-9_-]{20,}(?=/|$)")


def links_in(page: Page, scope: str, prefixes: tuple[str, ...]) -> list[str]:
    """Same-site page addresses linked from ``scope`` whose path starts with one of ``prefixes``."""
    selector = ", ".join(f"{part.strip()} a[href]" for part in scope.split(","))
    hrefs: list[str] = page.locator(selector).evaluate_all("links => links.map(a => a.href)")
    origin = urlsplit(page.url).netloc
    found: list[str] = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc != origin or parts.path.endswith(".json") or not parts.path.startswith(prefixes):
            continue
        address = href.split("#", 1)[0]
        if address not in found:
            found.append(address)
    return found


def shape(address: str) -> str:
    """The page an address shows, whatever the record: one edit form of a list is enough."""
    return PUBLIC_ID_RE.sub("/{id}", address.split("?", 1)[0])


def walk(page: Page, axe: AxeAudit, start: str, scope: str, prefixes: tuple[str, ...]) -> list[str]:
    """Visits ``start`` then, breadth first, the pages it links to under ``prefixes`` (one
    address per kind of page)."""
    queue, seen, shapes = [start], [start], {shape(start)}
    while queue:
        address = queue.pop(0)
        response = page.goto(address)
        assert response is not None
        assert response.status == 200, f"{address} answered {response.status}"
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        axe.check(page)
        for link in links_in(page, scope, prefixes):
            if shape(link) not in shapes and len(seen) < MAX_PAGES:
                shapes.add(shape(link))
                seen.append(link)
                queue.append(link)
    return seen


@pytest.mark.smoke
def test_legal_pages_from_the_footer(page: Page, live_server: LiveServer, towns: dict[str, int], axe: AxeAudit) -> None:
    page.goto(live_server.url("/"))
    axe.check(page)
    footer_links = links_in(page, "footer", ("/",))
    assert len(footer_links) >= 3, footer_links
    for address in footer_links:
        response = page.goto(address)
        assert response is not None
        assert response.status == 200, f"{address} answered {response.status}"
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        axe.check(page)
    page.goto(live_server.url("/en/accessibilite"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    axe.check(page)


def test_my_space_pages(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit
) -> None:
    off_loop(factory.account, "dominique@example.org")
    log_in(page, axe, live_server, "dominique@example.org")
    seen = walk(page, axe, live_server.url("/mon-espace"), "main", ("/mon-espace",))
    assert live_server.url("/mon-espace/sessions") in seen


def test_staff_pages(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit
) -> None:
    off_loop(factory.account, "agent.admin@example.org", roles=("admin", "agent"))
    log_in(page, axe, live_server, "agent.admin@example.org")
    staff = ("/admin", "/agents")
    start = page.locator("header a[href^='/admin']").first.get_attribute("href")
    assert start, "the header links to the administration"
    seen = walk(page, axe, live_server.url(start), "main, header", staff)
    assert any("/agents" in address for address in seen), seen
    assert len(seen) > 3, seen


def test_petition_pages(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit
) -> None:
    """The petitions' public and staff pages: list, charter, a petition with its count, the agents'
    queue, a submitted petition's moderation box and the answer page."""
    from app.db.session import unit_of_work
    from app.petitions import counting
    from app.petitions import service as petitions
    from tests.petitions import helpers as ph

    tid = towns["loos"]
    author = ph.viewer(off_loop(factory.account, "auteur.petition@example.org"))
    agent_account = off_loop(factory.account, "agent.petition@example.org", roles=("agent", "executive"))
    agent = ph.viewer(agent_account, "agent", "executive")
    opened = off_loop(ph.opened, factory.database, author, agent, tid, title="Éclairer le chemin du stade")
    off_loop(ph.add_signatures, factory.database, opened, 12)
    submitted = off_loop(ph.start, factory.database, author, tid, title="Des bancs au parc")

    def submit_and_count() -> None:
        with unit_of_work(factory.database) as db:
            petitions.submit(db, author, tid, submitted)
        with unit_of_work(factory.database) as db:
            counting.recount(db)

    off_loop(submit_and_count)
    log_in(page, axe, live_server, "agent.petition@example.org")
    seen = walk(page, axe, live_server.url("/petitions"), "main", ("/petitions",))
    assert any("/petitions/a-moderer" in address for address in seen), seen
    assert any(address.endswith("/reponse") for address in seen), seen
    # A submitted petition's page (same address shape as the open one): the moderation box.
    response = page.goto(live_server.url(f"/petitions/{submitted}"))
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("button", name="Publier : ouvrir aux signatures")).to_be_visible()
    axe.check(page)
