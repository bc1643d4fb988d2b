"""The close-out in the JSON API: an initiative's evaluation, its survey's aggregated results and
its upkeep checks, through the same services and rules as the pages; the town's staff write the
evaluation as a draft, then finalise it (the workflow's EVALUATE step).

Anyone who may see the initiative gets the public summary of a final evaluation; its promoters
and the town's staff get the whole evaluation and the upkeep checks; the staff also get the draft
and the survey's figures (never who answered what).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.api.deps import ReadScope, WriteScope
from app.api.initiatives import IDEMPOTENCY_NOTE, RESPONSES, IdempotencyKey, _once
from app.evaluation import permissions as perm
from app.evaluation import service as evaluation
from app.evaluation import upkeep
from app.evaluation.models import Generalise, GoalsMet, Level, UpkeepStatus
from app.review import service as review
from app.web.deps import CurrentTerritory, ReadSession, WriteSession

router = APIRouter(prefix="/api/v1", tags=["evaluations"], responses=RESPONSES)


class AxisOut(BaseModel):
    axis: str = Field(description="`social`, `environmental` or `economic`")
    level: Level | None
    comment: str = Field(description="Empty in the public summary")


class SurveyOut(BaseModel):
    invited: int
    answers: int
    shown: bool = Field(description=f"False below {evaluation.MIN_ANSWERS_SHOWN} answers: the figures are withheld")
    satisfaction_average: str | None = Field(description="Out of 5, one decimal")
    would_again: int
    first_time: int


class UpkeepCheckOut(BaseModel):
    public_id: str
    number: int
    due_on: dt.date
    status: UpkeepStatus | None
    answered_at: dt.datetime | None


class EvaluationOut(BaseModel):
    initiative_public_id: str
    state: str
    evaluated: bool = Field(description="The evaluation is final")
    finalised_at: dt.datetime | None
    goals_met: GoalsMet | None
    goals_comment: str
    axes: list[AxisOut]
    lessons: str
    generalise: Generalise | None = Field(description="For the promoters and the staff only")
    generalise_comment: str
    survey: SurveyOut | None = Field(description="For the town's staff only")
    upkeep_checks: list[UpkeepCheckOut] | None = Field(description="For the promoters and the staff only")


class EvaluationBody(BaseModel):
    """The evaluation's answers; a choice may be left out (null) in a draft, not when finalising."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    goals_met: GoalsMet | None = None
    goals_comment: str = Field(default="", max_length=evaluation.COMMENT_MAX_LENGTH)
    social_level: Level | None = None
    social_comment: str = Field(default="", max_length=evaluation.COMMENT_MAX_LENGTH)
    environmental_level: Level | None = None
    environmental_comment: str = Field(default="", max_length=evaluation.COMMENT_MAX_LENGTH)
    economic_level: Level | None = None
    economic_comment: str = Field(default="", max_length=evaluation.COMMENT_MAX_LENGTH)
    lessons: str = Field(default="", max_length=evaluation.TEXT_MAX_LENGTH)
    generalise: Generalise | None = None
    generalise_comment: str = Field(default="", max_length=evaluation.COMMENT_MAX_LENGTH)

    def to_input(self) -> evaluation.EvaluationInput:
        return evaluation.EvaluationInput(**{k: v or "" for k, v in self.model_dump(mode="json").items()})


def evaluation_out(db: Session, viewer: Viewer, public_id: str) -> EvaluationOut:
    initiative = review.get_initiative(db, viewer, public_id)
    tie = evaluation.involvement(db, viewer, initiative)
    party = perm.is_party(viewer, initiative, tie)
    row = evaluation.evaluation_of(db, initiative)
    final = row is not None and row.finalised_at is not None
    view = None
    if row is not None and (final or perm.can_read_draft(viewer, initiative)):
        view = evaluation.evaluation_view(row, private=party)
    survey = None
    if perm.can_read_survey_results(viewer, initiative):
        results = evaluation.survey_results(db, initiative)
        average = results.satisfaction_average
        survey = SurveyOut(
            invited=results.invited,
            answers=results.answers,
            shown=results.shown,
            satisfaction_average=str(average) if average is not None else None,
            would_again=results.would_again,
            first_time=results.first_time,
        )
    checks = None
    if party:
        page = upkeep.upkeep_page(db, viewer, initiative)
        checks = [
            UpkeepCheckOut(
                public_id=c.public_id,
                number=c.number,
                due_on=c.due_on,
                status=UpkeepStatus(c.status) if c.status else None,
                answered_at=c.answered_at,
            )
            for c in page.rows
        ]
    return EvaluationOut(
        initiative_public_id=initiative.public_id,
        state=initiative.state,
        evaluated=final,
        finalised_at=view.finalised_at if view is not None else None,
        goals_met=GoalsMet(view.goals_met) if view is not None and view.goals_met else None,
        goals_comment=view.goals_comment if view is not None else "",
        axes=[
            AxisOut(axis=a.key, level=Level(a.level) if a.level else None, comment=a.comment)
            for a in (view.axes if view is not None else [])
        ],
        lessons=view.lessons if view is not None else "",
        generalise=Generalise(view.generalise) if view is not None and view.generalise else None,
        generalise_comment=view.generalise_comment if view is not None else "",
        survey=survey,
        upkeep_checks=checks,
    )


# ---------------------------------------------------------------- routes


@router.get(
    "/initiatives/{public_id}/evaluation",
    response_model=EvaluationOut,
    summary="An initiative's evaluation, survey results and upkeep checks, as far as the token's person may see",
)
def get_evaluation(public_id: str, viewer: ReadScope, db: ReadSession) -> EvaluationOut:
    return evaluation_out(db, viewer, public_id)


@router.put(
    "/initiatives/{public_id}/evaluation",
    response_model=EvaluationOut,
    summary="Save the evaluation as a draft (an agent not tied to the initiative; scope: write)",
    description="While the initiative is delivered (409 otherwise, and once the evaluation is final). "
    "The whole draft is replaced by the body: a field left out is blank. " + IDEMPOTENCY_NOTE,
)
def save_draft(
    request: Request, public_id: str, body: EvaluationBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        evaluation.save_draft(db, viewer, initiative, body.to_input())
        return 200, evaluation_out(db, viewer, public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.post(
    "/initiatives/{public_id}/evaluation/finalise",
    response_model=EvaluationOut,
    summary="Finalise the evaluation: the initiative becomes evaluated (an agent; scope: write)",
    description="Saves the body and freezes it: every choice and the lessons are required (422 otherwise). "
    "Only once, from the delivered state (409 otherwise). " + IDEMPOTENCY_NOTE,
)
def finalise(
    request: Request, public_id: str, body: EvaluationBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        evaluation.finalise(db, viewer, initiative, body.to_input(), settings=request.app.state.settings)
        return 200, evaluation_out(db, viewer, public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)
