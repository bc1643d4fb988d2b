"""Progress updates and their photos are public content: anyone reports them, agents hide or
restore them with a reason (audited on the initiative); hidden ones are gone for the public and
stay visible, marked, to the team and the staff. Private photos cannot be reported."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.api import updates as updates_api
from app.audit.models import AuditEntry
from app.db.session import read_only
from app.initiatives.models import Initiative, InitiativeState
from app.moderation.models import ContentReport, HiddenContent
from app.updates import service as updates
from app.updates.models import ProgressUpdate, ProgressUpdatePhoto
from tests.factories import Factory, form_fields
from tests.review.conftest import World
from tests.updates import helpers as u

S = InitiativeState
BODY = "Le voisin du 12 est un incapable."


def _anonymous(app: FastAPI, host: str = "loos.test") -> TestClient:
    return TestClient(app, base_url=f"http://{host}", follow_redirects=False)


def _posted(
    world: World, client: TestClient, factory: Factory, progress: str = ""
) -> tuple[Initiative, ProgressUpdate, ProgressUpdatePhoto, ProgressUpdatePhoto]:
    """An initiative at work with one update: a public photo and a photo without the people's agreement."""
    initiative = world.initiative(S.IN_PROGRESS, title="Jardin partagé")
    factory.login(client, world.promoter)
    photos = [u.Photo("no", alt="Les bacs vides"), u.Photo("yes", "no", alt="Les enfants")]
    response = u.post_update(client, initiative.public_id, BODY, progress, photos)
    assert response.status_code == 303, response.text[:500]
    client.cookies.clear()
    [update] = u.updates(world.database)
    shown, private = u.photos(world.database)
    return initiative, update, shown, private


def _report(client: TestClient, subject: str, reason: str = "insult", **extra: str) -> Any:
    link = f"/signaler/{subject}"
    form = client.get(link)
    assert form.status_code == 200, form.text[:300]
    return client.post(link, data={**form_fields(form.text), "reason": reason, **extra})


def _decide(client: TestClient, subject: str, action: str, **data: str) -> Any:
    page = client.get(f"/moderation/{subject}")
    assert page.status_code == 200, page.text[:300]
    return client.post(f"/moderation/{subject}/{action}", data={**form_fields(page.text), **data})


def _reports(world: World) -> list[ContentReport]:
    with read_only(world.database) as db:
        rows = list(db.scalars(select(ContentReport).order_by(ContentReport.id)))
        for r in rows:
            db.expunge(r)
        return rows


def _audit(world: World, action: str) -> list[AuditEntry]:
    with read_only(world.database) as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for r in rows:
            db.expunge(r)
        return rows


