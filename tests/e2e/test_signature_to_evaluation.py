"""The follow-up of a fifty-fifty initiative in a real browser, from the signed convention to the first
upkeep check: the promoter starts the work, the agent plans a work day, a resident clicks « Je participe »,
the promoter fills the register with a walk-in (without JavaScript), the agent checks it and the hours
appear once among what was done, the promoter posts news and delivers with the report, the agent
evaluates, the daily job opens the upkeep check a year later and the promoter answers « entretenu ».
Then the public sees the initiative « évaluée » with its summary, and the map page's list (tiles
blocked). Every page shown is checked with axe-core."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.config import Settings
from app.db.base import utcnow
from app.db.session import unit_of_work
from app.evaluation import upkeep
from app.initiatives.models import Initiative, InitiativeState
from app.ledger.models import RealisationLine, RealisationSource, RealisationState
from tests.conventions.conftest import approved, propose, sign
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.e2e.test_catalogue import _no_tiles
from tests.e2e.test_conventions import make_world
from tests.factories import Factory
from tests.review.conftest import World
from tests.workdays.conftest import today

pytestmark = pytest.mark.e2e

TITLE = "Verger partagé du square Lavoisier"
HOURS_LINE = "Heures de bénévolat"  # the residents' volunteer-hours commitment (tests.review.conftest)
LESSONS = "Planter en novembre, avec l'école du quartier."
PRIVATE_COMMENT = "Commentaire réservé à l'équipe et à la commune."


def _signed(world: World) -> Initiative:
    """Approved, convention proposed and signed by both sides through the services; placed on the map."""
    initiative = approved(world, title=TITLE)
    propose(world, initiative.id, upkeep_by="Les voisin·es du square", months=24)
    sign(world, world.promoter, initiative.id)
    sign(world, world.executive, initiative.id, "executive")
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        assert row.state == InitiativeState.CONVENTION_SIGNED
        row.assigned_agent_person_id = world.agent.person_id
        row.address = "Square Lavoisier"
        row.latitude = Decimal("50.458200")
        row.longitude = Decimal("2.789100")
    return world.reload(initiative.id)


def _work_day_hours(world: World, initiative_id: int) -> list[tuple[int, str]]:
    with unit_of_work(world.database) as db:
        rows = db.execute(
            select(RealisationLine.quantity, RealisationLine.state)
            .where(RealisationLine.initiative_id == initiative_id, RealisationLine.source == RealisationSource.WORK_DAY)
            .order_by(RealisationLine.quantity)
        ).all()
        return [(quantity, state) for quantity, state in rows]


def _state(world: World, initiative_id: int) -> str:
    with unit_of_work(world.database) as db:
        return db.scalar(select(Initiative.state).where(Initiative.id == initiative_id)) or ""


def _realisation_count(world: World, initiative_id: int) -> int:
    with unit_of_work(world.database) as db:
        query = select(func.count()).select_from(RealisationLine)
        return db.scalar(query.where(RealisationLine.initiative_id == initiative_id)) or 0


def _a_year_later(world: World, settings: Settings, initiative_id: int) -> None:
    """The daily upkeep job, run a year and a few days after the signature: the first check opens."""
    with unit_of_work(world.database) as db:
        assert db.get_one(Initiative, initiative_id).state == InitiativeState.EVALUATED
        report = upkeep.run_upkeep(db, now=utcnow() + dt.timedelta(days=370), settings=settings)
        assert len(report.opened) == 1


def _expect_hours_once(page: Page) -> None:
    """The register's 6 hours (3:30 + 2:30), verified, on the residents' hours — once, not twice."""
    hours = page.locator("#realisations article").filter(has=page.get_by_role("heading", name=HOURS_LINE))
    expect(hours).to_contain_text("vérifié : 6 h")
    rows = hours.locator("table.realisations tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="3 h 30")).to_contain_text("vérifié")
    expect(rows.filter(has_text="2 h 30")).to_contain_text("vérifié")
    expect(rows.filter(has_text="Chantier participatif du")).to_have_count(2)
    residents = page.locator("#realisations table.realisation-totals tbody tr").filter(
        has=page.get_by_role("rowheader", name="Apport des habitant·es")
    )
    expect(residents.locator("td").nth(2)).to_have_text(re.compile(r"^60,00\s€$"))  # 6 h at 10 € an hour
    ledger = page.locator("#ledger-panel table.ledger-done tbody tr").filter(
        has=page.get_by_role("rowheader", name="Apport des habitant·es")
    )
    expect(ledger.locator("td").nth(2)).to_have_text(re.compile(r"^60,00\s€$"))


def test_signed_convention_to_evaluation_upkeep_and_map(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    world = make_world(factory, settings, towns["loos"])
    off_loop(factory.account, "remi@example.org", display_name="Rémi Résident")
    initiative = off_loop(_signed, world)
    workspace = live_server.url(f"/initiatives/{initiative.public_id}")

    # The promoter starts the work (HTMX re-renders the follow-up panel).
    promoter = axe.new_page()
    log_in(promoter, axe, live_server, "porteuse@example.org")
    promoter.goto(workspace)
    axe.check(promoter)
    expect(promoter.locator("#followup")).to_contain_text("La convention est signée")
    promoter.get_by_role("button", name="Commencer les travaux").click()
    expect(promoter.locator("#toasts")).to_contain_text("Les travaux ont commencé")
    expect(promoter.locator("#followup")).to_contain_text("en cours de réalisation")
    axe.check(promoter, "work started")
    assert off_loop(_state, world, initiative.id) == InitiativeState.IN_PROGRESS

    # The agent plans a work day, today.
    agent = page
    log_in(agent, axe, live_server, "agent@example.org")
    agent.goto(workspace)
    axe.check(agent)
    agent.get_by_role("button", name="Programmer un chantier").click()
    axe.check(agent)
    agent.get_by_label("Date").fill(today(world).isoformat())
    agent.get_by_label("Heure de début").fill("09:00")
    agent.get_by_label("Heure de fin").fill("12:30")
    agent.get_by_label("Lieu").fill("Square Lavoisier")
    agent.get_by_label("Ce que nous ferons").fill("Planter les pommiers et pailler les pieds.")
    agent.get_by_role("button", name="Programmer le chantier").click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text("Chantier participatif du")
    axe.check(agent, "planned")
    work_day_url = agent.url

    # A resident says « Je participe » on the initiative's page (HTMX swaps the box).
    resident = axe.new_page()
    log_in(resident, axe, live_server, "remi@example.org")
    resident.goto(workspace)
    axe.check(resident)
    resident.get_by_role("button", name="Je participe").click()
    expect(resident.get_by_role("button", name="Je ne participe plus")).to_be_visible()
    expect(resident.locator("#toasts")).to_contain_text("vous participez à ce chantier")
    axe.check(resident, "signed up")

    # The promoter fills the register without JavaScript: Rémi, and Dora who came without an account.
    plain = axe.new_page(javascript=False)
    log_in(plain, axe, live_server, "porteuse@example.org")
    plain.goto(work_day_url)
    axe.check(plain)
    plain.get_by_role("button", name="Remplir la feuille d'heures").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Feuille d'heures")
    axe.check(plain)
    expect(plain.get_by_label("Présent·e (Rémi Résident)")).to_be_checked()
    plain.get_by_label("Consignes de sécurité données (Rémi Résident)").check()
    plain.get_by_label("Information sur l'assurance donnée (Rémi Résident)").check()
    plain.get_by_label("Heures (Rémi Résident)").fill("3:30")
    walk_in = "personne venue sans inscription n° 1"
    plain.get_by_label(f"Nom ({walk_in})").fill("Dora Passante")
    plain.get_by_label(f"Présent·e ({walk_in})").check()
    plain.get_by_label(f"Consignes de sécurité données ({walk_in})").check()
    plain.get_by_label(f"Information sur l'assurance donnée ({walk_in})").check()
    plain.get_by_label(f"Heures ({walk_in})").fill("2,5")
    plain.get_by_role("button", name="Enregistrer la feuille d'heures").click()
    expect(plain.locator("#toasts")).to_contain_text("La feuille d'heures est enregistrée")
    axe.check(plain, "register saved")
    assert off_loop(_work_day_hours, world, initiative.id) == []  # nothing on the ledger before the check

    # The agent checks it from the work day's page: two verified realisations, 6 hours, once.
    agent.goto(work_day_url)
    axe.check(agent, "register entered")
    expect(agent.locator("main")).to_contain_text("Dora Passante")
    agent.get_by_role("button", name="Vérifier la feuille d'heures").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Feuille d'heures")
    axe.check(agent)
    agent.get_by_role("button", name="Valider la feuille d'heures").click()
    expect(agent.locator("#toasts")).to_contain_text("2 réalisation(s) inscrite(s)")
    expect(agent.get_by_role("main")).to_contain_text("Cette feuille d'heures est vérifiée par la commune")
    expect(agent.get_by_role("button", name="Valider la feuille d'heures")).to_have_count(0)
    axe.check(agent, "register checked")
    agent.goto(workspace)
    axe.check(agent, "hours on the ledger")
    _expect_hours_once(agent)
    verified = RealisationState.VERIFIED
    assert off_loop(_work_day_hours, world, initiative.id) == [(150, verified), (210, verified)]

    # The promoter posts news of the work (HTMX).
    promoter.goto(workspace)
    axe.check(promoter, "after the check")
    news = promoter.locator("#updates-panel")
    news.get_by_label("Les nouvelles").fill("Les **pommiers** sont plantés, merci à Rémi et Dora !")
    news.get_by_label("Avancement en % (facultatif)").fill("90")
    news.get_by_role("button", name="Publier les nouvelles").click()
    expect(promoter.locator("#toasts")).to_contain_text("Vos nouvelles sont publiées.")
    expect(promoter.get_by_text("90 % réalisé")).to_be_visible()
    axe.check(promoter, "news posted")

    # The promoter declares the project delivered, with the report.
    promoter.get_by_role("button", name="Déclarer le projet réalisé").click()
    expect(promoter.get_by_role("heading", level=1)).to_contain_text("Déclarer le projet réalisé")
    axe.check(promoter)
    promoter.get_by_label("Ce qui a été fait").fill("Huit pommiers plantés en un chantier, avec les voisin·es.")
    promoter.get_by_label("Ce que le projet a changé (facultatif)").fill("Le square a un verger à entretenir.")
    promoter.get_by_role("button", name="Déclarer le projet réalisé").click()
    expect(promoter.locator("#toasts")).to_contain_text("Le projet est réalisé")
    expect(promoter.locator("#followup")).to_contain_text("Huit pommiers plantés")
    axe.check(promoter, "delivered")
    assert off_loop(_state, world, initiative.id) == InitiativeState.DELIVERED

    # The agent evaluates and finalises.
    agent.goto(workspace)
    axe.check(agent, "delivered")
    agent.get_by_role("button", name="Évaluer le projet").click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text("Bilan de")
    expect(agent.get_by_role("main")).to_contain_text("Huit pommiers plantés")
    axe.check(agent)
    agent.locator("#f-goals_met-met").check()
    agent.get_by_label("Commentaire sur les objectifs (facultatif)").fill(PRIVATE_COMMENT)
    agent.locator("#f-social_level-high").check()
    agent.locator("#f-environmental_level-medium").check()
    agent.locator("#f-economic_level-low").check()
    agent.get_by_label("Enseignements").fill(LESSONS)
    agent.locator("#f-generalise-yes").check()
    agent.get_by_role("button", name="Finaliser l'évaluation").click()
    expect(agent.locator("#toasts")).to_contain_text("L'évaluation est finalisée")
    expect(agent.locator(".evaluation-panel")).to_contain_text(LESSONS)
    axe.check(agent, "evaluated")
    _expect_hours_once(agent)  # the evaluation closes the follow-up: still 6 hours, once
    assert off_loop(_state, world, initiative.id) == InitiativeState.EVALUATED
    assert off_loop(_realisation_count, world, initiative.id) == 2

    # A year later the daily job opens the upkeep check; the promoter answers « entretenu » (no JavaScript).
    off_loop(_a_year_later, world, settings, initiative.id)
    plain.goto(workspace)
    axe.check(plain, "upkeep due")
    plain.get_by_role("button", name="Répondre au point d'entretien").click()
    expect(plain.get_by_role("heading", level=1)).to_contain_text("Entretien de")
    axe.check(plain)
    plain.locator("#f-status-maintained").check()
    plain.get_by_label("Commentaire").fill("Les pommiers ont donné leurs premières pommes.")
    plain.get_by_role("button", name="Enregistrer la réponse").click()
    expect(plain.locator("#toasts")).to_contain_text("La réponse au point d'entretien est enregistrée")
    expect(plain.get_by_role("table")).to_contain_text("Les pommiers ont donné leurs premières pommes.")
    axe.check(plain, "upkeep answered")

    # The public page: « évaluée », the public summary of the evaluation and the upkeep, nothing private.
    visitor = axe.new_page()
    visitor.context.route("**/*", _no_tiles)
    visitor.goto(workspace)
    axe.check(visitor)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    facts = visitor.get_by_role("region", name="En bref")
    expect(facts).to_contain_text("évaluée")
    summary = visitor.locator(".evaluation-panel")
    expect(summary).to_contain_text("Objectifs")
    expect(summary).to_contain_text("atteints")
    expect(summary).to_contain_text("fort")
    expect(summary).to_contain_text(LESSONS)
    expect(summary).to_contain_text("Entretenu au")
    expect(visitor.get_by_text(PRIVATE_COMMENT)).to_have_count(0)
    expect(visitor.get_by_text("À généraliser")).to_have_count(0)
    expect(visitor.locator("#realisations")).to_have_count(0)
    expect(visitor.get_by_text("Dora Passante")).to_have_count(0)

    # The map page: its list first (the accessible alternative), then the marker; no tile fetched.
    visitor.goto(live_server.url("/initiatives/carte"))
    listing = visitor.get_by_role("region", name="1 initiative placée sur la carte")
    expect(listing).to_be_visible()
    card = listing.get_by_role("article", name=TITLE)
    expect(card).to_contain_text("évaluée")
    expect(card.get_by_role("link", name=TITLE)).to_have_attribute("href", re.compile(initiative.public_id))
    expect(visitor.locator("#map-section")).to_be_visible()
    expect(visitor.locator(".leaflet-marker-icon")).to_have_count(1)
    axe.check(visitor, "map")
    card.get_by_role("link", name=TITLE).click()
    visitor.wait_for_url(workspace)
    axe.check(visitor, "from the map's list")
