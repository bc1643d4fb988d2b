"""Both kinds of petition in a real browser, several people in several browser contexts.

A civic petition: a resident starts it (similar requests shown), an agent publishes it, a resident
signs in one click, a guest signs without JavaScript and confirms from the e-mail, an agent enters a
paper sheet by its count, the counting job stamps the answer threshold, an agent drafts the answer
(transmitted to the competent authority), the executive publishes it and the author turns the
petition into a fifty-fifty initiative.

A legal request (art. L1112-16 CGCT): a resident starts it, an agent publishes it, two electors sign
online and an agent enters a paper signer, a second legal request of the quarter is refused to the
same elector, the counting job stamps the provisional threshold, the author hands it to the mayor,
an agent checks the signatures against the roll and informs the council, the executive records the
decision; the public sees the stages and never a signer. Every page shown is checked with axe-core.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.config import Settings
from app.db.session import read_only, unit_of_work
from app.petitions import counting
from app.petitions.models import Petition
from app.territories.models import CouncilSitting
from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.factories import Factory, link_from
from tests.petitions import helpers as h

pytestmark = pytest.mark.e2e

SIMILAR = "Un passage piéton devant l'école Pasteur"  # the helpers' default title, already open
TITLE = "Un passage piéton devant le collège Hoche"
REQUEST = "Peindre un passage piéton et poser un feu devant le collège Hoche."
GUEST_EMAIL = "jeanne.passante@example.org"
AUTHORITY = "Communauté d'agglomération de Lens-Liévin"
ANSWER = "La voirie départementale relève de l'agglomération : la commune lui a transmis la demande."
SHOW = re.compile(r"/petitions/[A-Za-z0-9_-]{8,}$")
INITIATIVE = re.compile(r"/initiatives/[A-Za-z0-9_-]{20,}$")

LEGAL_TITLE = "Consultation sur l'avenir du terril 11/19"
DECISION = "Le conseil organisera une consultation locale au printemps."
ELECTORS = (
    ("Dupont", "Marie Anne", "12 rue Pasteur, 62750 Loos-en-Gohelle", "1970-05-02"),
    ("Lefebvre", "Jean", "3 cité des Castors, 62750 Loos-en-Gohelle", "1985-11-20"),
)
PAPER_ELECTOR = ("Zola", "Émile", "1 place de la République, 62750 Loos-en-Gohelle", "14/07/1960")
QUARTER_MESSAGE = "une signature par électeur et par trimestre"


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Paris")).date()


def _public_id(page: Page) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[1]


def _recount(factory: Factory, settings: Settings) -> None:
    """The worker's counting job, run now instead of waiting a minute for the worker."""
    with unit_of_work(factory.database) as db:
        counting.recount(db, settings=settings)


def _row(factory: Factory, public_id: str) -> Petition:
    with read_only(factory.database) as db:
        row = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        db.expunge(row)
        return row


def _sitting(factory: Factory, territory_id: int, day: dt.date) -> None:
    with unit_of_work(factory.database) as db:
        db.add(CouncilSitting(territory_id=territory_id, sitting_date=day, title="Conseil municipal de rentrée"))


def _start(page: Page, axe: AxeAudit, live_server: LiveServer, title: str, request: str, body: str) -> None:
    page.goto(live_server.url("/petitions/nouvelle"))
    axe.check(page)
    page.get_by_role("textbox", name="Titre", exact=True).fill(title)
    page.get_by_label("Ce que vous demandez à la commune").fill(request)
    page.get_by_label("Pourquoi", exact=True).fill(body)


def _submit_draft(page: Page, axe: AxeAudit) -> None:
    """From the draft's page: the confirmation page (similar requests again), then submit."""
    page.wait_for_url(SHOW)
    expect(page.locator("#toasts")).to_contain_text("Votre brouillon est enregistré")
    axe.check(page, "draft")
    page.get_by_role("button", name="Déposer la pétition").click()  # a link styled as a button
    page.wait_for_url("**/deposer")
    axe.check(page)
    page.get_by_role("button", name="Déposer la pétition").click()
    page.wait_for_url(SHOW)
    expect(page.locator("#toasts")).to_contain_text("Votre pétition est déposée")
    axe.check(page, "submitted")


