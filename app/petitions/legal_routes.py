"""A legal request's procedure (art. L1112-16 CGCT): the public timeline of its stages, the steps
(submitted to the mayor, signatures checked against the roll, council informed, decision), the
printable acknowledgement of receipt and the agents' extract for consultation at the town hall.

Registered before the petitions' pages. Every route loads the request first, so another town's
identifier answers 404 before any form is read. The services decide; routes translate HTTP.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Invalid
from app.petitions import legal
from app.petitions.models import RollStatus
from app.territories.context import TerritoryContext
from app.web.auth import CurrentViewer, MaybeViewer, RequireAgent
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _, date, ngettext
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()

FILTERS = (
    ("", "toutes"),
    (RollStatus.PENDING.value, "à vérifier"),
    (RollStatus.VALID.value, "valides"),
    (RollStatus.INVALID.value, "invalides"),
)


def _timeline_page(
    request: Request, db: Session, viewer: Viewer | None, territory: TerritoryContext, public_id: str, *,
    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    view = legal.timeline(db, viewer, territory, public_id)
    context = {
        "timeline": view,
        "petition": view.petition,
        "errors": errors or {},
        "values": values or {"sitting": view.proposed_sitting},
    }
    return render(request, "pages/petitions_legal/timeline.html", context, status_code=status_code, block="panel")


@router.get("/petitions/{public_id}/procedure", name="petitions_legal:timeline")
def timeline(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    """Public: the stages and their dates (a fragment for the petition's page under HTMX)."""
    response = _timeline_page(request, db, viewer, territory, public_id)
    response.headers["Vary"] = "HX-Request"
    return response


def _back(request: Request, public_id: str, flash: str) -> Response:
    return redirect(request, url(request, "petitions_legal:timeline", public_id=public_id), flash=flash)


@router.post("/petitions/{public_id}/remettre-au-maire", name="petitions_legal:submit")
def submit_to_mayor(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    legal.submit_to_mayor(db, viewer, territory, public_id, settings=request.app.state.settings)
    return redirect(
        request,
        url(request, "petitions_legal:receipt", public_id=public_id),
        flash=_("La demande est remise au maire : voici l'accusé de réception."),
    )


@router.get("/petitions/{public_id}/accuse-de-reception", name="petitions_legal:receipt")
def receipt(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    """The printable acknowledgement of receipt (the author and the town's staff)."""
    return render(
        request, "pages/petitions_legal/receipt.html", {"receipt": legal.receipt(db, viewer, territory, public_id)}
    )


# ---------------------------------------------------------------- the roll check


def _verification(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str, *,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    status = request.query_params.get("statut", "")
    page = legal.verification_page(db, viewer, territory.id, public_id, status)
    context = {
        "page": page,
        "petition": page.petition,
        "errors": errors or {},
        "filters": [(key, _(label)) for key, label in FILTERS],
    }
    return render(request, "pages/petitions_legal/verification.html", context, status_code=status_code)


@router.get("/petitions/{public_id}/verification", name="petitions_legal:verification")
def verification(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> HTMLResponse:
    return _verification(request, db, viewer, territory, public_id)


@router.post("/petitions/{public_id}/verification", name="petitions_legal:check_many")
def check_many(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    legal.get(db, viewer, territory.id, public_id)  # 404 first
    result = validate_form(legal.CheckInput, form, multi=("ids",))
    if result.data is None:
        return _verification(request, db, viewer, territory, public_id, errors=result.errors, status_code=422)
    try:
        n = legal.check_signatures(
            db, viewer, territory.id, public_id, result.data.ids, result.data.status, result.data.reason
        )
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _verification(request, db, viewer, territory, public_id, errors=errors, status_code=422)
    location = url(request, "petitions_legal:verification", public_id=public_id)
    message = ngettext("%(num)s signature vérifiée.", "%(num)s signatures vérifiées.", n) % {"num": n}
    return redirect(request, location, flash=message)


@router.post("/petitions/{public_id}/verification/terminer", name="petitions_legal:finish")
def finish(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    figures = legal.finish_verification(db, viewer, territory.id, public_id)
    message = (
        _("Vérification terminée : %(valid)s signatures valides, le seuil de %(n)s est atteint.")
        if figures.reached
        else _("Vérification terminée : %(valid)s signatures valides, le seuil de %(n)s n'est pas atteint.")
    ) % {"valid": figures.valid, "n": figures.threshold}
    return _back(request, public_id, message)


def _signature_page(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str,
    signature_id: str, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    petition, row, can_check = legal.signature_detail(db, viewer, territory.id, public_id, signature_id)
    context = {
        "petition": petition,
        "row": row,
        "can_check": can_check,
        "errors": errors or {},
        "values": values or {"reason": row.roll_reason},
    }
    return render(request, "pages/petitions_legal/signature.html", context, status_code=status_code)


@router.get("/petitions/{public_id}/verification/{signature_id}", name="petitions_legal:signature")
def signature(
    request: Request, public_id: str, signature_id: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    return _signature_page(request, db, viewer, territory, public_id, signature_id)


@router.post("/petitions/{public_id}/verification/{signature_id}", name="petitions_legal:check_one")
def check_one(
    request: Request, public_id: str, signature_id: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    legal.signature_detail(db, viewer, territory.id, public_id, signature_id)  # 404 first
    status = str(form.get("status", ""))
    reason = str(form.get("reason", ""))
    try:
        legal.check_signature(db, viewer, territory.id, public_id, signature_id, status, reason)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _signature_page(
            request, db, viewer, territory, public_id, signature_id, errors=errors, values={"reason": reason},
            status_code=422,
        )  # fmt: skip
    location = url(request, "petitions_legal:verification", public_id=public_id, query={"statut": "pending"})
    return redirect(request, location, flash=_("La signature est vérifiée."))


# ---------------------------------------------------------------- the council


@router.post("/petitions/{public_id}/conseil-informe", name="petitions_legal:inform")
def inform(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    legal.get(db, viewer, territory.id, public_id)  # 404 first
    result = validate_form(legal.InformInput, form)
    try:
        if result.data is None:
            raise Invalid(_("Choisissez une séance du conseil."), field="sitting")
        sitting = legal.inform_council(db, viewer, territory, public_id, result.data.sitting, result.data.reason)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _timeline_page(
            request, db, viewer, territory, public_id, errors=errors, values=result.values, status_code=422
        )
    return _back(
        request,
        public_id,
        _("L'information du conseil municipal (séance du %(date)s) est enregistrée.")
        % {"date": date(sitting.sitting_date)},
    )


@router.post("/petitions/{public_id}/decision-du-conseil", name="petitions_legal:decide")
def decide(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    legal.get(db, viewer, territory.id, public_id)  # 404 first
    result = validate_form(legal.DecisionInput, form)
    errors = result.errors
    if result.data is not None:
        try:
            legal.record_decision(db, viewer, territory, public_id, result.data)
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
    if errors:
        return _timeline_page(
            request, db, viewer, territory, public_id, errors=errors, values=result.values, status_code=422
        )
    return _back(request, public_id, _("La décision du conseil municipal est enregistrée."))


# ---------------------------------------------------------------- the extract (never linked publicly)


def _extract_form(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str, *,
    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    view = legal.timeline(db, viewer, territory, public_id)
    context = {
        "petition": view.petition,
        "can_extract": view.can_extract,
        "errors": errors or {},
        "values": values or {"format": "html"},
    }
    return render(request, "pages/petitions_legal/extract_form.html", context, status_code=status_code)


@router.get("/petitions/{public_id}/extrait", name="petitions_legal:extract_form")
def extract_form(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> HTMLResponse:
    return _extract_form(request, db, viewer, territory, public_id)


@router.post("/petitions/{public_id}/extrait", name="petitions_legal:extract")
def extract(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    legal.get(db, viewer, territory.id, public_id)  # 404 first
    result = validate_form(legal.ExtractInput, form)
    if result.data is None:
        return _extract_form(
            request, db, viewer, territory, public_id, errors=result.errors, values=result.values, status_code=422
        )
    try:
        made = legal.extract(db, viewer, territory, public_id, result.data.reason)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _extract_form(
            request, db, viewer, territory, public_id, errors=errors, values=result.values, status_code=422
        )
    no_store = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    if result.data.format == "csv":
        filename = f"extrait-signataires-{made.petition.public_id}.csv"
        return Response(
            content=legal.extract_csv(made),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "X-Content-Type-Options": "nosniff",
                **no_store,
            },
        )
    return render(request, "pages/petitions_legal/extract.html", {"extract": made}, headers=no_store)
