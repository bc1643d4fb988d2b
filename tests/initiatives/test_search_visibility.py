"""Search shows exactly what the pages let each viewer open: ``similar`` agrees with ``can_view``
for a resident, an agent, a promoter, an anonymous visitor and staff of another town, over
initiatives in every state."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from app.accounts.models import Account
from app.core.actor import Actor
from app.db.session import Database, read_only
from app.initiatives.models import InitiativeState
from app.initiatives.permissions import PUBLIC_STATES, can_view
from app.initiatives.search import similar
from tests.factories import Factory
from tests.initiatives import helpers as h

WORD = "kiosque"


@dataclass(frozen=True)
class Town:
    territory_id: int
    ids: list[str]
    paula: Account  # promoter of half of them
    elsewhere: Account  # an agent of the other town


@pytest.fixture
def town(factory: Factory, database: Database, other_client: TestClient) -> Town:
    """Every state twice (one of each also shown despite its outcome), for two promoters, and one
    initiative in another territory that nobody here may find."""
    tid = factory.territory()
    paula = factory.account("paula@example.org", display_name="Paula")
    quentin = factory.account("quentin@example.org", display_name="Quentin")
    ids: list[str] = []
    for state in InitiativeState:
        for owner, shown in ((paula, False), (quentin, True)):
            public_id = h.propose(
                database, h.actor(owner), tid, title=f"Kiosque {state.value} {owner.id}", description="Un kiosque."
            )
            h.set_state(database, public_id, state.value, public_despite_outcome=shown)
            ids.append(public_id)
    elsewhere = factory.account("ailleurs@example.org", territory="autre", roles=("agent",))
    other_tid = factory.territories["autre"]
    foreign = h.propose(database, h.actor(elsewhere), other_tid, title="Kiosque d'ailleurs", description="Un kiosque.")
    h.set_state(database, foreign, "approved")
    return Town(tid, ids, paula, elsewhere)


def _found(database: Database, territory_id: int, viewer: Actor | None) -> set[str]:
    with read_only(database) as db:
        return {s.public_id for s in similar(db, territory_id, WORD, limit=1000, viewer=viewer)}


def _allowed(database: Database, ids: list[str], viewer: Actor | None) -> set[str]:
    return {
        public_id
        for public_id in ids
        if can_view(viewer, h.initiative(database, public_id), h.members(database, public_id))
    }


def _viewers(factory: Factory, town: Town) -> dict[str, Actor | None]:
    return {
        "anonymous": None,
        "resident": h.actor(factory.account("rita@example.org", display_name="Rita")),
        "promoter": h.actor(town.paula),
        "agent": h.actor(factory.account("agent@example.org", roles=("agent",)), "agent"),
        "executive": h.actor(factory.account("maire@example.org", roles=("executive",)), "executive"),
        "staff of another town": h.actor(town.elsewhere, "agent"),
    }


def test_search_shows_what_the_pages_show(factory: Factory, database: Database, town: Town) -> None:
    tid, ids = town.territory_id, town.ids
    seen: dict[str, set[str]] = {}
    for name, viewer in _viewers(factory, town).items():
        found = _found(database, tid, viewer)
        assert found == _allowed(database, ids, viewer), name
        seen[name] = found
    # The comparison is not empty-handed: each kind of viewer sees a different, non-empty share.
    assert seen["anonymous"] == seen["resident"] == seen["staff of another town"]
    assert seen["anonymous"] < seen["promoter"] < seen["agent"] == seen["executive"] == set(ids)
    public_states = len(PUBLIC_STATES)
    assert len(seen["anonymous"]) == 2 * public_states + 2  # public states twice, withdrawn/declined shown once


def test_search_never_crosses_territories(factory: Factory, database: Database, town: Town) -> None:
    elsewhere, tid = town.elsewhere, town.territory_id
    other_tid = factory.territories["autre"]
    staff_here = h.actor(factory.account("agent@example.org", roles=("agent",)), "agent")
    with read_only(database) as db:
        titles = {s.title for s in similar(db, tid, WORD, limit=1000, viewer=h.actor(elsewhere, "agent"))}
        assert "Kiosque d'ailleurs" not in titles
        # Staff of this town are visitors over there: the other town's public initiative only.
        assert [s.title for s in similar(db, other_tid, WORD, limit=1000, viewer=staff_here)] == ["Kiosque d'ailleurs"]
