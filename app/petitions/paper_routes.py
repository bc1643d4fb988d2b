"""Paper signatures: the printable blank sheet of a petition (for everyone), and the agents' page
where paper sheets are entered, signer by signer or by their count, and batches invalidated.

Every form works without JavaScript (Post/Redirect/Get with a message); a refused sheet is shown
again as typed with every line's error (422), and nothing of it is kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.accounts.routes import no_store
from app.accounts.viewer import Viewer
from app.core.errors import Invalid
from app.petitions import paper, signing
from app.petitions.models import Petition, PetitionKind
from app.petitions.signing_routes import petition_url
from app.territories.context import TerritoryContext
from app.web.auth import RequireAgent
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, clean_text
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()

# Lines of the printed sheet (the legal request's columns are wider), and of the entry form.
SHEET_LINES = {PetitionKind.CIVIC: 20, PetitionKind.LEGAL: 12}
FORM_LINES = 15
MORE_LINES = 10
LINE_FIELDS = ("name", "relation", "surname", "first_names", "address", "birth_date")


def _text(form: FormData, name: str, limit: int = 500) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return clean_text(value.replace("\x00", ""))[:limit]


def _line_count(form: FormData) -> int:
    try:
        count = int(_text(form, "lines", 4) or FORM_LINES)
    except ValueError:
        count = FORM_LINES
    return max(1, min(count, paper.MAX_LINES))


def _lines(form: FormData, count: int) -> list[paper.SignerLine]:
    return [
        paper.SignerLine(number, **{f: _text(form, f"row-{number}-{f}") for f in LINE_FIELDS})
        for number in range(1, count + 1)
    ]


def _int(text: str) -> int | None:
    try:
        return int(text.replace(" ", "").replace("\u202f", ""))
    except ValueError:
        return None


def _page(
    request: Request,
    db: Session,
    viewer: Viewer,
    territory: TerritoryContext,
    petition: Petition,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    lines: int = FORM_LINES,
) -> Response:
    context = {
        "petition": petition,
        "petition_url": petition_url(request, petition),
        "legal": petition.kind == PetitionKind.LEGAL,
        "overview": paper.overview(db, viewer, territory, petition),
        "relations": [(value, _(label)) for value, label in signing.RELATIONS],
        "relation_label": signing.relation_label,
        "line_numbers": range(1, lines + 1),
        "line_count": lines,
        "errors": errors or {},
        "values": values or {},
    }
    return no_store(render(request, "pages/petitions/paper.html", context, status_code=status))


def _back(request: Request, petition: Petition, message: str) -> Response:
    return redirect(request, url(request, "paper:entry", public_id=petition.public_id), flash=message)


def _values(form: FormData) -> dict[str, str]:
    return {k: _text(form, k) for k in form if k not in ("csrf_token", "form_nonce")}


@router.get("/petitions/{public_id}/feuille", name="paper:sheet")
def sheet(request: Request, public_id: str, territory: CurrentTerritory, db: ReadSession) -> HTMLResponse:
    """The blank sheet to print: anyone may collect signatures on paper and bring it to the town hall."""
    petition = signing.get_petition(db, territory.id, public_id)
    legal = petition.kind == PetitionKind.LEGAL
    context = {
        "petition": petition,
        "petition_url": petition_url(request, petition),
        "legal": legal,
        "open": signing.is_open(petition, territory),
        "lines": range(1, SHEET_LINES[PetitionKind(petition.kind)] + 1),
        "retention_months": territory.settings.petitions.signer_data_months,
    }
    return render(request, "pages/petitions/paper_sheet.html", context)


@router.get("/petitions/{public_id}/papier", name="paper:entry")
def entry(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> Response:
    petition = signing.get_petition(db, territory.id, public_id)
    return _page(request, db, viewer, territory, petition)


@router.post("/petitions/{public_id}/papier/signataires", name="paper:signers")
def enter_signers(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petition = signing.get_petition(db, territory.id, public_id)
    count = _line_count(form)
    if form.get("step") == "more":
        # More blank lines: nothing is saved, what was typed stays.
        more = min(count + MORE_LINES, paper.MAX_LINES)
        return _page(request, db, viewer, territory, petition, values=_values(form), lines=more)
    signed_on = paper.parse_day(_text(form, "signed_on", 20))
    try:
        # A refused sheet leaves nothing behind, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            rows = paper.enter_signers(
                db, viewer, territory, petition, sheet=_text(form, "sheet"), signed_on=signed_on,
                lines=_lines(form, count),
            )  # fmt: skip
    except Invalid as exc:
        errors = dict(exc.params.get("errors") or {exc.field or "__all__": exc.message})
        return _page(request, db, viewer, territory, petition, status=422, errors=errors, values=_values(form),
                     lines=count)  # fmt: skip
    message = _("Feuille enregistrée : %(n)s signature(s) saisie(s), elles comptent désormais.") % {"n": len(rows)}
    return _back(request, petition, message)


@router.post("/petitions/{public_id}/papier/nombre", name="paper:count")
def enter_count(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    petition = signing.get_petition(db, territory.id, public_id)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            batch = paper.enter_count(
                db, viewer, territory, petition, sheet=_text(form, "batch_sheet"),
                signed_on=paper.parse_day(_text(form, "batch_signed_on", 20)),
                signatures=_int(_text(form, "signatures", 12)), town_signatures=_int(_text(form, "town_signatures", 12)),
            )  # fmt: skip
    except Invalid as exc:
        errors = dict(exc.params.get("errors") or {exc.field or "__all__": exc.message})
        return _page(request, db, viewer, territory, petition, status=422, errors=errors, values=_values(form))
    message = _("Feuille enregistrée : %(n)s signature(s), elles comptent désormais.") % {"n": batch.signatures}
    return _back(request, petition, message)


@router.post("/petitions/{public_id}/papier/lots/{batch_id}/invalider", name="paper:invalidate")
def invalidate(
    request: Request, public_id: str, batch_id: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    petition = signing.get_petition(db, territory.id, public_id)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            paper.invalidate_batch(db, viewer, territory, petition, batch_id, _text(form, "reason"))
    except Invalid as exc:
        errors = {f"reason-{batch_id[:64]}": exc.message}
        return _page(request, db, viewer, territory, petition, status=422, errors=errors)
    return _back(request, petition, _("Feuille invalidée : elle ne compte plus."))
