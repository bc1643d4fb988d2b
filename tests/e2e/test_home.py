"""The public pages in both languages, the skip link, and one deployment serving two towns."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AxeAudit, LiveServer

pytestmark = pytest.mark.e2e


@pytest.mark.smoke
def test_home_in_french_and_english(page: Page, live_server: LiveServer, towns: dict[str, int], axe: AxeAudit) -> None:
    page.goto(live_server.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("body")).to_contain_text("Loos-en-Gohelle")
    axe.check(page)

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/**")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    axe.check(page)

    page.get_by_role("link", name="Français").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    axe.check(page)


@pytest.mark.smoke
def test_skip_link_is_the_first_tab_stop(
    page: Page, live_server: LiveServer, towns: dict[str, int], axe: AxeAudit
) -> None:
    page.goto(live_server.url("/"))
    axe.check(page)
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_class("skip-link")
    expect(skip).to_be_visible()  # shown on focus
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the main content, not back in the header
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


@pytest.mark.smoke
def test_each_host_serves_its_own_town(
    page: Page, live_server: LiveServer, towns: dict[str, int], axe: AxeAudit
) -> None:
    page.goto(live_server.url("/", town="malaunay"))
    expect(page.locator("body")).to_contain_text("Malaunay")
    expect(page.locator("body")).not_to_contain_text("Loos-en-Gohelle")
    axe.check(page)

    page.goto(live_server.url("/en/", town="malaunay"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("body")).to_contain_text("Malaunay")
    axe.check(page)
