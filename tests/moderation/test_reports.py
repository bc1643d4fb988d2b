"""Anyone reports public content: anonymous visitors (CSRF through the anonymous form cookie,
rate limited per address) and signed-in people; private content cannot be reported."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db.session import read_only
from app.initiatives.models import InitiativeState
from app.moderation.models import ContentReport, SubjectType
from app.privacy.export import _sections
from tests.catalogue import helpers as c
from tests.factories import Factory, form_fields
from tests.review.conftest import World

S = InitiativeState


def reports(world: World) -> list[ContentReport]:
    with read_only(world.database) as db:
        rows = list(db.scalars(select(ContentReport).order_by(ContentReport.id)))
        for r in rows:
            db.expunge(r)
        return rows


def send(client: TestClient, path: str, **data: str) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    return client.post(path, data={**form_fields(page.text), **data})


def test_an_anonymous_visitor_reports_an_initiative(client: TestClient, world: World) -> None:
    initiative = world.initiative(S.APPROVED, title="Bancs de la place")
    page = client.get(f"/initiatives/{initiative.public_id}")
    assert page.status_code == 200
    link = f"/signaler/initiative/{initiative.public_id}"
    assert f'href="{link}">Signaler ce contenu</a>' in page.text
    assert "set-cookie" not in page.headers  # the public page stays cacheable: the form is elsewhere

    form = client.get(link)
    assert form.status_code == 200
    assert "cailloux_form=" in form.headers["set-cookie"]
    assert "« Bancs de la place »" in form.text
    response = client.post(
        link, data={**form_fields(form.text), "reason": "personal_data", "comment": "Le nom d'un voisin."}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/initiatives/{initiative.public_id}"
    [row] = reports(world)
    assert (row.subject_type, row.subject_id, row.reason) == ("initiative", initiative.public_id, "personal_data")
    assert row.comment == "Le nom d'un voisin."
    assert row.reporter_person_id is None
    assert row.status == "open"
    with read_only(world.database) as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "moderation.report")).one()
        assert (entry.subject_type, entry.subject_id) == ("content_report", row.public_id)
        assert entry.actor_person_id is None
    assert "signalement est transmis" in client.get(response.headers["location"]).text


def test_a_report_needs_the_form_token(client: TestClient, world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    link = f"/signaler/initiative/{initiative.public_id}"
    assert client.post(link, data={"reason": "insult"}).status_code == 403
    client.get(link)  # the cookie alone is not enough either
    assert client.post(link, data={"reason": "insult", "csrf_token": "forged"}).status_code == 403
    cross_site = client.post(
        link, data={**form_fields(client.get(link).text), "reason": "insult"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403
    assert reports(world) == []


def test_anonymous_reports_are_limited_per_address(client: TestClient, world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    link = f"/signaler/initiative/{initiative.public_id}"
    for _n in range(10):
        assert send(client, link, reason="off_topic").status_code == 303
    refused = send(client, link, reason="off_topic")
    assert refused.status_code == 429
    assert len(reports(world)) == 10


def test_signed_in_reports_keep_the_reporter_for_their_own_data_only(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    rita = factory.account("rita@example.org", display_name="Rita Voisine")
    factory.login(client, rita)
    response = send(client, f"/signaler/initiative/{initiative.public_id}", reason="insult")
    assert response.status_code == 303
    [row] = reports(world)
    assert row.reporter_person_id == rita.person_id
    with read_only(world.database) as db:
        person = factory.person(rita)
        exported = _sections["content_reports"](db, person)
    assert exported == [
        {
            "public_id": row.public_id,
            "subject_type": "initiative",
            "subject": initiative.public_id,
            "reason": "insult",
            "comment": "",
            "status": "open",
            "created_at": row.created_at.isoformat(),
        }
    ]
    # The agents' page never names who reported.
    factory.login(client, world.agent)
    page = client.get(f"/moderation/initiative/{initiative.public_id}")
    assert page.status_code == 200
    assert "Rita" not in page.text
    assert "rita@example.org" not in page.text


def test_only_public_content_of_the_town_can_be_reported(client: TestClient, factory: Factory, world: World) -> None:
    draft = world.initiative(S.DRAFT)
    submitted = world.initiative(S.SUBMITTED)
    declined = world.initiative(S.DECLINED)
    other_tid = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    foreign = world.initiative(S.APPROVED, territory_id=other_tid, fund_id=None)
    for initiative in (draft, submitted, declined, foreign):
        assert client.get(f"/signaler/initiative/{initiative.public_id}").status_code == 404
    approved = world.initiative(S.APPROVED)
    assert client.get(f"/signaler/petition/{approved.public_id}").status_code == 404
    assert client.get(f"/signaler/photo/{approved.public_id}").status_code == 404
    # The promoter sees their submitted initiative, but it is not public: nothing to report.
    factory.login(client, world.promoter)
    assert client.get(f"/initiatives/{submitted.public_id}").status_code == 200
    assert "Signaler ce contenu" not in client.get(f"/initiatives/{submitted.public_id}").text
    assert client.get(f"/signaler/initiative/{submitted.public_id}").status_code == 404


def test_the_form_says_what_is_missing(client: TestClient, world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    link = f"/signaler/initiative/{initiative.public_id}"
    missing = send(client, link)
    assert missing.status_code == 422
    assert 'aria-describedby="f-reason-error"' in missing.text
    assert 'aria-invalid="true"' in missing.text
    unexplained = send(client, link, reason="other")
    assert unexplained.status_code == 422
    assert "Dites en quelques mots ce qui pose problème." in unexplained.text
    assert 'value="other" required checked' in unexplained.text
    other_photo = c.photo_of(world, c.with_photo(world, S.APPROVED, title="Avec photo").id)
    wrong_part = send(client, link, reason="insult", element=other_photo.public_id)
    assert wrong_part.status_code == 422
    assert "Choisissez un élément de la liste." in wrong_part.text
    too_long = send(client, link, reason="insult", comment="x" * 2001)
    assert too_long.status_code == 422
    assert reports(world) == []


def test_a_photo_is_reported_from_its_initiative(client: TestClient, world: World) -> None:
    initiative = c.with_photo(world, S.APPROVED, title="Bacs du quartier", alt="Des enfants devant les bacs")
    photo = c.photo_of(world, initiative.id)
    link = f"/signaler/initiative/{initiative.public_id}"
    form = client.get(link).text
    assert "Le texte de l&#39;initiative" in form
    assert f'value="{photo.public_id}"' in form
    assert "« Des enfants devant les bacs »" in form
    response = send(client, link, reason="personal_data", element=photo.public_id)
    assert response.status_code == 303
    [row] = reports(world)
    assert (row.subject_type, row.subject_id) == (SubjectType.PHOTO, photo.public_id)
    # A photo can also be reported at its own address.
    assert client.get(f"/signaler/photo/{photo.public_id}").status_code == 200


def test_a_double_submit_reports_once(client: TestClient, world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    link = f"/signaler/initiative/{initiative.public_id}"
    data = {**form_fields(client.get(link).text), "reason": "insult"}
    assert client.post(link, data=data).status_code == 303
    assert client.post(link, data=data).status_code == 303
    with read_only(world.database) as db:
        assert db.scalar(select(func.count()).select_from(ContentReport)) == 1