def _publish(agent: Page, axe: AxeAudit, live_server: LiveServer, title: str) -> None:
    agent.goto(live_server.url("/petitions/a-moderer"))
    axe.check(agent)
    agent.get_by_role("link", name=title).click()
    agent.wait_for_url(SHOW)
    axe.check(agent, "to moderate")
    agent.get_by_role("button", name="Publier : ouvrir aux signatures").click()
    agent.wait_for_url(SHOW)
    expect(agent.locator("#toasts")).to_contain_text("La pétition est publiée")
    axe.check(agent, "published")


def test_civic_petition_signed_online_and_on_paper_answered_and_converted(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    tid = towns["loos"]
    author = off_loop(factory.account, "ines@example.org", display_name="Inès Benali")
    agent_account = off_loop(factory.account, "agent@example.org", display_name="Paul Agent", roles=("agent",))
    off_loop(factory.account, "remi@example.org", display_name="Rémi Résident")
    off_loop(factory.account, "maire@example.org", display_name="Jean Maire", roles=("executive",))
    # An open petition on the same subject, for the similar requests.
    off_loop(h.opened, factory.database, h.viewer(author), h.viewer(agent_account, "agent"), tid)

    # The resident starts the petition: similar requests appear as she types, then she submits.
    resident = page
    log_in(resident, axe, live_server, "ines@example.org")
    _start(resident, axe, live_server, TITLE, REQUEST, "Les élèves traversent **sans protection** à 8 h.")
    similar = resident.locator("#similar-petitions")
    expect(similar.get_by_role("link", name=SIMILAR)).to_be_visible()
    axe.check(resident, "similar requests")
    resident.get_by_role("button", name="Enregistrer le brouillon").click()
    _submit_draft(resident, axe)
    public_id = _public_id(resident)
    petition_url = live_server.url(f"/petitions/{public_id}")

    # The agent publishes it from the queue; the thresholds are lowered for the test.
    agent = axe.new_page()
    log_in(agent, axe, live_server, "agent@example.org")
    _publish(agent, axe, live_server, TITLE)
    off_loop(h.update, factory.database, public_id, answer_threshold=5, council_threshold=100)

    # A second resident signs in one click and asks to be told of the steps (HTMX swaps the box).
    signer = axe.new_page()
    log_in(signer, axe, live_server, "remi@example.org")
    signer.goto(petition_url)
    axe.check(signer)
    box = signer.locator("#sign-box")
    box.get_by_label("Me prévenir des étapes (seuils, réponse de la commune)").check()
    box.get_by_role("button", name="Signer en un clic").click()
    expect(signer.locator("#sign-box")).to_contain_text("Signature enregistrée")
    expect(signer.locator("#toasts")).to_contain_text("Signature enregistrée. Merci !")
    expect(signer.locator("#sign-box")).to_contain_text("1 signature")
    axe.check(signer, "signed")

    # A guest signs without JavaScript, then confirms with the e-mail's button.
    guest = axe.new_page(javascript=False)
    guest.goto(petition_url)
    axe.check(guest)
    guest.get_by_role("button", name="Signer sans compte").click()  # a link styled as a button
    guest.wait_for_url("**/signer")
    axe.check(guest)
    guest.get_by_label("Nom et prénom").fill("Jeanne Passante")
    guest.get_by_label("Adresse e-mail").fill(GUEST_EMAIL)
    guest.get_by_label("Code postal").fill("62750")
    guest.get_by_label("Me prévenir des étapes (seuils, réponse de la commune)").check()
    guest.get_by_role("button", name="Signer", exact=True).click()
    guest.wait_for_url("**/signature-envoyee")
    expect(guest.get_by_role("heading", level=1)).to_have_text("Vérifiez vos e-mails")
    axe.check(guest)
    (mail,) = off_loop(factory.outbox, GUEST_EMAIL)
    link = link_from(mail)
    assert link.startswith(live_server.url("/"))
    guest.goto(link)
    axe.check(guest)
    guest.get_by_role("button", name="Confirmer ma signature").click()
    guest.wait_for_url(petition_url)
    expect(guest.locator("#toasts")).to_contain_text("Signature enregistrée. Merci !")
    axe.check(guest, "confirmed")

    # The agent enters a paper sheet by its count: 4 signatures, 3 of them from the town.
    agent.goto(live_server.url(f"/petitions/{public_id}/papier"))
    axe.check(agent)
    by_count = agent.get_by_role("region", name="Saisir une feuille par son nombre de signatures")
    by_count.get_by_label("Référence de la feuille").fill("Marché du samedi, feuille 1")
    by_count.get_by_label("Date des signatures").fill(_today().isoformat())
    by_count.get_by_label("Nombre de signatures").fill("4")
    by_count.get_by_label("Dont habitant·es").fill("3")
    by_count.get_by_role("button", name="Enregistrer le nombre").click()
    agent.wait_for_url("**/papier")
    expect(agent.locator("#toasts")).to_contain_text("Feuille enregistrée : 4 signature(s)")
    expect(agent.get_by_role("rowheader", name="Marché du samedi, feuille 1")).to_be_visible()
    axe.check(agent, "paper batch entered")

    # The counting job: 5 signatures of the town (2 online, 3 on paper) reach the answer threshold.
    off_loop(_recount, factory, settings)
    assert off_loop(_row, factory, public_id).answer_threshold_reached_at is not None
    signer.goto(petition_url)
    axe.check(signer, "threshold reached")
    statuses = signer.locator("ul.petition-statuses")
    expect(statuses).to_contain_text("Seuil de 5 signatures atteint le")
    expect(statuses).to_contain_text("La commune doit publier sa réponse au plus tard le")
    expect(signer.locator("#petition-status")).to_contain_text("Le seuil de réponse est atteint")
    expect(signer.locator(".petition-figures")).to_contain_text("5 signatures")

    # The agent drafts the answer from the queue: transmitted to the competent authority.
    agent.goto(live_server.url("/petitions/a-moderer"))
    axe.check(agent, "answer due")
    agent.get_by_role("link", name=TITLE).click()
    agent.wait_for_url("**/reponse")
    axe.check(agent)
    agent.get_by_label("Suite donnée à la demande").select_option(label="Transmise à l'autorité compétente")
    agent.get_by_label("Texte de la réponse").fill(ANSWER)
    agent.get_by_label("Autorité (communauté d'agglomération, département…)").fill(AUTHORITY)
    agent.get_by_label("Transmise le").fill(_today().isoformat())
    agent.get_by_role("button", name="Enregistrer le projet de réponse").click()
    agent.wait_for_url("**/reponse")
    expect(agent.locator("#toasts")).to_contain_text("Le projet de réponse est enregistré")
    expect(agent.get_by_text("projet de réponse, non publié")).to_be_visible()
    axe.check(agent, "answer drafted")

    # The executive publishes it.
    executive = axe.new_page()
    log_in(executive, axe, live_server, "maire@example.org")
    executive.goto(live_server.url(f"/petitions/{public_id}/reponse"))
    axe.check(executive)
    executive.get_by_role("button", name="Publier la réponse officielle").click()
    executive.wait_for_url(petition_url)
    expect(executive.locator("#toasts")).to_contain_text("La réponse officielle est publiée")
    axe.check(executive, "answer published")

    # The public page shows the answer.
    visitor = axe.new_page()
    visitor.goto(petition_url)
    axe.check(visitor)
    answer = visitor.get_by_role("region", name="La réponse officielle de la commune")
    expect(answer).to_contain_text("Transmise à l'autorité compétente")
    expect(answer).to_contain_text(ANSWER)
    expect(answer).to_contain_text(f"Demande transmise à : {AUTHORITY}")
    expect(answer).not_to_contain_text("non publié")
    expect(visitor.get_by_text(GUEST_EMAIL)).to_have_count(0)
    expect(visitor.get_by_text("Jeanne Passante")).to_have_count(0)

    # The author turns the petition into an initiative and lands on its draft, pre-filled.
    resident.goto(petition_url)
    axe.check(resident, "answered")
    resident.get_by_role("button", name="En faire une initiative fifty-fifty").click()
    resident.wait_for_url(INITIATIVE)
    expect(resident.locator("#toasts")).to_contain_text("Le brouillon d'initiative est ouvert")
    expect(resident.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(resident.get_by_role("main")).to_contain_text(REQUEST)
    axe.check(resident, "initiative draft")
    initiative_path = resident.url.replace(live_server.url(""), "")
    # The petition's page links to what became of it.
    resident.goto(petition_url)
    axe.check(resident, "converted")
    became = resident.get_by_role("region", name="Avec les initiatives fifty-fifty")
    expect(became).to_contain_text("Cette pétition est devenue une initiative fifty-fifty")
    expect(became.get_by_role("link", name=TITLE)).to_have_attribute(
        "href", re.compile(re.escape(initiative_path) + "$")
    )
    expect(resident.get_by_role("button", name="En faire une initiative fifty-fifty")).to_have_count(0)
    assert off_loop(_row, factory, public_id).converted_initiative_id is not None


def _sign_legal(page: Page, surname: str, first_names: str, address: str, born: str) -> None:
    box = page.locator("#sign-box")
    box.get_by_label("Nom de famille").fill(surname)
    box.get_by_label("Prénoms").fill(first_names)
    box.get_by_role("textbox", name="Adresse", exact=True).fill(address)
    box.get_by_label("Date de naissance").fill(born)
    box.get_by_role("button", name="Signer la demande").click()


def test_legal_request_signed_checked_and_decided(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, settings: Settings, axe: AxeAudit
) -> None:
    tid = towns["loos"]
    author = off_loop(factory.account, "claire@example.org", display_name="Claire Bernard")
    agent_account = off_loop(factory.account, "agent@example.org", display_name="Paul Agent", roles=("agent",))
    off_loop(factory.account, "marie@example.org", display_name="Marie Dupont")
    off_loop(factory.account, "jean@example.org", display_name="Jean Lefebvre")
    off_loop(factory.account, "maire@example.org", display_name="Jean Maire", roles=("executive",))
    off_loop(_sitting, factory, tid, _today() + dt.timedelta(days=12))
    # Another legal request of the town, open this quarter.
    other = off_loop(
        h.opened, factory.database, h.viewer(author), h.viewer(agent_account, "agent"), tid,
        kind="legal", legal_purpose="position", title="Position du conseil sur la fermeture de la poste",
    )  # fmt: skip

    # The resident starts a legal request asking for a local consultation.
    resident = page
    log_in(resident, axe, live_server, "claire@example.org")
    _start(resident, axe, live_server, LEGAL_TITLE, "Organiser une consultation locale sur le terril.", "")
    resident.get_by_role("radio", name=re.compile("^Une demande de consultation")).check()
    resident.get_by_label("Pour une demande de consultation : ce que vous demandez au conseil").select_option(
        label="Demander au conseil municipal d'organiser une consultation locale"
    )
    resident.get_by_role("button", name="Enregistrer le brouillon").click()
    _submit_draft(resident, axe)
    public_id = _public_id(resident)
    request_url = live_server.url(f"/petitions/{public_id}")

    # The agent publishes it; the frozen electors are lowered for the test (threshold: 3 signatures).
    agent = axe.new_page()
    log_in(agent, axe, live_server, "agent@example.org")
    _publish(agent, axe, live_server, LEGAL_TITLE)
    off_loop(h.update, factory.database, public_id, electors_frozen=30, answer_threshold=3)

    # Two adult electors sign online with what the roll check needs.
    electors = []
    for email, details in zip(("marie@example.org", "jean@example.org"), ELECTORS, strict=True):
        elector = axe.new_page()
        log_in(elector, axe, live_server, email)
        elector.goto(request_url)
        axe.check(elector)
        _sign_legal(elector, *details)
        expect(elector.locator("#sign-box")).to_contain_text("elle sera vérifiée sur la liste électorale")
        expect(elector.locator("#toasts")).to_contain_text("Signature enregistrée. Merci !")
        axe.check(elector, "signed")
        electors.append(elector)

    # The same elector on another legal request of the quarter: refused, with the law's rule.
    marie = electors[0]
    marie.goto(live_server.url(f"/petitions/{other}"))
    axe.check(marie, "another legal request")
    _sign_legal(marie, *ELECTORS[0])
    expect(marie.locator("#toasts")).to_contain_text(QUARTER_MESSAGE)
    expect(marie.locator("#sign-box").get_by_role("button", name="Signer la demande")).to_be_visible()
    axe.check(marie, "refused this quarter")

    # The agent enters one paper signer.
    agent.goto(live_server.url(f"/petitions/{public_id}/papier"))
    axe.check(agent)
    expect(agent.get_by_role("region", name="Saisir une feuille par son nombre de signatures")).to_have_count(0)
    agent.get_by_label("Référence de la feuille").fill("Porte-à-porte cité 5, feuille 1")
    agent.get_by_label("Date des signatures").fill(_today().isoformat())
    surname, first_names, address, born = PAPER_ELECTOR
    agent.get_by_label("Nom de famille, ligne 1", exact=True).fill(surname)
    agent.get_by_label("Prénoms, ligne 1", exact=True).fill(first_names)
    agent.get_by_label("Adresse, ligne 1", exact=True).fill(address)
    agent.get_by_label("Date de naissance, ligne 1", exact=True).fill(born)
    agent.get_by_role("button", name="Enregistrer la feuille").click()
    agent.wait_for_url("**/papier")
    expect(agent.locator("#toasts")).to_contain_text("Feuille enregistrée : 1 signature(s) saisie(s)")
    axe.check(agent, "paper signer entered")

    # The counting job stamps the provisional threshold; the author hands the request to the mayor.
    off_loop(_recount, factory, settings)
    assert off_loop(_row, factory, public_id).answer_threshold_reached_at is not None
    resident.goto(request_url)
    stages = resident.locator("#legal-stages")
    expect(stages.get_by_role("button", name="Remettre la demande au maire")).to_be_visible()  # loaded by HTMX
    expect(resident.locator("ul.petition-statuses")).to_contain_text("Seuil de 3 signatures atteint le")
    axe.check(resident, "threshold reached")
    stages.get_by_role("button", name="Remettre la demande au maire").click()
    resident.wait_for_url("**/accuse-de-reception")
    expect(resident.get_by_role("heading", level=1)).to_contain_text("Accusé de réception")
    expect(resident.get_by_role("main")).to_contain_text(LEGAL_TITLE)
    axe.check(resident, "receipt")

    # The agent checks the three signatures against the roll and finishes the verification.
    agent.goto(live_server.url(f"/petitions/{public_id}/verification"))
    axe.check(agent)
    picks = agent.get_by_role("checkbox", name=re.compile("^Choisir "))
    expect(picks).to_have_count(3)
    for index in range(3):
        picks.nth(index).check()
    agent.get_by_role("button", name="Marquer valides").click()
    agent.wait_for_url(re.compile(r"/verification$"))
    expect(agent.locator("#toasts")).to_contain_text("3 signatures vérifiées.")
    axe.check(agent, "checked")
    agent.get_by_role("button", name="Terminer la vérification").click()
    agent.wait_for_url("**/procedure")
    expect(agent.locator("#toasts")).to_contain_text("le seuil de 3 est atteint")
    axe.check(agent, "verified")

    # The agent records that the council is informed at its first sitting after receipt.
    expect(agent.get_by_label("Séance du conseil")).to_contain_text("Conseil municipal de rentrée")
    agent.get_by_role("button", name="Enregistrer l'information du conseil").click()
    agent.wait_for_url("**/procedure")
    expect(agent.locator("#toasts")).to_contain_text("L'information du conseil municipal")
    axe.check(agent, "council informed")

    # The executive records the council's decision.
    executive = axe.new_page()
    log_in(executive, axe, live_server, "maire@example.org")
    executive.goto(live_server.url(f"/petitions/{public_id}/procedure"))
    axe.check(executive)
    executive.get_by_label("La décision du conseil municipal").fill(DECISION)
    executive.get_by_role("button", name="Enregistrer la décision").click()
    executive.wait_for_url("**/procedure")
    expect(executive.locator("#toasts")).to_contain_text("La décision du conseil municipal est enregistrée")
    axe.check(executive, "decided")

    # The public page shows the stages and the decision, never a signer.
    visitor = axe.new_page()
    visitor.goto(request_url)
    stages = visitor.locator("#legal-stages")
    expect(stages.locator("#legal-step-decided")).to_have_attribute("aria-current", "step")  # loaded by HTMX
    for label in (
        "Recueil des signatures",
        "Seuil atteint (provisoire)",
        "Remise au maire (accusé de réception)",
        "Signatures vérifiées sur la liste électorale",
        "Conseil municipal informé",
        "Décision du conseil municipal",
    ):
        expect(stages).to_contain_text(label)
    expect(stages).to_contain_text("3 signatures valides pour un seuil de 3")
    expect(stages).to_contain_text("Conseil municipal de rentrée")
    expect(stages).to_contain_text(DECISION)
    expect(
        visitor.get_by_role("link", name="Vérification des signatures sur la liste électorale (agent·es)")
    ).to_have_count(0)
    axe.check(visitor)
    main = visitor.get_by_role("main")
    for name in ("Dupont", "Lefebvre", "Zola", "Marie Anne", "Émile"):
        expect(main).not_to_contain_text(name)
    visitor.goto(live_server.url(f"/petitions/{public_id}/procedure"))
    axe.check(visitor)
    expect(visitor.get_by_role("main")).to_contain_text(DECISION)
    for name in ("Dupont", "Lefebvre", "Zola"):
        expect(visitor.get_by_role("main")).not_to_contain_text(name)