def test_anyone_reports_an_update_or_its_public_photos(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative, update, shown, private = _posted(world, client, factory)
    pid = initiative.public_id
    page = client.get(f"/initiatives/{pid}").text
    assert f'href="/signaler/progress_update/{update.public_id}">Signaler les nouvelles du ' in page
    assert (
        f'href="/signaler/progress_update_photo/{shown.public_id}" aria-label="Signaler la photo 1 des nouvelles du '
        in page
    )
    assert private.public_id not in page
    assert "set-cookie" not in client.get(f"/initiatives/{pid}").headers  # still cacheable

    # An anonymous visitor reports the text; back to the initiative's page.
    form = client.get(f"/signaler/progress_update/{update.public_id}")
    assert "Nouvelles du " in form.text
    assert "de l&#39;initiative « Jardin partagé »" in form.text
    sent = _report(client, f"progress_update/{update.public_id}", "insult")
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/initiatives/{pid}"
    # A signed-in neighbour reports the public photo.
    neighbour = factory.account("voisin@example.org", display_name="Victor Voisin")
    with _anonymous(app) as other:
        factory.login(other, neighbour)
        assert "Signaler les nouvelles du " in other.get(f"/initiatives/{pid}").text
        assert _report(other, f"progress_update_photo/{shown.public_id}", "personal_data").status_code == 303
    first, second = _reports(world)
    assert (first.subject_type, first.subject_id, first.reporter_person_id) == (
        "progress_update", update.public_id, None,
    )  # fmt: skip
    assert (second.subject_type, second.subject_id, second.reporter_person_id) == (
        "progress_update_photo", shown.public_id, neighbour.person_id,
    )  # fmt: skip

    # The photo without the agreement of the people it shows is never public: nothing to report.
    assert client.get(f"/signaler/progress_update_photo/{private.public_id}").status_code == 404
    fields = form_fields(client.get(f"/signaler/progress_update/{update.public_id}").text)
    refused = client.post(f"/signaler/progress_update_photo/{private.public_id}", data={**fields, "reason": "insult"})
    assert refused.status_code == 404
    assert len(_reports(world)) == 2

    # The team is not offered to report its own news; the staff moderate them instead.
    factory.login(client, world.promoter)
    mine = client.get(f"/initiatives/{pid}").text
    assert "Signaler les nouvelles" not in mine
    assert "Signaler la photo" not in mine
    assert "Modérer les nouvelles" not in mine
    factory.login(client, world.agent)
    theirs = client.get(f"/initiatives/{pid}").text
    assert "Signaler les nouvelles" not in theirs
    assert f'href="/moderation/progress_update/{update.public_id}">Modérer les nouvelles du ' in theirs
    queue = client.get("/moderation").text
    assert "2 contenus signalés" in queue
    assert f'href="/moderation/progress_update/{update.public_id}">Nouvelles du ' in queue
    assert (
        f'href="/moderation/progress_update_photo/{shown.public_id}">Photo « Les bacs vides » des nouvelles du '
        in queue
    )


def test_another_towns_update_is_unknown(app: FastAPI, client: TestClient, factory: Factory, world: World) -> None:
    _initiative, update, shown, _private = _posted(world, client, factory)
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    elsewhere = factory.account("agent@autre.example.org", territory="autre", roles=("agent",))
    with _anonymous(app, "autre.test") as other:
        assert other.get(f"/signaler/progress_update/{update.public_id}").status_code == 404
        assert other.get(f"/signaler/progress_update_photo/{shown.public_id}").status_code == 404
        factory.login(other, elsewhere)
        assert other.get(f"/moderation/progress_update/{update.public_id}").status_code == 404
        page = other.get("/moderation")
        refused = other.post(
            f"/moderation/progress_update/{update.public_id}/masquer", data={**form_fields(page.text), "reason": "x"}
        )
        assert refused.status_code == 404
    assert _reports(world) == []
    with read_only(world.database) as db:
        assert db.scalars(select(HiddenContent)).all() == []


def test_a_hidden_update_is_gone_for_the_public_and_marked_for_its_team(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative, update, shown, _private = _posted(world, client, factory, progress="40")
    pid = initiative.public_id
    thumbnail = u.photo_url(pid, update.public_id, shown.public_id, thumbnail=True)
    assert client.get(thumbnail).headers["cache-control"].startswith("public")
    assert _report(client, f"progress_update/{update.public_id}").status_code == 303

    factory.login(client, world.agent)
    subject = f"progress_update/{update.public_id}"
    assert BODY in client.get(f"/moderation/{subject}").text  # the agents read what they judge
    assert _decide(client, subject, "masquer", reason="  ").status_code == 422
    done = _decide(client, subject, "masquer", reason="Propos injurieux envers un voisin.")
    assert done.status_code == 303
    [entry] = _audit(world, "moderation.hide")
    assert (entry.subject_type, entry.subject_id, entry.reason) == (
        "initiative",
        pid,
        "Propos injurieux envers un voisin.",
    )
    assert entry.data == {"subject_type": "progress_update", "subject": update.public_id, "reports": 1}
    [row] = _reports(world)
    assert (row.status, row.outcome) == ("handled", "hidden")

    # The public: not on the initiative's page, the updates page, the progress bar, the files, the service (API).
    client.cookies.clear()
    page = client.get(f"/initiatives/{pid}").text
    assert "Jardin partagé" in page
    assert update.public_id not in page
    assert "incapable" not in page
    assert "updates-progress" not in page
    assert update.public_id not in client.get(f"/initiatives/{pid}/avancement").text
    assert client.get(thumbnail).status_code == 404
    assert client.get(f"/signaler/{subject}").status_code == 404
    assert client.get(f"/signaler/progress_update_photo/{shown.public_id}").status_code == 404
    with read_only(world.database) as db:
        assert updates.panel(db, None, world.territory_id, pid).updates == []
        assert updates.current_progress(db, db.get_one(Initiative, initiative.id)) is None

    # Its team sees it, marked, with the reason, and the step on the timeline.
    factory.login(client, world.promoter)
    mine = client.get(f"/initiatives/{pid}").text
    assert "incapable" in mine
    assert "masquées au public" in mine
    assert "Propos injurieux envers un voisin." in mine
    assert "Contenu masqué au public par la commune" in mine
    served = client.get(thumbnail)
    assert served.status_code == 200
    assert "public" not in served.headers["cache-control"]
    assert "incapable" in client.get(f"/initiatives/{pid}/avancement").text
    with read_only(world.database) as db:
        (listed,) = updates_api.updates_out(db, world.promoter_actor, world.territory_id, pid).updates  # type: ignore[arg-type]
    assert listed.hidden is not None
    assert listed.hidden.reason == "Propos injurieux envers un voisin."

    # Restored with a reason: public again, reportable again, audited on the initiative.
    factory.login(client, world.agent)
    assert _decide(client, subject, "retablir").status_code == 422
    assert _decide(client, subject, "retablir", reason="Texte corrigé par l'équipe.").status_code == 303
    [restored] = _audit(world, "moderation.restore")
    assert (restored.subject_type, restored.subject_id, restored.reason) == (
        "initiative",
        pid,
        "Texte corrigé par l'équipe.",
    )
    client.cookies.clear()
    page = client.get(f"/initiatives/{pid}").text
    assert "incapable" in page
    assert f'href="/signaler/{subject}">Signaler les nouvelles du ' in page
    assert 'value="40"' in page
    assert client.get(thumbnail).status_code == 200


def test_a_hidden_photo_of_an_update_is_gone_for_the_public(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative, update, shown, _private = _posted(world, client, factory)
    pid = initiative.public_id
    thumbnail = u.photo_url(pid, update.public_id, shown.public_id, thumbnail=True)
    factory.login(client, world.agent)
    subject = f"progress_update_photo/{shown.public_id}"
    assert (
        f'href="/moderation/{subject}" aria-label="Modérer la photo 1 des nouvelles du '
        in client.get(f"/initiatives/{pid}").text
    )
    assert _decide(client, subject, "masquer", reason="Plaque d'immatriculation lisible").status_code == 303
    [entry] = _audit(world, "moderation.hide")
    assert (entry.subject_type, entry.subject_id) == ("initiative", pid)
    assert entry.data["subject_type"] == "progress_update_photo"

    client.cookies.clear()
    page = client.get(f"/initiatives/{pid}").text
    assert "incapable" in page  # the update itself stays
    assert shown.public_id not in page
    assert client.get(thumbnail).status_code == 404
    assert client.get(f"/signaler/{subject}").status_code == 404

    factory.login(client, world.promoter)
    mine = client.get(f"/initiatives/{pid}").text
    assert shown.public_id in mine
    assert "masquée au public" in mine
    assert "Plaque d&#39;immatriculation lisible" in mine
    assert client.get(thumbnail).status_code == 200
