"""Co-promoters (invitations, contacts, removal) and who may see an initiative."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.accounts.models import AgeBracket
from app.db.session import Database
from tests.factories import Factory, link_from, post_form
from tests.initiatives import helpers as h


def _invite(client: TestClient, factory: Factory, public_id: str, email: str, role: str = "co_promoter") -> str:
    response = post_form(
        client,
        f"/initiatives/{public_id}",
        action=f"/initiatives/{public_id}/inviter",
        data={"email": email, "role": role},
    )
    assert response.status_code == 303, response.text[:300]
    return link_from(factory.outbox(to=email)[-1])


def test_invitation_flow(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    tid = factory.territory()
    public_id = h.propose(database, h.actor(alice), tid, title="Boîte à livres")
    factory.login(client, alice)
    link = _invite(client, factory, public_id, "bob@example.org")
    assert link.startswith("http://loos.test/initiatives/invitation/")
    path = link.removeprefix("http://loos.test")
    pending = [m for m in h.members(database, public_id) if m.invited_email == "bob@example.org"]
    assert len(pending) == 1
    assert pending[0].accepted_at is None
    assert pending[0].invitation_token_hash
    assert path.rsplit("/", 1)[1] not in pending[0].invitation_token_hash  # stored hashed

    # The same address cannot be invited twice.
    again = post_form(
        client,
        f"/initiatives/{public_id}",
        action=f"/initiatives/{public_id}/inviter",
        data={"email": "bob@example.org"},
    )
    assert again.status_code == 422
    assert "déjà reçu une invitation" in again.text

    bob = factory.account("bob@example.org", display_name="Bob Durand")
    factory.login(client, bob)
    page = client.get(path)
    assert page.status_code == 200
    assert "Accepter" in page.text
    assert "Boîte à livres" in page.text
    assert h.members(database, public_id)[-1].accepted_at is None  # GET does not accept

    accepted = post_form(client, path)
    assert accepted.status_code == 303
    member = h.members(database, public_id)[-1]
    assert member.person_id == bob.person_id
    assert member.accepted_at is not None
    assert client.get(f"/initiatives/{public_id}").status_code == 200  # bob now sees the draft

    # A used token is refused.
    assert client.get(path).status_code == 409
    assert post_form(client, f"/initiatives/{public_id}", action=path).status_code == 409
    assert h.audit_actions(database, public_id) == [
        "initiative.propose",
        "initiative.member.invite",
        "initiative.member.accept",
    ]

    # A co-promoter is removed by a promoter.
    factory.login(client, alice)
    removed = post_form(
        client,
        f"/initiatives/{public_id}",
        action=f"/initiatives/{public_id}/membres/{member.public_id}/retirer",
    )
    assert removed.status_code == 303
    assert [m.role for m in h.members(database, public_id)] == ["promoter"]
    promoter = h.members(database, public_id)[0]
    refused = post_form(
        client,
        f"/initiatives/{public_id}",
        action=f"/initiatives/{public_id}/membres/{promoter.public_id}/retirer",
    )
    assert refused.status_code == 409


def test_invitation_of_another_territory_is_refused(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    alice = factory.account()
    public_id = h.propose(database, h.actor(alice), factory.territory(), title="Boîte à livres")
    factory.login(client, alice)
    path = _invite(client, factory, public_id, "carl@example.org").removeprefix("http://loos.test")

    carl = factory.account("carl@example.org", territory="autre", display_name="Carl Autre")
    factory.login(other_client, carl)
    assert other_client.get(path).status_code == 404
    page = other_client.get("/")
    assert post_form(other_client, "/", action=path).status_code == 404
    assert page.status_code == 200
    assert h.members(database, public_id)[-1].accepted_at is None


def test_agent_adds_a_contact_as_guardian(client: TestClient, factory: Factory, database: Database) -> None:
    young = factory.account("jeune@example.org", display_name="Léa Jeune", age_bracket=AgeBracket.UNDER_15)
    agent = factory.account("agent@example.org", roles=("agent",))
    tid = factory.territory()
    public_id = h.propose(database, h.actor(young), tid, title="Skatepark")
    minor = h.contact(database, h.actor(agent, "agent"), tid, name="Petit Contact", age="15_17")
    adult = h.contact(database, h.actor(agent, "agent"), tid, name="Marcel Dupont")
    factory.login(client, agent)
    url = f"/initiatives/{public_id}"
    refused = post_form(
        client, url, action=f"{url}/membres/contact", data={"contact_id": minor.public_id, "contact_role": "guardian"}
    )
    assert refused.status_code == 422
    assert "18 ans ou plus" in refused.text
    added = post_form(
        client, url, action=f"{url}/membres/contact", data={"contact_id": adult.public_id, "contact_role": "guardian"}
    )
    assert added.status_code == 303
    assert [(m.person_id, m.role) for m in h.members(database, public_id)][-1] == (adult.id, "guardian")

    # Residents cannot add contacts.
    factory.login(client, young)
    response = post_form(
        client,
        url,
        action=f"{url}/membres/contact",
        data={"contact_id": adult.public_id, "contact_role": "co_promoter"},
    )
    assert response.status_code == 403


def test_visibility_of_drafts_and_public_initiatives(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    young = factory.account("jeune@example.org", display_name="Léa Secrète", age_bracket=AgeBracket.UNDER_15)
    agent = factory.account("agent@example.org", roles=("agent",))
    other = factory.account("bob@example.org", display_name="Bob")
    tid = factory.territory()
    public_id = h.propose(database, h.actor(young), tid, title="Skatepark des jeunes")
    url = f"/initiatives/{public_id}"

    assert client.get(url).status_code == 404  # anonymous
    factory.login(client, other)
    assert client.get(url).status_code == 404  # another resident
    factory.login(client, agent)
    staff_page = client.get(url)
    assert staff_page.status_code == 200
    assert "Léa Secrète" in staff_page.text
    factory.login(client, young)
    assert client.get(url).status_code == 200

    # Another territory never sees it, even its staff.
    remote_agent = factory.account("agent@autre.org", territory="autre", roles=("agent",))
    factory.login(other_client, remote_agent)
    assert other_client.get(url).status_code == 404

    h.set_state(database, public_id, "declined")
    client.cookies.clear()
    assert client.get(url).status_code == 404
    h.set_state(database, public_id, "approved")
    public_page = client.get(url)
    assert public_page.status_code == 200
    assert "Léa Secrète" not in public_page.text  # minors are never named publicly
    assert "un·e jeune habitant·e" in public_page.text
    assert other_client.get(url).status_code == 404

    h.set_state(database, public_id, "withdrawn", public_despite_outcome=True)
    assert client.get(url).status_code == 200
