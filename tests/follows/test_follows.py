"""Following an initiative: idempotent follow/unfollow, implicit promoters, the public count, and
the followers told of new updates and of the steps after the signature (per their preferences,
never of their own action)."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Person
from app.audit.models import AuditEntry
from app.core.actor import SYSTEM
from app.db.session import read_only, unit_of_work
from app.follows import service as follows
from app.follows.models import InitiativeFollow
from app.initiatives.models import Initiative, InitiativeState
from app.initiatives.workflow import Action
from app.notifications.kinds import FOLLOWED_INITIATIVES
from app.privacy.erasure import erase_person
from app.privacy.export import build_export
from app.review import service as review
from tests.factories import Factory, form_fields, post_form
from tests.review.conftest import World, actor
from tests.updates import helpers as u

S = InitiativeState
KIND = FOLLOWED_INITIATIVES.key


def _rows(world: World) -> list[tuple[int, int]]:
    with read_only(world.database) as db:
        return [(r.initiative_id, r.person_id) for r in db.scalars(select(InitiativeFollow))]


def _audit(world: World, action: str) -> int:
    with read_only(world.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def _followers(world: World, initiative: Initiative) -> list[int]:
    with read_only(world.database) as db:
        return follows.followers_of(db, db.get_one(Initiative, initiative.id))


def test_follow_and_unfollow_are_idempotent(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    resident = factory.account("habitante@example.org", display_name="Hélène Habitante")
    factory.login(client, resident)
    page = f"/initiatives/{initiative.public_id}"
    assert "1 personne suit cette initiative." in client.get(page).text  # its promoter

    first = post_form(client, page, f"{page}/suivre")
    assert first.status_code == 303
    assert first.headers["location"] == page
    again = client.post(f"{page}/suivre", data=form_fields(client.get(page).text))
    assert again.status_code == 303
    assert _rows(world) == [(initiative.id, resident.person_id)]
    shown = client.get(page).text
    assert "2 personnes suivent cette initiative." in shown
    assert "Ne plus suivre" in shown

    for _ in range(2):
        assert client.post(f"{page}/ne-plus-suivre", data=form_fields(client.get(page).text)).status_code == 303
    assert _rows(world) == []
    assert (_audit(world, "follow.follow"), _audit(world, "follow.unfollow")) == (1, 1)


def test_htmx_follow_swaps_the_box(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    factory.login(client, factory.account("habitante@example.org"))
    page = f"/initiatives/{initiative.public_id}"
    response = client.post(f"{page}/suivre", data=form_fields(client.get(page).text), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="follow-box"')
    assert "Vous suivez cette initiative : vous recevrez ses nouvelles." in response.text
    assert f'hx-post="{page}/ne-plus-suivre"' in response.text


def test_promoters_follow_implicitly(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    resident = factory.account("habitante@example.org")
    u.follow(world.database, initiative, resident)
    assert _followers(world, initiative) == sorted([world.promoter.person_id, resident.person_id])
    factory.login(client, world.promoter)
    page = f"/initiatives/{initiative.public_id}"
    text = client.get(page).text
    assert "Vous la portez" in text
    assert f'action="{page}/suivre"' not in text
    response = client.post(f"{page}/ne-plus-suivre", data=form_fields(text))
    assert response.status_code == 303
    assert _followers(world, initiative) == sorted([world.promoter.person_id, resident.person_id])


def test_the_count_is_public_the_followers_are_not(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    for n, name in enumerate(("Sophie Suiveuse", "Samir Suiveur")):
        u.follow(world.database, initiative, factory.account(f"s{n}@example.org", display_name=name))
    with TestClient(app, base_url="http://loos.test", follow_redirects=False) as anonymous:
        page = anonymous.get(f"/initiatives/{initiative.public_id}").text
    assert "3 personnes suivent cette initiative." in page
    assert "Suiveuse" not in page
    assert "Samir" not in page
    assert "Connectez-vous pour suivre cette initiative" in page


def test_nobody_follows_what_they_cannot_see(
    client: TestClient, factory: Factory, world: World, other_client: TestClient
) -> None:
    draft = world.initiative(S.DRAFT)
    public = world.initiative(S.IN_PROGRESS, title="Public")
    factory.login(client, factory.account("habitante@example.org"))
    fields = form_fields(client.get("/").text)
    assert client.post(f"/initiatives/{draft.public_id}/suivre", data=fields).status_code == 404
    stranger = factory.account("autre@example.org", territory="autre")
    factory.login(other_client, stranger)
    other_fields = form_fields(other_client.get("/").text)
    assert other_client.post(f"/initiatives/{public.public_id}/suivre", data=other_fields).status_code == 404
    assert _rows(world) == []


def test_my_follows_page(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_PROGRESS, title="Les bacs de la rue Lavoisier")
    resident = factory.account("habitante@example.org")
    factory.login(client, resident)
    empty = client.get("/mes-initiatives/suivies")
    assert "Vous ne suivez encore aucune initiative." in empty.text
    assert 'href="/mes-initiatives/suivies"' in client.get("/mes-initiatives").text
    u.follow(world.database, initiative, resident)
    page = client.get("/mes-initiatives/suivies")
    assert "Les bacs de la rue Lavoisier" in page.text
    response = client.post(
        f"/initiatives/{initiative.public_id}/ne-plus-suivre",
        data={**form_fields(page.text), "next": "/mes-initiatives/suivies"},
    )
    assert response.headers["location"] == "/mes-initiatives/suivies"
    assert _rows(world) == []


# ---------------------------------------------------------------- telling followers


def test_followers_hear_of_a_new_update_per_their_preferences(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    mailed = factory.account("mail@example.org", display_name="Marie Mail")
    quiet = factory.account("calme@example.org", display_name="Claude Calme")
    co = factory.account("co@example.org", display_name="Colin Coporteur")
    outsider = factory.account("dehors@example.org")
    u.add_member(world.database, initiative, co)
    for account in (mailed, quiet):
        u.follow(world.database, initiative, account)
    u.set_frequency(world.database, quiet.person_id, KIND, "never")
    before = {a.email: len(factory.outbox(to=a.email)) for a in (mailed, quiet, co, world.promoter)}

    factory.login(client, world.promoter)
    assert u.post_update(client, initiative.public_id, "Les bacs sont posés.", "40").status_code == 303

    for account in (mailed, quiet, co):
        [note] = u.notifications(world.database, account.person_id)
        assert note.kind == KIND
        assert note.subject == "Nouvelles de « Jardin partagé rue Lavoisier »"
        assert "Les bacs sont posés." in note.body
        assert "Avancement : 40 %" in note.body
        assert note.link.startswith(f"/initiatives/{initiative.public_id}#nouvelles-")
    assert len(factory.outbox(to=mailed.email)) == before[mailed.email] + 1
    assert len(factory.outbox(to=co.email)) == before[co.email] + 1
    # E-mails off: the notification waits in the person's space, no e-mail goes out.
    assert len(factory.outbox(to=quiet.email)) == before[quiet.email]
    assert u.notifications(world.database, quiet.person_id)[0].frequency == "never"
    # The author is not told of their own update; someone who does not follow is not told.
    assert u.notifications(world.database, world.promoter.person_id) == []
    assert len(factory.outbox(to=world.promoter.email)) == before[world.promoter.email]
    assert u.notifications(world.database, outsider.person_id) == []


def test_followers_hear_of_the_steps_after_signature(world: World, factory: Factory) -> None:
    initiative = world.initiative(S.CONVENTION_SIGNED)
    resident = factory.account("habitante@example.org")
    u.follow(world.database, initiative, resident)
    u.follow(world.database, initiative, world.agent)  # the agent follows, and will act
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        review.move(db, world.promoter_actor, row, S.IN_PROGRESS, Action.START_WORK)
    [started] = u.notifications(world.database, resident.person_id)
    assert (started.kind, started.subject) == (KIND, "Les travaux de « Jardin partagé rue Lavoisier » commencent")
    assert started.link == f"/initiatives/{initiative.public_id}"
    assert len(u.notifications(world.database, world.agent.person_id)) == 1
    # The promoter acted: no notice to them from the follow hook.
    assert u.notifications(world.database, world.promoter.person_id) == []

    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        review.move(db, world.agent_actor, row, S.DELIVERED, Action.DELIVER)
    assert [n.subject for n in u.notifications(world.database, resident.person_id)][-1] == (
        "« Jardin partagé rue Lavoisier » est réalisée"
    )
    assert len(u.notifications(world.database, world.agent.person_id)) == 1  # not told of their own step


def test_abandoning_tells_followers_once_and_promoters_once(world: World, factory: Factory) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    resident = factory.account("habitante@example.org")
    u.follow(world.database, initiative, resident)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        review.abandon(db, world.agent_actor, row, "Le terrain est vendu.", settings=world.settings)
    [notice] = u.notifications(world.database, resident.person_id)
    assert (notice.kind, notice.subject) == (KIND, "L'initiative « Jardin partagé rue Lavoisier » est abandonnée")
    assert "terrain" not in notice.body  # the reason is for the promoters
    [told] = u.notifications(world.database, world.promoter.person_id)
    assert told.kind == "initiatives"
    assert u.notifications(world.database, world.agent.person_id) == []


@pytest.mark.parametrize("target", [S.SUBMITTED, S.APPROVED, S.CONVENTION_SIGNED])
def test_earlier_steps_are_not_told_to_followers(world: World, factory: Factory, target: S) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    resident = factory.account("habitante@example.org")
    u.follow(world.database, initiative, resident)
    system = dataclasses.replace(SYSTEM, territory_id=world.territory_id)
    with unit_of_work(world.database) as db:
        assert follows.tell_state_change(db, system, db.get_one(Initiative, initiative.id), target) == []
    assert u.notifications(world.database, resident.person_id) == []


def test_followers_of_leaves_out_erased_people_and_erasure_drops_follows(world: World, factory: Factory) -> None:
    initiative = world.initiative(S.IN_PROGRESS)
    resident = factory.account("habitante@example.org")
    u.follow(world.database, initiative, resident)
    with read_only(world.database) as db:
        data = build_export(db, actor(resident))
    assert [f["initiative"] for f in data["followed_initiatives"]] == [initiative.public_id]
    with unit_of_work(world.database) as db:
        erase_person(db, db.get_one(Person, resident.person_id), trigger="self")
    assert _rows(world) == []
    assert _followers(world, initiative) == [world.promoter.person_id]
