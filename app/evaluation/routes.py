"""Pages of the close-out: the evaluation, the volunteers' survey, the upkeep checks, the agents'
list and the « fines traces » log.

Every form is a plain POST answered with 303 (Post/Redirect/Get); a form in error is shown again
with the values kept and status 422. The log's filters also work with HTMX: the results are
swapped in place and the address keeps the filters.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Invalid
from app.evaluation import forms, traces, upkeep
from app.evaluation import service as evaluation
from app.initiatives.models import Initiative
from app.media import service as media
from app.media.forms import uploads_in
from app.media.routes import stored_file_response
from app.media.storage import media_store
from app.review import service as review
from app.territories.context import TerritoryContext
from app.territories.service import local_today
from app.web.auth import CurrentViewer, RequireAgent, RequireCouncil
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect, safe_next
from app.web.templating import render, url

router = APIRouter()

# One photo and a comment: the image is then held to media.images.MAX_FILE_BYTES while it is read.
UPKEEP_BODY_BYTES = 12 * 1024 * 1024


def _workspace(request: Request, public_id: str) -> str:
    return url(request, "initiatives:show", public_id=public_id)


def _labels() -> dict[str, Any]:
    return {
        "goals_choices": evaluation.choices(evaluation.GOALS_LABELS),
        "level_choices": evaluation.choices(evaluation.LEVEL_LABELS),
        "generalise_choices": evaluation.choices(evaluation.GENERALISE_LABELS),
        "axes": [(key, _(label)) for key, label in evaluation.AXES],
    }


# ---------------------------------------------------------------- the evaluation


def _evaluation_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    page = evaluation.evaluation_page(db, viewer, initiative)
    if values is None:
        stored = evaluation.evaluation_of(db, initiative) if page.can_edit else None
        values = evaluation.form_values(stored)
    context = {
        "page": page,
        "initiative": initiative,
        "values": values,
        "errors": errors or {},
        "workspace_url": _workspace(request, initiative.public_id),
        "min_answers": evaluation.MIN_ANSWERS_SHOWN,
        **_labels(),
    }
    return render(request, "pages/evaluation/show.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/evaluation", name="evaluation:show")
def evaluation_show(request: Request, public_id: str, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    initiative = review.get_initiative(db, viewer, public_id)
    return _evaluation_page(request, db, viewer, initiative)


@router.post("/initiatives/{public_id}/evaluation", name="evaluation:save")
def evaluation_save(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = review.get_initiative(db, viewer, public_id)
    result = validate_form(forms.EvaluationForm, form)
    if result.data is None:
        return _evaluation_page(request, db, viewer, initiative, values=result.values, errors=result.errors,
                                status_code=422)  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    final = result.data.step == "final"
    try:
        if final:
            evaluation.finalise(db, viewer, initiative, result.data.to_input(), settings=request.app.state.settings)
        else:
            evaluation.save_draft(db, viewer, initiative, result.data.to_input())
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _evaluation_page(request, db, viewer, initiative, values=result.values, errors=errors, status_code=422)
    if final:
        flash = _("L'évaluation est finalisée ; les porteur·ses de projet sont prévenu·es.")
        return redirect(request, _workspace(request, public_id), flash=flash)
    location = url(request, "evaluation:show", public_id=public_id)
    return redirect(request, location, flash=_("Le brouillon de l'évaluation est enregistré."))


# ---------------------------------------------------------------- the volunteers' survey


def _survey_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    answer = evaluation.survey_form(db, viewer, initiative)
    context = {
        "initiative": initiative,
        "answered": answer is not None,
        "survey_open": evaluation.survey_open(initiative),
        "values": values if values is not None else evaluation.survey_values(answer),
        "errors": errors or {},
        "workspace_url": _workspace(request, initiative.public_id),
    }
    return render(request, "pages/evaluation/survey.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/questionnaire", name="evaluation:survey")
def survey_show(request: Request, public_id: str, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    initiative = review.get_initiative(db, viewer, public_id)
    return _survey_page(request, db, viewer, initiative)


@router.post("/initiatives/{public_id}/questionnaire", name="evaluation:answer")
def survey_answer(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = review.get_initiative(db, viewer, public_id)
    evaluation.survey_form(db, viewer, initiative)  # 403 for anyone not invited, before reading the answers
    result = validate_form(forms.SurveyForm, form)
    if result.data is None:
        return _survey_page(request, db, viewer, initiative, values=result.values, errors=result.errors,
                            status_code=422)  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    try:
        evaluation.answer_survey(db, viewer, initiative, result.data.to_input())
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _survey_page(request, db, viewer, initiative, values=result.values, errors=errors, status_code=422)
    return redirect(request, _workspace(request, public_id), flash=_("Merci ! Votre réponse est enregistrée."))


# ---------------------------------------------------------------- upkeep checks


def _upkeep_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "page": upkeep.upkeep_page(db, viewer, initiative),
        "initiative": initiative,
        "status_choices": upkeep.status_choices(),
        "values": values or {},
        "errors": errors or {},
        "workspace_url": _workspace(request, initiative.public_id),
    }
    return render(request, "pages/evaluation/upkeep.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/entretien", name="evaluation:upkeep")
def upkeep_show(request: Request, public_id: str, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    initiative = review.get_initiative(db, viewer, public_id)
    return _upkeep_page(request, db, viewer, initiative)


@router.post("/initiatives/{public_id}/entretien/{check_id}", name="evaluation:upkeep_answer",
             max_body_size=UPKEEP_BODY_BYTES)  # fmt: skip
def upkeep_answer(
    request: Request, public_id: str, check_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    read_db: ReadSession, db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    # Rights first (404, 403, 409) on the read session: the photo is decoded before the write
    # transaction, and SQLite's write lock with it, starts.
    initiative = review.get_initiative(read_db, viewer, public_id)
    upkeep.check_can_answer(read_db, viewer, initiative, check_id)
    result = validate_form(forms.UpkeepForm, form)
    uploads = uploads_in(form, "photo")
    values = {k: v for k, v in result.values.items() if isinstance(v, str)}
    try:
        if result.data is None:
            return _upkeep_page(request, read_db, viewer, initiative, values=values, errors=result.errors,
                                status_code=422)  # fmt: skip
        if len(uploads) > 1:
            raise Invalid(_("Joignez une seule photo."), field="photo")
        photo = None
        if uploads:
            request.app.state.rate_limiter.hit("upload:account", str(viewer.account_id))
            photo = media.prepare_image(uploads[0], field="photo")
        # A refused answer leaves nothing behind, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            current = review.get_initiative(db, viewer, public_id)
            upkeep.answer_check(
                db, viewer, current, check_id, result.data.to_input(), photo=photo,
                store=media_store(request.app.state.settings), settings=request.app.state.settings,
            )  # fmt: skip
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _upkeep_page(request, read_db, viewer, initiative, values=values, errors=errors, status_code=422)
    location = url(request, "evaluation:upkeep", public_id=public_id)
    return redirect(request, location, flash=_("Merci ! La réponse au point d'entretien est enregistrée."))


@router.get("/initiatives/{public_id}/entretien/{check_id}/photo", name="evaluation:upkeep_photo")
def upkeep_photo(request: Request, public_id: str, check_id: str, viewer: CurrentViewer, db: ReadSession) -> Response:
    initiative = review.get_initiative(db, viewer, public_id)
    row = upkeep.check_photo(db, viewer, initiative, check_id)
    return stored_file_response(request, media_store(request.app.state.settings), row, public=False)


# ---------------------------------------------------------------- the agents' list


@router.get("/evaluations", name="evaluation:list")
def work_list(request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    work = evaluation.work_list(db, viewer, territory.id, local_today(territory))
    return render(request, "pages/evaluation/list.html", {"work": work})


# ---------------------------------------------------------------- the fines traces log


def _log_context(request: Request, db: Session, viewer: Viewer, territory: TerritoryContext) -> dict[str, Any]:
    result = validate_form(forms.TraceQuery, dict(request.query_params))
    filters = (result.data or forms.TraceQuery()).filters()
    return {
        "rows": traces.log(db, viewer, territory.id, filters),
        "filters": filters,
        "options": traces.options(db, territory.id, local_today(territory)),
        "can_write": viewer.is_staff,
    }


@router.get("/fines-traces", name="traces:list")
def trace_list(request: Request, territory: CurrentTerritory, viewer: RequireCouncil, db: ReadSession) -> HTMLResponse:
    context = _log_context(request, db, viewer, territory)
    return render(request, "pages/evaluation/traces.html", context, block="traces_results")


def _trace_form(
    request: Request, db: Session, territory: TerritoryContext, *, trace: str | None, values: dict[str, Any],
    errors: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "trace_id": trace,
        "values": values,
        "errors": errors,
        "tag_choices": traces.tag_choices(),
        "initiative_choices": traces.initiative_choices(db, territory.id),
        "neighbourhood_choices": traces.options(db, territory.id, local_today(territory)).neighbourhoods,
    }
    return render(request, "pages/evaluation/trace_form.html", context, status_code=status_code)


@router.get("/fines-traces/nouvelle", name="traces:new")
def trace_new(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession, initiative: str = ""
) -> HTMLResponse:
    values = {"noted_on": local_today(territory).isoformat(), "initiative": initiative[:40], "tags": []}
    if initiative:  # noted from an initiative's page: back there once saved
        values["from"] = url(request, "initiatives:show", public_id=initiative[:40])
    return _trace_form(request, db, territory, trace=None, values=values, errors={})


def _save_trace(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, form: Any, public_id: str | None
) -> Response:
    if public_id is not None:
        traces.get_trace(db, viewer, territory.id, public_id)  # another town's: 404
    result = validate_form(forms.TraceForm, form, multi=("tags",))
    values = {**result.values, "tags": result.values.get("tags", [])}
    if result.data is None:
        return _trace_form(request, db, territory, trace=public_id, values=values, errors=result.errors,
                           status_code=422)  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    today = local_today(territory)
    try:
        if public_id is None:
            traces.create_trace(db, viewer, territory.id, result.data.to_input(), today)
        else:
            traces.update_trace(db, viewer, territory.id, public_id, result.data.to_input(), today)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _trace_form(request, db, territory, trace=public_id, values=values, errors=errors, status_code=422)
    back = form.get("from")
    location = safe_next(back if isinstance(back, str) else None, url(request, "traces:list"))
    return redirect(request, location, flash=_("La fine trace est enregistrée."))


@router.post("/fines-traces/nouvelle", name="traces:create")
def trace_create(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession, form: FormDep
) -> Response:
    return _save_trace(request, db, viewer, territory, form, None)


@router.get("/fines-traces/{public_id}/modifier", name="traces:edit")
def trace_edit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> HTMLResponse:
    trace = traces.get_trace(db, viewer, territory.id, public_id)
    return _trace_form(request, db, territory, trace=public_id, values=traces.form_values(db, trace), errors={})


@router.post("/fines-traces/{public_id}/modifier", name="traces:update")
def trace_update(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    return _save_trace(request, db, viewer, territory, form, public_id)


@router.post("/fines-traces/{public_id}/supprimer", name="traces:delete")
def trace_delete(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    traces.delete_trace(db, viewer, territory.id, public_id)
    return redirect(request, url(request, "traces:list"), flash=_("La fine trace est supprimée."))
