"""Conventions in a real browser: read and sign without JavaScript, propose, print, the fund's
template and rules pages, each audited with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.config import Settings
from app.db.session import unit_of_work
from app.funds.models import Enforcement, Fund, FundEnvelope
from tests.conventions.conftest import approved, propose
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.factories import PASSWORD, Factory
from tests.review.conftest import YEAR, World

pytestmark = pytest.mark.e2e


def make_world(factory: Factory, settings: Settings, territory_id: int) -> World:
    agent = off_loop(factory.account, "agent@example.org", roles=("agent", "admin"), display_name="Annie Agent")
    executive = off_loop(factory.account, "maire@example.org", roles=("executive",), display_name="Marc Maire")
    promoter = off_loop(factory.account, "porteuse@example.org", display_name="Paula Porteuse")
    with unit_of_work(factory.database) as db:
        fund = Fund(territory_id=territory_id, name="Fonds des quartiers", enforcement=Enforcement.WARN)
        db.add(fund)
        db.flush()
        envelope = FundEnvelope(territory_id=territory_id, fund_id=fund.id, fiscal_year=YEAR, amount_cents=1_000_000)
        db.add(envelope)
        db.flush()
        fund_id, envelope_id = fund.id, envelope.id
    return World(factory.database, settings, territory_id, agent, executive, promoter, fund_id, envelope_id)


def test_promoter_reads_and_signs_without_javascript(
    live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    world = make_world(factory, settings, towns["loos"])
    initiative = off_loop(approved, world)
    off_loop(propose, world, initiative.id)
    page = axe.new_page(javascript=False)
    log_in(page, axe, live_server, "porteuse@example.org")
    page.goto(live_server.url(f"/initiatives/{initiative.public_id}"))
    axe.check(page)
    page.get_by_role("button", name="Lire et signer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Convention n°")
    axe.check(page)
    page.get_by_label("Votre mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Je signe").click()
    expect(page.locator(".field-error")).to_contain_text("mot de passe")
    axe.check(page, "wrong password")
    page.get_by_label("Votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Je signe").click()
    expect(page.locator("#toasts")).to_contain_text("Votre signature est enregistrée")
    axe.check(page, "signed")
    page.get_by_role("link", name="Version imprimable").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Convention n°")
    axe.check(page)


def test_agent_proposes_and_edits_the_template(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    world = make_world(factory, settings, towns["loos"])
    initiative = off_loop(approved, world)
    log_in(page, axe, live_server, "agent@example.org")
    page.goto(live_server.url(f"/initiatives/{initiative.public_id}"))
    axe.check(page)
    page.get_by_role("button", name="Rédiger la convention").click()
    axe.check(page)
    page.get_by_label("Pendant combien de mois").fill("24")
    page.get_by_role("button", name="Proposer aux signataires").click()
    expect(page.locator("#toasts")).to_contain_text("La convention est proposée")
    axe.check(page, "proposed")
    with unit_of_work(world.database) as db:
        fund_id = db.get_one(Fund, world.fund_id).public_id
    page.goto(live_server.url(f"/admin/dispositifs/{fund_id}/convention"))
    axe.check(page)
    page.get_by_role("button", name="Voir l'aperçu").click()
    axe.check(page, "preview")
    page.get_by_role("link", name="Voir la page publique des règles du dispositif").click()
    axe.check(page)
    page.get_by_role("link", name="Lire le modèle de convention de ce dispositif").click()
    axe.check(page)
