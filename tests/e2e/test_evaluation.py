"""The close-out in a real browser: a promoter answers the volunteers' survey (without JavaScript),
an agent notes a fine trace and filters the log (HTMX), evaluates the delivered initiative, and the
promoter answers the first upkeep check. Every page shown is checked with axe-core."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from app.config import Settings
from app.db.base import utcnow
from app.db.session import unit_of_work
from app.evaluation import upkeep
from app.initiatives.models import Initiative, InitiativeState
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.e2e.test_conventions import make_world
from tests.evaluation.conftest import delivered, sign_convention
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def _open_upkeep_check(factory: Factory, settings: Settings, initiative_id: int) -> None:
    """The daily job, a year after the signature (the check is opened and the promoters told)."""
    with unit_of_work(factory.database) as db:
        assert db.get_one(Initiative, initiative_id).state == InitiativeState.EVALUATED
        report = upkeep.run_upkeep(db, now=utcnow() + dt.timedelta(days=1), settings=settings)
        assert len(report.opened) == 1


def test_survey_fine_trace_evaluation_and_upkeep(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    world = make_world(factory, settings, towns["loos"])
    initiative = off_loop(delivered, world, title="Nichoirs à hirondelles de la cité 12")
    signed = utcnow() - dt.timedelta(days=365)
    off_loop(sign_convention, world, initiative.id, signed_at=signed, months=24)
    workspace = live_server.url(f"/initiatives/{initiative.public_id}")

    # The promoter answers the survey, without JavaScript.
    promoter = axe.new_page(javascript=False)
    log_in(promoter, axe, live_server, "porteuse@example.org")
    promoter.goto(workspace)
    axe.check(promoter)
    promoter.get_by_role("button", name="Répondre au questionnaire").click()
    expect(promoter.get_by_role("heading", level=1)).to_contain_text("Votre avis")
    axe.check(promoter)
    promoter.get_by_role("button", name="Envoyer ma réponse").click()
    expect(promoter.locator(".form-errors")).to_be_visible()
    axe.check(promoter, "survey with errors")
    promoter.locator("#f-satisfaction-5").check()
    promoter.locator("#f-would_again-yes").check()
    promoter.locator("#f-first_time-yes").check()
    promoter.get_by_label("Qu'avez-vous appris").fill("À poser un nichoir en hauteur, en sécurité.")
    promoter.get_by_role("button", name="Envoyer ma réponse").click()
    expect(promoter.locator("#toasts")).to_contain_text("Votre réponse est enregistrée")
    axe.check(promoter, "survey answered")

    # The agent notes a fine trace and filters the log.
    log_in(page, axe, live_server, "agent@example.org")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Fines traces").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fines traces")
    axe.check(page)
    page.get_by_role("button", name="Noter une fine trace").click()
    axe.check(page)
    page.get_by_label("Ce que vous avez observé").fill("Une voisine timide a expliqué le comptage aux enfants.")
    page.get_by_label("prise de parole").check()
    page.get_by_label("Initiative concernée").select_option(initiative.public_id)
    page.get_by_label("Publier sur la page de l'initiative").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#toasts")).to_contain_text("La fine trace est enregistrée")
    axe.check(page, "trace saved")
    page.get_by_label("Étiquette").select_option("new_skill")
    expect(page.locator("#traces-results")).to_contain_text("Aucune fine trace ne correspond à ces filtres")
    expect(page).to_have_url(re.compile(r"/fines-traces\?tag=new_skill"))  # the filters stay in the address
    axe.check(page, "no trace with this tag")
    page.get_by_label("Étiquette").select_option("speaking_up")
    expect(page.locator("#traces-results")).to_contain_text("Une voisine timide")
    axe.check(page, "filtered with HTMX")

    # The agent evaluates the delivered initiative.
    page.goto(workspace)
    axe.check(page)
    page.get_by_role("button", name="Évaluer le projet").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan de")
    axe.check(page)
    page.locator("#f-goals_met-met").check()
    page.locator("#f-social_level-high").check()
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator("#toasts")).to_contain_text("Le brouillon de l'évaluation est enregistré")
    axe.check(page, "draft saved")
    page.get_by_role("button", name="Finaliser l'évaluation").click()
    expect(page.locator(".form-errors")).to_be_visible()
    axe.check(page, "incomplete evaluation")
    page.locator("#f-environmental_level-medium").check()
    page.locator("#f-economic_level-none").check()
    page.get_by_label("Enseignements").fill("Associer l'école dès le début du projet.")
    page.locator("#f-generalise-yes").check()
    page.get_by_role("button", name="Finaliser l'évaluation").click()
    expect(page.locator("#toasts")).to_contain_text("L'évaluation est finalisée")
    panel = page.locator(".evaluation-panel")
    expect(panel).to_contain_text("Associer l'école dès le début du projet.")
    expect(panel).to_contain_text("Une voisine timide")
    axe.check(page, "evaluated")

    # A year after the signature, the promoter answers the upkeep check.
    off_loop(_open_upkeep_check, factory, settings, initiative.id)
    promoter.goto(workspace)
    axe.check(promoter, "upkeep due")
    promoter.get_by_role("button", name="Répondre au point d'entretien").click()
    expect(promoter.get_by_role("heading", level=1)).to_contain_text("Entretien de")
    axe.check(promoter)
    promoter.locator("#f-status-maintained").check()
    promoter.get_by_label("Commentaire").fill("Les hirondelles sont revenues.")
    promoter.get_by_role("button", name="Enregistrer la réponse").click()
    expect(promoter.locator("#toasts")).to_contain_text("La réponse au point d'entretien est enregistrée")
    expect(promoter.get_by_role("table")).to_contain_text("Les hirondelles sont revenues.")
    axe.check(promoter, "upkeep answered")
    promoter.goto(workspace)
    expect(promoter.locator(".evaluation-panel")).to_contain_text("Entretenu au")
    axe.check(promoter, "upkeep status")
