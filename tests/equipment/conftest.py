"""Equipment test data: the work-day world, an inventory, work days ahead and bookings made through the service."""

from __future__ import annotations

import datetime as dt

from app.core.actor import Actor
from app.db.session import unit_of_work
from app.equipment import service as equipment
from app.equipment.forms import BookingInput, EquipmentInput
from app.equipment.models import Equipment, EquipmentBooking
from app.initiatives.models import Initiative
from app.workdays import service as workdays
from app.workdays.models import WorkDay
from tests.workdays.conftest import World, world

__all__ = ["World", "world"]


def item(world: World, name: str = "Brouette", quantity: int = 2, *, active: bool = True) -> Equipment:
    with unit_of_work(world.database) as db:
        row = equipment.create_equipment(
            db, world.agent_actor, world.territory_id,
            EquipmentInput(name=name, quantity=quantity, active=active, description="", condition_notes=""),
        )  # fmt: skip
        db.flush()
        db.expunge(row)
        return row


def book(world: World, initiative: Initiative, work_day: WorkDay, thing: Equipment, quantity: int,
         starts_on: dt.date, ends_on: dt.date, who: Actor | None = None) -> EquipmentBooking:  # fmt: skip
    who = who or world.agent_actor
    with unit_of_work(world.database) as db:
        found, involvement = workdays.load(db, who, world.territory_id, initiative.public_id)
        day = workdays.get_work_day(db, found, work_day.public_id)
        data = BookingInput(equipment=thing.public_id, quantity=quantity, starts_on=starts_on, ends_on=ends_on)
        row = equipment.book(db, who, found, involvement, day, data)
        db.flush()
        db.expunge(row)
        return row


def booking_state(world: World, booking: EquipmentBooking) -> EquipmentBooking:
    with unit_of_work(world.database) as db:
        row = db.get_one(EquipmentBooking, booking.id)
        db.expunge(row)
        return row
