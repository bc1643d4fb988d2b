"""A work day in a real browser: the agent lists the town's equipment and plans a day, a resident
clicks « Je participe », the promoter fills the register with a walk-in (without JavaScript), the
agent checks it and the hours appear among what was done. Every page is audited with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.config import Settings
from app.db.session import unit_of_work
from app.initiatives.models import InitiativeState
from app.ledger.models import RealisationLine, RealisationSource
from app.workdays.models import WorkDay
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.e2e.test_conventions import make_world
from tests.factories import Factory
from tests.workdays.conftest import today

pytestmark = pytest.mark.e2e


def test_work_day_from_planning_to_checked_hours(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    world = make_world(factory, settings, towns["loos"])
    off_loop(factory.account, "remi@example.org", display_name="Rémi Résident")
    initiative = world.initiative(InitiativeState.CONVENTION_SIGNED, title="Haie de la rue Lavoisier")
    day = today(world).isoformat()

    # The agent lists a wheelbarrow, plans the day and books it.
    log_in(page, axe, live_server, "agent@example.org")
    page.goto(live_server.url("/admin/materiel"))
    axe.check(page)
    page.get_by_label("Nom").fill("Brouette")
    page.get_by_label("Quantité").fill("2")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.locator("#toasts")).to_contain_text("Brouette")
    axe.check(page, "equipment added")
    page.goto(live_server.url(f"/initiatives/{initiative.public_id}"))
    axe.check(page)
    page.get_by_role("button", name="Programmer un chantier").click()
    axe.check(page)
    page.get_by_label("Date").fill(day)
    page.get_by_label("Heure de début").fill("09:00")
    page.get_by_label("Heure de fin").fill("12:30")
    page.get_by_label("Lieu").fill("Square Lavoisier")
    page.get_by_label("Ce que nous ferons").fill("Planter la haie.")
    page.get_by_role("button", name="Programmer le chantier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chantier participatif du")
    axe.check(page, "planned")
    page.get_by_role("combobox", name="Matériel", exact=True).select_option(label="Brouette (2 en tout)")
    page.get_by_role("button", name="Réserver").click()
    expect(page.locator("#toasts")).to_contain_text("Le matériel est réservé")
    axe.check(page, "booked")
    work_day_url = page.url
    page.get_by_role("link", name="Matériel", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Matériel : semaine du")
    axe.check(page)
    page.get_by_label("État au départ").fill("Pneu un peu dégonflé")
    page.get_by_role("button", name="Marquer « Brouette » comme sorti").click()
    expect(page.locator("#week")).to_contain_text("Pneu un peu dégonflé")
    expect(page.locator("#toasts")).to_contain_text("est sorti")
    axe.check(page, "handed out")

    # A resident says « Je participe » (HTMX swaps the box).
    resident = axe.new_page()
    log_in(resident, axe, live_server, "remi@example.org")
    resident.goto(live_server.url(f"/initiatives/{initiative.public_id}"))
    axe.check(resident)
    resident.get_by_role("button", name="Je participe").click()
    expect(resident.get_by_role("button", name="Je ne participe plus")).to_be_visible()
    expect(resident.locator("#toasts")).to_contain_text("vous participez à ce chantier")
    axe.check(resident, "signed up")

    # The promoter fills the register without JavaScript, with a walk-in.
    promoter = axe.new_page(javascript=False)
    log_in(promoter, axe, live_server, "porteuse@example.org")
    promoter.goto(work_day_url)
    axe.check(promoter)
    promoter.get_by_role("button", name="Remplir la feuille d'heures").click()
    expect(promoter.get_by_role("heading", level=1)).to_have_text("Feuille d'heures")
    axe.check(promoter)
    promoter.get_by_label("Consignes de sécurité données (Rémi Résident)").check()
    promoter.get_by_label("Information sur l'assurance donnée (Rémi Résident)").check()
    promoter.get_by_label("Heures (Rémi Résident)").fill("3:30")
    walk_in = "personne venue sans inscription n° 1"
    promoter.get_by_label(f"Nom ({walk_in})").fill("Dora Passante")
    promoter.get_by_label(f"Présent·e ({walk_in})").check()
    promoter.get_by_label(f"Heures ({walk_in})").fill("2,5")
    promoter.get_by_role("button", name="Enregistrer la feuille d'heures").click()
    # The walk-in's ticks are missing: the row says so, nothing is saved.
    expect(promoter.locator(".form-errors")).to_contain_text("consignes de sécurité")
    axe.check(promoter, "register refused")
    promoter.get_by_label(f"Consignes de sécurité données ({walk_in})").check()
    promoter.get_by_label(f"Information sur l'assurance donnée ({walk_in})").check()
    promoter.get_by_role("button", name="Enregistrer la feuille d'heures").click()
    expect(promoter.locator("#toasts")).to_contain_text("La feuille d'heures est enregistrée")
    axe.check(promoter, "register saved")

    # The agent checks it: the hours become verified realisations, shown on the initiative page.
    page.goto(work_day_url + "/feuille-d-heures")
    axe.check(page)
    page.get_by_role("button", name="Valider la feuille d'heures").click()
    expect(page.locator("#toasts")).to_contain_text("2 réalisation(s) inscrite(s)")
    axe.check(page, "checked")
    page.get_by_role("link", name="Feuille vierge à imprimer pour le jour du chantier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Feuille d'heures")
    axe.check(page)
    page.goto(live_server.url(f"/initiatives/{initiative.public_id}"))
    expect(page.locator("#realisations")).to_contain_text("Chantier participatif du")
    axe.check(page, "realisations")

    with unit_of_work(world.database) as db:
        work_day = db.scalar(select(WorkDay).where(WorkDay.initiative_id == initiative.id))
        assert work_day is not None
        quantities = sorted(
            db.scalars(
                select(RealisationLine.quantity).where(
                    RealisationLine.initiative_id == initiative.id, RealisationLine.source == RealisationSource.WORK_DAY
                )
            )
        )
    assert quantities == [150, 210]
