"""The follow-up of a signed initiative in the JSON API: starting the work, delivering it with the
promoters' report, milestones and realisations (what was delivered, then verified by the town).

Reads need the ``read`` scope, writes the ``write`` scope and accept an ``Idempotency-Key``. Rights,
states and values are decided by ``app.followup`` and ``app.ledger.realisations``: this module only
parses, calls and shapes. Proofs (files) are sent through the initiative's pages.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.api.deps import ReadScope, WriteScope
from app.api.followup_schemas import (
    ChoiceOut,
    CommitmentDoneOut,
    DeliverBody,
    FollowupOut,
    MilestoneCreate,
    MilestoneOut,
    MilestonesOut,
    MilestoneStep,
    MilestoneUpdate,
    RealisationCancelBody,
    RealisationCreate,
    RealisationOut,
    RealisationsOut,
    ReportOut,
    SideDoneOut,
)
from app.api.initiatives import IDEMPOTENCY_NOTE, RESPONSES, IdempotencyKey, _once
from app.core.errors import NotFound
from app.followup import milestones
from app.followup import service as followup
from app.initiatives import workflow
from app.initiatives.models import Initiative
from app.ledger import realisations
from app.ledger.models import CommitmentLine, LineKind, RealisationLine, RealisationSource, RealisationState, Side, Unit
from app.review import service as review
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.i18n import _

router = APIRouter(prefix="/api/v1", tags=["follow-up"], responses=RESPONSES)


# ---------------------------------------------------------------- shaping


def _milestone_out(row: milestones.MilestoneRow) -> MilestoneOut:
    return MilestoneOut(
        public_id=row.public_id,
        side=Side(row.side),
        side_label=row.side_label,
        title=row.title,
        due_on=row.due_on,
        done_on=row.done_on,
        overdue=row.overdue,
        commitment_line=row.commitment_public_id or None,
        commitment_label=row.commitment_label,
        can_edit=row.can_edit,
    )


def milestones_out(db: Session, viewer: Viewer, initiative: Initiative) -> MilestonesOut:
    involvement = review.involvement_of(db, viewer, initiative)
    sides = milestones.side_choices(viewer, initiative, involvement)
    choices = milestones.commitment_choices(db, initiative, [side for side, _label in sides])
    return MilestonesOut(
        items=[_milestone_out(r) for r in milestones.milestone_rows(db, viewer, initiative, involvement)],
        writable_sides=[Side(side) for side, _label in sides],
        commitment_lines=[ChoiceOut(public_id=p, label=label) for p, label in choices],
    )


def milestone_out(db: Session, viewer: Viewer, initiative: Initiative, public_id: str) -> MilestoneOut:
    found = next((m for m in milestones_out(db, viewer, initiative).items if m.public_id == public_id), None)
    if found is None:
        raise NotFound(_("Cette étape n'existe pas."))
    return found


def followup_out(db: Session, viewer: Viewer, initiative: Initiative) -> FollowupOut:
    panel = followup.panel(db, viewer, initiative)
    if panel is None:  # before the signature there is no follow-up
        raise NotFound(_("Cette page n'existe pas."))
    report = panel.report
    return FollowupOut(
        initiative_public_id=initiative.public_id,
        state=initiative.state,
        state_label=workflow.state_label(initiative.state),
        can_start=panel.can_start,
        can_deliver=panel.can_deliver,
        report=ReportOut(
            what_was_done=report.what_was_done,
            what_changed=report.what_changed,
            written_by=report.written_by,
            written_at=report.written_at,
        )
        if report is not None
        else None,
        milestones=[_milestone_out(m) for m in panel.milestones],
        overdue_count=panel.overdue_count,
    )


def realisations_out(db: Session, viewer: Viewer, initiative: Initiative) -> RealisationsOut:
    """The commitments with what was delivered against each (the promoters and the town's staff; 404 otherwise)."""
    view = realisations.realisations_view(db, viewer, initiative)
    if view is None:
        raise NotFound(_("Cette page n'existe pas."))
    lines = {
        line.public_id: line
        for line in db.scalars(select(CommitmentLine).where(CommitmentLine.initiative_id == initiative.id))
    }
    stored = {
        public_id: (quantity, source)
        for public_id, quantity, source in db.execute(
            select(RealisationLine.public_id, RealisationLine.quantity, RealisationLine.source).where(
                RealisationLine.initiative_id == initiative.id
            )
        )
    }
    commitments = []
    for c in view.commitments:
        line = lines[c.public_id]
        unit = Unit(line.unit)
        commitments.append(
            CommitmentDoneOut(
                public_id=c.public_id,
                side=Side(c.side),
                kind=LineKind(line.kind),
                label=c.label,
                unit=unit,
                committed_quantity=line.quantity,
                committed_cents=c.committed_cents,
                delivered_quantity=realisations.delivered_quantity(db, line),
                verified_quantity=realisations.delivered_quantity(db, line, verified_only=True),
                delivered_cents=c.delivered_cents,
                verified_cents=c.verified_cents,
                beyond=c.beyond,
                due_on=c.due_on,
                cancelled=c.cancelled,
                realisations=[
                    RealisationOut(
                        public_id=r.public_id,
                        commitment_line=c.public_id,
                        quantity=stored[r.public_id][0],
                        unit=unit,
                        value_cents=r.value_cents,
                        state=RealisationState(r.state),
                        state_label=r.state_label,
                        source=RealisationSource(stored[r.public_id][1]),
                        source_label=r.source_label,
                        delivered_on=r.delivered_on,
                        notes=r.notes,
                        recorded_by=r.recorded_by,
                        verified_by=r.verified_by,
                        cancel_reason=r.cancel_reason,
                        can_verify=r.can_verify,
                        can_cancel=r.can_cancel,
                    )
                    for r in c.realisations
                ],
            )
        )
    return RealisationsOut(
        initiative_public_id=initiative.public_id,
        commitments=commitments,
        totals=[SideDoneOut.model_validate(t, from_attributes=True) for t in view.totals],
        recordable_lines=[ChoiceOut(public_id=p, label=label) for p, label in view.line_choices],
        records_deliveries=view.records_deliveries,
    )


def realisation_out(db: Session, viewer: Viewer, initiative: Initiative, public_id: str) -> RealisationOut:
    rows = (r for c in realisations_out(db, viewer, initiative).commitments for r in c.realisations)
    found = next((r for r in rows if r.public_id == public_id), None)
    if found is None:
        raise NotFound(_("Cette réalisation n'existe pas."))
    return found


def _typed_quantity(db: Session, initiative: Initiative, line_public_id: str, quantity: int) -> str:
    """The quantity as the form types it in the line's unit ("3:30" for 210 minutes): the service
    parses it and decides, as for the page, whether it is a town delivery."""
    unit = db.scalar(
        select(CommitmentLine.unit).where(
            CommitmentLine.public_id == line_public_id, CommitmentLine.initiative_id == initiative.id
        )
    )
    if unit == Unit.MINUTES:
        hours, minutes = divmod(quantity, 60)
        return f"{hours}:{minutes:02d}"
    return str(quantity)  # an unknown line is refused by the service (422 on `line`)


# ---------------------------------------------------------------- the work


@router.get(
    "/initiatives/{public_id}/followup",
    response_model=FollowupOut,
    summary="The follow-up of a signed initiative: what may be done now, the delivery report, the milestones",
)
def get_followup(public_id: str, viewer: ReadScope, db: ReadSession) -> FollowupOut:
    return followup_out(db, viewer, review.get_initiative(db, viewer, public_id))


@router.post(
    "/initiatives/{public_id}/start",
    response_model=FollowupOut,
    summary="Start the work once the convention is signed (a promoter or the town's staff; scope: write)",
    description="409 unless the convention is signed. " + IDEMPOTENCY_NOTE,
)
def start(
    request: Request, public_id: str, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        followup.start_work(db, viewer, initiative, settings=request.app.state.settings)
        return 200, followup_out(db, viewer, initiative)

    return _once(request, db, viewer, territory, idempotency_key, None, action)


@router.post(
    "/initiatives/{public_id}/deliver",
    response_model=FollowupOut,
    summary="Deliver the work with the promoters' short report (a promoter, or the staff for them; scope: write)",
    description="`what_was_done` is required, `what_changed` optional. 409 unless the work is in progress, "
    "and once delivered. " + IDEMPOTENCY_NOTE,
)
def deliver(
    request: Request, public_id: str, body: DeliverBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        followup.deliver(
            db, viewer, initiative, body.what_was_done, body.what_changed, settings=request.app.state.settings
        )
        return 200, followup_out(db, viewer, initiative)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


# ---------------------------------------------------------------- milestones


@router.get(
    "/initiatives/{public_id}/milestones",
    response_model=MilestonesOut,
    summary="The milestones of an initiative, and the sides this token's person may add to",
)
def list_milestones(public_id: str, viewer: ReadScope, db: ReadSession) -> MilestonesOut:
    return milestones_out(db, viewer, review.get_initiative(db, viewer, public_id))


@router.post(
    "/initiatives/{public_id}/milestones",
    status_code=201,
    response_model=MilestoneOut,
    summary="Add a milestone (the promoters on the residents' side, the staff on any side; scope: write)",
    description="Between the signature of the convention and the evaluation (409 otherwise). " + IDEMPOTENCY_NOTE,
)
def add_milestone(
    request: Request, public_id: str, body: MilestoneCreate, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        row = milestones.add_milestone(db, viewer, initiative, body.to_input())
        return 201, milestone_out(db, viewer, initiative, row.public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.patch(
    "/initiatives/{public_id}/milestones/{milestone_id}",
    response_model=MilestoneOut,
    summary="Edit a milestone: the fields sent change, the others stay (scope: write)",
    description="A new due date clears its overdue reminder. " + IDEMPOTENCY_NOTE,
)
def update_milestone(
    request: Request, public_id: str, milestone_id: str, body: MilestoneUpdate, viewer: WriteScope,
    territory: CurrentTerritory, db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        milestones.get_milestone(db, viewer, initiative, milestone_id)
        current = milestone_out(db, viewer, initiative, milestone_id)
        milestones.update_milestone(db, viewer, initiative, milestone_id, body.to_input(current))
        return 200, milestone_out(db, viewer, initiative, milestone_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.delete(
    "/initiatives/{public_id}/milestones/{milestone_id}",
    response_model=MilestonesOut,
    summary="Remove a milestone; answers the milestones left (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def remove_milestone(
    request: Request, public_id: str, milestone_id: str, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        milestones.remove_milestone(db, viewer, initiative, milestone_id)
        return 200, milestones_out(db, viewer, initiative)

    return _once(request, db, viewer, territory, idempotency_key, None, action)


@router.post(
    "/initiatives/{public_id}/milestones/{milestone_id}/{step}",
    response_model=MilestoneOut,
    summary="Mark a milestone done, or reopen one marked done by mistake (scope: write)",
    description="`done` on a milestone already done, or `reopen` on one ahead: 409. " + IDEMPOTENCY_NOTE,
)
def milestone_step(
    request: Request, public_id: str, milestone_id: str, step: MilestoneStep, viewer: WriteScope,
    territory: CurrentTerritory, db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        if step == "done":
            milestones.mark_done(db, viewer, initiative, milestone_id)
        else:
            milestones.reopen(db, viewer, initiative, milestone_id)
        return 200, milestone_out(db, viewer, initiative, milestone_id)

    return _once(request, db, viewer, territory, idempotency_key, None, action)


# ---------------------------------------------------------------- realisations


@router.get(
    "/initiatives/{public_id}/realisations",
    response_model=RealisationsOut,
    summary="The commitments with what was delivered and verified against each (promoters and staff)",
    description="Hours are minutes, as in the ledger. Anyone else gets 404: the public sees the ledger's totals.",
)
def list_realisations(public_id: str, viewer: ReadScope, db: ReadSession) -> RealisationsOut:
    return realisations_out(db, viewer, review.get_initiative(db, viewer, public_id))


@router.post(
    "/initiatives/{public_id}/realisations",
    status_code=201,
    response_model=RealisationOut,
    summary="Record what was delivered against a commitment (scope: write)",
    description="The promoters on the residents' lines, the staff on any line (a town line recorded by the "
    "staff is a town delivery). Delivering more than committed is allowed and flagged (`beyond`). The proof "
    "files are sent through the initiative's page. " + IDEMPOTENCY_NOTE,
)
def record(
    request: Request, public_id: str, body: RealisationCreate, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        quantity = _typed_quantity(db, initiative, body.line, body.quantity)
        row = realisations.record_from_form(db, viewer, initiative, body.line, quantity, body.delivered_on, body.notes)
        return 201, realisation_out(db, viewer, initiative, row.public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.post(
    "/initiatives/{public_id}/realisations/{realisation_id}/verify",
    response_model=RealisationOut,
    summary="Verify a realisation (an agent not tied to the initiative, never a promoter; scope: write)",
    description="Only a declared realisation is verified (409 otherwise). " + IDEMPOTENCY_NOTE,
)
def verify(
    request: Request, public_id: str, realisation_id: str, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        realisations.verify_realisation(db, viewer, initiative, realisation_id)
        return 200, realisation_out(db, viewer, initiative, realisation_id)

    return _once(request, db, viewer, territory, idempotency_key, None, action)


@router.post(
    "/initiatives/{public_id}/realisations/{realisation_id}/cancel",
    response_model=RealisationOut,
    summary="Cancel a realisation entered by mistake, with the reason (kept, no longer counted; scope: write)",
    description="The staff cancel any; the promoters a residents' one not verified yet. " + IDEMPOTENCY_NOTE,
)
def cancel(
    request: Request, public_id: str, realisation_id: str, body: RealisationCancelBody, viewer: WriteScope,
    territory: CurrentTerritory, db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        realisations.cancel_realisation(db, viewer, initiative, realisation_id, body.reason)
        return 200, realisation_out(db, viewer, initiative, realisation_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)
