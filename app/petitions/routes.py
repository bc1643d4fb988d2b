"""Petition pages: the public list and page, the live count, the author's draft pages, the agents'
queue and the official answer. Routes only translate HTTP: the services decide.

Static paths (``/petitions/charte``, ``/petitions/nouvelle``, ``/petitions/a-moderer``) are declared
before ``/petitions/{public_id}``. Every route that takes an identifier loads the petition first,
so another town's identifier answers 404 before any form is read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Invalid
from app.initiatives import search as initiative_search
from app.petitions import answers, counting
from app.petitions import permissions as perm
from app.petitions import search as petition_search
from app.petitions import service as petitions
from app.petitions.forms import (
    KIND_LABELS,
    OUTCOME_LABELS,
    PURPOSE_LABELS,
    TABS,
    AnswerInput,
    PetitionInput,
    RejectInput,
    ReplyInput,
    filters_from,
)
from app.petitions.models import Petition
from app.territories.context import TerritoryContext
from app.territories.service import list_neighbourhoods, list_themes, local_today, petition_thresholds
from app.web.auth import CurrentViewer, MaybeViewer, RequireAgent
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()


def _base_url(request: Request) -> str:
    return f"{request.app.state.settings.base_scheme}://{request.url.netloc}"


# ---------------------------------------------------------------- public list and charter


@router.get("/petitions", name="petitions:index")
def index(request: Request, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession) -> HTMLResponse:
    filters = filters_from(request.query_params)
    page = petitions.list_page(db, territory.id, filters)
    options = petitions.filter_options(db, territory.id)
    context = {
        "page": page,
        "filters": page.filters,
        "tabs": [(key, _(label)) for key, label in TABS.items()],
        "options": options,
        "tab_url": lambda tab: url(request, "petitions:index", query=page.filters.query(tab=tab, page=1)),
        "page_url": lambda number: url(request, "petitions:index", query=page.filters.query(page=number)),
        "thresholds": petition_thresholds(territory),
        "can_start": perm.can_start(viewer, territory.id),
    }
    return render(request, "pages/petitions/index.html", context, block="results")


@router.get("/petitions/charte", name="petitions:charter")
def charter(request: Request, territory: CurrentTerritory, viewer: MaybeViewer) -> HTMLResponse:
    rules = territory.settings.petitions
    context = {
        "charter": petitions.charter(rules),
        "rules": rules,
        "thresholds": petition_thresholds(territory),
    }
    return render(request, "pages/petitions/charter.html", context)


# ---------------------------------------------------------------- starting and editing


def _choices(db: Session, territory: TerritoryContext) -> dict[str, Any]:
    return {
        "neighbourhoods": [(n.id, n.name) for n in list_neighbourhoods(db, territory.id)],
        "themes": [(t.id, t.name) for t in list_themes(db, territory.id)],
        "kinds": [(k.value, _(v)) for k, v in KIND_LABELS.items()],
        "purposes": [(k.value, _(v)) for k, v in PURPOSE_LABELS.items()],
    }


def _similar(
    db: Session, viewer: Viewer | None, territory_id: int, text: str, exclude_id: int | None = None
) -> dict[str, Any]:
    return {
        "similar_petitions": petition_search.similar(db, territory_id, text, viewer=viewer, exclude_id=exclude_id),
        "similar_initiatives": initiative_search.similar(db, territory_id, text, viewer=viewer),
    }


def _form_page(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, *, petition: Petition | None,
    values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    text = " ".join(str(values.get(k, "")) for k in ("title", "request"))
    context = {
        "petition": petition,
        "values": values,
        "errors": errors,
        **_choices(db, territory),
        **_similar(db, viewer, territory.id, text, petition.id if petition else None),
        "searched": bool(text.strip()),
    }
    return render(request, "pages/petitions/form.html", context, status_code=status_code)


@router.get("/petitions/nouvelle", name="petitions:new")
def new(request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    return _form_page(request, db, viewer, territory, petition=None, values={"kind": "civic"}, errors={})


@router.post("/petitions/nouvelle", name="petitions:create")
def create(
    request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession, form: FormDep
) -> Response:
    result = validate_form(PetitionInput, form)
    errors = result.errors
    if result.data is not None:
        try:
            petition = petitions.start(db, viewer, territory.id, result.data)
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            location = url(request, "petitions:show", public_id=petition.public_id)
            return redirect(request, location, flash=_("Votre brouillon est enregistré. Relisez-le, puis déposez-le."))
    return _form_page(
        request, db, viewer, territory, petition=None, values=result.values, errors=errors, status_code=422
    )


@router.get("/petitions/similaires", name="petitions:similar")
def similar(
    request: Request, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession,
    title: str = "", request_text: Annotated[str, Query(alias="request")] = "",
) -> HTMLResponse:  # fmt: skip
    text = f"{title} {request_text}"[:2000]
    context = {**_similar(db, viewer, territory.id, text), "searched": bool(text.strip())}
    return render(request, "partials/petitions/similar.html", context)


@router.get("/petitions/a-moderer", name="petitions:queue")
def queue(request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    context = {
        "rows": petitions.moderation_queue(db, viewer, territory.id),
        "due": petitions.answers_due(db, viewer, territory.id),
        "today": local_today(territory),
    }
    return render(request, "pages/petitions/queue.html", context)


@router.get("/mes-petitions", name="petitions:mine")
def mine(request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    rows = [(p, petitions.state_label(p.state)) for p in petitions.mine(db, viewer, territory.id)]
    return render(
        request, "pages/petitions/mine.html", {"rows": rows, "signed": petitions.signed(db, viewer, territory.id)}
    )


@router.post("/initiatives/{public_id}/en-petition", name="petitions:from_initiative")
def from_initiative(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petition = petitions.from_initiative(db, viewer, territory.id, public_id)
    location = url(request, "petitions:edit", public_id=petition.public_id)
    return redirect(request, location, flash=_("Un brouillon de pétition reprend votre projet : relisez-le."))


# ---------------------------------------------------------------- the petition's page and its count


def _show_context(
    request: Request, db: Session, viewer: Viewer | None, territory: TerritoryContext, public_id: str
) -> dict[str, Any]:
    view = petitions.page(db, viewer, territory, public_id)
    petition = view.petition
    answer = answers.answer_of(db, petition)
    published = answer is not None and answer.published_at is not None
    count = counting.count_view(db, petition, today=local_today(territory), answered=published)
    paused = request.query_params.get("compteur") == "pause" or request.query_params.get("pause") == "1"
    context: dict[str, Any] = {
        "view": view,
        "petition": petition,
        "count": count,
        "paused": paused,
        # The announcement the browser holds (sent back by the polling): only a different one is swapped.
        "known_status": request.query_params.get("status", ""),
        # The official answer: published for everyone, the draft for the staff only.
        "answer": answers.answer_view(answer) if (published or view.is_staff) else None,
        "answer_published": published,
        "can_answer": view.is_staff and perm.is_public(petition),
        "charter_items": petitions.charter(territory.settings.petitions) if view.can_moderate else [],
    }
    from app.petitions import signing  # sign box

    context["sign_box"] = signing.sign_box(db, viewer, territory, petition) if perm.is_public(petition) else None
    return context


@router.get("/petitions/{public_id}", name="petitions:show")
def show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    return render(request, "pages/petitions/show.html", _show_context(request, db, viewer, territory, public_id))


@router.get("/petitions/{public_id}/compteur", name="petitions:counter")
def counter(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    """The count, polled by HTMX every 30 s (a full page without HTMX)."""
    context = _show_context(request, db, viewer, territory, public_id)
    return render(request, "pages/petitions/show.html", context, block="counter")


@router.get("/petitions/{public_id}/modifier", name="petitions:edit")
def edit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> Response:
    petition = petitions.get_visible(db, viewer, territory.id, public_id)
    if not perm.can_edit(viewer, petition):
        return redirect(request, url(request, "petitions:show", public_id=public_id))
    values = petitions.form_values(petition)
    return _form_page(request, db, viewer, territory, petition=petition, values=values, errors={})


@router.post("/petitions/{public_id}/modifier", name="petitions:update")
def update(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petition = petitions.get_visible(db, viewer, territory.id, public_id)
    result = validate_form(PetitionInput, form)
    errors = result.errors
    if result.data is not None:
        try:
            petitions.update_draft(db, viewer, territory.id, public_id, result.data)
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            location = url(request, "petitions:show", public_id=public_id)
            return redirect(request, location, flash=_("Vos modifications sont enregistrées."))
    return _form_page(
        request, db, viewer, territory, petition=petition, values=result.values, errors=errors, status_code=422
    )


def _submit_page(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str, *,
    error: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    view = petitions.page(db, viewer, territory, public_id)
    p = view.petition
    context = {
        "view": view,
        "petition": p,
        "missing": petitions.missing_for_submission(p),
        "error": error,
        **_similar(db, viewer, territory.id, f"{p.title} {p.request}", p.id),
        "searched": True,
    }
    return render(request, "pages/petitions/submit.html", context, status_code=status_code)


@router.get("/petitions/{public_id}/deposer", name="petitions:confirm_submit")
def confirm_submit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    return _submit_page(request, db, viewer, territory, public_id)


@router.post("/petitions/{public_id}/deposer", name="petitions:submit")
def submit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    try:
        petitions.submit(db, viewer, territory.id, public_id)
    except Invalid as exc:
        return _submit_page(request, db, viewer, territory, public_id, error=exc.message, status_code=422)
    location = url(request, "petitions:show", public_id=public_id)
    return redirect(request, location, flash=_("Votre pétition est déposée. La commune la relit avant de la publier."))


@router.post("/petitions/{public_id}/retirer", name="petitions:withdraw")
def withdraw(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petitions.withdraw(db, viewer, territory.id, public_id)
    return redirect(request, url(request, "petitions:mine"), flash=_("La pétition est retirée."))


@router.post("/petitions/{public_id}/publier", name="petitions:publish")
def publish(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petitions.publish(db, viewer, territory, public_id)
    location = url(request, "petitions:show", public_id=public_id)
    return redirect(request, location, flash=_("La pétition est publiée : elle recueille les signatures."))


@router.post("/petitions/{public_id}/rejeter", name="petitions:reject")
def reject(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petitions.get_visible(db, viewer, territory.id, public_id)
    result = validate_form(RejectInput, form)
    if result.data is None:
        raise Invalid(_("Choisissez un motif de la charte des pétitions."), field="reason")
    petitions.reject(db, viewer, territory, public_id, result.data.reason, result.data.comment)
    return redirect(
        request,
        url(request, "petitions:queue"),
        flash=_("La pétition n'est pas publiée ; son auteur·rice verra le motif."),
    )


# ---------------------------------------------------------------- the official answer


def _answer_page(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str, *,
    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = _show_context(request, db, viewer, territory, public_id)
    answer = answers.answer_of(db, context["petition"])
    if values is None:
        values = {}
        if answer is not None:
            values = {
                "outcome": answer.outcome or "",
                "text": answer.text,
                "authority": answer.authority,
                "transmitted_on": answer.transmitted_on.isoformat() if answer.transmitted_on else "",
            }
    petition = context["petition"]
    published = context["answer_published"]
    context.update(
        values=values,
        errors=errors or {},
        outcomes=[(k.value, _(v)) for k, v in OUTCOME_LABELS.items()],
        can_draft=perm.can_draft_answer(viewer, petition, published),
        can_publish=perm.can_publish_answer(viewer, petition, published) and answer is not None,
        can_reply=perm.is_agent(viewer, territory.id)
        and answer is not None
        and published
        and answer.outcome == "transmitted"
        and answer.authority_reply_on is None,
        today_iso=local_today(territory).isoformat(),
    )
    return render(request, "pages/petitions/answer.html", context, status_code=status_code)


@router.get("/petitions/{public_id}/reponse", name="petitions:answer")
def answer_page(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> HTMLResponse:
    return _answer_page(request, db, viewer, territory, public_id)


@router.post("/petitions/{public_id}/reponse", name="petitions:save_answer")
def save_answer(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petitions.get_visible(db, viewer, territory.id, public_id)
    result = validate_form(AnswerInput, form)
    errors = result.errors
    if result.data is not None:
        try:
            answers.save_draft(db, viewer, territory.id, public_id, result.data)
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            location = url(request, "petitions:answer", public_id=public_id)
            return redirect(request, location, flash=_("Le projet de réponse est enregistré."))
    return _answer_page(request, db, viewer, territory, public_id, values=result.values, errors=errors, status_code=422)


@router.post("/petitions/{public_id}/reponse/publier", name="petitions:publish_answer")
def publish_answer(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    answers.publish(db, viewer, territory.id, public_id, settings=request.app.state.settings)
    location = url(request, "petitions:show", public_id=public_id)
    return redirect(request, location, flash=_("La réponse officielle est publiée."))


@router.post("/petitions/{public_id}/reponse/suite", name="petitions:authority_reply")
def authority_reply(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petitions.get_visible(db, viewer, territory.id, public_id)
    result = validate_form(ReplyInput, form)
    if result.data is None:
        return _answer_page(
            request, db, viewer, territory, public_id, values=result.values, errors=result.errors, status_code=422
        )
    answers.add_authority_reply(db, viewer, territory.id, public_id, result.data.reply_on, result.data.text)
    location = url(request, "petitions:show", public_id=public_id)
    return redirect(request, location, flash=_("La réponse de l'autorité est ajoutée."))


@router.post("/petitions/{public_id}/convertir", name="petitions:convert")
def convert(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = answers.convert(
        db, viewer, territory.id, public_id, base_url=_base_url(request), settings=request.app.state.settings
    )
    location = url(request, "initiatives:show", public_id=initiative.public_id)
    return redirect(request, location, flash=_("Le brouillon d'initiative est ouvert : complétez-le avec l'équipe."))
