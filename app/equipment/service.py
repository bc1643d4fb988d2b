"""The town's lendable equipment: the inventory, bookings for work days, handing out and taking back,
and the week's view for the technical services.

No double booking: the units held (booked or out) on any day of a booking's period never exceed the
equipment's quantity. ``book`` checks it after locking the equipment row (``FOR UPDATE`` on
PostgreSQL; SQLite's write transactions are already serialised by ``BEGIN IMMEDIATE``), so two
bookings made at the same moment cannot both take the last unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.equipment import permissions as perm
from app.equipment.forms import BookingInput, EquipmentInput
from app.equipment.models import HOLDING_STATES, BookingState, Equipment, EquipmentBooking
from app.funds.service import territory_today
from app.initiatives.models import Initiative
from app.ledger.models import CommitmentLine, LineKind, LineState
from app.review.permissions import Involvement
from app.web.forms import clean_text
from app.web.i18n import N_, _
from app.workdays import permissions as wperm
from app.workdays.models import WorkDay

# A booking covers at most this many days (a work day and the days around it).
MAX_BOOKING_DAYS = 31
STATE_LABELS = {
    BookingState.BOOKED: N_("réservé"),
    BookingState.OUT: N_("sorti"),
    BookingState.RETURNED: N_("rendu"),
    BookingState.CANCELLED: N_("annulé"),
}
HOLDING = [s.value for s in HOLDING_STATES]


# ---------------------------------------------------------------- the inventory


def _require_manager(actor: Actor, territory_id: int) -> None:
    if not perm.can_manage(actor, territory_id):
        raise Forbidden(_("Le matériel de la commune est géré par ses agent·es et ses administrateur·rices."))


def list_equipment(db: Session, actor: Actor, territory_id: int) -> list[Equipment]:
    _require_manager(actor, territory_id)
    return list(
        db.scalars(
            select(Equipment)
            .where(Equipment.territory_id == territory_id)
            .order_by(Equipment.active.desc(), Equipment.name, Equipment.id)
        )
    )


def get_equipment(db: Session, territory_id: int, public_id: str, *, for_update: bool = False) -> Equipment:
    stmt = select(Equipment).where(Equipment.territory_id == territory_id, Equipment.public_id == public_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    item = db.scalar(stmt)
    if item is None:
        raise NotFound(_("Ce matériel n'existe pas."))
    return item


def _check_name(db: Session, territory_id: int, name: str, equipment_id: int | None) -> None:
    clash = db.scalar(
        select(Equipment.id).where(
            Equipment.territory_id == territory_id,
            Equipment.name == name,
            Equipment.id != (equipment_id or 0),
        )
    )
    if clash is not None:
        raise Invalid(_("Un matériel porte déjà ce nom : précisez-le (taille, numéro…)."), field="name")


def create_equipment(db: Session, actor: Actor, territory_id: int, data: EquipmentInput) -> Equipment:
    _require_manager(actor, territory_id)
    _check_name(db, territory_id, data.name, None)
    item = Equipment(
        territory_id=territory_id,
        name=data.name,
        description=data.description,
        quantity=data.quantity,
        condition_notes=data.condition_notes,
        active=data.active,
        created_by_person_id=actor.person_id,
    )
    db.add(item)
    db.flush()
    audit.record(
        db, actor, "equipment.create", "equipment", item.public_id, territory_id=territory_id,
        data={"name": item.name, "quantity": item.quantity, "active": item.active},
    )  # fmt: skip
    return item


def update_equipment(db: Session, actor: Actor, territory_id: int, public_id: str, data: EquipmentInput) -> Equipment:
    _require_manager(actor, territory_id)
    item = get_equipment(db, territory_id, public_id, for_update=True)
    _check_name(db, territory_id, data.name, item.id)
    before = {"name": item.name, "quantity": item.quantity, "active": item.active}
    item.name = data.name
    item.description = data.description
    item.quantity = data.quantity
    item.condition_notes = data.condition_notes
    item.active = data.active
    db.flush()
    after = {"name": item.name, "quantity": item.quantity, "active": item.active}
    audit.record(
        db, actor, "equipment.update", "equipment", item.public_id, territory_id=territory_id,
        data={"before": before, "after": after},
    )  # fmt: skip
    return item


# ---------------------------------------------------------------- availability


def _held(
    db: Session, equipment: Equipment, starts_on: dt.date, ends_on: dt.date, exclude_id: int | None = None
) -> list[tuple[dt.date, dt.date, int]]:
    """The bookings that hold units of the equipment on some day between the two dates."""
    stmt = select(EquipmentBooking.starts_on, EquipmentBooking.ends_on, EquipmentBooking.quantity).where(
        EquipmentBooking.equipment_id == equipment.id,
        EquipmentBooking.state.in_(HOLDING),
        EquipmentBooking.starts_on <= ends_on,
        EquipmentBooking.ends_on >= starts_on,
    )
    if exclude_id is not None:
        stmt = stmt.where(EquipmentBooking.id != exclude_id)
    return [(s, e, q) for s, e, q in db.execute(stmt)]


def available(db: Session, equipment: Equipment, starts_on: dt.date, ends_on: dt.date) -> int:
    """The units free on every day of the period (the busiest day decides)."""
    held = _held(db, equipment, starts_on, ends_on)
    peak = 0
    day = starts_on
    while day <= ends_on:
        peak = max(peak, sum(q for s, e, q in held if s <= day <= e))
        day += dt.timedelta(days=1)
    return max(0, equipment.quantity - peak)


# ---------------------------------------------------------------- bookings


def _loan_line(db: Session, initiative: Initiative, public_id: str) -> CommitmentLine | None:
    if not public_id:
        return None
    line = db.scalar(
        select(CommitmentLine).where(
            CommitmentLine.initiative_id == initiative.id,
            CommitmentLine.public_id == public_id,
            CommitmentLine.kind == LineKind.EQUIPMENT_LOAN,
            CommitmentLine.state != LineState.CANCELLED,
        )
    )
    if line is None:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="commitment_line")
    return line


def _booking_audit(
    db: Session, actor: Actor, action: str, initiative: Initiative, booking: EquipmentBooking, equipment: Equipment,
    *, reason: str = "", **data: object,
) -> None:  # fmt: skip
    audit.record(
        db, actor, action, "initiative", initiative.public_id, territory_id=initiative.territory_id, reason=reason,
        data={"booking": booking.public_id, "equipment": equipment.public_id, "equipment_name": equipment.name,
              "quantity": booking.quantity, "starts_on": booking.starts_on.isoformat(),
              "ends_on": booking.ends_on.isoformat(), **data},
    )  # fmt: skip


def book(
    db: Session, actor: Actor, initiative: Initiative, involvement: Involvement, work_day: WorkDay, data: BookingInput
) -> EquipmentBooking:
    """Books units of an equipment for the work day (the caller found both, visible to the actor).
    ``Conflict`` when the units are not free on every day of the period."""
    if not wperm.organises(actor, initiative, involvement):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es réservent du matériel pour un chantier."))
    if not perm.can_book(actor, initiative, involvement, work_day):
        raise Conflict(_("Ce chantier ne peut plus recevoir de réservation de matériel."))
    starts_on = data.starts_on or work_day.day
    ends_on = data.ends_on or work_day.day
    if ends_on < starts_on:
        raise Invalid(_("La date de retour doit être après la date de sortie."), field="ends_on")
    if not starts_on <= work_day.day <= ends_on:
        raise Invalid(
            _("La période doit comprendre le jour du chantier (%(day)s).") % {"day": work_day.day}, field="starts_on"
        )
    if starts_on < territory_today(db, initiative.territory_id):
        raise Invalid(_("La date de sortie ne peut pas être passée."), field="starts_on")
    if (ends_on - starts_on).days + 1 > MAX_BOOKING_DAYS:
        raise Invalid(_("Une réservation dure au plus %(n)s jours.") % {"n": MAX_BOOKING_DAYS}, field="ends_on")
    line = _loan_line(db, initiative, data.commitment_line)
    try:
        item = get_equipment(db, initiative.territory_id, data.equipment, for_update=True)
    except NotFound:
        raise Invalid(_("Choisissez un matériel de la liste."), field="equipment") from None
    if not item.active:
        raise Invalid(_("Ce matériel n'est plus prêté."), field="equipment")
    free = available(db, item, starts_on, ends_on)
    if data.quantity > free:
        raise Conflict(
            _("« %(name)s » : %(free)s disponible(s) sur cette période, %(asked)s demandé(s).")
            % {"name": item.name, "free": free, "asked": data.quantity},
            field="quantity",
        )
    booking = EquipmentBooking(
        territory_id=initiative.territory_id,
        equipment_id=item.id,
        work_day_id=work_day.id,
        commitment_line_id=line.id if line is not None else None,
        quantity=data.quantity,
        starts_on=starts_on,
        ends_on=ends_on,
        state=BookingState.BOOKED.value,
        condition_out="",
        condition_returned="",
        cancel_reason="",
        created_by_person_id=actor.person_id,
    )
    db.add(booking)
    db.flush()
    _booking_audit(
        db, actor, "equipment.book", initiative, booking, item, work_day=work_day.public_id,
        line=line.public_id if line is not None else None,
    )  # fmt: skip
    return booking


@dataclass(frozen=True)
class BookingContext:
    booking: EquipmentBooking
    equipment: Equipment
    work_day: WorkDay
    initiative: Initiative
    involvement: Involvement


def get_booking(db: Session, actor: Actor, territory_id: int, public_id: str) -> BookingContext:
    """The booking with its equipment, work day and initiative; 404 if the actor may not see it."""
    from app.workdays import service as workdays  # the work days' service uses this module

    row = db.execute(
        select(EquipmentBooking, Equipment, WorkDay, Initiative.public_id)
        .join(Equipment, Equipment.id == EquipmentBooking.equipment_id)
        .join(WorkDay, WorkDay.id == EquipmentBooking.work_day_id)
        .join(Initiative, Initiative.id == WorkDay.initiative_id)
        .where(EquipmentBooking.territory_id == territory_id, EquipmentBooking.public_id == public_id)
        .with_for_update(of=EquipmentBooking)
    ).one_or_none()
    if row is None:
        raise NotFound(_("Cette réservation n'existe pas."))
    booking, item, work_day, initiative_public_id = row
    try:
        initiative, involvement = workdays.load(db, actor, territory_id, initiative_public_id)
    except NotFound:
        raise NotFound(_("Cette réservation n'existe pas.")) from None
    if not (perm.can_manage(actor, territory_id) or involvement.member):
        raise NotFound(_("Cette réservation n'existe pas."))
    return BookingContext(booking, item, work_day, initiative, involvement)


def hand_out(db: Session, actor: Actor, context: BookingContext, condition: str) -> EquipmentBooking:
    """booked -> out, with the condition when it leaves."""
    booking = context.booking
    if not perm.can_manage(actor, booking.territory_id):
        raise Forbidden(_("Le matériel est remis par les services de la commune."))
    if not perm.can_hand_out(actor, booking):
        raise Conflict(_("Seul un matériel réservé peut être remis."))
    booking.state = BookingState.OUT.value
    booking.out_at = utcnow()
    booking.out_by_person_id = actor.person_id
    booking.condition_out = clean_text(condition)
    db.flush()
    _booking_audit(
        db, actor, "equipment.hand_out", context.initiative, booking, context.equipment,
        condition=booking.condition_out,
    )  # fmt: skip
    return booking


def take_back(db: Session, actor: Actor, context: BookingContext, condition: str) -> EquipmentBooking:
    """out -> returned, with the condition on return (also written on the equipment's notes if it changed)."""
    booking = context.booking
    if not perm.can_manage(actor, booking.territory_id):
        raise Forbidden(_("Le matériel est repris par les services de la commune."))
    if not perm.can_take_back(actor, booking):
        raise Conflict(_("Seul un matériel sorti peut être rendu."))
    booking.state = BookingState.RETURNED.value
    booking.returned_at = utcnow()
    booking.returned_by_person_id = actor.person_id
    booking.condition_returned = clean_text(condition)
    db.flush()
    _booking_audit(
        db, actor, "equipment.take_back", context.initiative, booking, context.equipment,
        condition=booking.condition_returned,
    )  # fmt: skip
    return booking


def cancel_booking(db: Session, actor: Actor, context: BookingContext, reason: str = "") -> EquipmentBooking:
    """booked -> cancelled: the units are free again."""
    booking = context.booking
    if not perm.can_cancel(actor, context.initiative, context.involvement, booking):
        if booking.state != BookingState.BOOKED:
            raise Conflict(_("Seule une réservation dont le matériel n'est pas encore sorti peut être annulée."))
        raise Forbidden(_("Vous ne pouvez pas annuler cette réservation."))
    text = clean_text(reason)
    booking.state = BookingState.CANCELLED.value
    booking.cancelled_at = utcnow()
    booking.cancel_reason = text
    db.flush()
    _booking_audit(db, actor, "equipment.cancel_booking", context.initiative, booking, context.equipment, reason=text)
    return booking


def cancel_for_work_day(db: Session, actor: Actor, work_day: WorkDay) -> int:
    """A cancelled work day frees what was booked for it (equipment already out stays to be taken back)."""
    bookings = list(
        db.scalars(
            select(EquipmentBooking).where(
                EquipmentBooking.work_day_id == work_day.id, EquipmentBooking.state == BookingState.BOOKED
            )
        )
    )
    moment = utcnow()
    for booking in bookings:
        booking.state = BookingState.CANCELLED.value
        booking.cancelled_at = moment
        booking.cancel_reason = _("Chantier annulé")
    db.flush()
    return len(bookings)


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class BookingRow:
    public_id: str
    equipment_name: str
    quantity: int
    starts_on: dt.date
    ends_on: dt.date
    state: str
    state_label: str
    initiative_title: str
    initiative_public_id: str
    work_day_public_id: str
    work_day_on: dt.date
    place: str
    condition_out: str
    condition_returned: str
    late: bool
    can_cancel: bool
    can_hand_out: bool
    can_take_back: bool


def _rows(
    actor: Actor | None, today: dt.date, found: Sequence[tuple[EquipmentBooking, Equipment, WorkDay, Initiative]],
    cancel_allowed: bool,
) -> list[BookingRow]:  # fmt: skip
    return [
        BookingRow(
            public_id=b.public_id,
            equipment_name=item.name,
            quantity=b.quantity,
            starts_on=b.starts_on,
            ends_on=b.ends_on,
            state=b.state,
            state_label=_(STATE_LABELS[BookingState(b.state)]),
            initiative_title=initiative.title,
            initiative_public_id=initiative.public_id,
            work_day_public_id=work_day.public_id,
            work_day_on=work_day.day,
            place=work_day.place,
            condition_out=b.condition_out,
            condition_returned=b.condition_returned,
            late=b.state == BookingState.OUT and b.ends_on < today,
            can_cancel=cancel_allowed and b.state == BookingState.BOOKED,
            can_hand_out=perm.can_hand_out(actor, b),
            can_take_back=perm.can_take_back(actor, b),
        )
        for b, item, work_day, initiative in found
    ]


def bookings_for_work_day(
    db: Session, actor: Actor | None, initiative: Initiative, involvement: Involvement, work_day: WorkDay
) -> list[BookingRow]:
    found = db.execute(
        select(EquipmentBooking, Equipment, WorkDay, Initiative)
        .join(Equipment, Equipment.id == EquipmentBooking.equipment_id)
        .join(WorkDay, WorkDay.id == EquipmentBooking.work_day_id)
        .join(Initiative, Initiative.id == WorkDay.initiative_id)
        .where(EquipmentBooking.territory_id == initiative.territory_id, EquipmentBooking.work_day_id == work_day.id)
        .order_by(EquipmentBooking.starts_on, Equipment.name, EquipmentBooking.id)
    ).all()
    may_cancel = perm.can_book(actor, initiative, involvement, work_day) or perm.can_manage(
        actor, initiative.territory_id
    )
    return _rows(actor, territory_today(db, initiative.territory_id), list(found), may_cancel)


@dataclass(frozen=True)
class BookingChoices:
    """The booking form of a work day: the active equipment, the ledger's loan lines, the default period."""

    equipment: list[tuple[str, str]]
    loan_lines: list[tuple[str, str]]
    starts_on: dt.date
    ends_on: dt.date


def booking_choices(
    db: Session, actor: Actor | None, initiative: Initiative, involvement: Involvement, work_day: WorkDay
) -> BookingChoices | None:
    if not perm.can_book(actor, initiative, involvement, work_day):
        return None
    items = db.scalars(
        select(Equipment)
        .where(Equipment.territory_id == initiative.territory_id, Equipment.active.is_(True), Equipment.quantity > 0)
        .order_by(Equipment.name, Equipment.id)
    )
    lines = db.execute(
        select(CommitmentLine.public_id, CommitmentLine.label)
        .where(
            CommitmentLine.initiative_id == initiative.id,
            CommitmentLine.kind == LineKind.EQUIPMENT_LOAN,
            CommitmentLine.state != LineState.CANCELLED,
        )
        .order_by(CommitmentLine.id)
    )
    return BookingChoices(
        equipment=[
            (item.public_id, _("%(name)s (%(n)s en tout)") % {"name": item.name, "n": item.quantity}) for item in items
        ],
        loan_lines=[(public_id, label) for public_id, label in lines],
        starts_on=work_day.day,
        ends_on=work_day.day,
    )


@dataclass(frozen=True)
class DayView:
    day: dt.date
    departures: list[BookingRow]
    returns: list[BookingRow]


@dataclass(frozen=True)
class WeekView:
    start: dt.date
    end: dt.date
    previous: dt.date
    next: dt.date
    days: list[DayView]
    late: list[BookingRow]
    today: dt.date


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_view(db: Session, actor: Actor, territory_id: int, day: dt.date | None = None) -> WeekView:
    """What goes out and what comes back each day of the week (Monday to Sunday), and what is late."""
    _require_manager(actor, territory_id)
    today = territory_today(db, territory_id)
    start = week_start(day or today)
    end = start + dt.timedelta(days=6)
    found = list(
        db.execute(
            select(EquipmentBooking, Equipment, WorkDay, Initiative)
            .join(Equipment, Equipment.id == EquipmentBooking.equipment_id)
            .join(WorkDay, WorkDay.id == EquipmentBooking.work_day_id)
            .join(Initiative, Initiative.id == WorkDay.initiative_id)
            .where(
                EquipmentBooking.territory_id == territory_id,
                EquipmentBooking.state != BookingState.CANCELLED,
                or_(
                    EquipmentBooking.starts_on.between(start, end),
                    EquipmentBooking.ends_on.between(start, end),
                    and_(EquipmentBooking.state == BookingState.OUT, EquipmentBooking.ends_on < today),
                ),
            )
            .order_by(EquipmentBooking.starts_on, Equipment.name, EquipmentBooking.id)
        ).all()
    )
    rows = _rows(actor, today, found, False)
    days = []
    for offset in range(7):
        current = start + dt.timedelta(days=offset)
        days.append(
            DayView(
                day=current,
                departures=[r for r in rows if r.starts_on == current],
                returns=sorted(
                    (r for r in rows if r.ends_on == current), key=lambda r: (r.equipment_name, r.public_id)
                ),
            )
        )
    return WeekView(
        start=start,
        end=end,
        previous=start - dt.timedelta(days=7),
        next=start + dt.timedelta(days=7),
        days=days,
        late=[r for r in rows if r.late],
        today=today,
    )
