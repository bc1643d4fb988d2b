"""Who manages the town's equipment, books it for a work day, hands it out and takes it back.

The inventory and the handing out are the town's (agents, the executive, admins: the technical
services work under them); the promoters and the agents who organise a work day book what it needs
and may cancel a booking until the equipment has left.
"""

from __future__ import annotations

from app.accounts.models import Role
from app.core.actor import Actor
from app.equipment.models import BookingState, EquipmentBooking
from app.initiatives.models import Initiative
from app.review.permissions import Involvement
from app.workdays import permissions as wperm
from app.workdays.models import RegisterState, WorkDay, WorkDayState


def can_manage(actor: Actor | None, territory_id: int) -> bool:
    return (
        actor is not None
        and actor.territory_id == territory_id
        and actor.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN)
    )


def can_book(actor: Actor | None, initiative: Initiative, involvement: Involvement, work_day: WorkDay) -> bool:
    return (
        wperm.organises(actor, initiative, involvement)
        and initiative.state in wperm.PLANNING_STATES
        and work_day.state == WorkDayState.PLANNED
        and work_day.register_state != RegisterState.CHECKED
    )


def can_cancel(
    actor: Actor | None, initiative: Initiative, involvement: Involvement, booking: EquipmentBooking
) -> bool:
    return booking.state == BookingState.BOOKED and (
        wperm.organises(actor, initiative, involvement) or can_manage(actor, booking.territory_id)
    )


def can_hand_out(actor: Actor | None, booking: EquipmentBooking) -> bool:
    return booking.state == BookingState.BOOKED and can_manage(actor, booking.territory_id)


def can_take_back(actor: Actor | None, booking: EquipmentBooking) -> bool:
    return booking.state == BookingState.OUT and can_manage(actor, booking.territory_id)
