"""Progress updates in a real browser: a promoter posts news with a photo whose people did not
agree and another whose people did, a resident follows the initiative, and the public sees the
consented photo only; every page axe-checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db.base import utcnow
from app.db.session import unit_of_work
from app.initiatives.models import Initiative, InitiativeMember, InitiativeState, MemberRole
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.factories import Factory
from tests.media import helpers as m

pytestmark = pytest.mark.e2e

TITLE = "Bacs potagers de la rue Lavoisier"


def _at_work(factory: Factory, territory_id: int) -> str:
    promoter = factory.account("porteuse@example.org", display_name="Paula Porteuse")
    factory.account("voisin@example.org", display_name="Victor Voisin")
    with unit_of_work(factory.database) as db:
        initiative = Initiative(
            territory_id=territory_id, state=InitiativeState.IN_PROGRESS, title=TITLE,
            description="Des bacs de culture au pied des immeubles.", created_by_person_id=promoter.person_id,
        )  # fmt: skip
        db.add(initiative)
        db.flush()
        db.add(
            InitiativeMember(
                territory_id=territory_id, initiative_id=initiative.id, person_id=promoter.person_id,
                role=MemberRole.PROMOTER, accepted_at=utcnow(),
            )
        )  # fmt: skip
        return initiative.public_id


def _answer(page: Page, slot: str, question: str, answer: str) -> None:
    group = page.get_by_role("group", name=slot, exact=True)
    group.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def test_updates_with_consent_and_following(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit, tmp_path: Path
) -> None:
    public_id = off_loop(_at_work, factory, towns["loos"])
    children = tmp_path / "enfants.jpg"
    children.write_bytes(m.jpeg(color="blue"))
    team = tmp_path / "equipe.jpg"
    team.write_bytes(m.jpeg(color="green"))
    show = live_server.url(f"/initiatives/{public_id}")
    identifiable = "Des personnes reconnaissables apparaissent-elles ?"
    agreed = "Ont-elles toutes donné leur accord (et, pour les mineurs, leurs parents) ?"

    # The promoter posts news with a photo of children whose parents did not agree (with HTMX).
    log_in(page, axe, live_server, "porteuse@example.org")
    page.goto(show)
    axe.check(page)
    panel = page.locator("#updates-panel")
    panel.get_by_label("Les nouvelles").fill("Les **enfants** ont planté les tomates.")
    panel.get_by_label("Avancement en % (facultatif)").fill("30")
    panel.get_by_label("Fichier de la photo 1").set_input_files(children)
    panel.get_by_label("Ce que montre la photo 1").fill("Les enfants plantent les tomates")
    _answer(page, "Photo 1", identifiable, "Oui")
    panel.get_by_role("button", name="Publier les nouvelles").click()
    # Without the second answer the form comes back with its error, the photo to choose again.
    expect(page.locator("#updates-panel .form-errors")).to_contain_text("dites si les personnes visibles")
    axe.check(page, "missing consent answer")
    panel = page.locator("#updates-panel")
    panel.get_by_label("Fichier de la photo 1").set_input_files(children)
    _answer(page, "Photo 1", agreed, "Non")
    panel.get_by_role("button", name="Publier les nouvelles").click()
    expect(page.locator("#toasts")).to_contain_text("Vos nouvelles sont publiées.")
    expect(page.get_by_role("img", name="Les enfants plantent les tomates")).to_be_visible()
    expect(page.locator("#updates-panel")).to_contain_text("privée : pas d'accord des personnes visibles")
    expect(page.get_by_text("30 % réalisé")).to_be_visible()
    axe.check(page, "after posting with HTMX")

    # Then news with a photo of the team, everyone agreeing, without JavaScript.
    plain = axe.new_page(javascript=False)
    log_in(plain, axe, live_server, "porteuse@example.org")
    plain.goto(show)
    axe.check(plain)
    plain.get_by_label("Les nouvelles").fill("Première récolte avec l'équipe.")
    plain.get_by_label("Avancement en % (facultatif)").fill("160")
    plain.get_by_role("button", name="Publier les nouvelles").click()
    plain.wait_for_url(re.compile(r"/avancement$"))
    expect(plain.locator("#f-progress-error")).to_contain_text("Indiquez un pourcentage entre 0 et 100.")
    axe.check(plain, "refused progress, without JavaScript")
    plain.get_by_label("Avancement en % (facultatif)").fill("60")
    plain.get_by_label("Fichier de la photo 1").set_input_files(team)
    plain.get_by_label("Ce que montre la photo 1").fill("L'équipe autour des bacs")
    _answer(plain, "Photo 1", identifiable, "Oui")
    _answer(plain, "Photo 1", agreed, "Oui")
    plain.get_by_role("button", name="Publier les nouvelles").click()
    plain.wait_for_url(re.compile(r"#nouvelles-"))
    expect(plain.locator("#toasts")).to_contain_text("Vos nouvelles sont publiées.")
    expect(plain.get_by_text("60 % réalisé")).to_be_visible()
    axe.check(plain, "after posting without JavaScript")
    plain.get_by_role("link", name=re.compile(r"^Modifier les nouvelles du")).first.click()
    plain.wait_for_url(re.compile(r"/modifier$"))
    axe.check(plain)
    plain.get_by_label("Les nouvelles").fill("Première récolte avec toute l'équipe.")
    plain.get_by_role("button", name="Enregistrer les modifications").click()
    plain.wait_for_url(re.compile(r"#nouvelles-"))
    expect(plain.locator("#toasts")).to_contain_text("Les nouvelles sont modifiées.")
    axe.check(plain, "after editing")

    # A resident follows the initiative.
    resident = axe.new_page()
    log_in(resident, axe, live_server, "voisin@example.org")
    resident.goto(show)
    axe.check(resident)
    expect(resident.locator("#follow-box")).to_contain_text("1 personne suit cette initiative.")
    resident.get_by_role("button", name="Suivre", exact=True).click()
    expect(resident.locator("#toasts")).to_contain_text("Vous suivez cette initiative")
    expect(resident.locator("#follow-box")).to_contain_text("2 personnes suivent cette initiative.")
    expect(resident.get_by_role("button", name="Ne plus suivre")).to_be_visible()
    expect(resident.get_by_role("img", name="Les enfants plantent les tomates")).to_have_count(0)
    axe.check(resident, "following")
    resident.goto(live_server.url("/mes-initiatives/suivies"))
    expect(resident.get_by_role("link", name=TITLE)).to_be_visible()
    axe.check(resident)

    # Anyone sees the news and the consented photo only.
    anonymous = axe.new_page()
    anonymous.goto(show)
    expect(anonymous.get_by_role("img", name="L'équipe autour des bacs")).to_be_visible()
    expect(anonymous.get_by_role("img", name="Les enfants plantent les tomates")).to_have_count(0)
    expect(anonymous.get_by_text("Première récolte avec toute l'équipe.")).to_be_visible()
    expect(anonymous.get_by_text("privée : pas d'accord des personnes visibles")).to_have_count(0)
    expect(anonymous.locator("progress")).to_have_attribute("value", "60")
    axe.check(anonymous)
