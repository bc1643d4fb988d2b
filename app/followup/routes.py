"""The follow-up of a signed initiative: start the work, deliver it with a report, milestones,
realisations (with their proofs) and proofs.

Without JavaScript every form posts and is redirected (303) back to the initiative; with HTMX the
follow-up panel is re-rendered in place. A form in error is shown again with its values kept and
status 422 (the panel alone for HTMX, else a page around it). Proofs are served as downloads only.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.core.actor import Actor
from app.core.errors import Invalid, NotFound
from app.followup import forms, milestones, proofs
from app.followup import service as followup
from app.followup.models import ProofKind
from app.initiatives import service as initiatives
from app.initiatives.models import Initiative
from app.ledger import realisations
from app.media.forms import uploads_in
from app.media.models import StoredFile
from app.media.routes import FILE_CSP, stored_file_response
from app.media.storage import MediaStore, media_store
from app.web.auth import CurrentViewer, MaybeViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

log = logging.getLogger("cailloux.followup")
router = APIRouter()

# One proof per send, plus the text fields around it; the file is held to 10 Mo while it is read.
UPLOAD_BODY_BYTES = proofs.MAX_FILE_BYTES + 1024 * 1024

Errors = dict[str, dict[str, str]]
Values = dict[str, dict[str, Any]]


def _initiative(db: Session, viewer: Actor | None, territory_id: int, public_id: str) -> Initiative:
    initiative, _members = initiatives.get_visible(db, viewer, territory_id, public_id)
    return initiative


def _initiative_url(request: Request, public_id: str) -> str:
    return url(request, "initiatives:show", public_id=public_id)


def _store(request: Request) -> MediaStore:
    return media_store(request.app.state.settings)


def _panel(
    request: Request, db: Session, viewer: Actor | None, initiative: Initiative, *, errors: Errors | None = None,
    values: Values | None = None, message: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    """The follow-up panel alone for HTMX, else the follow-up page around it."""
    panel = followup.panel(db, viewer, initiative)
    if panel is None:
        raise NotFound(_("Cette page n'existe pas."))
    context = {
        "initiative": initiative,
        "followup": panel,
        "followup_errors": errors or {},
        "followup_values": values or {},
        "followup_message": message,
        "back_url": _initiative_url(request, initiative.public_id),
    }
    template = "partials/followup/panel.html" if is_htmx(request) else "pages/followup/show.html"
    return render(request, template, context, status_code=status_code)


def _done(request: Request, db: Session, viewer: Actor, initiative: Initiative, message: str, anchor: str) -> Response:
    location = _initiative_url(request, initiative.public_id) + anchor
    if not is_htmx(request):
        return redirect(request, location, flash=message)
    remember_result(request, location)
    return _panel(request, db, viewer, initiative, message=message)


def _failed(
    request: Request, db: Session, viewer: Actor, initiative: Initiative, form_name: str, errors: dict[str, str],
    values: dict[str, Any],
) -> HTMLResponse:  # fmt: skip
    kept = {k: v for k, v in values.items() if isinstance(v, str)}
    return _panel(
        request, db, viewer, initiative, errors={form_name: errors}, values={form_name: kept}, status_code=422
    )


def _first_error(errors: dict[str, str]) -> Invalid:
    field = next(iter(errors))
    return Invalid(errors[field], field=field)


@router.get("/initiatives/{public_id}/suivi", name="followup:show")
def show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    initiative = _initiative(db, viewer, territory.id, public_id)
    return _panel(request, db, viewer, initiative)


# ---------------------------------------------------------------- the work: start, deliver


@router.post("/initiatives/{public_id}/suivi/demarrer", name="followup:start")
def start(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    claim_form_nonce(request, db, form, territory.id)
    followup.start_work(db, viewer, initiative, settings=request.app.state.settings)
    return _done(request, db, viewer, initiative, _("Les travaux ont commencé : bonne réalisation !"), "#followup")


def _deliver_page(
    request: Request, initiative: Initiative, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = {
        "initiative": initiative,
        "values": values,
        "errors": errors,
        "back_url": _initiative_url(request, initiative.public_id),
    }
    return render(request, "pages/followup/deliver.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/suivi/bilan", name="followup:deliver_form")
def deliver_form(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    initiative = _initiative(db, viewer, territory.id, public_id)
    panel = followup.panel(db, viewer, initiative)
    if panel is None or not panel.can_deliver:
        raise NotFound(_("Cette page n'existe pas."))
    return _deliver_page(request, initiative, {}, {})


@router.post("/initiatives/{public_id}/suivi/bilan", name="followup:deliver")
def deliver(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    result = validate_form(forms.DeliverForm, form)
    if result.data is None:
        return _deliver_page(request, initiative, result.values, result.errors, 422)
    claim_form_nonce(request, db, form, territory.id)
    try:
        with db.begin_nested():
            followup.deliver(
                db, viewer, initiative, result.data.what_was_done, result.data.what_changed,
                settings=request.app.state.settings,
            )  # fmt: skip
    except Invalid as exc:
        return _deliver_page(request, initiative, result.values, {exc.field or "__all__": exc.message}, 422)
    return redirect(
        request,
        _initiative_url(request, public_id) + "#followup",
        flash=_("Le projet est réalisé : le bilan est enregistré et transmis à la commune."),
    )


# ---------------------------------------------------------------- milestones


@router.post("/initiatives/{public_id}/etapes", name="followup:add_milestone")
def add_milestone(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    result = validate_form(forms.MilestoneForm, form)
    try:
        if result.data is None:
            raise _first_error(result.errors)
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            milestones.add_milestone(db, viewer, initiative, result.data.to_input())
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        return _failed(request, db, viewer, initiative, "milestone", errors, result.values)
    return _done(request, db, viewer, initiative, _("L'étape est ajoutée."), "#milestones")


def _milestone_page(
    request: Request, db: Session, viewer: Actor, initiative: Initiative, milestone_id: str,
    values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    panel = followup.panel(db, viewer, initiative)
    row = next((m for m in panel.milestones if m.public_id == milestone_id), None) if panel else None
    if panel is None or row is None or not row.can_edit:
        raise NotFound(_("Cette étape n'existe pas."))
    context = {
        "initiative": initiative,
        "milestone": row,
        "side_choices": panel.side_choices,
        "commitment_choices": panel.commitment_choices,
        "values": values,
        "errors": errors,
        "back_url": _initiative_url(request, initiative.public_id) + "#milestones",
    }
    return render(request, "pages/followup/milestone.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/etapes/{milestone_id}", name="followup:edit_milestone")
def edit_milestone(
    request: Request, public_id: str, milestone_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    row = milestones.get_milestone(db, viewer, initiative, milestone_id)
    line_id = ""
    if row.commitment_line_id is not None:
        panel = followup.panel(db, viewer, initiative)
        found = next((m for m in panel.milestones if m.public_id == milestone_id), None) if panel else None
        line_id = found.commitment_public_id if found else ""
    values = {"side": row.side, "title": row.title, "due_on": row.due_on.isoformat(), "commitment_line": line_id}
    return _milestone_page(request, db, viewer, initiative, milestone_id, values, {})


@router.post("/initiatives/{public_id}/etapes/{milestone_id}", name="followup:update_milestone")
def update_milestone(
    request: Request, public_id: str, milestone_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    milestones.get_milestone(db, viewer, initiative, milestone_id)
    result = validate_form(forms.MilestoneForm, form)
    try:
        if result.data is None:
            raise _first_error(result.errors)
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            milestones.update_milestone(db, viewer, initiative, milestone_id, result.data.to_input())
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        return _milestone_page(request, db, viewer, initiative, milestone_id, result.values, errors, 422)
    return redirect(request, _initiative_url(request, public_id) + "#milestones", flash=_("L'étape est modifiée."))


MILESTONE_STEPS = {
    "franchie": (milestones.mark_done, N_("L'étape est franchie.")),
    "rouvrir": (milestones.reopen, N_("L'étape est de nouveau à venir.")),
    "retirer": (milestones.remove_milestone, N_("L'étape est retirée.")),
}


@router.post("/initiatives/{public_id}/etapes/{milestone_id}/{step}", name="followup:milestone_step")
def milestone_step(
    request: Request, public_id: str, milestone_id: str, step: str, territory: CurrentTerritory,
    viewer: CurrentViewer, db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    if step not in MILESTONE_STEPS:
        raise NotFound(_("Cette page n'existe pas."))
    action, message = MILESTONE_STEPS[step]
    claim_form_nonce(request, db, form, territory.id)
    action(db, viewer, initiative, milestone_id)
    return _done(request, db, viewer, initiative, _(message), "#milestones")


# ---------------------------------------------------------------- realisations


@router.post("/initiatives/{public_id}/realisations", name="followup:record", max_body_size=UPLOAD_BODY_BYTES)
def record(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, read_db: ReadSession,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(read_db, viewer, territory.id, public_id)
    result = validate_form(forms.RealisationForm, form)
    uploads = uploads_in(form, "file")
    try:
        if result.data is None:
            raise _first_error(result.errors)
        data = result.data
        if len(uploads) > 1:
            raise Invalid(_("Envoyez un seul fichier à la fois."), field="file")
        prepared = None
        if uploads:
            proofs.check_can_add(read_db, viewer, initiative)
            request.app.state.rate_limiter.hit("upload:account", str(viewer.account_id))
            # Checked (and re-encoded) before the write transaction takes the database's write lock.
            prepared = proofs.prepare_proof(uploads[0])
        # A refused realisation or proof leaves nothing behind, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            target = _initiative(db, viewer, territory.id, public_id)
            row = realisations.record_from_form(db, viewer, target, data.line, data.quantity, data.delivered_on,
                                                data.notes)  # fmt: skip
            if prepared is not None:
                proofs.add_proof(
                    db, viewer, target, prepared, (data.proof_kind or ProofKind.OTHER).value, data.proof_title,
                    row.public_id, store=_store(request),
                )  # fmt: skip
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        return _failed(request, read_db, viewer, initiative, "realisation", errors, result.values)
    return _done(request, db, viewer, target, _("La réalisation est inscrite."), "#realisations")


@router.post("/initiatives/{public_id}/realisations/{realisation_id}/verifier", name="followup:verify")
def verify(
    request: Request, public_id: str, realisation_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    claim_form_nonce(request, db, form, territory.id)
    realisations.verify_realisation(db, viewer, initiative, realisation_id)
    return _done(request, db, viewer, initiative, _("La réalisation est vérifiée."), "#realisations")


@router.post("/initiatives/{public_id}/realisations/{realisation_id}/annuler", name="followup:cancel")
def cancel(
    request: Request, public_id: str, realisation_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    realisations.get_realisation(db, viewer, initiative, realisation_id)
    result = validate_form(forms.CancelForm, form)
    try:
        if result.data is None:
            raise _first_error(result.errors)
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            realisations.cancel_realisation(db, viewer, initiative, realisation_id, result.data.reason)
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        return _failed(request, db, viewer, initiative, f"cancel-{realisation_id}", errors, result.values)
    return _done(request, db, viewer, initiative, _("La réalisation est annulée."), "#realisations")


# ---------------------------------------------------------------- proofs


@router.post("/initiatives/{public_id}/justificatifs", name="followup:add_proof", max_body_size=UPLOAD_BODY_BYTES)
def add_proof(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, read_db: ReadSession,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(read_db, viewer, territory.id, public_id)
    proofs.check_can_add(read_db, viewer, initiative)
    result = validate_form(forms.ProofForm, form)
    uploads = uploads_in(form, "file")
    try:
        if result.data is None:
            raise _first_error(result.errors)
        if not uploads:
            raise Invalid(_("Choisissez un fichier à envoyer."), field="file")
        if len(uploads) > 1:
            raise Invalid(_("Envoyez un seul fichier à la fois."), field="file")
        request.app.state.rate_limiter.hit("upload:account", str(viewer.account_id))
        prepared = proofs.prepare_proof(uploads[0])
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            target = _initiative(db, viewer, territory.id, public_id)
            proofs.add_proof(
                db, viewer, target, prepared, result.data.kind.value, result.data.title, result.data.realisation,
                store=_store(request),
            )  # fmt: skip
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        return _failed(request, read_db, viewer, initiative, "proof", errors, result.values)
    return _done(request, db, viewer, target, _("Le justificatif est ajouté."), "#proofs")


def pdf_response(request: Request, store: MediaStore, row: StoredFile) -> Response:
    """A stored PDF as a download only: never shown in the site's origin, never sniffed as anything else."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        # A generated name (RFC 6266): the uploaded name may hold anything, it never reaches a header.
        "Content-Disposition": f'attachment; filename="{row.public_id}.pdf"',
        "Cache-Control": "private, no-store",
    }
    try:
        data = store.read(row.storage_key)
    except FileNotFoundError:
        log.error("stored file %s has no bytes in the media store", row.public_id)
        raise NotFound(_("Ce fichier n'existe pas.")) from None
    return Response(content=data, media_type=proofs.PDF_CONTENT_TYPE, headers=headers)


@router.get("/initiatives/{public_id}/justificatifs/{proof_id}", name="followup:proof")
def proof(
    request: Request, public_id: str, proof_id: str, territory: CurrentTerritory, viewer: MaybeViewer,
    db: ReadSession,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    row = proofs.proof_file(db, viewer, initiative, proof_id)
    store = _store(request)
    if row.content_type == proofs.PDF_CONTENT_TYPE:
        return pdf_response(request, store, row)
    response = stored_file_response(request, store, row, public=False)
    response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace("inline", "attachment")
    return response


@router.post("/initiatives/{public_id}/justificatifs/{proof_id}/retirer", name="followup:remove_proof")
def remove_proof(
    request: Request, public_id: str, proof_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative = _initiative(db, viewer, territory.id, public_id)
    claim_form_nonce(request, db, form, territory.id)
    proofs.remove_proof(db, viewer, initiative, proof_id, store=_store(request))
    return _done(request, db, viewer, initiative, _("Le justificatif est retiré."), "#proofs")
