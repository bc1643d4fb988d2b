"""Signing pages: one click for signed-in residents, the elector form of legal requests, the guest
form and its e-mailed confirmation button, withdrawal, and the agents' page of signatures.

Every form works without JavaScript (Post/Redirect/Get with a message); with HTMX the box is
re-rendered in place and announced in its live region.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.routing import NoMatchFound

from app.accounts.routes import base_url, client_ip, email_key, no_store
from app.accounts.viewer import Viewer
from app.core.errors import Invalid
from app.core.tokens import hmac_hex
from app.petitions import signing
from app.petitions.models import Petition, SignerRelation
from app.petitions.signing import Choices, ElectorDetails, GuestDetails, Outcome
from app.territories.context import TerritoryContext
from app.web.auth import CurrentViewer, MaybeViewer, RequireAgent
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _, get_locale
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

router = APIRouter()

Short = Annotated[str, StringConstraints(max_length=500)]


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class SignForm(_Form):
    relation: SignerRelation = SignerRelation.LIVES
    show_name: bool = False
    notify: bool = False
    invite_if_project: bool = False

    def choices(self) -> Choices:
        return Choices(self.relation, self.show_name, self.notify, self.invite_if_project)


class LegalSignForm(SignForm):
    surname: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    first_names: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    address: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    birth_date: dt.date


class GuestSignForm(SignForm):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    postcode: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    website: Short = ""  # the honeypot: hidden from people, filled by robots


class ConfirmForm(_Form):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SelectionForm(_Form):
    source: Annotated[str, StringConstraints(max_length=64)] = ""
    ids: list[Annotated[str, StringConstraints(max_length=64)]] = []


class InvalidateForm(SelectionForm):
    reason: Short = ""
    step: str = "count"


def source_hash(request: Request) -> str:
    """A keyed hash of the client address: bursts can be spotted without keeping the address."""
    return hmac_hex(request.app.state.secret_key, "sign-source:" + client_ip(request))


def petition_url(request: Request, petition: Petition) -> str:
    """The petition's page (built by the petitions pages), else this module's signing page."""
    try:
        return url(request, "petitions:show", public_id=petition.public_id)
    except NoMatchFound:
        return url(request, "signing:page", public_id=petition.public_id)


def _box_context(
    db: Session,
    viewer: Viewer | None,
    territory: TerritoryContext,
    petition: Petition,
    *,
    message: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "sign_box": signing.sign_box(db, viewer, territory, petition),
        "sign_message": message,
        "sign_errors": errors or {},
        "sign_values": values or {},
        "sign_inline": True,
        "petition_title": petition.title,
        "petition_url": None,
    }


def _render_box(
    request: Request,
    db: Session,
    viewer: Viewer | None,
    territory: TerritoryContext,
    petition: Petition,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    context = _box_context(db, viewer, territory, petition, **extra)
    context["petition_url"] = petition_url(request, petition)
    if is_htmx(request):
        return no_store(render(request, "partials/petitions/sign_box.html", context, status_code=status))
    return no_store(render(request, "pages/signing/sign.html", context, status_code=status))


def _done(
    request: Request,
    db: Session,
    viewer: Viewer | None,
    territory: TerritoryContext,
    petition: Petition,
    message: str,
) -> Response:
    back = petition_url(request, petition)
    if not is_htmx(request):
        return redirect(request, back, flash=message)
    remember_result(request, back)
    return _render_box(request, db, viewer, territory, petition, message=message)


def _rejected(
    request: Request,
    db: Session,
    viewer: Viewer | None,
    territory: TerritoryContext,
    public_id: str,
    errors: dict[str, str],
    values: dict[str, Any],
) -> Response:
    # Nothing of a refused attempt is kept (not even the form's nonce: the corrected form is sent again).
    db.rollback()
    petition = signing.get_petition(db, territory.id, public_id)
    return _render_box(request, db, viewer, territory, petition, status=422, errors=errors, values=values)


# --- Signing ------------------------------------------------------------------------------------


@router.get("/petitions/{public_id}/signer", name="signing:page")
def sign_page(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    return _render_box(request, db, viewer, territory, petition)


@router.get("/petitions/{public_id}/boite-signature", name="signing:box")
def sign_box_fragment(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    context = _box_context(db, viewer, territory, petition)
    context["sign_inline"] = False
    return no_store(render(request, "partials/petitions/sign_box.html", context))


def _sign_message(outcome: Outcome) -> str:
    if outcome == Outcome.ALREADY:
        return _("Signature enregistrée : vous aviez déjà signé cette pétition.")
    return _("Signature enregistrée. Merci !")


@router.post("/petitions/{public_id}/signer", name="signing:sign")
def sign(
    request: Request,
    public_id: str,
    territory: CurrentTerritory,
    viewer: CurrentViewer,
    db: WriteSession,
    form: FormDep,
) -> Response:
    request.app.state.rate_limiter.hit("sign:ip", client_ip(request))
    petition = signing.get_petition(db, territory.id, public_id)
    legal = petition.kind == "legal"
    result = validate_form(LegalSignForm if legal else SignForm, form)
    if result.data is None:
        return _rejected(request, db, viewer, territory, public_id, result.errors, result.values)
    claim_form_nonce(request, db, form, territory.id)
    data = result.data
    elector = None
    if isinstance(data, LegalSignForm):
        elector = ElectorDetails(data.surname, data.first_names, data.address, data.birth_date)
    try:
        outcome, _signature = signing.sign(
            db, viewer, territory, petition, data.choices(), elector=elector, source_hash=source_hash(request)
        )
    except Invalid as exc:
        return _rejected(
            request, db, viewer, territory, public_id, {exc.field or "__all__": exc.message}, result.values
        )
    return _done(request, db, viewer, territory, petition, _sign_message(outcome))


@router.post("/petitions/{public_id}/retirer-ma-signature", name="signing:withdraw")
def withdraw(
    request: Request,
    public_id: str,
    territory: CurrentTerritory,
    viewer: CurrentViewer,
    db: WriteSession,
    form: FormDep,
) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    claim_form_nonce(request, db, form, territory.id)
    withdrawn = signing.withdraw(db, viewer, territory, petition)
    message = _("Votre signature est retirée.") if withdrawn else _("Vous n'aviez pas signé cette pétition.")
    return _done(request, db, viewer, territory, petition, message)


@router.post("/petitions/{public_id}/signer-sans-compte", name="signing:guest")
def sign_as_guest(
    request: Request,
    public_id: str,
    territory: CurrentTerritory,
    viewer: MaybeViewer,
    db: WriteSession,
    form: FormDep,
) -> Response:
    limiter = request.app.state.rate_limiter
    limiter.hit("sign:ip", client_ip(request))
    petition = signing.get_petition(db, territory.id, public_id)
    result = validate_form(GuestSignForm, form)
    if result.data is None:
        return _rejected(request, db, viewer, territory, public_id, result.errors, result.values)
    data = result.data
    if not data.website:
        limiter.hit("sign:email", email_key(data.email))
    claim_form_nonce(request, db, form, territory.id)
    details = GuestDetails(data.name, data.email, data.postcode, data.choices(), honeypot=data.website)
    try:
        signing.sign_as_guest(
            db,
            territory,
            petition,
            details,
            source_hash=source_hash(request),
            base_url=base_url(request),
            locale=get_locale(),
        )
    except Invalid as exc:
        return _rejected(
            request, db, viewer, territory, public_id, {exc.field or "__all__": exc.message}, result.values
        )
    # The same answer whatever happened (new, duplicate, honeypot): nobody learns who signed.
    message = _(
        "Presque fini : nous vous avons envoyé un e-mail. Ouvrez le lien qu'il contient et cliquez sur "
        "« Confirmer ma signature » pour qu'elle compte."
    )
    if not is_htmx(request):
        return redirect(request, url(request, "signing:guest_sent", public_id=petition.public_id), flash=message)
    remember_result(request, url(request, "signing:guest_sent", public_id=petition.public_id))
    return _render_box(request, db, viewer, territory, petition, message=message, values={"guest_sent": True})


@router.get("/petitions/{public_id}/signature-envoyee", name="signing:guest_sent")
def guest_sent(request: Request, public_id: str, territory: CurrentTerritory, db: ReadSession) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    context = {"petition_title": petition.title, "petition_url": petition_url(request, petition)}
    return no_store(render(request, "pages/signing/guest_sent.html", context))


# --- A guest's confirmation ---------------------------------------------------------------------

LINK_STATUS = {signing.TOKEN_UNKNOWN: 404, signing.TOKEN_USED: 410, signing.TOKEN_EXPIRED: 410}


def _link_problem(request: Request, state: str, petition: Petition | None) -> Response:
    context = {
        "state": state,
        "petition_title": petition.title if petition else "",
        "petition_url": petition_url(request, petition) if petition else None,
    }
    status = LINK_STATUS.get(state, 404)
    return no_store(render(request, "pages/signing/confirm_problem.html", context, status_code=status))


@router.get(signing.CONFIRM_PATH, name="signing:confirm_page")
def confirm_page(request: Request, territory: CurrentTerritory, db: ReadSession, token: str = "") -> Response:
    # Showing the page changes nothing: a mail scanner that opens the link confirms nobody.
    state, petition = signing.token_state(db, territory.id, token[:200])
    if state != signing.TOKEN_VALID or petition is None:
        return _link_problem(request, state, petition)
    context = {"token": token, "petition_title": petition.title}
    return no_store(render(request, "pages/signing/confirm.html", context))


@router.post(signing.CONFIRM_PATH, name="signing:confirm")
def confirm(request: Request, territory: CurrentTerritory, db: WriteSession, form: FormDep) -> Response:
    result = validate_form(ConfirmForm, form)
    if result.data is None:
        return _link_problem(request, signing.TOKEN_UNKNOWN, None)
    claim_form_nonce(request, db, form, territory.id)
    state, petition = signing.confirm(db, territory, result.data.token)
    if state != signing.TOKEN_VALID or petition is None:
        return _link_problem(request, state, petition)
    return redirect(request, petition_url(request, petition), flash=_("Signature enregistrée. Merci !"))


# --- Agents: the signatures of a petition -------------------------------------------------------


def _staff_page(
    request: Request, db: Session, viewer: Viewer, petition: Petition, *, status: int = 200, **extra: Any
) -> Response:
    context = {
        "petition": petition,
        "petition_url": petition_url(request, petition),
        "summary": signing.staff_summary(db, viewer, petition),
        "sources": signing.flagged_sources(db, viewer, petition),
        "signatures": signing.recent_signatures(db, viewer, petition),
        "relation_label": signing.relation_label,
        "errors": {},
        **extra,
    }
    return no_store(render(request, "pages/signing/staff.html", context, status_code=status))


@router.get("/petitions/{public_id}/signatures", name="signing:staff")
def staff(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    return _staff_page(request, db, viewer, petition)


def _selection(form: FormData) -> SelectionForm | None:
    result = validate_form(SelectionForm, form, multi=("ids",))
    return result.data


@router.post("/petitions/{public_id}/signatures/liberer", name="signing:release")
def release(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession, form: FormDep
) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    selection = _selection(form)
    if selection is None:
        raise Invalid(_("Choisissez des signatures ou une adresse d'origine."), field="ids")
    claim_form_nonce(request, db, form, territory.id)
    released = signing.release_flagged(db, viewer, petition, public_ids=selection.ids, source_hash=selection.source)
    message = _("%(n)s signature(s) libérée(s) : elles comptent désormais.") % {"n": released}
    return redirect(request, url(request, "signing:staff", public_id=petition.public_id), flash=message)


@router.post("/petitions/{public_id}/signatures/invalider", name="signing:invalidate")
def invalidate(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession, form: FormDep
) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    result = validate_form(InvalidateForm, form, multi=("ids",))
    if result.data is None:
        raise Invalid(_("Choisissez des signatures ou une adresse d'origine."), field="ids")
    data = result.data
    if data.step != "apply":
        # The dry run: how many would be invalidated; nothing changes.
        count = signing.count_invalidation(db, viewer, petition, public_ids=data.ids, source_hash=data.source)
        context = {"petition": petition, "count": count, "ids": data.ids, "source": data.source, "errors": {}}
        return no_store(render(request, "pages/signing/invalidate.html", context))
    try:
        signing.count_invalidation(db, viewer, petition, public_ids=data.ids, source_hash=data.source)
        claim_form_nonce(request, db, form, territory.id)
        done = signing.invalidate(db, viewer, petition, data.reason, public_ids=data.ids, source_hash=data.source)
    except Invalid as exc:
        db.rollback()
        petition = signing.get_petition(db, territory.id, public_id)
        count = signing.count_invalidation(db, viewer, petition, public_ids=data.ids, source_hash=data.source)
        context = {
            "petition": petition,
            "count": count,
            "ids": data.ids,
            "source": data.source,
            "errors": {exc.field or "__all__": exc.message},
        }
        return no_store(render(request, "pages/signing/invalidate.html", context, status_code=422))
    message = _("%(n)s signature(s) invalidée(s).") % {"n": done}
    return redirect(request, url(request, "signing:staff", public_id=petition.public_id), flash=message)
