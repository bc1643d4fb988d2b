"""Convention pages through HTTP: who sees them, signing forms, paper scans, printing, templates, rules pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.conventions.models import ConventionTemplate
from app.db.session import unit_of_work
from app.funds.models import Fund
from app.initiatives.models import InitiativeState
from tests.conventions.conftest import approved, convention_of, png_bytes, propose, sign, signatures
from tests.factories import PASSWORD, Factory, form_fields, post_form
from tests.review.conftest import World, state_of

S = InitiativeState


def page_url(public_id: str) -> str:
    return f"/initiatives/{public_id}/convention"


def fund_public_id(world: World) -> str:
    with unit_of_work(world.database) as db:
        return db.get_one(Fund, world.fund_id).public_id


def test_initiative_page_offers_to_draft_the_convention_to_agents(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = approved(world)
    factory.login(client, world.agent)
    page = client.get(f"/initiatives/{initiative.public_id}")
    assert page.status_code == 200
    assert f"/initiatives/{initiative.public_id}/convention/proposer" in page.text
    form = client.get(f"/initiatives/{initiative.public_id}/convention/proposer")
    assert form.status_code == 200
    assert "Aperçu du texte" in form.text
    assert "Article 1" in form.text
    assert 'value="Paula Porteuse"' in form.text  # who maintains it, prefilled
    response = post_form(
        client, f"/initiatives/{initiative.public_id}/convention/proposer",
        data={"upkeep_by": "Le comité de quartier", "upkeep_months": "18", "step": "propose"},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == page_url(initiative.public_id)
    assert state_of(world.database, initiative.id) == S.CONVENTION_PROPOSED
    assert "Le comité de quartier" in convention_of(world, initiative.id).text
    # The public sees the initiative, never its convention.
    client.cookies.clear()
    public = client.get(f"/initiatives/{initiative.public_id}")
    assert public.status_code == 200
    assert "convention-panel" not in public.text


def test_propose_form_refuses_bad_values_and_previews(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    factory.login(client, world.agent)
    url = f"/initiatives/{initiative.public_id}/convention/proposer"
    refused = post_form(client, url, data={"upkeep_by": "", "upkeep_months": "12", "step": "propose"})
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    preview = post_form(
        client, url, data={"upkeep_by": "La maison des jeunes", "upkeep_months": "6", "step": "preview"}
    )
    assert preview.status_code == 200
    assert "La maison des jeunes pendant 6 mois" in preview.text
    assert state_of(world.database, initiative.id) == S.APPROVED


def test_convention_page_for_promoters_and_staff_only(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    for account in (world.promoter, world.agent, world.executive):
        factory.login(client, account)
        page = client.get(page_url(initiative.public_id))
        assert page.status_code == 200, account.email
        assert "Article 1 — Les parties" in page.text
    outsider = factory.account("voisin@example.org", display_name="Victor Voisin")
    factory.login(client, outsider)
    assert client.get(page_url(initiative.public_id)).status_code == 404
    assert client.get(page_url(initiative.public_id) + "/imprimer").status_code == 404


def test_other_territories_get_404(
    client: TestClient, other_client: TestClient, factory: Factory, world: World
) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    staff = factory.account("maire-autre@example.org", territory="autre", roles=("agent", "executive", "admin"))
    factory.login(other_client, staff)
    assert other_client.get(page_url(initiative.public_id)).status_code == 404
    assert other_client.get(f"/dispositifs/{fund_public_id(world)}").status_code == 404
    assert other_client.get(f"/admin/dispositifs/{fund_public_id(world)}/convention").status_code == 404


def test_sign_online_with_the_password(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    factory.login(client, world.promoter)
    page = client.get(page_url(initiative.public_id))
    assert 'type="password"' in page.text
    assert convention.text_sha256 in page.text
    action = page_url(initiative.public_id) + "/signer"
    wrong = client.post(
        action, data={**form_fields(page.text), "password": "mauvais", "text_sha256": convention.text_sha256}
    )
    assert wrong.status_code == 422
    assert 'aria-invalid="true"' in wrong.text
    assert "mot de passe n&#39;est pas le bon" in wrong.text
    assert signatures(world, initiative.id) == []
    stale = post_form(
        client, page_url(initiative.public_id), action, data={"password": PASSWORD, "text_sha256": "a" * 64}
    )
    assert stale.status_code == 409
    assert "Le texte a changé" in stale.text
    assert signatures(world, initiative.id) == []
    done = post_form(client, page_url(initiative.public_id), action,
                     data={"password": PASSWORD, "text_sha256": convention.text_sha256})  # fmt: skip
    assert done.status_code == 303
    [signature] = signatures(world, initiative.id)
    assert signature.party == "promoters"
    assert signature.method == "online"
    after = client.get(page_url(initiative.public_id))
    assert 'type="password"' not in after.text  # nothing left for this viewer to sign
    assert "Paula Porteuse" in after.text


def test_signed_convention_cannot_be_regenerated(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    factory.login(client, world.agent)
    page = client.get(page_url(initiative.public_id))
    assert "Mettre le texte à jour" in page.text
    sign(world, world.promoter, initiative.id)
    sign(world, world.executive, initiative.id, "executive")
    page = client.get(page_url(initiative.public_id))
    assert "Mettre le texte à jour" not in page.text
    assert "Proposer un avenant" in page.text
    refused = client.post(
        page_url(initiative.public_id) + "/regenerer",
        data={**form_fields(page.text), "upkeep_by": "Autre", "upkeep_months": "3"},
    )
    assert refused.status_code == 409
    assert convention_of(world, initiative.id).revision == 1


def test_amendment_through_the_pages(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    sign(world, world.promoter, initiative.id)
    sign(world, world.executive, initiative.id, "executive")
    factory.login(client, world.agent)
    created = post_form(client, page_url(initiative.public_id), page_url(initiative.public_id) + "/avenants",
                        data={"reason": "Retard de livraison", "changes": "Livraison au 15 avril."})  # fmt: skip
    assert created.status_code == 303
    factory.login(client, world.promoter)
    page = client.get(page_url(initiative.public_id))
    assert "Avenant n° 1" in page.text
    [amendment_sha] = re.findall(r'name="text_sha256" value="([0-9a-f]{64})"', page.text)
    [action] = re.findall(r'action="(/initiatives/[^"]+/avenants/[^"]+/signer)"', page.text)
    done = client.post(action, data={**form_fields(page.text), "password": PASSWORD, "text_sha256": amendment_sha})
    assert done.status_code == 303
    assert any(s.amendment_id is not None for s in signatures(world, initiative.id))


def test_paper_signature_and_its_scan(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    factory.login(client, world.agent)
    page = client.get(page_url(initiative.public_id))
    assert 'enctype="multipart/form-data"' in page.text
    data = {
        **form_fields(page.text), "party": "town", "signatory_name": "Marc Maire", "signatory_capacity": "Maire",
        "signed_on": "2026-01-05", "text_sha256": convention.text_sha256,
    }  # fmt: skip
    missing = client.post(page_url(initiative.public_id) + "/signature-papier", data=data)
    assert missing.status_code == 422
    assert "scan" in missing.text
    page = client.get(page_url(initiative.public_id))
    data.update(form_fields(page.text))
    not_an_image = client.post(
        page_url(initiative.public_id) + "/signature-papier", data=data,
        files={"scan": ("scan.pdf", b"%PDF-1.4 not an image", "application/pdf")},
    )  # fmt: skip
    assert not_an_image.status_code == 422
    assert "pas une photo acceptée" in not_an_image.text
    assert 'id="paper-scan-error"' in not_an_image.text
    assert signatures(world, initiative.id) == []
    page = client.get(page_url(initiative.public_id))
    data.update(form_fields(page.text))
    done = client.post(
        page_url(initiative.public_id) + "/signature-papier", data=data,
        files={"scan": ("scan.png", png_bytes(), "image/png")},
    )  # fmt: skip
    assert done.status_code == 303, done.text[:500]
    [signature] = signatures(world, initiative.id)
    assert signature.method == "paper"
    assert signature.scan_file_id is not None
    scan_url = f"{page_url(initiative.public_id)}/signatures/{signature.public_id}/scan"
    assert scan_url in client.get(page_url(initiative.public_id)).text
    scan = client.get(scan_url)
    assert scan.status_code == 200
    assert scan.headers["content-type"] == "image/jpeg"
    assert scan.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in scan.headers["content-security-policy"]
    factory.login(client, world.promoter)
    assert client.get(scan_url).status_code == 200
    outsider = factory.account("voisin@example.org", display_name="Victor Voisin")
    factory.login(client, outsider)
    assert client.get(scan_url).status_code == 404


def test_printable_page(client: TestClient, factory: Factory, world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    factory.login(client, world.promoter)
    page = client.get(page_url(initiative.public_id) + "/imprimer")
    assert page.status_code == 200
    assert "/static/css/print.css" in page.text
    assert "site-header" not in page.text
    assert "Se déconnecter" not in page.text
    assert convention.number in page.text
    assert convention.text_sha256 in page.text
    assert "style=" not in page.text
    assert "<script" not in page.text
    assert client.get("/static/css/print.css").status_code == 200


def test_admin_template_versions_and_unknown_placeholder(client: TestClient, factory: Factory, world: World) -> None:
    admin = factory.account("admin@example.org", roles=("admin",), display_name="Ada Admin")
    fund_id = fund_public_id(world)
    url = f"/admin/dispositifs/{fund_id}/convention"
    factory.login(client, world.agent)
    assert client.get(url).status_code == 403
    factory.login(client, admin)
    page = client.get(url)
    assert page.status_code == 200
    assert "{entretien_par}" in page.text
    assert f"/admin/dispositifs/{fund_id}/convention" in client.get(f"/admin/dispositifs/{fund_id}").text
    values = {
        "title": "Convention de quartier", "preamble": "Pour {commune}.", "upkeep_clause": "{entretien_par} entretient.",
        "insurance_clause": "Assurance.", "general_clauses": "Général.", "rules_page": "Règles de {commune}.",
        "default_upkeep_months": "24", "change_note": "Plus court",
    }  # fmt: skip
    bad = post_form(client, url, data={**values, "insurance_clause": "Voir {assureur}.", "step": "save"})
    assert bad.status_code == 422
    assert "{assureur}" in bad.text
    assert 'aria-invalid="true"' in bad.text
    preview = post_form(client, url, data={**values, "step": "preview"})
    assert preview.status_code == 200
    assert "Pour Loos-en-Gohelle." in preview.text
    first = post_form(client, url, data={**values, "step": "save"})
    assert first.status_code == 303
    second = post_form(client, url, data={**values, "title": "Convention v3", "step": "save"})
    assert second.status_code == 303
    with unit_of_work(world.database) as db:
        rows = db.scalars(select(ConventionTemplate).where(ConventionTemplate.fund_id == world.fund_id)).all()
        assert sorted(r.version for r in rows) == [1, 2]  # the fund had none: the first save is version 1
        old = next(r for r in rows if r.version == 1)
    listing = client.get(url)
    assert "Version 2" in listing.text
    assert "Version 1" in listing.text
    version_page = client.get(f"{url}/versions/{old.public_id}")
    assert version_page.status_code == 200
    assert "Convention de quartier" in version_page.text


def test_public_rules_pages_need_no_login(client: TestClient, world: World) -> None:
    fund_id = fund_public_id(world)
    listing = client.get("/dispositifs")
    assert listing.status_code == 200
    assert "Fonds des quartiers" in listing.text
    rules = client.get(f"/dispositifs/{fund_id}")
    assert rules.status_code == 200
    assert "Qui peut proposer un projet ?" in rules.text  # the default rules page, placeholders filled
    assert "Toute habitante, tout habitant de Loos-en-Gohelle" in rules.text
    assert "500,00" in rules.text  # the small-project threshold
    assert re.search(r"3\W000,00", rules.text)  # the cap
    template = client.get(f"/dispositifs/{fund_id}/modele-de-convention")
    assert template.status_code == 200
    assert "{entretien_par}" in template.text
    assert client.get("/dispositifs/inconnu").status_code == 404
