"""Photos in a real browser: proposing with a photo, adding one with HTMX, describing it; axe-checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AxeAudit, LiveServer, off_loop
from tests.e2e.test_accounts import log_in
from tests.factories import Factory
from tests.media import helpers as m

pytestmark = pytest.mark.e2e


def test_propose_with_a_photo_then_add_and_describe(
    page: Page, live_server: LiveServer, towns: dict[str, int], factory: Factory, axe: AxeAudit, tmp_path: Path
) -> None:
    first = tmp_path / "preau.jpg"
    first.write_bytes(m.jpeg_with_gps(orientation=6))
    second = tmp_path / "mur.png"
    second.write_bytes(m.png_with_text())
    off_loop(factory.account, "photo@example.org")
    log_in(page, axe, live_server, "photo@example.org")

    page.goto(live_server.url("/initiatives/proposer"))
    axe.check(page)
    page.get_by_role("textbox", name="Titre", exact=True).fill("Fresque du préau")
    page.get_by_label("Photos du lieu ou de votre idée").set_input_files(first)
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_url(re.compile(r"/initiatives/[A-Za-z0-9_-]{20,}$"))
    photo = page.get_by_role("img", name="Photo 1 de l'initiative « Fresque du préau »")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [30, 60]  # loaded, upright
    axe.check(page)

    panel = page.locator("#photos-panel")
    panel.get_by_label("Photos", exact=True).set_input_files(second)
    panel.get_by_label("Ce que montrent ces photos (facultatif)").fill("Le mur gris de l'école")
    panel.get_by_role("button", name="Envoyer les photos").click()
    expect(page.get_by_role("img", name="Le mur gris de l'école")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("La photo est ajoutée.")
    axe.check(page, "after adding a photo with HTMX")

    page.get_by_text("Modifier la description de la photo 1").click()
    field = page.locator("#photos-panel li").first.get_by_label("Ce que montre la photo")
    field.fill("")
    page.locator("#photos-panel li").first.get_by_role("button", name="Enregistrer la description").click()
    expect(page.locator("#photos-panel li").first.locator(".field-error")).to_contain_text("Ce champ est obligatoire.")
    axe.check(page, "with an empty description")
    page.locator("#photos-panel li").first.get_by_label("Ce que montre la photo").fill("Le préau vu de la cour")
    page.locator("#photos-panel li").first.get_by_role("button", name="Enregistrer la description").click()
    expect(page.get_by_role("img", name="Le préau vu de la cour")).to_be_visible()
