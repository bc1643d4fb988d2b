"""The follow-up through HTTP: the panel on the initiative page, forms with and without HTMX, errors
re-rendered with their fields marked, and the CSRF token required everywhere."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.session import unit_of_work
from app.followup.models import DeliveryReport, Milestone
from app.initiatives.models import InitiativeState
from app.ledger.models import RealisationSource, RealisationState, Side
from tests.factories import Factory, post_form
from tests.followup.conftest import PDF_BYTES, line_of, login, realisations, signed
from tests.review.conftest import World, state_of

S = InitiativeState
TODAY = dt.datetime(2027, 4, 12, 9, 0, tzinfo=dt.UTC)
HTMX = {"HX-Request": "true"}


def show(public_id: str) -> str:
    return f"/initiatives/{public_id}"


def test_promoter_starts_the_work_from_the_initiative_page(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    factory.login(client, world.promoter)
    page = client.get(show(initiative.public_id))
    assert page.status_code == 200
    assert 'id="followup"' in page.text
    assert "Commencer les travaux" in page.text
    response = post_form(
        client, f"/initiatives/{initiative.public_id}/suivi", f"/initiatives/{initiative.public_id}/suivi/demarrer"
    )
    assert response.status_code == 303
    assert response.headers["location"] == show(initiative.public_id) + "#followup"
    assert state_of(world.database, initiative.id) == S.IN_PROGRESS
    again = client.get(show(initiative.public_id))
    assert "Commencer les travaux" not in again.text
    assert "Déclarer le projet réalisé" in again.text
    # Starting twice is a conflict, shown as an error page (nothing changes).
    twice = post_form(
        client, f"/initiatives/{initiative.public_id}/suivi", f"/initiatives/{initiative.public_id}/suivi/demarrer"
    )
    assert twice.status_code == 409


def test_public_sees_milestones_but_no_buttons_realisations_or_proofs(client: TestClient, world: World) -> None:
    with time_machine.travel(TODAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        with unit_of_work(world.database) as db:
            db.add(Milestone(territory_id=world.territory_id, initiative_id=initiative.id, side="residents",
                             title="Premier chantier <b>ouvert</b>", due_on=dt.date(2027, 4, 1)))  # fmt: skip
        page = client.get(show(initiative.public_id))
    assert page.status_code == 200
    assert "Premier chantier &lt;b&gt;ouvert&lt;/b&gt;" in page.text
    assert "en retard" in page.text
    assert 'id="realisations"' not in page.text
    assert 'id="proofs"' not in page.text
    assert "suivi/demarrer" not in page.text
    assert "/etapes" not in page.text
    assert "Ce qui a été fait, à côté de ce qui est engagé" in page.text  # the totals, no personal data


def test_milestone_form_without_javascript_and_with_htmx(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world)
    url = f"/initiatives/{initiative.public_id}/etapes"
    factory.login(client, world.promoter)
    refused = post_form(client, show(initiative.public_id), url,
                        data={"side": "residents", "title": "", "due_on": "2027-05-01"})  # fmt: skip
    assert refused.status_code == 422
    assert 'id="fu-milestone-title"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'aria-describedby="fu-milestone-title-error fu-milestone-title-help"' in refused.text
    assert "<h1>" in refused.text  # a page around the panel, not a fragment
    created = post_form(client, show(initiative.public_id), url,
                        data={"side": "residents", "title": "Chantier n°1", "due_on": "2027-05-01"})  # fmt: skip
    assert created.status_code == 303
    headers = {**login(client, factory, app, world.promoter), **HTMX}
    fragment = client.post(url, data={"side": "residents", "title": "Chantier n°2", "due_on": "2027-05-08"},
                           headers=headers)  # fmt: skip
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<section") or 'id="followup"' in fragment.text
    assert "<h1>" not in fragment.text
    assert "Chantier n°2" in fragment.text
    assert "hx-swap-oob" in fragment.text
    town = client.post(url, data={"side": "town", "title": "Livraison", "due_on": "2027-05-08"}, headers=headers)
    assert town.status_code == 403
    with unit_of_work(world.database) as db:
        assert sorted(db.scalars(select(Milestone.title))) == ["Chantier n°1", "Chantier n°2"]


def test_milestone_edit_page_and_steps(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    with unit_of_work(world.database) as db:
        row = Milestone(territory_id=world.territory_id, initiative_id=initiative.id, side="residents",
                        title="Chantier", due_on=dt.date(2027, 5, 1))  # fmt: skip
        db.add(row)
        db.flush()
        milestone_id = row.public_id
    factory.login(client, world.promoter)
    edit = f"/initiatives/{initiative.public_id}/etapes/{milestone_id}"
    page = client.get(edit)
    assert page.status_code == 200
    assert 'value="Chantier"' in page.text
    refused = post_form(client, edit, data={"side": "residents", "title": "Chantier", "due_on": "pas une date"})
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    saved = post_form(client, edit, data={"side": "residents", "title": "Grand chantier", "due_on": "2027-05-02"})
    assert saved.status_code == 303
    done = post_form(client, show(initiative.public_id), edit + "/franchie")
    assert done.status_code == 303
    with unit_of_work(world.database) as db:
        fresh = db.scalars(select(Milestone)).one()
        assert (fresh.title, fresh.due_on, fresh.done_on is not None) == ("Grand chantier", dt.date(2027, 5, 2), True)
    assert client.post(edit + "/inconnue", data={}).status_code in (403, 404)
    factory.login(client, world.agent)
    removed = post_form(client, show(initiative.public_id), edit + "/retirer")
    assert removed.status_code == 303
    with unit_of_work(world.database) as db:
        assert db.scalars(select(Milestone)).all() == []


def test_agent_records_a_town_delivery_with_a_pdf_and_verifies_it(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    with time_machine.travel(TODAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        town = line_of(world, initiative.id, Side.TOWN)
        headers = login(client, factory, app, world.agent)
        response = client.post(
            f"/initiatives/{initiative.public_id}/realisations",
            data={"line": town.public_id, "quantity": "1", "delivered_on": "2027-04-11", "proof_kind": "invoice",
                  "proof_title": "Facture des bacs"},
            files={"file": ("facture.pdf", PDF_BYTES, "application/pdf")},
            headers=headers,
        )  # fmt: skip
        assert response.status_code == 303, response.text[:500]
        [row] = realisations(world, initiative.id)
        assert (row.source, row.state, row.value_cents) == (
            RealisationSource.DELIVERY,
            RealisationState.DELIVERED,
            50_000,
        )
        page = client.get(show(initiative.public_id))
        assert "Facture des bacs" in page.text
        assert f"realisations/{row.public_id}/verifier" in page.text
        verified = client.post(f"/initiatives/{initiative.public_id}/realisations/{row.public_id}/verifier",
                               headers={**headers, **HTMX})  # fmt: skip
        assert verified.status_code == 200
        assert "vérifiée" in verified.text
        assert realisations(world, initiative.id)[0].state == RealisationState.VERIFIED


def test_realisation_form_errors_keep_the_values(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    with time_machine.travel(TODAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        hours = line_of(world, initiative.id, Side.RESIDENTS)
        headers = login(client, factory, app, world.promoter)
        bad = client.post(
            f"/initiatives/{initiative.public_id}/realisations",
            data={"line": hours.public_id, "quantity": "trois heures", "delivered_on": "2027-04-11",
                  "notes": "Haie taillée"},
            headers={**headers, **HTMX},
        )  # fmt: skip
        assert bad.status_code == 422
        assert re.search(r'id="fu-realisation-quantity"[^>]*aria-invalid="true"', bad.text.replace("\n", " "))
        assert "Haie taillée" in bad.text
        assert "<h1>" not in bad.text
        fake = client.post(
            f"/initiatives/{initiative.public_id}/realisations",
            data={"line": hours.public_id, "quantity": "2:00", "delivered_on": "2027-04-11"},
            files={"file": ("faux.pdf", b"<html></html>", "application/pdf")},
            headers=headers,
        )  # fmt: skip
        assert fake.status_code == 422  # a refused proof refuses the realisation with it
        assert realisations(world, initiative.id) == []
        cancel_missing = client.post(
            f"/initiatives/{initiative.public_id}/realisations/inconnue/annuler", data={"reason": "x"}, headers=headers
        )
        assert cancel_missing.status_code == 404


def test_cancel_needs_a_reason(app: FastAPI, client: TestClient, factory: Factory, world: World) -> None:
    with time_machine.travel(TODAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        hours = line_of(world, initiative.id, Side.RESIDENTS)
        headers = login(client, factory, app, world.promoter)
        client.post(f"/initiatives/{initiative.public_id}/realisations",
                    data={"line": hours.public_id, "quantity": "1", "delivered_on": "2027-04-11"}, headers=headers)  # fmt: skip
        [row] = realisations(world, initiative.id)
        url = f"/initiatives/{initiative.public_id}/realisations/{row.public_id}/annuler"
        refused = client.post(url, data={"reason": ""}, headers={**headers, **HTMX})
        assert refused.status_code == 422
        assert f'id="fu-cancel-{row.public_id}-reason"' in refused.text
        assert client.post(url, data={"reason": "Doublon"}, headers=headers).status_code == 303
        assert realisations(world, initiative.id)[0].state == RealisationState.CANCELLED


def test_deliver_form(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    url = f"/initiatives/{initiative.public_id}/suivi/bilan"
    factory.login(client, world.promoter)
    refused = post_form(client, url, data={"what_was_done": "", "what_changed": "Beaucoup"})
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    assert "Beaucoup" in refused.text
    done = post_form(client, url, data={"what_was_done": "Les bacs sont posés.", "what_changed": "Un lieu de vie."})
    assert done.status_code == 303
    assert state_of(world.database, initiative.id) == S.DELIVERED
    page = client.get(show(initiative.public_id))
    assert "Bilan de réalisation" in page.text
    assert "Les bacs sont posés." in page.text
    assert client.get(url).status_code == 404  # nothing left to deliver
    with unit_of_work(world.database) as db:
        assert len(db.scalars(select(DeliveryReport)).all()) == 1


def test_neighbours_may_not_post_and_csrf_is_required(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    factory.login(client, world.promoter)
    no_token = client.post(f"/initiatives/{initiative.public_id}/suivi/demarrer")
    assert no_token.status_code == 403
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED
    factory.login(client, factory.account("voisin@example.org"))
    assert client.get(f"/initiatives/{initiative.public_id}/suivi/bilan").status_code == 404
    refused = post_form(client, show(initiative.public_id), f"/initiatives/{initiative.public_id}/suivi/demarrer")
    assert refused.status_code == 403
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED


def test_follow_up_page_and_panel_only_after_the_signature(client: TestClient, factory: Factory, world: World) -> None:
    before = signed(world, state=S.IN_REVIEW)
    factory.login(client, world.promoter)
    assert 'id="followup"' not in client.get(show(before.public_id)).text
    assert client.get(f"/initiatives/{before.public_id}/suivi").status_code == 404
    after = signed(world, title="Signée")
    page = client.get(f"/initiatives/{after.public_id}/suivi")
    assert page.status_code == 200
    assert "<h1>" in page.text
    partial = client.get(f"/initiatives/{after.public_id}/suivi", headers=HTMX)
    assert partial.status_code == 200
    assert "<h1>" not in partial.text
