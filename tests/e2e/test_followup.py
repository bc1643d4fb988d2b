"""The follow-up in a real browser: the promoter starts the work and adds a milestone, the agent records
a town delivery with its PDF invoice and verifies it, the promoter delivers with a report. Every page
is audited with axe-core, again after each in-place (HTMX) update."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.config import Settings
from app.db.session import unit_of_work
from app.initiatives.models import Initiative, InitiativeState
from app.ledger.models import RealisationLine, RealisationState
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.e2e.test_conventions import make_world
from tests.factories import Factory
from tests.followup.conftest import PDF_BYTES
from tests.review.conftest import World

pytestmark = pytest.mark.e2e


def signed_initiative(world: World) -> Initiative:
    initiative = world.initiative(InitiativeState.CONVENTION_SIGNED, title="Jardin partagé rue Lavoisier")
    with unit_of_work(world.database) as db:
        db.get_one(Initiative, initiative.id).assigned_agent_person_id = world.agent.person_id
    return initiative


def state_and_realisations(world: World, initiative_id: int) -> tuple[str, list[str]]:
    with unit_of_work(world.database) as db:
        state = db.get_one(Initiative, initiative_id).state
        rows = db.query(RealisationLine.state).filter(RealisationLine.initiative_id == initiative_id).all()
        return state, [r[0] for r in rows]


def test_promoter_and_agent_follow_the_work_to_delivery(
    live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    world = make_world(factory, settings, towns["loos"])
    initiative = off_loop(signed_initiative, world)
    address = live_server.url(f"/initiatives/{initiative.public_id}")
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()

    # The promoter starts the work and adds a milestone (HTMX: the panel is re-rendered in place).
    promoter = axe.new_page()
    log_in(promoter, axe, live_server, "porteuse@example.org")
    promoter.goto(address)
    axe.check(promoter)
    promoter.get_by_role("button", name="Commencer les travaux").click()
    expect(promoter.locator("#toasts")).to_contain_text("Les travaux ont commencé")
    expect(promoter.locator("#followup")).to_contain_text("en cours de réalisation")
    axe.check(promoter, "work started")
    promoter.locator("#milestones summary").click()
    promoter.get_by_role("textbox", name="Étape").fill("Premier chantier participatif")
    promoter.locator("#fu-milestone-due_on").fill((today + dt.timedelta(days=14)).isoformat())
    promoter.get_by_role("button", name="Ajouter l'étape").click()
    expect(promoter.locator("#toasts")).to_contain_text("L'étape est ajoutée")
    expect(promoter.locator("#milestones table")).to_contain_text("Premier chantier participatif")
    axe.check(promoter, "milestone added")

    # The agent records the town's delivery with its PDF invoice, then verifies it.
    agent = axe.new_page()
    log_in(agent, axe, live_server, "agent@example.org")
    agent.goto(address)
    axe.check(agent)
    agent.locator("#fu-realisation-line").select_option(label="Apport de la commune — Bacs et terreau")
    agent.locator("#fu-realisation-quantity").fill("1")
    agent.locator("#fu-realisation-delivered_on").fill(today.isoformat())
    agent.locator("#fu-realisation-file").set_input_files(
        files=[{"name": "facture-bacs.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    agent.locator("#fu-realisation-proof_kind").select_option("invoice")
    agent.locator("#fu-realisation-proof_title").fill("Facture des bacs")
    agent.get_by_role("button", name="Inscrire", exact=True).click()
    expect(agent.locator("#toasts")).to_contain_text("La réalisation est inscrite")
    expect(agent.locator("#realisations")).to_contain_text("livraison de la commune")
    axe.check(agent, "delivery recorded")
    with agent.expect_download() as download:
        agent.locator("#proofs").get_by_role("link", name="Facture des bacs").click()
    assert download.value.suggested_filename.endswith(".pdf")
    agent.get_by_role("button", name="Vérifier").click()
    expect(agent.locator("#toasts")).to_contain_text("La réalisation est vérifiée")
    expect(agent.locator("#realisations")).to_contain_text("vérifié")
    axe.check(agent, "delivery verified")
    assert off_loop(state_and_realisations, world, initiative.id) == ("in_progress", [RealisationState.VERIFIED])

    # The promoter declares the project delivered, with the report (a page of its own).
    promoter.goto(address)
    axe.check(promoter, "reloaded")
    promoter.get_by_role("button", name="Déclarer le projet réalisé").click()
    expect(promoter.get_by_role("heading", level=1)).to_contain_text("Déclarer le projet réalisé")
    axe.check(promoter)
    promoter.get_by_role("button", name="Déclarer le projet réalisé").click()
    expect(promoter.locator(".field-error")).to_be_visible()
    axe.check(promoter, "report missing")
    promoter.get_by_label("Ce qui a été fait").fill("Douze bacs posés en trois samedis, avec vingt voisin·es.")
    promoter.get_by_label("Ce que le projet a changé (facultatif)").fill("Les voisin·es se retrouvent au jardin.")
    promoter.get_by_role("button", name="Déclarer le projet réalisé").click()
    expect(promoter.locator("#toasts")).to_contain_text("Le projet est réalisé")
    expect(promoter.locator("#followup")).to_contain_text("Douze bacs posés")
    axe.check(promoter, "delivered")
    assert off_loop(state_and_realisations, world, initiative.id)[0] == "delivered"
