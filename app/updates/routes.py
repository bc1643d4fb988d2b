"""Progress updates of an initiative: the panel, posting with photos, editing, deleting, serving photos.

Without JavaScript every form posts and is redirected (303) back to the initiative, or the form
comes back with its errors (422); with HTMX the panel is re-rendered in place. A photo without
the agreement of the people it shows answers 404 to anyone but the promoters and the staff.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.core.actor import Actor
from app.core.errors import Invalid
from app.media import images
from app.media.routes import stored_file_response
from app.media.storage import MediaStore, media_store
from app.updates import service as updates
from app.updates.forms import UpdateInput, photo_changes, photo_slots
from app.web.auth import CurrentViewer, MaybeViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

router = APIRouter()

# Every photo of an update in one send, plus the text fields around them.
UPLOAD_BODY_BYTES = updates.MAX_PHOTOS * images.MAX_FILE_BYTES + 1024 * 1024


def _store(request: Request) -> MediaStore:
    return media_store(request.app.state.settings)


def _initiative_url(request: Request, public_id: str) -> str:
    return url(request, "initiatives:show", public_id=public_id)


def _text_values(values: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in values.items() if isinstance(v, str)}


def _panel(
    request: Request, db: Session, actor: Actor | None, territory_id: int, public_id: str, *,
    errors: dict[str, str] | None = None, values: dict[str, str] | None = None, message: str = "",
    photos_dropped: bool = False, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    """The updates panel alone for HTMX, else the updates page around it."""
    context = {
        "updates": updates.panel(db, actor, territory_id, public_id),
        "update_errors": errors or {},
        "update_values": values or {},
        "update_message": message,
        "photos_dropped": photos_dropped,
        "back_url": _initiative_url(request, public_id),
    }
    template = "partials/updates/panel.html" if is_htmx(request) else "pages/updates/panel.html"
    return render(request, template, context, status_code=status_code)


@router.get("/initiatives/{public_id}/avancement", name="updates:panel")
def panel(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    return _panel(request, db, viewer, territory.id, public_id)


@router.post("/initiatives/{public_id}/avancement", name="updates:post", max_body_size=UPLOAD_BODY_BYTES)
def post(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, read_db: ReadSession,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    # Rights first (404, 403, 409) on the read session: the write transaction, and SQLite's
    # write lock with it, starts only once the images are decoded.
    updates.check_can_post(read_db, viewer, territory.id, public_id)
    result = validate_form(UpdateInput, form)
    slots, slot_errors = photo_slots(form)
    errors = {**result.errors, **slot_errors}
    if result.data is not None and not errors:
        try:
            for _slot in slots:
                request.app.state.rate_limiter.hit("upload:account", str(viewer.account_id))
            prepared = updates.prepare_photos(slots)
            # A refused photo refuses the update: nothing is kept, not even the used form nonce.
            with db.begin_nested():
                claim_form_nonce(request, db, form, territory.id)
                update = updates.post_update(
                    db, viewer, territory.id, public_id, result.data.body, result.data.progress, prepared,
                    store=_store(request), settings=request.app.state.settings,
                )  # fmt: skip
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            message = _("Vos nouvelles sont publiées.")
            if not is_htmx(request):
                location = _initiative_url(request, public_id) + f"#nouvelles-{update.public_id}"
                return redirect(request, location, flash=message)
            remember_result(request, _initiative_url(request, public_id))
            return _panel(request, db, viewer, territory.id, public_id, message=message)
    return _panel(
        request, read_db, viewer, territory.id, public_id, errors=errors, values=_text_values(result.values),
        photos_dropped=bool(slots or slot_errors), status_code=422,
    )  # fmt: skip


def _edit_page(
    request: Request, view: updates.EditView, *, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "edit": view,
        "errors": errors or {},
        "values": view.values() if values is None else values,
        "back_url": _initiative_url(request, view.initiative_public_id),
    }
    return render(request, "pages/updates/edit.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/avancement/{update_id}/modifier", name="updates:edit")
def edit(
    request: Request, public_id: str, update_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    return _edit_page(request, updates.edit_view(db, viewer, territory.id, public_id, update_id))


@router.post("/initiatives/{public_id}/avancement/{update_id}/modifier", name="updates:save")
def save(
    request: Request, public_id: str, update_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    view = updates.edit_view(db, viewer, territory.id, public_id, update_id)
    result = validate_form(UpdateInput, form)
    changes, photo_errors = photo_changes(form, [p.public_id for p in view.photos])
    errors = {**result.errors, **photo_errors}
    if result.data is not None and not errors:
        try:
            with db.begin_nested():
                claim_form_nonce(request, db, form, territory.id)
                updates.edit_update(
                    db, viewer, territory.id, public_id, update_id, result.data.body, result.data.progress, changes,
                    store=_store(request),
                )  # fmt: skip
        except Invalid as exc:
            errors = {exc.field or "__all__": exc.message}
        else:
            location = _initiative_url(request, public_id) + f"#nouvelles-{update_id}"
            return redirect(request, location, flash=_("Les nouvelles sont modifiées."))
    return _edit_page(request, view, errors=errors, values=_text_values(result.values), status_code=422)


@router.post("/initiatives/{public_id}/avancement/{update_id}/supprimer", name="updates:delete")
def delete(
    request: Request, public_id: str, update_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    updates.delete_update(db, viewer, territory.id, public_id, update_id, store=_store(request))
    return redirect(request, _initiative_url(request, public_id), flash=_("Les nouvelles sont supprimées."))


@router.get("/initiatives/{public_id}/avancement/{update_id}/photos/{photo_id}", name="updates:photo")
def photo(
    request: Request, public_id: str, update_id: str, photo_id: str, territory: CurrentTerritory,
    viewer: MaybeViewer, db: ReadSession,
) -> Response:  # fmt: skip
    served = updates.photo_file(db, viewer, territory.id, public_id, update_id, photo_id, thumbnail=False)
    return stored_file_response(request, _store(request), served.file, public=served.public)


@router.get("/initiatives/{public_id}/avancement/{update_id}/photos/{photo_id}/miniature", name="updates:thumbnail")
def thumbnail(
    request: Request, public_id: str, update_id: str, photo_id: str, territory: CurrentTerritory,
    viewer: MaybeViewer, db: ReadSession,
) -> Response:  # fmt: skip
    served = updates.photo_file(db, viewer, territory.id, public_id, update_id, photo_id, thumbnail=True)
    return stored_file_response(request, _store(request), served.file, public=served.public)
