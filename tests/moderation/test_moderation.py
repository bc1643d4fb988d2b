"""Agents hide, restore, or keep reported content, with a written reason, audited; hidden content
is gone for the public (page, catalogue, search, map, photos) and stays visible to its team and
the staff."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db.session import read_only
from app.initiatives.models import InitiativeState
from app.initiatives.search import similar
from app.moderation.models import ContentReport, HiddenContent
from tests.catalogue import helpers as c
from tests.factories import Factory, form_fields
from tests.review.conftest import World

S = InitiativeState


def audit(world: World, action: str) -> list[AuditEntry]:
    with read_only(world.database) as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for r in rows:
            db.expunge(r)
        return rows


def hidden_rows(world: World) -> list[tuple[str, str, str]]:
    with read_only(world.database) as db:
        return [(h.subject_type, h.subject_id, h.reason) for h in db.scalars(select(HiddenContent))]


def report(client: TestClient, public_id: str, reason: str = "insult", **extra: str) -> None:
    link = f"/signaler/initiative/{public_id}"
    response = client.post(link, data={**form_fields(client.get(link).text), "reason": reason, **extra})
    assert response.status_code == 303


def decide(client: TestClient, subject: str, action: str, **data: str) -> Any:
    page = client.get(f"/moderation/{subject}")
    assert page.status_code == 200, page.text[:300]
    return client.post(f"/moderation/{subject}/{action}", data={**form_fields(page.text), **data})


def test_the_queue_is_for_the_towns_staff(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.APPROVED, title="Bancs de la place")
    report(client, initiative.public_id, "off_topic")
    report(client, initiative.public_id, "insult")
    assert client.get("/moderation").status_code == 303  # to the login page
    factory.login(client, world.promoter)
    assert client.get("/moderation").status_code == 403
    assert client.get(f"/moderation/initiative/{initiative.public_id}").status_code == 403
    factory.login(client, world.agent)
    queue = client.get("/moderation")
    assert queue.status_code == 200
    assert "1 contenu signalé" in queue.text
    assert f'href="/moderation/initiative/{initiative.public_id}">« Bancs de la place »</a>' in queue.text
    assert "<td>2</td>" in queue.text
    assert 'href="/moderation">Modération</a>' in queue.text  # in the staff's navigation
    # Staff of another town see nothing of it.
    other_tid = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    elsewhere = factory.account("agent@autre.example.org", territory="autre", roles=("agent",))
    with TestClient(client.app, base_url="http://autre.test", follow_redirects=False) as other:
        factory.login(other, elsewhere)
        assert "Bancs de la place" not in other.get("/moderation").text
        assert other.get(f"/moderation/initiative/{initiative.public_id}").status_code == 404
        page = other.get("/moderation")
        refused = other.post(
            f"/moderation/initiative/{initiative.public_id}/masquer", data={**form_fields(page.text), "reason": "x"}
        )
        assert refused.status_code == 404
    assert other_tid
    assert hidden_rows(world) == []


def test_hiding_an_initiative_takes_it_away_from_the_public(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_PROGRESS, title="Kiosque du square")
    c.place(world, initiative.id)
    report(client, initiative.public_id, "personal_data", comment="Adresse d'un voisin")
    public_id = initiative.public_id
    factory.login(client, world.agent)
    refused = decide(client, f"initiative/{public_id}", "masquer", reason="  ")
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    assert hidden_rows(world) == []

    done = decide(client, f"initiative/{public_id}", "masquer", reason="Le texte donne l'adresse d'un voisin.")
    assert done.status_code == 303
    assert hidden_rows(world) == [("initiative", public_id, "Le texte donne l'adresse d'un voisin.")]
    [entry] = audit(world, "moderation.hide")
    assert (entry.subject_type, entry.subject_id, entry.actor_person_id) == (
        "initiative",
        public_id,
        world.agent.person_id,
    )
    assert entry.reason == "Le texte donne l'adresse d'un voisin."
    assert entry.data == {"subject_type": "initiative", "subject": public_id, "reports": 1}
    with read_only(world.database) as db:
        [row] = db.scalars(select(ContentReport)).all()
        assert (row.status, row.outcome) == ("handled", "hidden")

    # Staff still see it everywhere, marked.
    assert client.get(f"/initiatives/{public_id}").status_code == 200
    assert "masquée au public" in client.get("/initiatives").text
    # The public: page 404, not in the catalogue, the search, the map, nor reportable.
    client.cookies.clear()
    assert client.get(f"/initiatives/{public_id}").status_code == 404
    assert "Kiosque du square" not in client.get("/initiatives").text
    assert "Kiosque du square" not in client.get("/initiatives", params={"q": "kiosque"}).text
    assert "Kiosque du square" not in client.get("/initiatives/carte").text
    assert client.get(f"/signaler/initiative/{public_id}").status_code == 404
    with read_only(world.database) as db:
        assert similar(db, world.territory_id, "kiosque square") == []
        assert [s.public_id for s in similar(db, world.territory_id, "kiosque square", viewer=world.agent_actor)] == [
            public_id
        ]
    # Its team sees it, with the reason, and the step on its timeline.
    factory.login(client, world.promoter)
    page = client.get(f"/initiatives/{public_id}")
    assert page.status_code == 200
    assert "La commune a masqué cette initiative au public" in page.text
    assert "Le texte donne l&#39;adresse d&#39;un voisin." in page.text
    assert "Contenu masqué au public par la commune" in page.text
    assert "Signaler ce contenu" not in page.text


def test_restoring_needs_a_reason_and_shows_it_again(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.APPROVED, title="Bancs de la place")
    c.hide(world, "initiative", initiative.public_id)
    subject = f"initiative/{initiative.public_id}"
    factory.login(client, world.agent)
    page = client.get(f"/moderation/{subject}")
    assert "Rétablir ce contenu" in page.text
    assert "Masquer ce contenu" not in page.text
    assert decide(client, subject, "retablir").status_code == 422
    assert len(hidden_rows(world)) == 1
    assert decide(client, subject, "retablir", reason="Le texte a été corrigé.").status_code == 303
    assert hidden_rows(world) == []
    [entry] = audit(world, "moderation.restore")
    assert (entry.subject_id, entry.reason) == (initiative.public_id, "Le texte a été corrigé.")
    client.cookies.clear()
    assert client.get(f"/initiatives/{initiative.public_id}").status_code == 200
    assert "Bancs de la place" in client.get("/initiatives").text


def test_illegal_or_repeated_decisions_change_nothing(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    subject = f"initiative/{initiative.public_id}"
    factory.login(client, world.agent)
    page = client.get(f"/moderation/{subject}")
    data = {**form_fields(page.text), "reason": "Hors sujet"}
    assert client.post(f"/moderation/{subject}/masquer", data=data).status_code == 303
    assert client.post(f"/moderation/{subject}/masquer", data=data).status_code == 303  # same form: replayed
    assert len(audit(world, "moderation.hide")) == 1
    fresh = {**form_fields(client.get(f"/moderation/{subject}").text), "reason": "Encore"}
    conflict = client.post(f"/moderation/{subject}/masquer", data=fresh)
    assert conflict.status_code == 409
    assert "Ce contenu est déjà masqué." in conflict.text
    assert len(audit(world, "moderation.hide")) == 1
    # Nothing to keep or restore on content that was never reported or hidden.
    other = world.initiative(S.APPROVED, title="Autre")
    assert decide(client, f"initiative/{other.public_id}", "classer").status_code == 409
    assert decide(client, f"initiative/{other.public_id}", "retablir", reason="?").status_code == 409
    assert audit(world, "moderation.dismiss") == []
    assert audit(world, "moderation.restore") == []
    assert client.get("/moderation/petition/xyz").status_code == 404


def test_keeping_content_closes_its_reports(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.APPROVED, title="Bancs de la place")
    report(client, initiative.public_id, "off_topic")
    factory.login(client, world.agent)
    assert "1 signalement en attente" in client.get(f"/initiatives/{initiative.public_id}").text
    done = decide(client, f"initiative/{initiative.public_id}", "classer")
    assert done.status_code == 303
    with read_only(world.database) as db:
        [row] = db.scalars(select(ContentReport)).all()
        assert (row.status, row.outcome) == ("handled", "kept")
    [entry] = audit(world, "moderation.dismiss")
    assert entry.data["reports"] == 1
    assert "Aucun signalement n'attend de réponse." in client.get("/moderation").text
    assert hidden_rows(world) == []
    client.cookies.clear()
    assert client.get(f"/initiatives/{initiative.public_id}").status_code == 200


def test_a_hidden_photo_is_neither_listed_nor_served_to_the_public(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = c.with_photo(world, S.APPROVED, title="Bacs du quartier", alt="Des enfants devant les bacs")
    photo = c.photo_of(world, initiative.id)
    full = f"/initiatives/{initiative.public_id}/photos/{photo.public_id}"
    thumbnail = full + "/miniature"
    assert client.get(thumbnail).headers["cache-control"] == "public, max-age=600"
    factory.login(client, world.agent)
    assert decide(client, f"photo/{photo.public_id}", "masquer", reason="Visages d'enfants").status_code == 303
    [entry] = audit(world, "moderation.hide")
    assert (entry.subject_type, entry.subject_id) == ("initiative", initiative.public_id)
    assert entry.data["subject_type"] == "photo"
    # The staff still get it, never from a shared cache.
    served = client.get(thumbnail)
    assert served.status_code == 200
    assert "public" not in served.headers["cache-control"]
    client.cookies.clear()
    assert client.get(full).status_code == 404
    assert client.get(thumbnail).status_code == 404
    page = client.get(f"/initiatives/{initiative.public_id}").text
    assert photo.public_id not in page
    assert photo.public_id not in client.get("/initiatives").text
    assert photo.public_id not in client.get(f"/signaler/initiative/{initiative.public_id}").text
    # Its team is told which photo is hidden and why.
    factory.login(client, world.promoter)
    mine = client.get(f"/initiatives/{initiative.public_id}").text
    assert "Une photo est masquée au public" in mine
    assert "Visages d&#39;enfants" in mine
    assert client.get(thumbnail).status_code == 200
