"""Roles: only admins grant, nobody grants to themselves, executives confirm executives, audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts import roles
from app.accounts.models import Account, Person, Role
from app.core.actor import OPERATOR
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import unit_of_work
from tests.admin.helpers import actor_of, audit_entries, grants_of
from tests.factories import Factory, post_form


def role_mails(factory: Factory, to: str) -> list[str]:
    return [m.body_text for m in factory.outbox(to=to) if "rôle" in m.subject]


def person_id_of(factory: Factory, account: Account) -> str:
    return factory.person(account).public_id


def test_nobody_grants_a_role_to_themselves(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    with unit_of_work(factory.database) as db, pytest.raises(Forbidden):
        roles.grant_role(
            db, actor_of(admin, "admin"), admin.territory_id, admin.id, Role.EXECUTIVE, "arrêté 1", reason="moi"
        )
    factory.login(client, admin)
    page = client.get(f"/admin/personnes/{person_id_of(factory, admin)}")
    assert page.status_code == 200
    assert "Attribuer le rôle" not in page.text
    response = post_form(
        client,
        "/admin/personnes",
        f"/admin/personnes/{person_id_of(factory, admin)}/roles",
        {"role": "agent", "reason": "essai"},
    )
    assert response.status_code == 403
    assert [g.role for g in grants_of(factory.database, admin.id)] == ["admin"]


def test_only_admins_grant(factory: Factory) -> None:
    agent = factory.account("agent@example.org", roles=("agent",))
    target = factory.account("target@example.org")
    with unit_of_work(factory.database) as db, pytest.raises(Forbidden):
        roles.grant_role(db, actor_of(agent, "agent"), agent.territory_id, target.id, Role.AGENT, reason="x")


def test_admin_grants_agent_role_at_once_audited_and_notified(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    target = factory.account("claire@example.org", display_name="Claire Agent")
    factory.login(client, admin)
    person_url = f"/admin/personnes/{person_id_of(factory, target)}"
    response = post_form(
        client, person_url, f"{person_url}/roles", {"role": "agent", "reason": "Recrutée au service vie associative"}
    )
    assert response.status_code == 303
    [grant] = grants_of(factory.database, target.id)
    assert grant.role == "agent"
    assert grant.confirmed_at is not None
    assert grant.granted_by_account_id == admin.id
    [entry] = audit_entries(factory.database, "role.grant")
    assert entry.reason == "Recrutée au service vie associative"
    assert entry.actor_person_id == admin.person_id
    assert entry.data["role"] == "agent"
    assert entry.data["pending"] is False
    [mail] = role_mails(factory, "claire@example.org")
    assert "agent·e" in mail
    # Granting the same role again is a conflict shown on the form, nothing added.
    again = post_form(client, person_url, f"{person_url}/roles", {"role": "agent", "reason": "encore"})
    assert again.status_code == 409
    assert len(grants_of(factory.database, target.id)) == 1


def test_grant_needs_a_reason(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    target = factory.account("claire@example.org")
    factory.login(client, admin)
    person_url = f"/admin/personnes/{person_id_of(factory, target)}"
    response = post_form(client, person_url, f"{person_url}/roles", {"role": "agent", "reason": " "})
    assert response.status_code == 422
    assert grants_of(factory.database, target.id) == []


def test_executive_grant_needs_delegation_and_another_executive(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    mayor = factory.account("maire@example.org", roles=("executive",), display_name="Madame la Maire")
    adjoint = factory.account("adjoint@example.org", display_name="Adjoint Délégué")
    factory.login(client, admin)
    person_url = f"/admin/personnes/{person_id_of(factory, adjoint)}"

    missing = post_form(client, person_url, f"{person_url}/roles", {"role": "executive", "reason": "délégation"})
    assert missing.status_code == 422
    assert "arrêté de délégation" in missing.text
    assert grants_of(factory.database, adjoint.id) == []

    response = post_form(
        client,
        person_url,
        f"{person_url}/roles",
        {
            "role": "executive",
            "delegation_reference": "Arrêté n° 2026-014",
            "delegation_scope": "Vie des quartiers",
            "reason": "Nouvel adjoint",
        },
    )
    assert response.status_code == 303
    [grant] = grants_of(factory.database, adjoint.id)
    assert grant.confirmed_at is None
    assert grant.delegation_reference == "Arrêté n° 2026-014"
    assert role_mails(factory, "adjoint@example.org") == []  # not active yet

    # The admin cannot confirm (not an executive); the pending grant shows on the people page.
    assert post_form(client, "/admin/personnes", f"/admin/roles/{grant.public_id}/confirmer").status_code == 403

    # The target cannot confirm their own grant even if they were an executive.
    with unit_of_work(factory.database) as db:
        fresh = roles.get_grant(db, adjoint.territory_id, grant.public_id)
        with pytest.raises(Forbidden):
            roles.confirm_role(db, actor_of(adjoint, "executive"), fresh)

    factory.login(client, mayor)
    people = client.get("/admin/personnes")
    assert "Arrêté n° 2026-014" in people.text
    assert "Confirmer" in people.text
    response = post_form(client, "/admin/personnes", f"/admin/roles/{grant.public_id}/confirmer")
    assert response.status_code == 303
    [grant] = grants_of(factory.database, adjoint.id)
    assert grant.confirmed_at is not None
    assert grant.confirmed_by_account_id == mayor.id
    [entry] = audit_entries(factory.database, "role.confirm")
    assert entry.actor_person_id == mayor.person_id
    [mail] = role_mails(factory, "adjoint@example.org")
    assert "Arrêté n° 2026-014" in mail
    # Confirming twice is a conflict.
    with unit_of_work(factory.database) as db:
        fresh = roles.get_grant(db, adjoint.territory_id, grant.public_id)
        with pytest.raises(Conflict):
            roles.confirm_role(db, actor_of(mayor, "executive"), fresh)


def test_executive_who_granted_cannot_confirm(factory: Factory) -> None:
    boss = factory.account("boss@example.org", roles=("admin", "executive"))
    target = factory.account("t@example.org")
    with unit_of_work(factory.database) as db:
        grant = roles.grant_role(
            db, actor_of(boss, "admin", "executive"), boss.territory_id, target.id, "executive", "arrêté 3", reason="r"
        )
        with pytest.raises(Forbidden):
            roles.confirm_role(db, actor_of(boss, "admin", "executive"), grant)


def test_revoke_role_audited_and_last_admin_kept(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    agent = factory.account("agent@example.org", roles=("agent",))
    factory.login(client, admin)
    [grant] = grants_of(factory.database, agent.id)
    person_url = f"/admin/personnes/{person_id_of(factory, agent)}"
    no_reason = post_form(client, person_url, f"/admin/roles/{grant.public_id}/retirer", {"reason": ""})
    assert no_reason.status_code == 422
    assert grants_of(factory.database, agent.id)[0].revoked_at is None
    response = post_form(
        client, person_url, f"/admin/roles/{grant.public_id}/retirer", {"reason": "Départ en retraite"}
    )
    assert response.status_code == 303
    assert grants_of(factory.database, agent.id)[0].revoked_at is not None
    [entry] = audit_entries(factory.database, "role.revoke")
    assert entry.reason == "Départ en retraite"
    # The agent's next request no longer has the role.
    factory.login(client, agent)
    assert client.get("/agents/taches").status_code == 403

    [admin_grant] = grants_of(factory.database, admin.id)
    with unit_of_work(factory.database) as db:
        fresh = roles.get_grant(db, admin.territory_id, admin_grant.public_id)
        with pytest.raises(Conflict):
            roles.revoke_role(db, actor_of(admin, "admin"), fresh, "je pars")


def test_grants_are_bound_to_the_territory(client: TestClient, other_client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    stranger = factory.account("x@example.org", territory="autre")
    other_admin = factory.account("oa@example.org", territory="autre", roles=("admin",))
    other_tid = factory.territories["autre"]
    [other_grant] = grants_of(factory.database, other_admin.id)
    stranger_public_id = person_id_of(factory, stranger)
    with unit_of_work(factory.database) as db:
        with pytest.raises(NotFound):
            roles.grant_role(db, actor_of(admin, "admin"), admin.territory_id, stranger.id, Role.AGENT, reason="x")
        with pytest.raises(NotFound):
            roles.grant_role(db, actor_of(admin, "admin"), admin.territory_id, stranger_public_id, "agent", reason="x")
        with pytest.raises(Forbidden):  # an admin of town A cannot act in town B
            roles.grant_role(db, actor_of(admin, "admin"), other_tid, stranger.id, Role.AGENT, reason="x")
    factory.login(client, admin)
    response = post_form(client, "/admin/personnes", f"/admin/roles/{other_grant.public_id}/retirer", {"reason": "x"})
    assert response.status_code == 404
    assert grants_of(factory.database, other_admin.id)[0].revoked_at is None


def test_operator_bootstrap_grants_confirmed_executive(factory: Factory) -> None:
    mayor = factory.account("maire@example.org")
    with unit_of_work(factory.database) as db:
        grant = roles.grant_role(
            db, OPERATOR, mayor.territory_id, mayor.id, Role.EXECUTIVE, delegation_reference="Élection du 15 mars 2026"
        )
        assert roles.is_active(grant)
        with pytest.raises(Invalid):
            roles.grant_role(db, OPERATOR, mayor.territory_id, mayor.id, "superuser")
    [entry] = audit_entries(factory.database, "role.grant")
    assert entry.actor_person_id is None
    assert entry.actor_label == OPERATOR.label


def test_people_search_treats_wildcards_as_data(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",), display_name="Ada Admin")
    factory.account("percent@example.org", display_name="Jean 100% Loos")
    factory.account("under@example.org", display_name="Marie_Claire")
    factory.account("plain@example.org", display_name="Paul Martin")
    factory.login(client, admin)
    names = ("Jean 100% Loos", "Marie_Claire", "Paul Martin", "Ada Admin")

    def found(q: str) -> set[str]:
        text = client.get("/admin/personnes", params={"q": q}).text
        return {n for n in names if n in text}

    assert found("%") == {"Jean 100% Loos"}
    assert found("_") == {"Marie_Claire"}
    assert found("martin") == {"Paul Martin"}
    assert found("PLAIN@") == {"Paul Martin"}
    assert found("\\") == set()
    assert found("") == set(names)


def test_people_page_shows_roles(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    factory.account("c@example.org", roles=("council_member",), display_name="Conseillère Opposition")
    factory.login(client, admin)
    text = client.get("/admin/personnes").text
    assert "conseiller·e municipal·e" in text
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(Person.id).where(Person.display_name == "Conseillère Opposition")) is not None
