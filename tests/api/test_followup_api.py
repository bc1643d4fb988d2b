"""The follow-up in the JSON API: the work (start, delivery), milestones, realisations, work days
and their registers, equipment bookings and progress updates, through the same services as the pages.

For each area: a happy path, the territory's isolation (another town's initiative is a 404), the
service's refusals as problem+json (403, 409, 422) and idempotent retries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.session import unit_of_work
from app.followup.models import Milestone
from app.initiatives.models import Initiative
from app.ledger.models import RealisationState, Side
from app.updates.models import ProgressUpdate
from app.workdays.models import WorkDay
from tests.api.test_api import bearer, make_token
from tests.api.test_initiatives_api import assert_problem
from tests.equipment.conftest import item
from tests.factories import Factory
from tests.followup.conftest import add_line, line_of
from tests.workdays.conftest import (
    S,
    World,
    audit_count,
    plan,
    realisations,
    resident,
    sign_up,
    signed,
    today,
    world,
)

__all__ = ["world"]

API = "/api/v1"


def token(factory: Factory, account: Any, scopes: tuple[str, ...] = ("read", "write")) -> dict[str, str]:
    return bearer(make_token(factory, account, scopes))


def rows_of(world: World, model: type[Any], **where: Any) -> int:
    with unit_of_work(world.database) as db:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.scalar(query) or 0


def foreign_initiative(factory: Factory, world: World) -> Initiative:
    """A signed initiative of another territory (its public id is unknown here)."""
    other = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    return world.initiative(S.CONVENTION_SIGNED, territory_id=other, fund_id=None, title="Ailleurs")


def in_days(world: World, n: int) -> str:
    return (today(world) + dt.timedelta(days=n)).isoformat()


# ---------------------------------------------------------------- the work and milestones


def test_milestones_then_start_and_deliver(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    base = f"{API}/initiatives/{initiative.public_id}"
    promoter, agent = token(factory, world.promoter), token(factory, world.agent)
    hours = line_of(world, initiative.id, Side.RESIDENTS)

    listed = client.get(f"{base}/milestones", headers=promoter)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
    assert listed.json()["writable_sides"] == ["residents"]
    assert [c["public_id"] for c in listed.json()["commitment_lines"]] == [hours.public_id]

    milestone = {"side": "residents", "title": "Bacs montés", "due_on": in_days(world, 10)}
    created = client.post(
        f"{base}/milestones", json={**milestone, "commitment_line": hours.public_id}, headers=promoter
    )
    assert created.status_code == 201, created.text
    body = created.json()
    mid = body["public_id"]
    assert (body["side"], body["title"], body["commitment_line"], body["can_edit"]) == (
        "residents", "Bacs montés", hours.public_id, True,
    )  # fmt: skip
    # The town's side is the staff's: 403 for a promoter, fine for the agent.
    town = {**milestone, "side": "town", "title": "Livraison du terreau"}
    assert_problem(client.post(f"{base}/milestones", json=town, headers=promoter), 403)
    assert client.post(f"{base}/milestones", json=town, headers=agent).status_code == 201
    assert_problem(client.post(f"{base}/milestones", json={**milestone, "title": ""}, headers=promoter), 422)

    edited = client.patch(f"{base}/milestones/{mid}", json={"title": "Bacs montés et remplis"}, headers=promoter)
    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["due_on"]) == ("Bacs montés et remplis", milestone["due_on"])
    assert edited.json()["commitment_line"] == hours.public_id
    unlinked = client.patch(f"{base}/milestones/{mid}", json={"commitment_line": None}, headers=promoter)
    assert unlinked.json()["commitment_line"] is None

    done = client.post(f"{base}/milestones/{mid}/done", headers=promoter)
    assert done.status_code == 200, done.text
    assert done.json()["done_on"] == today(world).isoformat()
    assert_problem(client.post(f"{base}/milestones/{mid}/done", headers=promoter), 409)
    assert client.post(f"{base}/milestones/{mid}/reopen", headers=promoter).json()["done_on"] is None
    assert_problem(client.post(f"{base}/milestones/{mid}/finish", headers=promoter), 422)
    assert_problem(client.post(f"{base}/milestones/unknown/done", headers=promoter), 404)

    started = client.post(f"{base}/start", headers=promoter)
    assert started.status_code == 200, started.text
    assert (started.json()["state"], started.json()["can_deliver"]) == ("in_progress", True)
    assert_problem(client.post(f"{base}/start", headers=promoter), 409)
    assert audit_count(world, "initiative.start_work") == 1

    assert_problem(client.post(f"{base}/deliver", json={"what_was_done": ""}, headers=promoter), 422)
    report = {"what_was_done": "Six bacs posés et plantés.", "what_changed": "Un bac de plus."}
    delivered = client.post(f"{base}/deliver", json=report, headers=promoter)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["state"] == "delivered"
    assert delivered.json()["report"]["what_was_done"] == "Six bacs posés et plantés."
    assert delivered.json()["report"]["written_by"]
    assert client.get(f"{base}/followup", headers=promoter).json()["report"]["what_changed"] == "Un bac de plus."

    left = client.delete(f"{base}/milestones/{mid}", headers=promoter)
    assert left.status_code == 200, left.text
    assert [m["title"] for m in left.json()["items"]] == ["Livraison du terreau"]


def test_nothing_is_followed_before_the_signature(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    base = f"{API}/initiatives/{initiative.public_id}"
    promoter, agent = token(factory, world.promoter), token(factory, world.agent)
    milestone = {"side": "residents", "title": "Bacs montés", "due_on": in_days(world, 10)}
    assert_problem(client.post(f"{base}/milestones", json=milestone, headers=promoter), 409)
    day = {"day": today(world).isoformat(), "starts_at": "09:00", "ends_at": "12:00", "place": "Rue Lavoisier"}
    assert_problem(client.post(f"{base}/work-days", json=day, headers=agent), 409)
    assert_problem(client.post(f"{base}/start", headers=promoter), 409)
    assert_problem(client.post(f"{base}/updates", json={"body": "Déjà ?"}, headers=promoter), 409)
    assert_problem(client.get(f"{base}/followup", headers=promoter), 404)
    assert client.get(f"{base}/work-days", headers=promoter).json() == []
    assert rows_of(world, Milestone) == 0
    assert rows_of(world, WorkDay) == 0


def test_another_territorys_initiative_is_not_found(client: TestClient, factory: Factory, world: World) -> None:
    foreign = foreign_initiative(factory, world)
    base = f"{API}/initiatives/{foreign.public_id}"
    agent = token(factory, world.agent)
    for path in ("followup", "milestones", "realisations", "work-days", "updates", "evaluation"):
        assert_problem(client.get(f"{base}/{path}", headers=agent), 404)
    milestone = {"side": "town", "title": "Ailleurs", "due_on": in_days(world, 3)}
    assert_problem(client.post(f"{base}/milestones", json=milestone, headers=agent), 404)
    assert_problem(client.post(f"{base}/start", headers=agent), 404)
    assert_problem(client.post(f"{base}/updates", json={"body": "Ailleurs"}, headers=agent), 404)
    assert rows_of(world, Milestone) == 0


def test_a_retried_write_acts_once(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    base = f"{API}/initiatives/{initiative.public_id}"
    headers = {**token(factory, world.promoter), "Idempotency-Key": "milestone-1"}
    milestone = {"side": "residents", "title": "Bacs montés", "due_on": in_days(world, 10)}
    first = client.post(f"{base}/milestones", json=milestone, headers=headers)
    second = client.post(f"{base}/milestones", json=milestone, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert rows_of(world, Milestone) == 1
    assert audit_count(world, "milestone.add") == 1
    assert_problem(client.post(f"{base}/milestones", json={**milestone, "title": "Autre"}, headers=headers), 422)

    started = {**token(factory, world.promoter), "Idempotency-Key": "start-1"}
    assert client.post(f"{base}/start", headers=started).status_code == 200
    assert client.post(f"{base}/start", headers=started).status_code == 200
    assert audit_count(world, "initiative.start_work") == 1


def test_read_scope_cannot_write(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    base = f"{API}/initiatives/{initiative.public_id}"
    reader = token(factory, world.promoter, ("read",))
    assert client.get(f"{base}/milestones", headers=reader).status_code == 200
    milestone = {"side": "residents", "title": "Bacs montés", "due_on": in_days(world, 10)}
    assert_problem(client.post(f"{base}/milestones", json=milestone, headers=reader), 403)
    assert_problem(client.post(f"{base}/updates", json={"body": "Nouvelles"}, headers=reader), 403)
    assert rows_of(world, Milestone) == 0


# ---------------------------------------------------------------- realisations


def test_realisations_recorded_in_minutes_then_verified(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    base = f"{API}/initiatives/{initiative.public_id}"
    promoter, agent = token(factory, world.promoter), token(factory, world.agent)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    town = line_of(world, initiative.id, Side.TOWN)
    yesterday = (today(world) - dt.timedelta(days=1)).isoformat()

    recorded = client.post(
        f"{base}/realisations", json={"line": hours.public_id, "quantity": 210, "delivered_on": yesterday},
        headers=promoter,
    )  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    row = recorded.json()
    assert (row["quantity"], row["unit"], row["state"], row["source"]) == (210, "minutes", "delivered", "manual")
    assert row["value_cents"] == 210 * hours.unit_value_cents // 60
    assert (row["can_verify"], row["can_cancel"]) == (False, True)
    # The town's lines are the staff's; a staff entry on a town line is a town delivery.
    town_entry = {"line": town.public_id, "quantity": 1, "delivered_on": yesterday}
    assert_problem(client.post(f"{base}/realisations", json=town_entry, headers=promoter), 403)
    delivery = client.post(f"{base}/realisations", json=town_entry, headers=agent)
    assert delivery.json()["source"] == "delivery"
    future = {"line": hours.public_id, "quantity": 60, "delivered_on": in_days(world, 2)}
    assert_problem(client.post(f"{base}/realisations", json=future, headers=promoter), 422)
    unknown = {"line": "nope", "quantity": 60, "delivered_on": yesterday}
    assert_problem(client.post(f"{base}/realisations", json=unknown, headers=promoter), 422)

    rid = row["public_id"]
    assert_problem(client.post(f"{base}/realisations/{rid}/verify", headers=promoter), 403)
    verified = client.post(f"{base}/realisations/{rid}/verify", headers=agent)
    assert verified.status_code == 200, verified.text
    assert verified.json()["state"] == "verified"
    assert verified.json()["verified_by"] == "Annie Agent"
    assert_problem(client.post(f"{base}/realisations/{rid}/verify", headers=agent), 409)

    listed = client.get(f"{base}/realisations", headers=promoter).json()
    by_line = {c["public_id"]: c for c in listed["commitments"]}
    assert (by_line[hours.public_id]["committed_quantity"], by_line[hours.public_id]["unit"]) == (6000, "minutes")
    assert by_line[hours.public_id]["delivered_quantity"] == by_line[hours.public_id]["verified_quantity"] == 210
    assert by_line[town.public_id]["delivered_quantity"] == 1
    assert by_line[town.public_id]["verified_quantity"] == 0
    assert [r["public_id"] for r in by_line[hours.public_id]["realisations"]] == [rid]
    assert [c["public_id"] for c in listed["recordable_lines"]] == [hours.public_id]

    cancelled = client.post(
        f"{base}/realisations/{delivery.json()['public_id']}/cancel", json={"reason": "Doublon"}, headers=agent
    )
    assert (cancelled.json()["state"], cancelled.json()["cancel_reason"]) == ("cancelled", "Doublon")

    neighbour = token(factory, resident(factory, "voisine@example.org", "Véra Voisine"))
    assert_problem(client.get(f"{base}/realisations", headers=neighbour), 404)


def test_realisations_on_days_and_units(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    plants = add_line(world, initiative.id)  # partners' plants, in units
    recorded = client.post(
        f"{API}/initiatives/{initiative.public_id}/realisations",
        json={"line": plants.public_id, "quantity": 4, "delivered_on": today(world).isoformat()},
        headers=token(factory, world.agent),
    )
    assert recorded.status_code == 201, recorded.text
    assert (recorded.json()["quantity"], recorded.json()["unit"], recorded.json()["value_cents"]) == (4, "units", 2000)


# ---------------------------------------------------------------- work days and their registers


def test_work_day_sign_up_register_and_check(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    base = f"{API}/initiatives/{initiative.public_id}/work-days"
    promoter, agent = token(factory, world.promoter), token(factory, world.agent)
    victor = resident(factory, "voisin@example.org", "Victor Voisin")
    neighbour = token(factory, victor)

    day = {"day": today(world).isoformat(), "starts_at": "09:00", "ends_at": "12:30:00", "place": "Rue Lavoisier",
           "max_participants": 10}  # fmt: skip
    created = client.post(base, json=day, headers=promoter)
    assert created.status_code == 201, created.text
    wid = created.json()["public_id"]
    assert (created.json()["starts_at"], created.json()["ends_at"]) == ("09:00:00", "12:30:00")
    assert created.json()["register_state"] == "empty"
    assert_problem(client.post(base, json={**day, "ends_at": "08:00"}, headers=promoter), 422)
    assert_problem(client.post(base, json=day, headers=neighbour), 403)

    joined = client.post(f"{base}/{wid}/participation", headers=neighbour)
    assert joined.status_code == 200, joined.text
    assert (joined.json()["mine"], joined.json()["signed_up"]) == (True, 1)
    assert joined.json()["register_state"] is None  # the public does not see the register
    assert joined.json()["participants"] == []
    assert client.post(f"{base}/{wid}/participation", headers=neighbour).json()["signed_up"] == 1
    left = client.delete(f"{base}/{wid}/participation", headers=neighbour)
    assert (left.json()["mine"], left.json()["signed_up"]) == (False, 0)
    assert client.post(f"{base}/{wid}/participation", headers=neighbour).json()["signed_up"] == 1
    listed = client.get(base, headers=neighbour).json()
    assert [(w["public_id"], w["mine"]) for w in listed] == [(wid, True)]

    assert_problem(client.get(f"{base}/{wid}/register", headers=neighbour), 404)
    register = client.get(f"{base}/{wid}/register", headers=promoter).json()
    (victor_row,) = register["rows"]
    assert (victor_row["name"], victor_row["came"], victor_row["signed_up"]) == ("Victor Voisin", None, True)
    participant = victor_row["participant"]

    incomplete = {"rows": [{"participant": participant, "came": True, "minutes": 210}]}
    refused = assert_problem(client.put(f"{base}/{wid}/register", json=incomplete, headers=promoter), 422)
    assert {tuple(e["loc"]) for e in refused["errors"]} == {
        ("body", "rows", 0, "safety_briefing"), ("body", "rows", 0, "insurance_ack"),
    }  # fmt: skip
    ticks = {"came": True, "safety_briefing": True, "insurance_ack": True}
    rows = {"rows": [
        {"participant": participant, **ticks, "minutes": 210},
        {"name": "Jean Passant", **ticks, "minutes": 120},
        {"name": "Léa Mineure", "is_minor": True, **ticks, "minutes": 60},
    ]}  # fmt: skip
    minor = assert_problem(client.put(f"{base}/{wid}/register", json=rows, headers=promoter), 422)
    assert [e["loc"] for e in minor["errors"]] == [["body", "rows", 2, "parental_permission"]]
    rows["rows"][2]["parental_permission"] = True
    entered = client.put(f"{base}/{wid}/register", json=rows, headers=promoter)
    assert entered.status_code == 200, entered.text
    assert (entered.json()["state"], entered.json()["attendees"], entered.json()["total_minutes"]) == (
        "entered", 3, 390,
    )  # fmt: skip
    assert {(r["name"], r["minutes"], r["signed_up"]) for r in entered.json()["rows"]} == {
        ("Victor Voisin", 210, True), ("Jean Passant", 120, False), ("Léa Mineure", 60, False),
    }  # fmt: skip
    assert_problem(client.delete(f"{base}/{wid}/participation", headers=neighbour), 409)

    # Only an agent not tied to the initiative checks; the hours reach the ledger once.
    assert_problem(client.post(f"{base}/{wid}/register/check", headers=promoter), 403)
    checked = client.post(f"{base}/{wid}/register/check", headers=agent)
    assert checked.status_code == 200, checked.text
    assert (checked.json()["realisations_written"], checked.json()["minutes_written"]) == (3, 390)
    assert (checked.json()["checked"], checked.json()["state"]) == (True, "checked")
    assert_problem(client.post(f"{base}/{wid}/register/check", headers=agent), 409)
    assert_problem(client.put(f"{base}/{wid}/register", json=rows, headers=promoter), 409)
    found = realisations(world, initiative)
    assert sorted(r.quantity for r in found) == [60, 120, 210]
    assert {r.state for r in found} == {RealisationState.VERIFIED}
    ledger = client.get(f"{API}/initiatives/{initiative.public_id}/realisations", headers=promoter).json()
    hours = next(c for c in ledger["commitments"] if c["side"] == "residents")
    assert hours["verified_quantity"] == 390


def test_register_check_retried_with_its_key_reaches_the_ledger_once(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    victor = resident(factory, "voisin@example.org", "Victor Voisin")
    participant = sign_up(world, victor, initiative, work_day)
    base = f"{API}/initiatives/{initiative.public_id}/work-days/{work_day.public_id}/register"
    row = {"participant": participant.public_id, "came": True, "safety_briefing": True, "insurance_ack": True,
           "minutes": 150}  # fmt: skip
    put = {**token(factory, world.promoter), "Idempotency-Key": "register-1"}
    assert client.put(base, json={"rows": [row]}, headers=put).status_code == 200
    assert client.put(base, json={"rows": [row]}, headers=put).status_code == 200
    assert audit_count(world, "work_day.register_enter") == 1

    headers = {**token(factory, world.agent), "Idempotency-Key": "check-1"}
    first = client.post(f"{base}/check", headers=headers)
    second = client.post(f"{base}/check", headers=headers)
    assert first.status_code == second.status_code == 200, second.text
    assert first.json() == second.json()
    assert [r.quantity for r in realisations(world, initiative)] == [150]
    assert audit_count(world, "work_day.register_check") == 1
    assert audit_count(world, "ledger.realisation.record") == 1


# ---------------------------------------------------------------- equipment


def test_bookings_without_double_booking(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative, today(world) + dt.timedelta(days=3))
    barrow = item(world, "Brouette", 2)
    base = f"{API}/initiatives/{initiative.public_id}/work-days/{work_day.public_id}/bookings"
    promoter, agent = token(factory, world.promoter), token(factory, world.agent)

    offered = client.get(base, headers=promoter)
    assert offered.status_code == 200, offered.text
    assert offered.json()["can_book"] is True
    assert [e["public_id"] for e in offered.json()["equipment"]] == [barrow.public_id]
    neighbour = token(factory, resident(factory, "voisine@example.org", "Véra Voisine"))
    assert_problem(client.get(base, headers=neighbour), 404)

    booked = client.post(base, json={"equipment": barrow.public_id, "quantity": 2}, headers=promoter)
    assert booked.status_code == 201, booked.text
    bid = booked.json()["public_id"]
    assert (booked.json()["state"], booked.json()["starts_on"]) == ("booked", work_day.day.isoformat())
    double = assert_problem(client.post(base, json={"equipment": barrow.public_id}, headers=agent), 409)
    assert "Brouette" in double["detail"]
    assert_problem(client.post(base, json={"equipment": "unknown"}, headers=promoter), 422)
    assert [b["public_id"] for b in client.get(base, headers=promoter).json()["items"]] == [bid]

    assert_problem(client.post(f"{API}/bookings/{bid}/hand-out", headers=promoter), 403)
    out = client.post(f"{API}/bookings/{bid}/hand-out", json={"condition": "Pneus gonflés"}, headers=agent)
    assert out.status_code == 200, out.text
    assert (out.json()["state"], out.json()["condition_out"]) == ("out", "Pneus gonflés")
    assert_problem(client.post(f"{API}/bookings/{bid}/cancel", headers=promoter), 409)
    back = client.post(f"{API}/bookings/{bid}/return", json={"condition": "Boueuse"}, headers=agent)
    assert (back.json()["state"], back.json()["condition_returned"]) == ("returned", "Boueuse")
    assert_problem(client.post(f"{API}/bookings/{bid}/return", headers=agent), 409)
    assert_problem(client.post(f"{API}/bookings/{bid}/lose", headers=agent), 422)

    again = client.post(base, json={"equipment": barrow.public_id}, headers=promoter)
    cancelled = client.post(f"{API}/bookings/{again.json()['public_id']}/cancel", json={"reason": "Pluie"},
                            headers=promoter)  # fmt: skip
    assert cancelled.json()["state"] == "cancelled"

    inventory = client.get(f"{API}/equipment", headers=agent)
    assert [(e["name"], e["quantity"], e["active"]) for e in inventory.json()] == [("Brouette", 2, True)]
    assert_problem(client.get(f"{API}/equipment", headers=promoter), 403)


def test_bookings_of_another_territory_are_not_found(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative, today(world) + dt.timedelta(days=3))
    barrow = item(world, "Brouette", 2)
    booked = client.post(
        f"{API}/initiatives/{initiative.public_id}/work-days/{work_day.public_id}/bookings",
        json={"equipment": barrow.public_id}, headers=token(factory, world.agent),
    )  # fmt: skip
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    stranger = factory.account("agent@autre.example.org", territory="autre", roles=("agent",))
    with TestClient(client.app, base_url="http://autre.test") as other:
        assert_problem(other.post(f"{API}/bookings/{booked.json()['public_id']}/hand-out",
                                  headers=token(factory, stranger)), 404)  # fmt: skip
        assert other.get(f"{API}/equipment", headers=token(factory, stranger)).json() == []


# ---------------------------------------------------------------- progress updates


def test_progress_updates(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    base = f"{API}/initiatives/{initiative.public_id}/updates"
    promoter = token(factory, world.promoter)
    neighbour = token(factory, resident(factory, "voisine@example.org", "Véra Voisine"))

    assert client.get(base, headers=neighbour).json()["updates"] == []
    posted = client.post(base, json={"body": "Les bacs sont posés.", "progress": 40}, headers=promoter)
    assert posted.status_code == 201, posted.text
    assert (posted.json()["body"], posted.json()["progress_percent"], posted.json()["photos"]) == (
        "Les bacs sont posés.", 40, [],
    )  # fmt: skip
    assert_problem(client.post(base, json={"body": "Moi aussi"}, headers=neighbour), 403)
    assert_problem(client.post(base, json={"body": "Trop", "progress": 140}, headers=promoter), 422)
    headers = {**promoter, "Idempotency-Key": "update-2"}
    for _attempt in range(2):
        assert client.post(base, json={"body": "La terre est là."}, headers=headers).status_code == 201
    seen = client.get(base, headers=neighbour).json()
    assert seen["progress"] == 40
    assert [u["body"] for u in seen["updates"]] == ["La terre est là.", "Les bacs sont posés."]
    assert rows_of(world, ProgressUpdate) == 2


# ---------------------------------------------------------------- the documentation


def test_openapi_lists_the_followup_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    i = API + "/initiatives/{public_id}"
    w = i + "/work-days/{work_day_id}"
    expected = {
        i + "/followup": {"get"},
        i + "/start": {"post"},
        i + "/deliver": {"post"},
        i + "/milestones": {"get", "post"},
        i + "/milestones/{milestone_id}": {"patch", "delete"},
        i + "/milestones/{milestone_id}/{step}": {"post"},
        i + "/realisations": {"get", "post"},
        i + "/realisations/{realisation_id}/verify": {"post"},
        i + "/realisations/{realisation_id}/cancel": {"post"},
        i + "/work-days": {"get", "post"},
        w: {"get"},
        w + "/participation": {"post", "delete"},
        w + "/register": {"get", "put"},
        w + "/register/check": {"post"},
        w + "/bookings": {"get", "post"},
        API + "/bookings/{booking_id}/{action}": {"post"},
        API + "/equipment": {"get"},
        i + "/updates": {"get", "post"},
        i + "/evaluation": {"get", "put"},
        i + "/evaluation/finalise": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            responses = paths[path][method]["responses"]
            assert {"401", "403", "404", "409", "422"} <= set(responses), (path, method)
            assert "application/problem+json" in responses["409"]["content"]
            if method != "get":
                names = {p["name"].lower() for p in paths[path][method].get("parameters", [])}
                assert "idempotency-key" in names, (path, method)
    for path in (i + "/milestones", i + "/realisations", i + "/updates", w + "/bookings", i + "/work-days"):
        assert "201" in paths[path]["post"]["responses"], path
