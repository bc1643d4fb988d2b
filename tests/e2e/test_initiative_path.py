"""The whole fifty-fifty path in a real browser, three people in three browsers: a resident proposes,
an agent asks for changes, the resident edits and sends it back, the agent builds the town's side and
works the checklist, the executive decides, the agent proposes the convention and both sides sign it.
Every page shown is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db.base import utcnow
from app.db.session import unit_of_work
from app.funds.models import Fund, FundEnvelope
from app.initiatives.models import Initiative
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.e2e

TITLE = "Potager partagé de la cité 5"
WORKSPACE = re.compile(r"/initiatives/[A-Za-z0-9_-]{20,}$")


def _envelope(factory: Factory, territory_id: int) -> None:
    with unit_of_work(factory.database) as db:
        fund_id = db.scalar(select(Fund.id).where(Fund.territory_id == territory_id).order_by(Fund.id))
        assert fund_id is not None
        db.add(
            FundEnvelope(territory_id=territory_id, fund_id=fund_id, fiscal_year=utcnow().year, amount_cents=1_000_000)
        )


def _state(factory: Factory) -> str:
    with unit_of_work(factory.database) as db:
        state = db.scalar(select(Initiative.state).where(Initiative.title == TITLE))
        assert state is not None
        return state


def _add_line(page: Page, kind: str, label: str, quantity: str, unit_value: str = "") -> None:
    panel = page.locator("#ledger-panel")
    panel.get_by_label("Type d'apport").select_option(kind)
    panel.get_by_label("Description").fill(label)
    panel.get_by_label("Quantité").fill(quantity)
    if unit_value:
        panel.get_by_label("Valeur unitaire (€ TTC)").fill(unit_value)
    panel.get_by_role("button", name="Ajouter au registre").click()
    expect(page.locator("#ledger-panel").get_by_role("rowheader", name=label)).to_be_visible()


def test_resident_agent_and_executive_take_an_initiative_to_a_signed_convention(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit
) -> None:
    off_loop(factory.account, "ines@example.org", display_name="Inès Benali")
    off_loop(factory.account, "agent@example.org", display_name="Paul Agent", roles=("agent",))
    off_loop(factory.account, "maire@example.org", display_name="Jean Maire", roles=("executive",))
    off_loop(_envelope, factory, towns["loos"])

    # The resident proposes, adds what the residents bring, and submits.
    resident = page
    log_in(resident, axe, live_server, "ines@example.org")
    resident.goto(live_server.url("/initiatives/proposer"))
    axe.check(resident)
    resident.get_by_role("textbox", name="Titre", exact=True).fill(TITLE)
    resident.get_by_label("Ce que vous voulez faire, et pourquoi").fill(
        "Transformer la friche derrière l'école en **potager** cultivé par les familles."
    )
    resident.get_by_label("À qui et à quoi cela servira (intérêt général)").fill(
        "Aux familles de la cité 5 et aux élèves de l'école."
    )
    resident.get_by_label("Quartier").select_option(label="Cité 5")
    resident.get_by_label("Thématique").select_option(index=1)
    resident.get_by_label("Ce que les habitant·es apporteront").fill("Le défrichage, les plantations, l'arrosage.")
    resident.get_by_role("button", name="Enregistrer le brouillon").click()
    resident.wait_for_url(WORKSPACE)
    workspace = resident.url.replace(f"http://loos.localhost:{live_server.port}", "")
    axe.check(resident, "draft workspace")
    _add_line(resident, "volunteer_hours", "Défrichage et plantations", "80")
    axe.check(resident, "after adding a residents' line")
    resident.get_by_role("button", name="Déposer le projet").click()
    resident.wait_for_url("**/deposer")
    axe.check(resident)
    resident.get_by_role("button", name="Déposer le projet").click()
    resident.wait_for_url(WORKSPACE)
    axe.check(resident, "submitted")
    assert off_loop(_state, factory) == "submitted"

    # The agent takes it from the queue and asks for a change.
    agent = axe.new_page()
    log_in(agent, axe, live_server, "agent@example.org")
    agent.goto(live_server.url("/instruction"))
    axe.check(agent)
    agent.get_by_role("link", name=TITLE).click()
    agent.wait_for_url(WORKSPACE)
    axe.check(agent)
    agent.get_by_role("button", name="M'attribuer l'instruction").click()
    agent.wait_for_load_state()
    axe.check(agent, "assigned")
    agent.get_by_role("button", name="Commencer l'instruction").click()
    agent.wait_for_load_state()
    axe.check(agent, "in review")
    agent.get_by_text("Demander des modifications").click()
    agent.get_by_label("Ce qu'il faut modifier").fill("Précisez qui arrosera pendant l'été.")
    agent.get_by_role("button", name="Envoyer la demande").click()
    agent.wait_for_load_state()
    axe.check(agent, "changes requested")
    assert off_loop(_state, factory) == "changes_requested"

    # The resident edits the proposal and sends it back.
    resident.goto(live_server.url(workspace))
    axe.check(resident, "changes requested")
    resident.get_by_role("button", name="Modifier le projet").click()
    resident.wait_for_url("**/modifier")
    axe.check(resident)
    resident.get_by_label("Ce que les habitant·es apporteront").fill(
        "Le défrichage, les plantations ; l'arrosage l'été par un tour de rôle de six familles."
    )
    resident.get_by_role("button", name="Enregistrer les modifications").click()
    resident.wait_for_url(WORKSPACE)
    axe.check(resident, "edited")
    resident.get_by_role("button", name="Renvoyer à la commune après modifications").click()
    resident.wait_for_load_state()
    axe.check(resident, "sent back")
    assert off_loop(_state, factory) == "in_review"

    # The agent adds the town's side and works the checklist.
    agent.goto(live_server.url(workspace))
    axe.check(agent, "back in review")
    _add_line(agent, "purchase", "Bacs, terreau et grillage", "1", "900")
    axe.check(agent, "town line added")
    agent.goto(live_server.url(workspace + "/points-de-controle"))
    axe.check(agent)
    agent.get_by_role("button", name="Commencer la vérification de ces points").click()
    agent.wait_for_load_state()
    axe.check(agent, "checklist started")
    items = agent.locator("ol.checklist-items > li")
    items.first.wait_for()  # the started checklist may arrive by an HTMX swap after the load event
    count = items.count()
    assert count >= 1
    for index in range(count):
        item = agent.locator("ol.checklist-items > li").nth(index)
        item.get_by_text("Classer sans objet").first.click()
        item.get_by_label("Pourquoi ce point ne s'applique pas").fill(
            "Sans objet pour un potager sur terrain communal."
        )
        item.get_by_role("button", name="Classer sans objet").click()
        expect(agent.locator("ol.checklist-items > li").nth(index)).to_contain_text("Sans objet :")
    axe.check(agent, "checklist done")

    # The executive decides.
    executive = axe.new_page()
    log_in(executive, axe, live_server, "maire@example.org")
    executive.goto(live_server.url(workspace))
    axe.check(executive)
    executive.get_by_role("button", name="Décider").click()
    executive.wait_for_url("**/decision")
    axe.check(executive)
    executive.get_by_label("Accepter").check()
    executive.get_by_role("button", name="Enregistrer la décision").click()
    executive.wait_for_url(WORKSPACE)
    axe.check(executive, "approved")
    assert off_loop(_state, factory) == "approved"

    # The agent drafts the convention; the resident, then the executive, sign it in the app.
    agent.goto(live_server.url(workspace))
    axe.check(agent, "approved")
    agent.get_by_role("button", name="Rédiger la convention").click()
    agent.wait_for_load_state()
    axe.check(agent, "convention draft")
    agent.get_by_role("button", name="Proposer aux signataires").click()
    agent.wait_for_load_state()
    axe.check(agent, "convention proposed")
    assert off_loop(_state, factory) == "convention_proposed"

    for signer, who in ((resident, "resident"), (executive, "executive")):
        signer.goto(live_server.url(workspace))
        axe.check(signer, f"convention to sign ({who})")
        signer.get_by_role("button", name="Lire et signer").click()
        signer.wait_for_load_state()
        axe.check(signer, f"convention page ({who})")
        expect(signer.get_by_role("main")).to_contain_text("Bacs, terreau et grillage")
        signer.get_by_label("Votre mot de passe").fill(PASSWORD)
        signer.get_by_role("button", name="Je signe").click()
        signer.wait_for_load_state()
        axe.check(signer, f"signed ({who})")
    assert off_loop(_state, factory) == "convention_signed"
    expect(executive.get_by_role("main")).to_contain_text("Inès Benali")
