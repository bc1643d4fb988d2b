"""Convention pages: read, propose, sign (online or on paper), regenerate, amend, print; the fund's
convention template (admin) and the public rules pages of the funds.

Every action is a form POST answered with 303 (Post/Redirect/Get); a refused form is shown again
on the convention page with its message (422, or 409 when the text changed meanwhile).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.conventions import clauses, forms
from app.conventions import service as conventions
from app.conventions.models import Convention, ConventionAmendment
from app.core.errors import AppError, Conflict, Forbidden, Invalid
from app.funds import service as funds
from app.initiatives.models import Initiative
from app.media import images
from app.media.forms import uploads_in
from app.media.routes import stored_file_response
from app.media.storage import media_store
from app.web.auth import CurrentViewer, RequireAdmin
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()

# One scan and the few text fields around it.
SCAN_BODY_BYTES = images.MAX_FILE_BYTES + 256 * 1024
SCAN_POLICY = {"accept": images.ACCEPT, "max_megabytes": images.MAX_FILE_BYTES // (1024 * 1024)}
# Example values shown in the template editor's preview.
PREVIEW_VALUES = {
    "initiative": N_("Jardin partagé de la rue des Écoles"),
    "numero": "2026-001",
    "beneficiaire": N_("Les Jardins partagés"),
    "porteurs": N_("Camille Lefebvre, Karim Benali"),
    "entretien_par": N_("L'association Les Jardins partagés"),
    "duree_entretien": N_("36 mois"),
}


def _page_url(request: Request, public_id: str) -> str:
    return url(request, "conventions:show", public_id=public_id)


def _error(exc: AppError) -> dict[str, str]:
    return {exc.field or "__all__": exc.message}


# ---------------------------------------------------------------- the convention page


def _page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *,
    errors: dict[str, dict[str, str]] | None = None, values: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    page = conventions.convention_page(db, viewer, initiative)
    context = {
        "page": page,
        "initiative": initiative,
        "errors": errors or {},
        "values": values or {},
        "scan_policy": SCAN_POLICY,
        "workspace_url": url(request, "initiatives:show", public_id=initiative.public_id),
    }
    return render(request, "pages/conventions/show.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/convention", name="conventions:show")
def show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    initiative = conventions.get_initiative(db, viewer, public_id)
    return _page(request, db, viewer, initiative)


@router.get("/initiatives/{public_id}/convention/imprimer", name="conventions:print")
def print_page(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    initiative = conventions.get_initiative(db, viewer, public_id)
    page = conventions.convention_page(db, viewer, initiative)
    return render(request, "pages/conventions/print.html", {"page": page, "initiative": initiative})


def _propose_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    upkeep_by, months = None, None
    if values and not errors:
        upkeep_by, months = str(values.get("upkeep_by") or ""), int(values.get("upkeep_months") or 0)
    page = conventions.propose_page(db, viewer, initiative, upkeep_by, months)
    context = {
        "page": page,
        "initiative": initiative,
        "values": values or {"upkeep_by": page.upkeep_by, "upkeep_months": page.upkeep_months},
        "errors": errors or {},
        "workspace_url": url(request, "initiatives:show", public_id=initiative.public_id),
    }
    return render(request, "pages/conventions/propose.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/convention/proposer", name="conventions:propose_form")
def propose_form(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    initiative = conventions.get_initiative(db, viewer, public_id)
    return _propose_page(request, db, viewer, initiative)


@router.post("/initiatives/{public_id}/convention/proposer", name="conventions:propose")
def propose(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = conventions.get_initiative(db, viewer, public_id)
    result = validate_form(forms.ProposeForm, form)
    if result.data is None:
        return _propose_page(
            request, db, viewer, initiative, values=result.values, errors=result.errors, status_code=422
        )
    if form.get("step") == "preview":
        return _propose_page(request, db, viewer, initiative, values=result.data.model_dump())
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            conventions.propose(
                db, viewer, initiative, result.data.upkeep_by, result.data.upkeep_months,
                settings=request.app.state.settings,
            )  # fmt: skip
    except Invalid as exc:
        return _propose_page(request, db, viewer, initiative, values=result.values, errors=_error(exc), status_code=422)
    flash = _("La convention est proposée : les porteur·ses de projet sont prévenu·es.")
    return redirect(request, _page_url(request, public_id), flash=flash)


@router.post("/initiatives/{public_id}/convention/regenerer", name="conventions:regenerate")
def regenerate(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = conventions.get_initiative(db, viewer, public_id)
    conventions.get_convention(db, viewer, initiative)
    result = validate_form(forms.ProposeForm, form)
    if result.data is None:
        return _page(request, db, viewer, initiative, errors={"regenerate": result.errors},
                     values={"regenerate": result.values}, status_code=422)  # fmt: skip
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            conventions.regenerate(
                db, viewer, initiative, result.data.upkeep_by, result.data.upkeep_months,
                settings=request.app.state.settings,
            )  # fmt: skip
    except Invalid as exc:
        return _page(request, db, viewer, initiative, errors={"regenerate": _error(exc)},
                     values={"regenerate": result.values}, status_code=422)  # fmt: skip
    flash = _("Le texte est mis à jour : les signatures déjà données sont à refaire.")
    return redirect(request, _page_url(request, public_id), flash=flash)


# ---------------------------------------------------------------- signing


def _target(
    db: Session, viewer: Viewer, public_id: str, amendment_id: str | None
) -> tuple[Initiative, Convention, ConventionAmendment | None]:
    """404 for an initiative (or an amendment) the viewer may not see, before anything else is read."""
    initiative = conventions.get_initiative(db, viewer, public_id)
    convention = conventions.get_convention(db, viewer, initiative)
    amendment = conventions.get_amendment(db, convention, amendment_id) if amendment_id is not None else None
    return initiative, convention, amendment


def _sign(request: Request, territory_id: int, viewer: Viewer, db: Session, form: Any, public_id: str,
          amendment_id: str | None) -> Response:  # fmt: skip
    initiative, convention, amendment = _target(db, viewer, public_id, amendment_id)
    key = f"sign-{amendment.public_id}" if amendment is not None else "sign"
    # The password is asked again: wrong guesses are limited like logins.
    request.app.state.rate_limiter.hit("login:account", str(viewer.account_id))
    result = validate_form(forms.SignForm, form)
    if result.data is None:
        return _page(request, db, viewer, initiative, errors={key: result.errors}, status_code=422)
    settings = request.app.state.settings
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory_id)
            conventions.sign_online(
                db, viewer, convention, result.data.password, result.data.text_sha256, amendment=amendment,
                settings=settings,
            )  # fmt: skip
    except (Invalid, Conflict, Forbidden) as exc:
        return _page(request, db, viewer, initiative, errors={key: _error(exc)}, status_code=exc.status_code)
    return redirect(request, _page_url(request, public_id), flash=_("Votre signature est enregistrée."))


@router.post("/initiatives/{public_id}/convention/signer", name="conventions:sign")
def sign(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    return _sign(request, territory.id, viewer, db, form, public_id, None)


@router.post("/initiatives/{public_id}/convention/avenants/{amendment_id}/signer", name="conventions:sign_amendment")
def sign_amendment(
    request: Request, public_id: str, amendment_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    return _sign(request, territory.id, viewer, db, form, public_id, amendment_id)


def _paper(request: Request, territory_id: int, viewer: Viewer, db: Session, form: Any, public_id: str,
           amendment_id: str | None) -> Response:  # fmt: skip
    initiative, convention, amendment = _target(db, viewer, public_id, amendment_id)
    key = f"paper-{amendment.public_id}" if amendment is not None else "paper"
    result = validate_form(forms.PaperForm, form)
    if result.data is None:
        return _page(request, db, viewer, initiative, errors={key: result.errors}, values={key: result.values},
                     status_code=422)  # fmt: skip
    scans = uploads_in(form, "scan")
    request.app.state.rate_limiter.hit("upload:account", str(viewer.account_id))
    data, settings = result.data, request.app.state.settings
    store = media_store(settings)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory_id)
            conventions.record_paper_signature(
                db, viewer, convention, data.party, data.signatory_name, data.signatory_capacity, data.signed_on,
                scans[0] if scans else None, data.text_sha256, amendment=amendment, store=store, settings=settings,
            )  # fmt: skip
    except (Invalid, Conflict) as exc:
        values = {k: v for k, v in result.values.items() if isinstance(v, str)}
        return _page(request, db, viewer, initiative, errors={key: _error(exc)}, values={key: values},
                     status_code=exc.status_code)  # fmt: skip
    return redirect(request, _page_url(request, public_id), flash=_("La signature sur papier est enregistrée."))


@router.post("/initiatives/{public_id}/convention/signature-papier", name="conventions:paper",
             max_body_size=SCAN_BODY_BYTES)  # fmt: skip
def paper(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    return _paper(request, territory.id, viewer, db, form, public_id, None)


@router.post("/initiatives/{public_id}/convention/avenants/{amendment_id}/signature-papier",
             name="conventions:paper_amendment", max_body_size=SCAN_BODY_BYTES)  # fmt: skip
def paper_amendment(
    request: Request, public_id: str, amendment_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    return _paper(request, territory.id, viewer, db, form, public_id, amendment_id)


@router.get("/initiatives/{public_id}/convention/signatures/{signature_id}/scan", name="conventions:scan")
def scan(
    request: Request, public_id: str, signature_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: ReadSession,
) -> Response:  # fmt: skip
    initiative = conventions.get_initiative(db, viewer, public_id)
    row = conventions.scan_of(db, viewer, initiative, signature_id)
    return stored_file_response(request, media_store(request.app.state.settings), row, public=False)


# ---------------------------------------------------------------- amendments


@router.post("/initiatives/{public_id}/convention/avenants", name="conventions:amend")
def amend(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative, convention, _none = _target(db, viewer, public_id, None)
    result = validate_form(forms.AmendmentForm, form)
    if result.data is None:
        return _page(request, db, viewer, initiative, errors={"amend": result.errors}, values={"amend": result.values},
                     status_code=422)  # fmt: skip
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            conventions.propose_amendment(
                db, viewer, convention, result.data.reason, result.data.changes, settings=request.app.state.settings
            )
    except Invalid as exc:
        return _page(request, db, viewer, initiative, errors={"amend": _error(exc)}, values={"amend": result.values},
                     status_code=422)  # fmt: skip
    return redirect(request, _page_url(request, public_id), flash=_("L'avenant est proposé aux signataires."))


@router.post("/initiatives/{public_id}/convention/avenants/{amendment_id}/annuler", name="conventions:cancel_amendment")
def cancel_amendment(
    request: Request, public_id: str, amendment_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    _initiative, _convention, amendment = _target(db, viewer, public_id, amendment_id)
    assert amendment is not None
    claim_form_nonce(request, db, form, territory.id)
    conventions.cancel_amendment(
        db, viewer, amendment, str(form.get("reason") or ""), settings=request.app.state.settings
    )
    return redirect(request, _page_url(request, public_id), flash=_("L'avenant est annulé."))


# ---------------------------------------------------------------- the fund's convention template (admin)


def _template_page(
    request: Request, db: Session, territory_id: int, public_id: str, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, preview: bool = False, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    fund = funds.get_fund(db, territory_id, public_id)
    current = clauses.current_view(db, fund)
    shown = values if values is not None else clauses.form_values(current)
    town = request.state.territory.name
    sample = {"commune": town, "dispositif": fund.name, **{k: _(v) for k, v in PREVIEW_VALUES.items()}}
    context = {
        "fund": fund,
        "current": current,
        "versions": clauses.versions(db, fund),
        "values": shown,
        "errors": errors or {},
        "placeholders": [(name, _(label)) for name, label in clauses.PLACEHOLDERS.items()],
        "preview": {name: clauses.fill(str(shown.get(name, "")), sample) for name in clauses.TEMPLATE_FIELDS}
        if preview
        else None,
    }
    return render(request, "pages/conventions/template.html", context, status_code=status_code)


@router.get("/admin/dispositifs/{public_id}/convention", name="conventions:template")
def template_show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession
) -> HTMLResponse:
    return _template_page(request, db, territory.id, public_id)


@router.post("/admin/dispositifs/{public_id}/convention", name="conventions:template_save")
def template_save(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    funds.get_fund(db, territory.id, public_id)
    result = validate_form(forms.TemplateForm, form)
    if result.data is None:
        return _template_page(request, db, territory.id, public_id, values=result.values, errors=result.errors,
                              status_code=422)  # fmt: skip
    if form.get("step") == "preview":
        try:
            clauses.check_placeholders(result.data)
        except Invalid as exc:
            return _template_page(request, db, territory.id, public_id, values=result.values, errors=_error(exc),
                                  status_code=422)  # fmt: skip
        return _template_page(request, db, territory.id, public_id, values=result.values, preview=True)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            template = clauses.save_template(db, viewer, territory.id, public_id, result.data)
    except Invalid as exc:
        return _template_page(request, db, territory.id, public_id, values=result.values, errors=_error(exc),
                              status_code=422)  # fmt: skip
    flash = _("La version %(n)s du modèle est enregistrée ; les conventions déjà proposées gardent la leur.") % {
        "n": template.version
    }
    return redirect(request, url(request, "conventions:template", public_id=public_id), flash=flash)


@router.get("/admin/dispositifs/{public_id}/convention/versions/{version_id}", name="conventions:template_version")
def template_version(
    request: Request, public_id: str, version_id: str, territory: CurrentTerritory, viewer: RequireAdmin,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    fund = funds.get_fund(db, territory.id, public_id)
    version = clauses.get_version(db, fund, version_id)
    return render(request, "pages/conventions/template_version.html", {"fund": fund, "version": version})


# ---------------------------------------------------------------- public rules pages


@router.get("/dispositifs", name="conventions:funds")
def fund_list(request: Request, territory: CurrentTerritory, db: ReadSession) -> HTMLResponse:
    return render(request, "pages/conventions/funds.html", {"funds": clauses.public_funds(db, territory.id)})


@router.get("/dispositifs/{public_id}", name="conventions:fund_rules")
def fund_rules(request: Request, public_id: str, territory: CurrentTerritory, db: ReadSession) -> HTMLResponse:
    return render(request, "pages/conventions/rules.html", {"rules": clauses.fund_rules(db, territory.id, public_id)})


@router.get("/dispositifs/{public_id}/modele-de-convention", name="conventions:fund_template")
def fund_template(request: Request, public_id: str, territory: CurrentTerritory, db: ReadSession) -> HTMLResponse:
    rules = clauses.fund_rules(db, territory.id, public_id)
    return render(request, "pages/conventions/public_template.html", {"rules": rules})
