"""Pages for proposing an initiative, its workspace, its team and "Mes initiatives"."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts import contacts
from app.accounts.viewer import Viewer
from app.conventions import service as conventions
from app.core.errors import Invalid, NotFound
from app.evaluation import service as evaluation
from app.follows import service as follows
from app.followup import service as followup
from app.history.panel import memory_panel
from app.initiatives import permissions as perm
from app.initiatives import search, timeline
from app.initiatives import service as initiatives
from app.initiatives.forms import (
    BENEFICIARY_LABELS,
    PROJECT_TYPE_LABELS,
    AddContactInput,
    InitiativeInput,
    InviteInput,
    WithdrawInput,
)
from app.initiatives.models import Initiative
from app.media import service as media
from app.media.forms import uploads_in
from app.media.routes import UPLOAD_BODY_BYTES
from app.media.storage import media_store
from app.moderation import service as moderation
from app.review import agenda, checklist
from app.review import service as review
from app.territories.context import TerritoryContext
from app.territories.service import fund_default, list_neighbourhoods, list_themes
from app.updates import service as updates
from app.web.auth import CurrentViewer, MaybeViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import render, url
from app.workdays import service as workdays

router = APIRouter()


def _base_url(request: Request) -> str:
    return f"{request.app.state.settings.base_scheme}://{request.url.netloc}"


def _choices(db: Session, viewer: Viewer, territory: TerritoryContext) -> dict[str, Any]:
    staff_contacts = (
        [(c.public_id, c.display_name) for c in contacts.search_contacts(db, viewer, territory.id)]
        if perm.is_agent(viewer, territory.id)
        else []
    )
    return {
        "neighbourhoods": [(n.id, n.name) for n in list_neighbourhoods(db, territory.id)],
        "themes": [(t.id, t.name) for t in list_themes(db, territory.id)],
        "project_types": [(k.value, _(v)) for k, v in PROJECT_TYPE_LABELS.items()],
        "beneficiary_kinds": [(k.value, _(v)) for k, v in BENEFICIARY_LABELS.items()],
        "contact_choices": staff_contacts,
    }


def _form_page(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, *, initiative: Initiative | None,
    values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    text = " ".join(str(values.get(k, "")) for k in ("title", "description"))
    context = {
        "initiative": initiative,
        "values": values,
        "errors": errors,
        "similar": search.similar(
            db, territory.id, text, exclude_id=initiative.id if initiative else None, viewer=viewer
        ),
        **_choices(db, viewer, territory),
        "photo_policy": media.PHOTO_POLICY,
    }
    return render(request, "pages/initiatives/form.html", context, status_code=status_code)


@router.get("/initiatives/proposer", name="initiatives:new")
def new(
    request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession, contact: str = ""
) -> HTMLResponse:
    values = {"project_type": "physical", "beneficiary_kind": "person", "contact_id": contact[:32]}
    return _form_page(request, db, viewer, territory, initiative=None, values=values, errors={})


@router.post("/initiatives/proposer", name="initiatives:create", max_body_size=UPLOAD_BODY_BYTES)
def create(
    request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession, form: FormDep
) -> Response:
    result = validate_form(InitiativeInput, form)
    if result.data is None:
        return _form_page(
            request, db, viewer, territory, initiative=None, values=result.values, errors=result.errors, status_code=422
        )
    uploads = uploads_in(form)
    try:
        media.check_quota(0, len(uploads))
        for _upload in uploads:
            request.app.state.rate_limiter.hit("upload:account", str(viewer.account_id))
        # Decoded before the first query: image work never holds the database's write lock.
        photos = media.prepare_photos(uploads)
        # A refused photo refuses the whole proposal: nothing is kept, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            initiative = initiatives.propose(db, viewer, territory.id, result.data)
            if photos:
                store = media_store(request.app.state.settings)
                media.add_photos(db, viewer, territory.id, initiative.public_id, photos, store=store)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _form_page(
            request, db, viewer, territory, initiative=None, values=result.values, errors=errors, status_code=422
        )
    location = url(request, "initiatives:show", public_id=initiative.public_id)
    return redirect(request, location, flash=_("Votre brouillon est enregistré. Relisez-le, puis déposez-le."))


@router.get("/initiatives/similaires", name="initiatives:similar")
def similar(
    request: Request, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession,
    q: str = "", title: str = "", description: str = "",
) -> HTMLResponse:  # fmt: skip
    text = " ".join((q, title, description))[:2000]
    found = search.similar(db, territory.id, text, viewer=viewer)
    return render(request, "partials/initiatives/similar.html", {"similar": found, "searched": bool(text.strip())})


@router.get("/mes-initiatives", name="initiatives:mine")
def mine(request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    groups = initiatives.my_initiatives(db, viewer, territory.id)
    return render(request, "pages/initiatives/mine.html", {"groups": groups})


@router.get("/initiatives/invitation/{token}", name="initiatives:invitation")
def invitation(
    request: Request, token: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    view = initiatives.invitation_view(db, territory.id, token)
    return render(request, "pages/initiatives/invitation.html", {"invitation": view, "token": token})


@router.post("/initiatives/invitation/{token}", name="initiatives:accept")
def accept(
    request: Request, token: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession, form: FormDep
) -> Response:
    initiative = initiatives.accept_invitation(db, viewer, territory.id, token)
    location = url(request, "initiatives:show", public_id=initiative.public_id)
    return redirect(request, location, flash=_("Vous faites maintenant partie de l'équipe du projet."))


def _ledger(db: Session, initiative: Initiative, viewer: Viewer | None) -> Any:
    """The ledger panel's data, from the ledger domain when it is installed."""
    try:
        module = importlib.import_module("app.ledger.service")
    except ImportError:
        return None
    ledger_view = getattr(module, "ledger_view", None)
    if ledger_view is None:
        return None
    try:
        return ledger_view(db, viewer, initiative)
    except NotFound:  # the ledger is not shown to this viewer; the rest of the page is
        return None


