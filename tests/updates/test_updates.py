"""Progress updates: posting (states, rights), the photo consent rule, alt texts, progress %,
edits and deletions (audited), the panel on the initiative page."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.errors import Conflict, Forbidden
from app.db.session import read_only, unit_of_work
from app.initiatives.models import Initiative, InitiativeState
from app.media.models import StoredFile
from app.media.storage import media_store
from app.privacy.export import build_export
from app.updates import service as updates
from tests.factories import Factory, form_fields, post_form
from tests.initiatives import helpers as h
from tests.review.conftest import World, actor
from tests.updates import helpers as u

S = InitiativeState
PRIVATE_MARK = "privée : pas d'accord des personnes visibles"


def _anonymous(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://loos.test", follow_redirects=False)


def _at_work(world: World, client: TestClient, factory: Factory, state: S = S.IN_PROGRESS) -> Initiative:
    initiative = world.initiative(state)
    factory.login(client, world.promoter)
    return initiative


# ---------------------------------------------------------------- posting


def test_promoter_posts_news_with_progress_and_photos(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = _at_work(world, client, factory)
    response = u.post_update(
        client, initiative.public_id, "**Les bacs** sont posés.", "40",
        [u.Photo("no", alt="Les bacs vides"), u.Photo("yes", "yes", alt="L'équipe"), u.Photo("yes", "no", alt="Les enfants")],
    )  # fmt: skip
    assert response.status_code == 303, response.text[:800]
    [update] = u.updates(world.database)
    assert response.headers["location"] == f"/initiatives/{initiative.public_id}#nouvelles-{update.public_id}"
    assert (update.body, update.progress_percent, update.author_person_id) == (
        "**Les bacs** sont posés.", 40, world.promoter.person_id,
    )  # fmt: skip
    shown, agreed, refused = u.photos(world.database)
    assert (shown.identifiable_people, shown.people_agreed, shown.is_public) == (False, None, True)
    assert (agreed.identifiable_people, agreed.people_agreed, agreed.is_public) == (True, True, True)
    assert (refused.identifiable_people, refused.people_agreed, refused.is_public) == (True, False, False)
    assert h.audit_actions(world.database, initiative.public_id)[-1] == "progress_update.post"
    with read_only(world.database) as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "progress_update.post")).one()
        assert [p["public"] for p in entry.data["photos"]] == [True, True, False]

    page = client.get(f"/initiatives/{initiative.public_id}").text
    assert '<progress id="updates-progress" max="100" value="40">40 %</progress>' in page
    assert "<strong>Les bacs</strong> sont posés." in page
    assert 'alt="Les enfants"' in page  # the promoters see the private photo, marked as such
    assert page.count(PRIVATE_MARK) == 1
    assert "Nouvelles du projet publiées" in page  # on the team's timeline


def test_a_photo_without_consent_never_reaches_the_public(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = _at_work(world, client, factory)
    photos = [
        u.Photo("no", alt="Les bacs vides"),
        u.Photo("yes", "yes", alt="L'équipe"),
        u.Photo("yes", "no", alt="Les enfants"),
    ]
    assert u.post_update(client, initiative.public_id, photos=photos).status_code == 303
    [update] = u.updates(world.database)
    shown, agreed, refused = u.photos(world.database)
    pid = initiative.public_id

    with _anonymous(app) as anonymous:
        page = anonymous.get(f"/initiatives/{pid}").text
        assert 'alt="Les bacs vides"' in page
        assert 'alt="L&#39;équipe"' in page
        assert "Les enfants" not in page
        assert refused.public_id not in page
        assert PRIVATE_MARK not in page
        for photo in (shown, agreed):
            served = anonymous.get(u.photo_url(pid, update.public_id, photo.public_id, thumbnail=True))
            assert served.status_code == 200
            assert served.headers["cache-control"].startswith("public")
        for thumbnail in (False, True):
            url = u.photo_url(pid, update.public_id, refused.public_id, thumbnail=thumbnail)
            assert anonymous.get(url).status_code == 404
        assert refused.public_id not in anonymous.get(f"/initiatives/{pid}/avancement").text

    # Another resident of the town sees the public page, not the private photo either.
    neighbour = factory.account("voisin@example.org", display_name="Victor Voisin")
    with _anonymous(app) as other:
        factory.login(other, neighbour)
        assert other.get(u.photo_url(pid, update.public_id, refused.public_id)).status_code == 404
        assert "Les enfants" not in other.get(f"/initiatives/{pid}").text

    # The promoters and the town's staff see it, never from a shared cache.
    served = client.get(u.photo_url(pid, update.public_id, refused.public_id))
    assert served.status_code == 200
    assert "public" not in served.headers["cache-control"]
    assert served.headers["x-content-type-options"] == "nosniff"
    with _anonymous(app) as agent:
        factory.login(agent, world.agent)
        assert agent.get(u.photo_url(pid, update.public_id, refused.public_id, thumbnail=True)).status_code == 200


@pytest.mark.parametrize("state", [S.CONVENTION_SIGNED, S.IN_PROGRESS, S.DELIVERED, S.EVALUATED])
def test_updates_are_posted_after_the_signature(world: World, state: S) -> None:
    initiative = world.initiative(state)
    store = media_store(world.settings)
    with unit_of_work(world.database) as db:
        updates.post_update(
            db, world.promoter_actor, world.territory_id, initiative.public_id, "Du neuf", 10, store=store
        )
    assert len(u.updates(world.database)) == 1


@pytest.mark.parametrize("state", [S.DRAFT, S.IN_REVIEW, S.APPROVED, S.CONVENTION_PROPOSED, S.ABANDONED])
def test_no_updates_before_the_signature_or_once_abandoned(world: World, state: S) -> None:
    initiative = world.initiative(state)
    store = media_store(world.settings)
    with pytest.raises(Conflict), unit_of_work(world.database) as db:
        updates.post_update(
            db, world.promoter_actor, world.territory_id, initiative.public_id, "Du neuf", 10, store=store
        )
    assert u.updates(world.database) == []


def test_the_page_form_is_refused_before_the_signature(client: TestClient, factory: Factory, world: World) -> None:
    initiative = _at_work(world, client, factory, S.APPROVED)
    page = client.get(f"/initiatives/{initiative.public_id}").text
    assert "Publier des nouvelles" not in page
    assert "updates-panel" not in page
    response = client.post(
        f"/initiatives/{initiative.public_id}/avancement", data={**form_fields(page), "body": "Trop tôt"}
    )
    assert response.status_code == 409
    assert u.updates(world.database) == []


def test_who_may_post(
    app: FastAPI, client: TestClient, factory: Factory, world: World, other_client: TestClient
) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    draft = world.initiative(S.DRAFT, title="Brouillon")
    neighbour = factory.account("voisin@example.org")
    factory.login(client, neighbour)
    page = client.get(f"/initiatives/{initiative.public_id}").text
    assert "Publier des nouvelles" not in page
    fields = form_fields(client.get("/").text)
    assert (
        client.post(f"/initiatives/{initiative.public_id}/avancement", data={**fields, "body": "x"}).status_code == 403
    )
    assert client.post(f"/initiatives/{draft.public_id}/avancement", data={**fields, "body": "x"}).status_code == 404
    stranger = factory.account("autre@example.org", territory="autre", roles=("agent",))
    factory.login(other_client, stranger)
    other_fields = form_fields(other_client.get("/").text)
    response = other_client.post(f"/initiatives/{initiative.public_id}/avancement", data={**other_fields, "body": "x"})
    assert response.status_code == 404
    assert u.updates(world.database) == []

    # An agent of the town posts for the project.
    factory.login(client, world.agent)
    assert u.post_update(client, initiative.public_id, "La commune a livré le terreau.").status_code == 303
    assert [x.author_person_id for x in u.updates(world.database)] == [world.agent.person_id]


# ---------------------------------------------------------------- answers, alt texts, progress


def test_unanswered_questions_refuse_the_update(client: TestClient, factory: Factory, world: World) -> None:
    initiative = _at_work(world, client, factory)
    response = u.post_update(client, initiative.public_id, photos=[u.Photo(None)])
    assert response.status_code == 422
    assert 'href="#f-identifiable-1"' in response.text
    assert "Photo 1 : dites si des personnes reconnaissables y apparaissent." in response.text
    assert 'id="f-identifiable-1" name="identifiable-1" value="yes" aria-invalid="true"' in response.text
    assert "choisissez-les à nouveau" in response.text

    response = u.post_update(client, initiative.public_id, photos=[u.Photo("no"), u.Photo("yes", None)])
    assert response.status_code == 422
    assert 'href="#f-agreed-2"' in response.text
    assert "<details open>" in response.text  # the second photo is unfolded to be corrected
    assert u.updates(world.database) == []
    with read_only(world.database) as db:
        assert db.scalars(select(StoredFile)).all() == []


def test_a_refused_image_refuses_the_update(client: TestClient, factory: Factory, world: World) -> None:
    initiative = _at_work(world, client, factory)
    response = u.post_update(client, initiative.public_id, photos=[u.Photo("no"), u.Photo("no", data=b"<svg/>")])
    assert response.status_code == 422
    assert 'href="#f-photo-2"' in response.text
    assert u.updates(world.database) == []
    assert u.photos(world.database) == []


def test_every_photo_has_a_text_alternative(client: TestClient, factory: Factory, world: World) -> None:
    initiative = _at_work(world, client, factory)
    assert (
        u.post_update(client, initiative.public_id, photos=[u.Photo("no"), u.Photo("no", alt="Le banc")]).status_code
        == 303
    )
    first, second = u.photos(world.database)
    assert first.alt_text == "Photo 1 des nouvelles de l'initiative « Jardin partagé rue Lavoisier »"
    assert second.alt_text == "Le banc"
    [update] = u.updates(world.database)
    edit_url = f"/initiatives/{initiative.public_id}/avancement/{update.public_id}/modifier"
    response = post_form(
        client, edit_url,
        data={"body": update.body, f"alt-{first.public_id}": "  ", f"identifiable-{first.public_id}": "no",
              f"alt-{second.public_id}": "Le banc", f"identifiable-{second.public_id}": "no"},
    )  # fmt: skip
    assert response.status_code == 422
    assert f'href="#f-alt-{first.public_id}"' in response.text
    assert f'id="f-alt-{first.public_id}-error"' in response.text
    assert u.photos(world.database)[0].alt_text == first.alt_text


@pytest.mark.parametrize("value", ["101", "-1", "quarante", "12.5"])
def test_progress_is_a_percentage(client: TestClient, factory: Factory, world: World, value: str) -> None:
    initiative = _at_work(world, client, factory)
    response = u.post_update(client, initiative.public_id, progress=value)
    assert response.status_code == 422
    assert 'href="#f-progress"' in response.text
    assert 'id="f-progress" name="progress" type="number"' in response.text
    assert u.updates(world.database) == []


def test_the_progress_is_the_latest_given(client: TestClient, factory: Factory, world: World) -> None:
    initiative = _at_work(world, client, factory)
    assert updates.current_progress is not None
    for body, progress in (("Début", "0"), ("Ça avance", "30"), ("Pas de mesure", ""), ("Presque", "100 %")):
        assert u.post_update(client, initiative.public_id, body, progress).status_code == 303
    assert [x.progress_percent for x in u.updates(world.database)] == [0, 30, None, 100]
    with read_only(world.database) as db:
        assert updates.current_progress(db, db.get_one(Initiative, initiative.id)) == 100
    assert 'value="100">100 %</progress>' in client.get(f"/initiatives/{initiative.public_id}").text


# ---------------------------------------------------------------- editing and deleting


def test_the_author_edits_and_a_photo_becomes_public_with_consent(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = _at_work(world, client, factory)
    assert (
        u.post_update(client, initiative.public_id, "Avant", "20", [u.Photo("yes", "no", alt="La fête")]).status_code
        == 303
    )
    [update] = u.updates(world.database)
    [photo] = u.photos(world.database)
    url = u.photo_url(initiative.public_id, update.public_id, photo.public_id)
    with _anonymous(app) as anonymous:
        assert anonymous.get(url).status_code == 404

    edit_url = f"/initiatives/{initiative.public_id}/avancement/{update.public_id}/modifier"
    page = client.get(edit_url)
    assert page.status_code == 200
    assert f'id="f-agreed-{photo.public_id}-no" name="agreed-{photo.public_id}" value="no" checked' in page.text
    response = post_form(
        client, edit_url,
        data={"body": "Après", "progress": "50", f"alt-{photo.public_id}": "La fête du quartier",
              f"identifiable-{photo.public_id}": "yes", f"agreed-{photo.public_id}": "yes"},
    )  # fmt: skip
    assert response.status_code == 303, response.text[:500]
    [edited] = u.updates(world.database)
    assert (edited.body, edited.progress_percent, edited.edited_at is not None) == ("Après", 50, True)
    [now] = u.photos(world.database)
    assert (now.alt_text, now.people_agreed) == ("La fête du quartier", True)
    with read_only(world.database) as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "progress_update.edit")).one()
        assert entry.actor_person_id == world.promoter.person_id
        assert entry.data["changed"] == ["body", "progress_percent"]
        assert entry.data["photos"] == [
            {"photo": photo.public_id, "identifiable": True, "agreed": True, "public": True, "described": True}
        ]
    with _anonymous(app) as anonymous:
        assert anonymous.get(url).status_code == 200
        assert 'alt="La fête du quartier"' in anonymous.get(f"/initiatives/{initiative.public_id}").text

    # Saving the same form again changes nothing and writes nothing.
    post_form(
        client, edit_url,
        data={"body": "Après", "progress": "50", f"alt-{photo.public_id}": "La fête du quartier",
              f"identifiable-{photo.public_id}": "yes", f"agreed-{photo.public_id}": "yes"},
    )  # fmt: skip
    assert h.audit_actions(world.database, initiative.public_id).count("progress_update.edit") == 1


def test_only_the_author_or_staff_change_an_update(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = _at_work(world, client, factory)
    assert u.post_update(client, initiative.public_id, "De la promotrice").status_code == 303
    [update] = u.updates(world.database)
    co = factory.account("co@example.org", display_name="Colin Coporteur")
    u.add_member(world.database, initiative, co)
    edit_url = f"/initiatives/{initiative.public_id}/avancement/{update.public_id}/modifier"
    delete_url = f"/initiatives/{initiative.public_id}/avancement/{update.public_id}/supprimer"
    with _anonymous(app) as other:
        factory.login(other, co)
        assert "Modifier les nouvelles du" not in other.get(f"/initiatives/{initiative.public_id}").text
        assert other.get(edit_url).status_code == 403
        fields = form_fields(other.get("/").text)
        assert other.post(edit_url, data={**fields, "body": "Piraté"}).status_code == 403
        assert other.post(delete_url, data=fields).status_code == 403
    assert u.updates(world.database)[0].body == "De la promotrice"

    # The town's staff may (a photo must always be removable).
    with _anonymous(app) as agent:
        factory.login(agent, world.agent)
        assert post_form(agent, edit_url, data={"body": "Corrigé par la commune"}).status_code == 303
    assert u.updates(world.database)[0].body == "Corrigé par la commune"


def test_deleting_an_update_removes_its_photos_and_files(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = _at_work(world, client, factory)
    assert u.post_update(client, initiative.public_id, "À retirer", photos=[u.Photo("no")]).status_code == 303
    [update] = u.updates(world.database)
    [photo] = u.photos(world.database)
    store = media_store(world.settings)
    with read_only(world.database) as db:
        keys = list(db.scalars(select(StoredFile.storage_key)))
    assert len(keys) == 2
    assert all(store.exists(k) for k in keys)

    factory.login(client, world.agent)
    response = post_form(
        client, f"/initiatives/{initiative.public_id}",
        action=f"/initiatives/{initiative.public_id}/avancement/{update.public_id}/supprimer",
    )  # fmt: skip
    assert response.status_code == 303
    assert u.updates(world.database) == []
    assert u.photos(world.database) == []
    assert not any(store.exists(k) for k in keys)
    with read_only(world.database) as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "progress_update.delete")).one()
        assert entry.actor_person_id == world.agent.person_id
        assert entry.data == {"update": update.public_id, "photos": [photo.public_id]}
    assert client.get(u.photo_url(initiative.public_id, update.public_id, photo.public_id)).status_code == 404


def test_service_refuses_an_outsider(world: World, factory: Factory) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    outsider = factory.account("dehors@example.org")
    store = media_store(world.settings)
    with pytest.raises(Forbidden), unit_of_work(world.database) as db:
        updates.post_update(db, actor(outsider), world.territory_id, initiative.public_id, "x", None, store=store)


# ---------------------------------------------------------------- HTMX and personal data


def test_htmx_post_renders_the_panel(client: TestClient, factory: Factory, world: World) -> None:
    initiative = _at_work(world, client, factory)
    hx = {"HX-Request": "true"}
    response = u.post_update(client, initiative.public_id, "Par HTMX", "15", headers=hx)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="updates-panel"')
    assert "Vos nouvelles sont publiées." in response.text
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text
    refused = u.post_update(client, initiative.public_id, "", "15", headers=hx)
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<section id="updates-panel"')
    assert 'href="#f-body"' in refused.text


def test_the_export_holds_the_authors_updates(client: TestClient, factory: Factory, world: World) -> None:
    initiative = _at_work(world, client, factory)
    assert (
        u.post_update(client, initiative.public_id, "À moi", "5", [u.Photo("yes", "no", alt="Nous")]).status_code == 303
    )
    with read_only(world.database) as db:
        data = build_export(db, world.promoter_actor)
    [entry] = data["progress_updates"]
    assert (entry["initiative"], entry["body"], entry["progress_percent"]) == (initiative.public_id, "À moi", 5)
    assert entry["photos"][0] | {"public_id": ""} == {
        "public_id": "", "alt_text": "Nous", "identifiable_people": True, "people_agreed": False, "public": False,
    }  # fmt: skip
    # The photo is one uploaded file: its thumbnail is a copy Cailloux made, not an upload.
    assert len(data["uploaded_files"]) == 1
