"""Abandoning an approved project, and withdrawing one: the envelope money goes back, to the
initiatives waiting for it first."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.errors import Conflict, Forbidden, Invalid
from app.db.session import unit_of_work
from app.initiatives import service as initiatives
from app.initiatives.models import InitiativeState
from app.review import service as review
from tests.factories import Factory, post_form
from tests.review.conftest import World, state_of
from tests.review.test_service import act, envelope_committed

S = InitiativeState


def _approved_and_waiting(world: World) -> tuple[int, int]:
    world.set_envelope(60_000)
    first = world.initiative(S.IN_REVIEW, title="Premier", town_cash_cents=50_000)
    second = world.initiative(S.IN_REVIEW, title="Second", town_cash_cents=40_000)
    act(world, first.id, review.decide, world.executive_actor, "approve")
    act(world, second.id, review.decide, world.executive_actor, "approve", waiting_list=True)
    assert state_of(world.database, second.id) == S.AWAITING_ENVELOPE
    return first.id, second.id


def test_abandoning_releases_the_envelope_to_the_waiting_list(world: World) -> None:
    first, second = _approved_and_waiting(world)
    with pytest.raises(Invalid):  # a reason is required, and nothing moves without it
        act(world, first, review.abandon, world.agent_actor, "  ")
    assert state_of(world.database, first) == S.APPROVED
    act(world, first, review.abandon, world.agent_actor, "Le terrain n'est plus disponible.")
    assert state_of(world.database, first) == S.ABANDONED
    assert world.reload(first).committed_cents == 0
    assert state_of(world.database, second) == S.APPROVED  # served from the money freed
    assert envelope_committed(world) == 40_000
    with unit_of_work(world.database) as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "initiative.abandon"))
        assert entry is not None
        assert entry.reason == "Le terrain n'est plus disponible."
        assert entry.data["released_cents"] == 50_000
    with pytest.raises(Conflict):  # twice: refused, nothing released again
        act(world, first, review.abandon, world.agent_actor, "Encore")
    assert envelope_committed(world) == 40_000


def test_only_staff_abandon_and_only_after_the_decision(world: World) -> None:
    first, _second = _approved_and_waiting(world)
    with pytest.raises(Forbidden):
        act(world, first, review.abandon, world.promoter_actor, "Plus envie")
    in_review = world.initiative(S.IN_REVIEW, title="Troisième")
    with pytest.raises(Conflict):
        act(world, in_review.id, review.abandon, world.agent_actor, "Trop tôt")
    assert state_of(world.database, first) == S.APPROVED


def test_withdrawing_an_approved_initiative_serves_the_waiting_list(world: World) -> None:
    first, second = _approved_and_waiting(world)
    public_id = world.reload(first).public_id
    with unit_of_work(world.database) as db:
        initiatives.withdraw(db, world.promoter_actor, world.territory_id, public_id, "Nous déménageons.")
    assert state_of(world.database, first) == S.WITHDRAWN
    assert state_of(world.database, second) == S.APPROVED
    assert envelope_committed(world) == 40_000


def test_the_agent_abandons_from_the_page(client: TestClient, factory: Factory, world: World) -> None:
    first, second = _approved_and_waiting(world)
    public_id = world.reload(first).public_id
    factory.login(client, world.agent)
    page_url = f"/initiatives/{public_id}"
    assert "Abandonner le projet" in client.get(page_url).text
    path = f"/initiatives/{public_id}/instruction/abandon"
    empty = post_form(client, page_url, path, {"reason": ""})
    assert empty.status_code == 422
    assert state_of(world.database, first) == S.APPROVED
    response = post_form(
        client, page_url, path, {"reason": "Le terrain n'est plus disponible."}, follow_redirects=False
    )
    assert response.status_code == 303
    assert state_of(world.database, first) == S.ABANDONED
    assert state_of(world.database, second) == S.APPROVED
    factory.login(client, world.promoter)
    assert "Abandonner le projet" not in client.get(f"/initiatives/{public_id}").text
