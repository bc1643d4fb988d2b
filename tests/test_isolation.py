"""Territories never see each other's data: every route that takes an identifier, called by a
user of territory A (holding every role) with the identifiers of territory B's objects, answers
404. The routes are read from the application's route table, so a new route is covered."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.tokens import hmac_hex
from app.db.base import Base
from app.db.session import unit_of_work
from app.territories.models import CouncilSitting, Theme
from tests.factories import Factory

PARAM_RE = re.compile(r"{([^}:]+)(?::[^}]+)?}")
# Parameters that are not object identifiers: signed tokens carry their own authorisation.
NOT_IDENTIFIERS = {"token"}
# The one deliberate exception to territory isolation: the peer library ("villes pairs") shows every
# town's shared snapshots, copied without personal data into a deployment-level table, to every
# territory of the deployment. Only its reading route may answer another town's identifier; changing
# an entry (withdrawing it) still answers 404 from another town. Proven in tests/library/test_library.py.
DELIBERATE_CROSS_TERRITORY = {"library:entry"}


def iter_api_routes(routes: list[object], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, including those of included routers."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            sub_prefix = prefix + getattr(route.include_context, "prefix", "")  # type: ignore[attr-defined]
            found.extend(iter_api_routes(route.original_router.routes, sub_prefix))  # type: ignore[attr-defined]
    return found


def _public_ids_of(factory: Factory, territory_id: int) -> list[str]:
    ids: list[str] = []
    with unit_of_work(factory.database) as db:
        for mapper in Base.registry.mappers:
            cls = mapper.class_
            # Deployment-level rows (the peer library) name their source town instead.
            owner = "territory_id" if hasattr(cls, "territory_id") else "source_territory_id"
            if hasattr(cls, "public_id") and hasattr(cls, owner):
                ids.extend(db.scalars(select(cls.public_id).where(getattr(cls, owner) == territory_id)))
    return ids


def _populate(factory: Factory, slug: str) -> None:
    import datetime as dt

    tid = factory.territories[slug]
    factory.account(
        f"admin-{slug}@example.org", territory=slug, roles=("admin", "agent", "executive", "council_member")
    )
    with unit_of_work(factory.database) as db:
        db.add(Theme(territory_id=tid, name=f"Thème {slug}"))
        db.add(CouncilSitting(territory_id=tid, sitting_date=dt.date(2027, 1, 15), title="Séance"))
        _populate_history_and_library(db, tid)
        _populate_petitions(db, tid)


def _populate_history_and_library(db: Session, tid: int) -> None:
    """A kept import file, and an evaluated initiative shared in the peer library."""
    from app.db.base import utcnow
    from app.history.models import HistoricalImport
    from app.initiatives.models import Initiative
    from app.library.models import LibraryEntry

    db.add(HistoricalImport(territory_id=tid, sha256="0" * 64, content="titre;année;état final\r\n"))
    initiative = Initiative(territory_id=tid, state="evaluated", title="Jardin partagé")
    db.add(initiative)
    db.flush()
    db.add(
        LibraryEntry(
            source_territory_id=tid,
            source_initiative_id=initiative.id,
            town_name="Autreville",
            population_bracket="2k-10k",
            title="Jardin partagé",
            project_type="physical",
            shared_at=utcnow(),
        )
    )


def _populate_petitions(db: Session, tid: int) -> None:
    """An open petition with an answer draft, a submitted one (agents' routes) and a legal request
    handed to the mayor (its procedure routes)."""
    from app.db.base import utcnow
    from app.petitions.models import Petition, PetitionAnswer

    opened = Petition(territory_id=tid, title="Éclairage", request="Des lampes.", state="open", opened_at=utcnow())
    submitted = Petition(territory_id=tid, title="Bancs", request="Des bancs.", state="submitted")
    legal = Petition(
        territory_id=tid, kind="legal", legal_purpose="consultation", title="Consultation", request="Consulter.",
        state="closed", opened_at=utcnow(), closed_at=utcnow(), received_at=utcnow(), legal_stage="submitted_to_mayor",
        electors_frozen=5000, answer_threshold=500, answer_threshold_reached_at=utcnow(),
    )  # fmt: skip
    db.add_all([opened, submitted, legal])
    db.flush()
    db.add(PetitionAnswer(territory_id=tid, petition_id=opened.id, outcome="transmitted", text="Transmise."))


def test_every_identifier_route_hides_other_territories(app: FastAPI, factory: Factory, client: TestClient) -> None:
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    _populate(factory, "autre")
    other_ids = _public_ids_of(factory, factory.territories["autre"])
    assert len(other_ids) >= 5

    me = factory.account("staff@example.org", roles=("admin", "agent", "executive", "council_member"))
    token = factory.login(client, me)
    csrf = hmac_hex(app.state.secret_key, "csrf:session:" + token)
    with unit_of_work(factory.database) as db:
        from app.accounts.models import Account, Person
        from app.accounts.tokens import create_token
        from app.accounts.viewer import Viewer

        account = db.get_one(Account, me.id)
        person = db.get_one(Person, account.person_id)
        actor = Viewer(person_id=person.id, account_id=account.id, territory_id=account.territory_id, label="staff")
        _api_token, raw = create_token(db, actor, "isolation", ["read", "write"], None)

    checked = 0
    for full_path, route in iter_api_routes(app.routes):
        params = [p for p in PARAM_RE.findall(full_path) if p not in NOT_IDENTIFIERS]
        if not params or len(params) != len(PARAM_RE.findall(full_path)):
            continue
        if route.name in DELIBERATE_CROSS_TERRITORY:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            for other_id in other_ids:
                path = full_path
                for p in params:
                    path = re.sub(r"{" + p + r"(?::[^}]+)?}", other_id, path)
                headers = {"X-CSRF-Token": csrf}
                if path.startswith("/api/"):
                    headers = {"Authorization": f"Bearer {raw}"}
                response = client.request(method, path, headers=headers, data={} if method != "GET" else None)
                if response.status_code == 422 and path.startswith("/api/"):
                    # The JSON body was refused before any lookup: nothing about the object leaks.
                    assert response.json()["code"] == "validation_error"
                    continue
                assert response.status_code == 404, (
                    f"{method} {full_path} with another territory's id -> {response.status_code}"
                )
                checked += 1
    assert checked > 0, "no route takes an identifier: the test would prove nothing"
