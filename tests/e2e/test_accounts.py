"""Account journeys in a real browser: register, confirm, log in, edit the profile, switch
language, revoke a session (HTMX and without JavaScript), and one login per town."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.accounts import sessions
from app.accounts.models import Account
from app.config import Settings
from app.db.session import unit_of_work
from app.web.auth import session_cookie_name
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.factories import PASSWORD, Factory, link_from

pytestmark = pytest.mark.e2e

EMAIL = "camille@example.org"
# Labels of required fields end with an asterisk: match the start only.
PASSWORD_LABEL = re.compile(r"^Mot de passe")


def log_in(page: Page, axe: AxeAudit, live_server: LiveServer, email: str, town: str = "loos") -> None:
    page.goto(live_server.url("/connexion", town=town))
    axe.check(page)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url("/", town=town))
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    axe.check(page, "after login")


def open_other_session(factory: Factory, account: Account, user_agent: str) -> None:
    with unit_of_work(factory.database) as db:
        sessions.open_session(db, db.get_one(Account, account.id), user_agent)


@pytest.mark.smoke
def test_register_confirm_login_edit_profile_and_switch_language(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit
) -> None:
    page.goto(live_server.url("/"))
    axe.check(page)
    page.get_by_role("banner").get_by_role("button", name="Créer un compte").click()  # a link styled as a button
    page.wait_for_url("**/inscription")
    axe.check(page)

    # A too short password: the form comes back with the errors, the other values kept.
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label(PASSWORD_LABEL).fill("court")
    page.get_by_label("Confirmez le mot de passe").fill("court")
    page.get_by_label("Nom affiché").fill("Camille Durand")
    page.get_by_label("18 ans et plus").check()
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label(PASSWORD_LABEL)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Adresse e-mail")).to_have_value(EMAIL)
    axe.check(page, "registration errors")
    assert factory.outbox(to=EMAIL) == []

    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/inscription/verifiez-vos-mails")
    axe.check(page)

    (mail,) = factory.outbox(to=EMAIL)
    link = link_from(mail)
    assert link.startswith(live_server.url("/compte/verifier"))
    page.goto(link)
    axe.check(page)
    page.get_by_role("button", name=re.compile("Confirmer")).click()
    page.wait_for_url("**/connexion")
    expect(page.locator("#toasts")).to_contain_text("confirmée")
    axe.check(page, "after confirmation")

    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url("/"))
    axe.check(page, "after login")

    page.get_by_role("link", name="Mon espace").click()
    page.wait_for_url("**/mon-espace")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon espace")
    expect(page.locator("main")).to_contain_text(EMAIL)
    axe.check(page)

    page.get_by_label("Nom affiché").fill("Camille D.")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    expect(page.locator("#toasts")).to_contain_text("Votre profil est enregistré")
    expect(page.locator("dl")).to_contain_text("Camille D.")
    axe.check(page, "after saving the profile")

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/mon-espace")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("dl")).to_contain_text("Camille D.")
    axe.check(page)


@pytest.mark.smoke
def test_revoking_a_session_with_htmx(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit
) -> None:
    account = off_loop(factory.account, EMAIL)
    open_other_session(factory, account, "Tablette de la médiathèque")
    log_in(page, axe, live_server, EMAIL)

    page.goto(live_server.url("/mon-espace/sessions"))
    axe.check(page)
    rows = page.locator("#sessions tbody tr")
    expect(rows).to_have_count(2)
    page.evaluate("() => { window.__sameDocument = true; }")

    other = rows.filter(has_text="Tablette de la médiathèque")
    other.get_by_role("button", name=re.compile("Révoquer")).click()
    expect(rows).to_have_count(1)
    expect(page.locator("#toasts")).to_contain_text("La session a été fermée")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded instead of swapped"
    axe.check(page, "after the HTMX swap")

    # Still signed in here: this browser's own session was kept.
    page.reload()
    expect(rows).to_have_count(1)
    expect(page.locator("#sessions")).to_contain_text("cette session")
    axe.check(page, "reloaded")


def test_login_and_revoke_without_javascript(
    live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit
) -> None:
    account = off_loop(factory.account, EMAIL)
    open_other_session(factory, account, "Ordinateur de la mairie")
    page = axe.new_page(javascript=False)

    # A wrong password answers the form again with its error, then the right one signs in.
    page.goto(live_server.url("/connexion"))
    axe.check(page)
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    axe.check(page, "wrong password, no JavaScript")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url("/"))
    axe.check(page, "after login, no JavaScript")

    page.goto(live_server.url("/mon-espace/sessions"))
    axe.check(page)
    rows = page.locator("#sessions tbody tr")
    expect(rows).to_have_count(2)
    rows.filter(has_text="Ordinateur de la mairie").get_by_role("button", name=re.compile("Révoquer")).click()
    page.wait_for_url(live_server.url("/mon-espace/sessions"))
    expect(rows).to_have_count(1)
    expect(page.locator("#toasts")).to_contain_text("La session a été fermée")
    axe.check(page, "after revoking, no JavaScript")


@pytest.mark.smoke
def test_a_login_is_valid_in_its_own_town_only(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit, settings: Settings
) -> None:
    off_loop(factory.account, EMAIL)
    log_in(page, axe, live_server, EMAIL)
    name = session_cookie_name(settings)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == name]
    assert cookie["domain"] == "loos.localhost"

    # The browser keeps the cookie to its host; even replayed on Malaunay's host it opens nothing.
    page.context.add_cookies(
        [{"name": cookie["name"], "value": cookie["value"], "domain": "malaunay.localhost", "path": "/"}]
    )
    page.goto(live_server.url("/mon-espace", town="malaunay"))
    page.wait_for_url(re.compile(r"/connexion\?next="))
    expect(page.locator("body")).to_contain_text("Malaunay")
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    axe.check(page, "Malaunay, with Loos' cookie")

    # Back in Loos the same cookie still works.
    page.goto(live_server.url("/mon-espace"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon espace")
    axe.check(page)
