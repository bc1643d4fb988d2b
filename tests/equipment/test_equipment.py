"""The town's equipment: inventory, bookings without double booking, handing out and taking back,
the week's view for the technical services."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from app.core.errors import Conflict, Forbidden, Invalid
from app.db.session import unit_of_work
from app.equipment import service as equipment
from app.equipment.models import BookingState
from app.workdays import service as workdays
from tests.equipment.conftest import World, book, booking_state, item
from tests.factories import Factory, form_fields, post_form
from tests.workdays.conftest import HX, actor, audit_count, plan, resident, signed, today


def test_inventory_is_managed_by_staff(client: TestClient, factory: Factory, world: World) -> None:
    factory.login(client, resident(factory, "alice@example.org", "Alice Martin"))
    assert client.get("/admin/materiel").status_code == 403

    factory.login(client, world.agent)
    data = {"name": "Échafaudage", "quantity": "3", "condition_notes": "Roues neuves", "active": "on"}
    created = post_form(client, "/admin/materiel", data=data)
    assert created.status_code == 303
    page = client.get("/admin/materiel")
    assert "Échafaudage" in page.text
    assert "Roues neuves" in page.text
    duplicate = post_form(client, "/admin/materiel", data=data)
    assert duplicate.status_code == 422
    assert "porte déjà ce nom" in duplicate.text
    assert post_form(client, "/admin/materiel", data={**data, "name": "Pelle", "quantity": "-1"}).status_code == 422

    with unit_of_work(world.database) as db:
        (scaffold,) = equipment.list_equipment(db, world.agent_actor, world.territory_id)
        public_id = scaffold.public_id
    edit = f"/admin/materiel/{public_id}"
    assert post_form(client, edit, data={"name": "Échafaudage roulant", "quantity": "2"}).status_code == 303
    with unit_of_work(world.database) as db:
        (scaffold,) = equipment.list_equipment(db, world.agent_actor, world.territory_id)
        assert (scaffold.name, scaffold.quantity, scaffold.active) == ("Échafaudage roulant", 2, False)
    assert audit_count(world, "equipment.create") == 1
    assert audit_count(world, "equipment.update") == 1


def test_overlapping_bookings_are_refused_adjacent_ones_allowed(world: World) -> None:
    initiative = signed(world)
    start = today(world) + dt.timedelta(days=10)
    first_day = plan(world, initiative, day=start)
    second_day = plan(world, initiative, day=start + dt.timedelta(days=2))
    wheelbarrows = item(world, "Brouette", quantity=2)

    held = book(world, initiative, first_day, wheelbarrows, 2, start, start + dt.timedelta(days=1))
    # One more wheelbarrow on a day when both are out: refused, nothing written.
    with pytest.raises(Conflict, match="0 disponible"):
        book(world, initiative, second_day, wheelbarrows, 1, start + dt.timedelta(days=1), start + dt.timedelta(days=2))
    # From the day after the return: both are free again.
    adjacent = book(
        world, initiative, second_day, wheelbarrows, 2, start + dt.timedelta(days=2), start + dt.timedelta(days=3)
    )
    assert adjacent.state == BookingState.BOOKED

    # Cancelling the first booking frees its days.
    with unit_of_work(world.database) as db:
        equipment.cancel_booking(
            db, world.agent_actor, equipment.get_booking(db, world.agent_actor, world.territory_id, held.public_id)
        )
    again = book(world, initiative, first_day, wheelbarrows, 2, start, start + dt.timedelta(days=1))
    assert again.quantity == 2
    assert audit_count(world, "equipment.book") == 3
    assert audit_count(world, "equipment.cancel_booking") == 1


def test_the_busiest_day_decides_not_the_sum_of_the_period(world: World) -> None:
    initiative = signed(world)
    start = today(world) + dt.timedelta(days=10)
    work_day = plan(world, initiative, day=start + dt.timedelta(days=1))
    trailer = item(world, "Remorque", quantity=2)
    early = plan(world, initiative, day=start)
    late = plan(world, initiative, day=start + dt.timedelta(days=2))
    book(world, initiative, early, trailer, 1, start, start)
    book(world, initiative, late, trailer, 1, start + dt.timedelta(days=2), start + dt.timedelta(days=2))
    # Three units overlap the period, but never more than two on the same day.
    assert book(world, initiative, work_day, trailer, 1, start, start + dt.timedelta(days=2)).quantity == 1
    with pytest.raises(Conflict, match="1 disponible"):
        book(world, initiative, work_day, trailer, 2, start + dt.timedelta(days=1), start + dt.timedelta(days=1))


def test_booking_rules(world: World, factory: Factory) -> None:
    initiative = signed(world)
    day = today(world) + dt.timedelta(days=5)
    work_day = plan(world, initiative, day=day)
    ladder = item(world, "Échelle", quantity=1)
    with pytest.raises(Invalid, match="comprendre le jour du chantier"):
        book(world, initiative, work_day, ladder, 1, day + dt.timedelta(days=1), day + dt.timedelta(days=2))
    with pytest.raises(Invalid, match="après la date de sortie"):
        book(world, initiative, work_day, ladder, 1, day, day - dt.timedelta(days=1))
    retired = item(world, "Vieille échelle", quantity=1, active=False)
    with pytest.raises(Invalid, match="plus prêté"):
        book(world, initiative, work_day, retired, 1, day, day)
    neighbour = resident(factory, "voisin@example.org", "Victor Voisin")
    with pytest.raises(Forbidden):
        book(world, initiative, work_day, ladder, 1, day, day, who=actor(neighbour))
    # The promoters book for their own work day.
    assert book(world, initiative, work_day, ladder, 1, day, day, who=world.promoter_actor).state == BookingState.BOOKED


def test_out_and_back_with_the_condition(world: World) -> None:
    initiative = signed(world)
    day = today(world) + dt.timedelta(days=3)
    work_day = plan(world, initiative, day=day)
    mixer = item(world, "Bétonnière", quantity=1)
    booking = book(world, initiative, work_day, mixer, 1, day, day, who=world.promoter_actor)

    with unit_of_work(world.database) as db:
        context = equipment.get_booking(db, world.promoter_actor, world.territory_id, booking.public_id)
        with pytest.raises(Forbidden):
            equipment.hand_out(db, world.promoter_actor, context, "bon état")
    with unit_of_work(world.database) as db:
        context = equipment.get_booking(db, world.agent_actor, world.territory_id, booking.public_id)
        with pytest.raises(Conflict):
            equipment.take_back(db, world.agent_actor, context, "")
    with unit_of_work(world.database) as db:
        context = equipment.get_booking(db, world.agent_actor, world.territory_id, booking.public_id)
        equipment.hand_out(db, world.agent_actor, context, "Bon état, cuve propre")
    with unit_of_work(world.database) as db:
        context = equipment.get_booking(db, world.promoter_actor, world.territory_id, booking.public_id)
        with pytest.raises(Conflict):
            equipment.cancel_booking(db, world.promoter_actor, context)
    with unit_of_work(world.database) as db:
        context = equipment.get_booking(db, world.agent_actor, world.territory_id, booking.public_id)
        equipment.take_back(db, world.agent_actor, context, "Cuve à nettoyer")
    done = booking_state(world, booking)
    assert done.state == BookingState.RETURNED
    assert (done.condition_out, done.condition_returned) == ("Bon état, cuve propre", "Cuve à nettoyer")
    assert done.out_by_person_id == world.agent.person_id
    assert audit_count(world, "equipment.hand_out") == 1
    assert audit_count(world, "equipment.take_back") == 1


def test_a_cancelled_work_day_frees_its_bookings(world: World) -> None:
    initiative = signed(world)
    day = today(world) + dt.timedelta(days=3)
    work_day = plan(world, initiative, day=day)
    other_day = plan(world, initiative, day=day)
    saw = item(world, "Scie", quantity=1)
    booking = book(world, initiative, work_day, saw, 1, day, day)
    with unit_of_work(world.database) as db:
        workdays.cancel(db, world.agent_actor, world.territory_id, initiative.public_id, work_day.public_id)
    assert booking_state(world, booking).state == BookingState.CANCELLED
    assert book(world, initiative, other_day, saw, 1, day, day).state == BookingState.BOOKED


def test_the_week_for_the_technical_services(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    day = today(world) + dt.timedelta(days=1)
    work_day = plan(world, initiative, day=day, place="Square Lavoisier")
    rake = item(world, "Râteau", quantity=4)
    booking = book(world, initiative, work_day, rake, 3, day, day)
    week = f"/materiel/semaine?semaine={day.isoformat()}"

    factory.login(client, world.promoter)
    assert client.get(week).status_code == 403
    factory.login(client, world.agent)
    page = client.get(week)
    assert page.status_code == 200
    assert "Râteau" in page.text
    assert "Square Lavoisier" in page.text
    assert f"/materiel/reservations/{booking.public_id}/sortie" in page.text

    out = post_form(client, week, f"/materiel/reservations/{booking.public_id}/sortie",
                    data={"condition": "Dents tordues", "semaine": day.isoformat()}, headers=HX)  # fmt: skip
    assert out.status_code == 200
    assert out.text.lstrip().startswith('<div id="week">')
    assert "Dents tordues" in out.text
    assert f"/materiel/reservations/{booking.public_id}/retour" in out.text
    assert booking_state(world, booking).state == BookingState.OUT

    back = post_form(client, week, f"/materiel/reservations/{booking.public_id}/retour", data={"condition": "OK"})
    assert back.status_code == 303
    assert back.headers["location"].startswith("/materiel/semaine?semaine=")
    assert booking_state(world, booking).state == BookingState.RETURNED
    # Taking it back twice is refused: nothing changes.
    again = client.post(f"/materiel/reservations/{booking.public_id}/retour", data=form_fields(client.get(week).text))
    assert again.status_code == 409


def test_booking_from_the_work_day_page(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    day = today(world) + dt.timedelta(days=2)
    work_day = plan(world, initiative, day=day)
    pump = item(world, "Pompe", quantity=1)
    show = f"/initiatives/{initiative.public_id}/chantiers/{work_day.public_id}"
    action = show + "/materiel"

    factory.login(client, world.promoter)
    page = client.get(show)
    assert "Réserver du matériel" in page.text
    assert "Pompe (1 en tout)" in page.text
    data = {"equipment": pump.public_id, "quantity": "1", "starts_on": day.isoformat(), "ends_on": day.isoformat()}
    assert post_form(client, show, action, data=data).status_code == 303
    refused = post_form(client, show, action, data=data)
    assert refused.status_code == 409
    assert "0 disponible" in refused.text
    assert 'aria-invalid="true"' in refused.text
    page = client.get(show)
    assert "Pompe" in page.text
    assert "réservé" in page.text

    factory.login(client, resident(factory, "voisin@example.org", "Victor Voisin"))
    assert "Réserver du matériel" not in client.get(show).text
    assert post_form(client, show, action, data=data).status_code == 403
