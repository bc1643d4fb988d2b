"""Contacts without an account and the agents' task list (calls and letters)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts import contacts
from app.accounts.models import Person, PersonKind
from app.agent_tasks import service as tasks
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.core.errors import Conflict, Forbidden, NotFound
from app.db.session import unit_of_work
from tests.admin.helpers import actor_of, audit_entries
from tests.factories import Factory, post_form

CONTACT = {
    "display_name": "Georgette Dupont",
    "preferred_contact": "phone",
    "phone": "03 21 00 00 00",
    "postal_address": "12 rue des Écoles, 62750 Loos-en-Gohelle",
    "age_bracket": "adult",
    "notes": "Préfère être appelée le matin.",
}


def login_agent(client: TestClient, factory: Factory) -> int:
    agent = factory.account("agent@example.org", roles=("agent",), display_name="Annie Agent")
    factory.login(client, agent)
    return agent.person_id


def contact_row(factory: Factory, name: str) -> Person:
    with unit_of_work(factory.database) as db:
        person = db.scalar(select(Person).where(Person.display_name == name))
        assert person is not None
        db.expunge(person)
        return person


def new_task(
    factory: Factory, person_id: int | None, subject: str = "Prévenir de la réponse", channel: str | None = None
) -> AgentTask:
    with unit_of_work(factory.database) as db:
        task = tasks.create_task(
            db, territory_id=factory.territory(), person_id=person_id, channel=channel, subject=subject, body="Texte"
        )
        db.expunge(task)
        return task


def test_pages_need_staff(client: TestClient, factory: Factory) -> None:
    for path in ("/agents/taches", "/agents/contacts", "/agents/contacts/nouveau"):
        assert client.get(path).status_code == 303
    factory.login(client, factory.account("resident@example.org"))
    for path in ("/agents/taches", "/agents/contacts", "/agents/contacts/nouveau"):
        assert client.get(path).status_code == 403
    factory.login(client, factory.account("council@example.org", roles=("council_member",)))
    assert client.get("/agents/taches").status_code == 403


def test_agent_creates_edits_and_lists_a_contact(client: TestClient, factory: Factory) -> None:
    agent_person = login_agent(client, factory)
    hood = factory.neighbourhood_id(factory.territory())
    response = post_form(client, "/agents/contacts/nouveau", data={**CONTACT, "neighbourhood_id": str(hood)})
    assert response.status_code == 303
    person = contact_row(factory, "Georgette Dupont")
    assert person.kind == PersonKind.CONTACT
    assert person.created_by_person_id == agent_person
    assert person.phone == "03 21 00 00 00"
    assert person.neighbourhood_id == hood
    assert response.headers["location"] == f"/agents/contacts/{person.public_id}"
    [entry] = audit_entries(factory.database, "contact.create")
    assert entry.actor_person_id == agent_person
    assert "Georgette" not in str(entry.data)

    listing = client.get("/agents/contacts")
    assert "Georgette Dupont" in listing.text
    assert "03 21 00 00 00" in listing.text
    assert "Georgette" in client.get("/agents/contacts", params={"q": "rue des"}).text
    assert "Georgette" in client.get("/agents/contacts", params={"q": "dupont"}).text
    assert "Georgette" not in client.get("/agents/contacts", params={"q": "%"}).text

    edit_url = f"/agents/contacts/{person.public_id}"
    response = post_form(
        client, edit_url, data={**CONTACT, "preferred_contact": "letter", "phone": "", "neighbourhood_id": str(hood)}
    )
    assert response.status_code == 303
    person = contact_row(factory, "Georgette Dupont")
    assert person.preferred_contact == "letter"
    assert person.phone is None
    [entry] = audit_entries(factory.database, "contact.update")
    assert entry.data["fields"] == ["phone", "preferred_contact"]


def test_contact_validation_changes_nothing(client: TestClient, factory: Factory) -> None:
    login_agent(client, factory)
    response = post_form(client, "/agents/contacts/nouveau", data={**CONTACT, "phone": ""})
    assert response.status_code == 422
    assert "numéro de téléphone" in response.text
    assert 'value="Georgette Dupont"' in response.text
    response = post_form(
        client, "/agents/contacts/nouveau", data={**CONTACT, "age_bracket": "under_15", "guardian_contact": ""}
    )
    assert response.status_code == 422
    response = post_form(client, "/agents/contacts/nouveau", data={**CONTACT, "phone": "appelle-moi"})
    assert response.status_code == 422
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(func.count()).where(Person.kind == PersonKind.CONTACT.value)) == 0


def test_contact_neighbourhood_of_another_town_refused(
    client: TestClient, other_client: TestClient, factory: Factory
) -> None:
    login_agent(client, factory)
    foreign = factory.neighbourhood_id(factory.territories["autre"])
    response = post_form(client, "/agents/contacts/nouveau", data={**CONTACT, "neighbourhood_id": str(foreign)})
    assert response.status_code == 422
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(func.count()).where(Person.kind == PersonKind.CONTACT.value)) == 0


def test_other_towns_contacts_and_tasks_are_404(client: TestClient, other_client: TestClient, factory: Factory) -> None:
    other_agent = factory.account("oa@example.org", territory="autre", roles=("agent",))
    other_tid = factory.territories["autre"]
    with unit_of_work(factory.database) as db:
        person = contacts.create_contact(
            db,
            actor_of(other_agent, "agent"),
            other_tid,
            contacts.ContactInput(display_name="Loin", phone="0600000000"),
        )
        task = tasks.create_task(db, territory_id=other_tid, person_id=person.id, channel="phone", subject="Appeler")
        contact_id, task_id = person.public_id, task.public_id
    login_agent(client, factory)
    assert client.get(f"/agents/contacts/{contact_id}").status_code == 404
    assert "Loin" not in client.get("/agents/contacts").text
    response = post_form(client, "/agents/taches", f"/agents/taches/{task_id}/fait", {"outcome": "fait"})
    assert response.status_code == 404
    response = post_form(
        client, "/agents/taches", f"/agents/contacts/{contact_id}/taches", {"channel": "phone", "subject": "x"}
    )
    assert response.status_code == 404
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(AgentTask.status).where(AgentTask.public_id == task_id)) == "open"
        # A task cannot point to another town's person.
        with pytest.raises(NotFound):
            tasks.create_task(db, territory_id=factory.territory(), person_id=person.id, channel="phone", subject="x")


def test_task_created_for_contact_is_listed_oldest_first(client: TestClient, factory: Factory) -> None:
    login_agent(client, factory)
    post_form(client, "/agents/contacts/nouveau", data=CONTACT)
    person = contact_row(factory, "Georgette Dupont")
    first = new_task(factory, person.id, "Premier appel")
    second = new_task(factory, person.id, "Deuxième appel", channel="letter")
    assert first.channel == "phone"  # the contact's preferred channel
    assert second.channel == "letter"
    page = client.get("/agents/taches").text
    assert page.index("Premier appel") < page.index("Deuxième appel")
    assert "03 21 00 00 00" in page
    assert "12 rue des Écoles" in page
    assert [e.data["subject"] for e in audit_entries(factory.database, "task.create")] == [
        "Premier appel",
        "Deuxième appel",
    ]


def test_agent_adds_a_task_by_hand(client: TestClient, factory: Factory) -> None:
    agent_person = login_agent(client, factory)
    post_form(client, "/agents/contacts/nouveau", data=CONTACT)
    person = contact_row(factory, "Georgette Dupont")
    url = f"/agents/contacts/{person.public_id}"
    bad = post_form(client, url, f"{url}/taches", {"channel": "pigeon", "subject": "x"})
    assert bad.status_code == 422
    response = post_form(
        client,
        url,
        f"{url}/taches",
        {"channel": "letter", "subject": "Envoyer la convention", "body": "Deux exemplaires"},
    )
    assert response.status_code == 303
    with unit_of_work(factory.database) as db:
        task = db.scalar(select(AgentTask))
        assert task is not None
        assert task.channel == "letter"
        assert task.person_id == person.id
    [entry] = audit_entries(factory.database, "task.create")
    assert entry.actor_person_id == agent_person
    assert "Envoyer la convention" in client.get(url).text


def test_mark_done_with_htmx_updates_the_row(client: TestClient, factory: Factory) -> None:
    agent_person = login_agent(client, factory)
    post_form(client, "/agents/contacts/nouveau", data=CONTACT)
    task = new_task(factory, contact_row(factory, "Georgette Dupont").id)
    empty = post_form(
        client,
        "/agents/taches",
        f"/agents/taches/{task.public_id}/fait",
        {"outcome": ""},
        headers={"HX-Request": "true"},
    )
    assert empty.status_code == 422
    assert "<html" not in empty.text
    assert f'id="task-{task.public_id}"' in empty.text
    response = post_form(
        client, "/agents/taches", f"/agents/taches/{task.public_id}/fait", {"outcome": "Jointe, elle viendra samedi"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="task-{task.public_id}"')
    assert "Jointe, elle viendra samedi" in response.text
    assert "Annie Agent" in response.text
    with unit_of_work(factory.database) as db:
        done = db.get_one(AgentTask, task.id)
        assert done.status == "done"
        assert done.done_by_person_id == agent_person
        assert done.done_at is not None
    [entry] = audit_entries(factory.database, "task.done")
    assert entry.data["outcome"] == "Jointe, elle viendra samedi"
    # Closing twice is a conflict; the open list no longer shows it.
    again = post_form(client, "/agents/taches", f"/agents/taches/{task.public_id}/fait", {"outcome": "encore"})
    assert again.status_code == 409
    assert "Aucune tâche en attente." in client.get("/agents/taches").text


def test_mark_done_without_js_redirects_and_cancel(client: TestClient, factory: Factory) -> None:
    login_agent(client, factory)
    first = new_task(factory, None, "Tâche sans personne")
    second = new_task(factory, None, "Tâche à annuler")
    response = post_form(client, "/agents/taches", f"/agents/taches/{first.public_id}/fait", {"outcome": "OK"})
    assert response.status_code == 303
    assert response.headers["location"] == "/agents/taches"
    response = post_form(client, "/agents/taches", f"/agents/taches/{second.public_id}/annuler", {"reason": "Doublon"})
    assert response.status_code == 303
    with unit_of_work(factory.database) as db:
        statuses = dict(db.execute(select(AgentTask.subject, AgentTask.status)).all())
        assert statuses == {"Tâche sans personne": "done", "Tâche à annuler": "cancelled"}
        assert db.scalar(select(func.count()).where(AuditEntry.action == "task.cancel")) == 1


def test_service_refuses_residents(factory: Factory) -> None:
    resident = factory.account("r@example.org")
    task = new_task(factory, None)
    with unit_of_work(factory.database) as db:
        with pytest.raises(Forbidden):
            tasks.complete_task(db, actor_of(resident), resident.territory_id, task.public_id, "x")
        with pytest.raises(Forbidden):
            contacts.create_contact(
                db,
                actor_of(resident),
                resident.territory_id,
                contacts.ContactInput(display_name="X", phone="0600000000"),
            )
    agent = factory.account("a@example.org", roles=("agent",))
    with unit_of_work(factory.database) as db:
        tasks.cancel_task(db, actor_of(agent, "agent"), agent.territory_id, task.public_id, "inutile")
        with pytest.raises(Conflict):
            tasks.complete_task(db, actor_of(agent, "agent"), agent.territory_id, task.public_id, "x")


def test_empty_outcome_without_js_is_422_on_the_list(client: TestClient, factory: Factory) -> None:
    login_agent(client, factory)
    task = new_task(factory, None, "Rappeler")
    response = post_form(client, "/agents/taches", f"/agents/taches/{task.public_id}/fait", {"outcome": "  "})
    assert response.status_code == 422
    assert "<html" in response.text
    assert "Ce champ est obligatoire." in response.text
    with unit_of_work(factory.database) as db:
        assert db.get_one(AgentTask, task.id).status == "open"
