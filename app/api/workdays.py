"""Work days in the JSON API: planning, « Je participe », the day's register and its check by an
agent (the hours then reach the ledger, exactly once), the equipment booked for the day.

Reads need the ``read`` scope, writes the ``write`` scope and accept an ``Idempotency-Key``. Rights
and states are decided by ``app.workdays`` and ``app.equipment``: this module parses, calls, shapes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.api.deps import ReadScope, WriteScope
from app.api.followup_schemas import ChoiceOut
from app.api.initiatives import IDEMPOTENCY_NOTE, RESPONSES, IdempotencyKey, _once
from app.api.workday_schemas import (
    BookingAction,
    BookingCreate,
    BookingOut,
    BookingsOut,
    BookingStepBody,
    CheckOut,
    EquipmentOut,
    ParticipantOut,
    RegisterBody,
    RegisterOut,
    RegisterRowOut,
    WorkDayCreate,
    WorkDayDetail,
    WorkDayOut,
)
from app.core.errors import Invalid, NotFound
from app.equipment import service as equipment
from app.initiatives.models import Initiative
from app.review.permissions import Involvement
from app.territories.context import TerritoryContext
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.errors import problem
from app.web.forms import clean_text
from app.web.i18n import _
from app.workdays import permissions as wperm
from app.workdays import service as workdays
from app.workdays.forms import RowInput
from app.workdays.models import RegisterState, WorkDay, WorkDayParticipant, WorkDayState

router = APIRouter(prefix="/api/v1", tags=["work days"], responses=RESPONSES)

WORK_DAY = "/initiatives/{public_id}/work-days/{work_day_id}"
# The register's error keys (``<row key>-<field>``) and the API's field names.
ROW_FIELDS = {
    "name": "name",
    "came": "came",
    "hours": "minutes",
    "safety": "safety_briefing",
    "insurance": "insurance_ack",
    "parental": "parental_permission",
}


# ---------------------------------------------------------------- shaping


def _work_day_out(summary: workdays.WorkDaySummary, private: bool) -> dict[str, Any]:
    w = summary.work_day
    return {
        "public_id": w.public_id, "day": w.day, "starts_at": w.starts_at, "ends_at": w.ends_at, "place": w.place,
        "meeting_point": w.meeting_point, "tasks": w.tasks, "tools": w.tools,
        "max_participants": w.max_participants, "state": WorkDayState(w.state), "cancel_reason": w.cancel_reason,
        "signed_up": summary.signed_up, "full": summary.full, "mine": summary.mine, "open": summary.open,
        "register_state": RegisterState(w.register_state) if private else None,
        "can_sign_up": summary.can_sign_up, "can_withdraw": summary.can_withdraw,
        "can_enter_register": summary.can_enter_register, "can_check_register": summary.can_check_register,
    }  # fmt: skip


def work_days_out(db: Session, viewer: Viewer, initiative: Initiative) -> list[WorkDayOut]:
    panel = workdays.panel(db, viewer, initiative)
    if panel is None:  # before the signature, no work day
        return []
    summaries = sorted([*panel.upcoming, *panel.past], key=lambda s: (s.work_day.day, s.work_day.starts_at))
    return [WorkDayOut(**_work_day_out(s, panel.private)) for s in summaries]


def work_day_detail(db: Session, viewer: Viewer, initiative: Initiative, work_day: WorkDay) -> WorkDayDetail:
    page = workdays.work_day_page(db, viewer, initiative, work_day)
    return WorkDayDetail(
        **_work_day_out(page.summary, page.private),
        participants=[ParticipantOut.model_validate(p, from_attributes=True) for p in page.participants],
        can_edit=page.can_edit,
    )


def _loaded(
    db: Session, viewer: Viewer, territory_id: int, public_id: str, work_day_id: str
) -> tuple[Initiative, Involvement, WorkDay]:
    initiative, involvement = workdays.load(db, viewer, territory_id, public_id)
    return initiative, involvement, workdays.get_work_day(db, initiative, work_day_id)


def register_out(db: Session, viewer: Viewer, initiative: Initiative, work_day: WorkDay) -> RegisterOut:
    """The register as stored (the promoters and the town's staff; 404 otherwise)."""
    page = workdays.register_page(db, viewer, initiative, work_day, new_rows=0)
    stored = {
        public_id: (came, minutes)
        for public_id, came, minutes in db.execute(
            select(WorkDayParticipant.public_id, WorkDayParticipant.came, WorkDayParticipant.minutes).where(
                WorkDayParticipant.work_day_id == work_day.id
            )
        )
    }
    return RegisterOut(
        work_day_public_id=work_day.public_id,
        state=RegisterState(work_day.register_state),
        state_label=page.state_label,
        checked=page.checked,
        can_enter=page.can_enter,
        can_check=page.can_check,
        has_hours_line=page.has_hours_line,
        attendees=page.attendees,
        total_minutes=page.total_minutes,
        rows=[
            RegisterRowOut(
                participant=row.participant,
                name=row.name,
                is_minor=row.is_minor,
                signed_up=row.signed_up,
                came=stored[row.participant][0],
                safety_briefing=row.safety_briefing,
                insurance_ack=row.insurance_ack,
                parental_permission=row.parental_permission,
                minutes=stored[row.participant][1],
            )
            for row in page.rows
            if row.participant is not None
        ],
    )


def _row_inputs(body: RegisterBody) -> list[RowInput]:
    rows = []
    walk_ins = 0
    for row in body.rows:
        if row.participant is not None:
            key = f"p-{row.participant}"
        else:
            key = f"new-{walk_ins}"
            walk_ins += 1
        rows.append(
            RowInput(
                key=key, participant=row.participant,
                name=clean_text(row.name.replace("\x00", "")) if row.participant is None else "",
                is_minor=row.is_minor and row.participant is None, came=row.came,
                safety_briefing=row.safety_briefing, insurance_ack=row.insurance_ack,
                parental_permission=row.parental_permission,
                hours=workdays.format_hours(row.minutes), remove=row.remove,
            )
        )  # fmt: skip
    return rows


def _row_errors(rows: list[RowInput], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The service's errors by ``<row key>-<field>``, as problem+json ``errors`` on ``body.rows[i].field``."""
    found: list[dict[str, Any]] = []
    for name, message in errors.items():
        index, row = next(((i, r) for i, r in enumerate(rows) if name.startswith(r.key + "-")), (None, None))
        if row is None:
            found.append({"loc": ["body"], "msg": message, "type": "invalid"})
            continue
        suffix = name[len(row.key) + 1 :]
        found.append(
            {"loc": ["body", "rows", index, ROW_FIELDS.get(suffix, suffix)], "msg": message, "type": "invalid"}
        )
    return found


def _booking_rows(
    db: Session, viewer: Viewer, initiative: Initiative, involvement: Involvement, work_day: WorkDay
) -> list[BookingOut]:
    return [
        BookingOut.model_validate(b, from_attributes=True)
        for b in equipment.bookings_for_work_day(db, viewer, initiative, involvement, work_day)
    ]


def bookings_out(
    db: Session, viewer: Viewer, initiative: Initiative, involvement: Involvement, work_day: WorkDay
) -> BookingsOut:
    """A work day's bookings, for the promoters and the town's staff (404 otherwise, as its register)."""
    if not wperm.sees_register(viewer, initiative, involvement):
        raise NotFound(_("Ce chantier n'existe pas."))
    choices = equipment.booking_choices(db, viewer, initiative, involvement, work_day)
    return BookingsOut(
        items=_booking_rows(db, viewer, initiative, involvement, work_day),
        can_book=choices is not None,
        equipment=[ChoiceOut(public_id=p, label=label) for p, label in (choices.equipment if choices else [])],
        loan_lines=[ChoiceOut(public_id=p, label=label) for p, label in (choices.loan_lines if choices else [])],
    )


def booking_out(db: Session, viewer: Viewer, territory_id: int, booking_id: str) -> BookingOut:
    context = equipment.get_booking(db, viewer, territory_id, booking_id)
    rows = _booking_rows(db, viewer, context.initiative, context.involvement, context.work_day)
    return next(b for b in rows if b.public_id == booking_id)


# ---------------------------------------------------------------- work days


@router.get(
    "/initiatives/{public_id}/work-days",
    response_model=list[WorkDayOut],
    summary="The work days of an initiative, in date order",
)
def list_work_days(public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> list[WorkDayOut]:
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    return work_days_out(db, viewer, initiative)


@router.post(
    "/initiatives/{public_id}/work-days",
    status_code=201,
    response_model=WorkDayDetail,
    summary="Plan a work day (a promoter or an agent; scope: write)",
    description="Once the convention is signed and while the work goes on (409 otherwise); from today on. "
    + IDEMPOTENCY_NOTE,
)
def plan(
    request: Request, public_id: str, body: WorkDayCreate, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        work_day = workdays.plan(db, viewer, territory.id, public_id, body)
        initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
        return 201, work_day_detail(db, viewer, initiative, work_day)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.get(WORK_DAY, response_model=WorkDayDetail, summary="A work day, with its participants for the organisers")
def get_work_day(
    public_id: str, work_day_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession
) -> WorkDayDetail:
    initiative, _standing, work_day = _loaded(db, viewer, territory.id, public_id, work_day_id)
    return work_day_detail(db, viewer, initiative, work_day)


def _participation(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str, work_day_id: str,
    key: str | None, join: bool,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        if join:
            workdays.sign_up(db, viewer, territory.id, public_id, work_day_id)
        else:
            workdays.withdraw(db, viewer, territory.id, public_id, work_day_id)
        initiative, _standing, work_day = _loaded(db, viewer, territory.id, public_id, work_day_id)
        return 200, work_day_detail(db, viewer, initiative, work_day)

    return _once(request, db, viewer, territory, key, None, action)


@router.post(
    WORK_DAY + "/participation",
    response_model=WorkDayDetail,
    summary="« Je participe »: sign this token's person up (scope: write)",
    description="Once per person: signing up again changes nothing. Closed (409) once the day has passed, "
    "it is cancelled or full, or its register entered. " + IDEMPOTENCY_NOTE,
)
def sign_up(
    request: Request, public_id: str, work_day_id: str, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    return _participation(request, db, viewer, territory, public_id, work_day_id, idempotency_key, True)


@router.delete(
    WORK_DAY + "/participation",
    response_model=WorkDayDetail,
    summary="« Je ne participe plus »: withdraw this token's person (scope: write)",
    description="Withdrawing when not signed up changes nothing; once the register is entered: 409. "
    + IDEMPOTENCY_NOTE,
)
def withdraw(
    request: Request, public_id: str, work_day_id: str, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    return _participation(request, db, viewer, territory, public_id, work_day_id, idempotency_key, False)


# ---------------------------------------------------------------- the register


@router.get(
    WORK_DAY + "/register",
    response_model=RegisterOut,
    summary="The day's register: who came, the ticks, the hours (promoters and staff)",
)
def get_register(
    public_id: str, work_day_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession
) -> RegisterOut:
    initiative, _standing, work_day = _loaded(db, viewer, territory.id, public_id, work_day_id)
    return register_out(db, viewer, initiative, work_day)


@router.put(
    WORK_DAY + "/register",
    response_model=RegisterOut,
    summary="Enter the register in bulk, walk-ins included (a promoter or an agent; scope: write)",
    description="On the day or after, until an agent checks it (409 otherwise). Saved whole or not at all: "
    "a refused register answers 422 with every row's errors in `errors` (`loc`: body, rows, index, field). "
    + IDEMPOTENCY_NOTE,
)
def enter_register(
    request: Request, public_id: str, work_day_id: str, body: RegisterBody, viewer: WriteScope,
    territory: CurrentTerritory, db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    rows = _row_inputs(body)

    def action() -> tuple[int, BaseModel]:
        work_day = workdays.enter_register(db, viewer, territory.id, public_id, work_day_id, rows)
        initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
        return 200, register_out(db, viewer, initiative, work_day)

    try:
        # A refused register leaves nothing behind, not even the idempotency record.
        with db.begin_nested():
            return _once(request, db, viewer, territory, idempotency_key, body, action)
    except Invalid as exc:
        errors = exc.params.get("errors")
        if not errors:
            raise
        return problem(422, exc.message, code=exc.code, extra={"errors": _row_errors(rows, errors)})


@router.post(
    WORK_DAY + "/register/check",
    response_model=CheckOut,
    summary="An agent checks the register: the hours become verified realisations, once (scope: write)",
    description="By an agent not tied to the initiative (403 otherwise), once the register is entered. "
    "Each attendee's minutes go to the residents' volunteer-hours commitment exactly once; the register is "
    "then closed, and checking it again is a 409 that changes nothing. " + IDEMPOTENCY_NOTE,
)
def check_register(
    request: Request, public_id: str, work_day_id: str, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        result = workdays.check_register(db, viewer, territory.id, public_id, work_day_id)
        initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
        register = register_out(db, viewer, initiative, result.work_day)
        return 200, CheckOut(
            **register.model_dump(), realisations_written=result.realisations, minutes_written=result.minutes
        )

    return _once(request, db, viewer, territory, idempotency_key, None, action)


# ---------------------------------------------------------------- equipment


@router.get(
    WORK_DAY + "/bookings",
    response_model=BookingsOut,
    summary="The equipment booked for a work day, and what may be booked (promoters and staff)",
)
def list_bookings(
    public_id: str, work_day_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession
) -> BookingsOut:
    initiative, involvement, work_day = _loaded(db, viewer, territory.id, public_id, work_day_id)
    return bookings_out(db, viewer, initiative, involvement, work_day)


@router.post(
    WORK_DAY + "/bookings",
    status_code=201,
    response_model=BookingOut,
    summary="Book the town's equipment for a work day (a promoter or an agent; scope: write)",
    description="The period must include the day. Units already held on one of its days: 409 (no double "
    "booking). " + IDEMPOTENCY_NOTE,
)
def book(
    request: Request, public_id: str, work_day_id: str, body: BookingCreate, viewer: WriteScope,
    territory: CurrentTerritory, db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative, involvement, work_day = _loaded(db, viewer, territory.id, public_id, work_day_id)
        booking = equipment.book(db, viewer, initiative, involvement, work_day, body)
        return 201, booking_out(db, viewer, territory.id, booking.public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.post(
    "/bookings/{booking_id}/{action}",
    response_model=BookingOut,
    summary="Hand out, take back or cancel a booking (scope: write)",
    description="`hand-out` (booked → out) and `return` (out → returned) by the town's staff, with the "
    "`condition` noted; `cancel` (booked → cancelled, with an optional `reason`) by the organisers or the "
    "staff. Another state: 409. " + IDEMPOTENCY_NOTE,
)
def booking_step(
    request: Request, booking_id: str, action: BookingAction, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, body: Annotated[BookingStepBody | None, Body()] = None, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    data = body or BookingStepBody()

    def run() -> tuple[int, BaseModel]:
        context = equipment.get_booking(db, viewer, territory.id, booking_id)
        if action == "hand-out":
            equipment.hand_out(db, viewer, context, data.condition)
        elif action == "return":
            equipment.take_back(db, viewer, context, data.condition)
        else:
            equipment.cancel_booking(db, viewer, context, data.reason)
        return 200, booking_out(db, viewer, territory.id, booking_id)

    return _once(request, db, viewer, territory, idempotency_key, data, run)


@router.get(
    "/equipment",
    response_model=list[EquipmentOut],
    summary="The town's lendable equipment (agents, the executive and admins)",
)
def list_equipment(viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> list[EquipmentOut]:
    return [
        EquipmentOut.model_validate(item, from_attributes=True)
        for item in equipment.list_equipment(db, viewer, territory.id)
    ]