def _agenda(db: Session, viewer: Viewer | None, initiative: Initiative) -> agenda.AgendaPanel | None:
    """Where the initiative stands on the council's agenda, rendered with the page (no request needed)."""
    if viewer is None or initiative.state not in agenda.LIVE_STATES:
        return None
    try:
        return agenda.panel(db, viewer, initiative)
    except NotFound:
        return None


def _show_page(
    request: Request, db: Session, viewer: Viewer | None, territory: TerritoryContext, public_id: str,
    *, errors: dict[str, dict[str, str]] | None = None, values: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    ws = initiatives.workspace(db, viewer, territory.id, public_id)
    staff_contacts = (
        [(c.public_id, c.display_name) for c in contacts.search_contacts(db, viewer, territory.id)]
        if viewer is not None and ws.can_add_contact
        else []
    )
    context = {
        "ws": ws,
        "initiative": ws.initiative,
        "ledger": _ledger(db, ws.initiative, viewer),
        # What the viewer may do in the review, knowing how they stand towards the initiative.
        "review_panel": review.review_panel(db, viewer, ws.initiative) if viewer is not None else None,
        "checklist": checklist.panel(db, viewer, ws.initiative),
        "agenda": _agenda(db, viewer, ws.initiative),
        "timeline": timeline.timeline(db, viewer, ws.initiative, private=ws.private, staff=ws.is_staff),
        "photos": media.gallery_for(db, viewer, ws.initiative),
        # The work after the signature: milestones, what was done, proofs (app.followup).
        "followup": followup.panel(db, viewer, ws.initiative),
        # Progress updates and the follow button (app.updates, app.follows).
        "updates": updates.panel_for(db, viewer, ws.initiative),
        "follow": follows.box_for(db, viewer, ws.initiative),
        # The convention's box, for the promoters and the town's staff only (None for everyone else).
        "convention": conventions.panel(db, viewer, ws.initiative),
        # The close-out: evaluation summary, survey invitation, upkeep status, fines traces (app.evaluation).
        "evaluation": evaluation.panel(db, viewer, ws.initiative),
        # Work days: upcoming and past, « Je participe », links to the registers (app.workdays).
        "work_days": workdays.panel(db, viewer, ws.initiative),
        # « Signaler ce contenu », and what agents hid, for the team and the staff (app.moderation).
        "moderation": moderation.initiative_panel(db, viewer, ws.initiative, team=ws.private),
        # The historical mark of an imported initiative, and the peer library box (app.history, app.library).
        "memory": memory_panel(db, viewer, ws.initiative),
        "contact_choices": staff_contacts,
        "role_choices": [("co_promoter", _("co-porteur·se")), ("guardian", _("adulte garant·e"))],
        "team_errors": errors or {},
        "team_values": values or {},
    }
    return render(request, "pages/initiatives/show.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}", name="initiatives:show")
def show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    return _show_page(request, db, viewer, territory, public_id)


@router.get("/initiatives/{public_id}/modifier", name="initiatives:edit")
def edit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    ws = initiatives.workspace(db, viewer, territory.id, public_id)
    if not ws.can_edit:
        return _show_page(request, db, viewer, territory, public_id)
    values = initiatives.form_values(db, ws.initiative)
    return _form_page(request, db, viewer, territory, initiative=ws.initiative, values=values, errors={})


@router.post("/initiatives/{public_id}/modifier", name="initiatives:update")
def update(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    result = validate_form(InitiativeInput, form)
    initiative, _members = initiatives.get_visible(db, viewer, territory.id, public_id)
    errors = result.errors
    if result.data is not None:
        try:
            initiatives.update_draft(db, viewer, territory.id, public_id, result.data)
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            location = url(request, "initiatives:show", public_id=public_id)
            return redirect(request, location, flash=_("Vos modifications sont enregistrées."))
    return _form_page(
        request, db, viewer, territory, initiative=initiative, values=result.values, errors=errors, status_code=422
    )


def _submit_page(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str, *,
    error: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    ws = initiatives.workspace(db, viewer, territory.id, public_id)
    i = ws.initiative
    found = search.similar(db, territory.id, f"{i.title} {i.description}", exclude_id=i.id, viewer=viewer)
    fund = initiatives.active_fund(db, territory.id)
    days = fund.decision_deadline_days if fund is not None else fund_default("decision_deadline_days")
    context = {"ws": ws, "initiative": i, "similar": found, "deadline_days": days, "error": error}
    return render(request, "pages/initiatives/submit.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/deposer", name="initiatives:confirm_submit")
def confirm_submit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    return _submit_page(request, db, viewer, territory, public_id)


@router.post("/initiatives/{public_id}/deposer", name="initiatives:submit")
def submit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    try:
        initiatives.submit(
            db, viewer, territory, public_id, settings=request.app.state.settings, base_url=_base_url(request)
        )
    except Invalid as exc:
        return _submit_page(request, db, viewer, territory, public_id, error=exc.message, status_code=422)
    location = url(request, "initiatives:show", public_id=public_id)
    return redirect(request, location, flash=_("Votre initiative est déposée. La commune vous répondra."))


@router.post("/initiatives/{public_id}/retirer", name="initiatives:withdraw")
def withdraw(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    result = validate_form(WithdrawInput, form)
    reason = result.data.reason if result.data is not None else ""
    initiatives.withdraw(db, viewer, territory.id, public_id, reason)
    location = url(request, "initiatives:show", public_id=public_id)
    return redirect(request, location, flash=_("L'initiative est retirée."))


@router.post("/initiatives/{public_id}/retravailler", name="initiatives:rework")
def rework(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiatives.rework(db, viewer, territory.id, public_id)
    location = url(request, "initiatives:edit", public_id=public_id)
    return redirect(request, location, flash=_("L'initiative est revenue en brouillon : retravaillez-la."))


@router.post("/initiatives/{public_id}/inviter", name="initiatives:invite")
def invite(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    result = validate_form(InviteInput, form)
    errors = result.errors
    if result.data is not None:
        claim_form_nonce(request, db, form, territory.id)
        try:
            initiatives.invite(db, viewer, territory.id, public_id, result.data, base_url=_base_url(request))
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            location = url(request, "initiatives:show", public_id=public_id)
            return redirect(request, location, flash=_("L'invitation est envoyée."))
    return _show_page(
        request, db, viewer, territory, public_id, errors={"invite": errors}, values={"invite": result.values},
        status_code=422,
    )  # fmt: skip


@router.post("/initiatives/{public_id}/membres/contact", name="initiatives:add_contact")
def add_contact(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    result = validate_form(AddContactInput, form)
    errors = result.errors
    if result.data is not None:
        try:
            initiatives.add_contact(db, viewer, territory.id, public_id, result.data)
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            location = url(request, "initiatives:show", public_id=public_id)
            return redirect(request, location, flash=_("Le contact fait partie de l'équipe du projet."))
    return _show_page(
        request, db, viewer, territory, public_id, errors={"contact": errors}, values={"contact": result.values},
        status_code=422,
    )  # fmt: skip


@router.post("/initiatives/{public_id}/membres/{member_id}/retirer", name="initiatives:remove_member")
def remove_member(
    request: Request, public_id: str, member_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiatives.remove_member(db, viewer, territory.id, public_id, member_id)
    location = url(request, "initiatives:show", public_id=public_id)
    return redirect(request, location, flash=_("La personne ne fait plus partie de l'équipe du projet."))
