"""Serving stored images, and the photo forms of an initiative (add, describe, remove).

A photo is served exactly to those who may see its initiative (404 otherwise, another town's
included), as the re-encoded JPEG with ``nosniff`` and a sandboxing CSP, so that even a file
that slipped through could never run as a page. Without JavaScript every form posts and is
redirected (303) back to the initiative; with HTMX the photo panel is re-rendered in place.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.core.actor import Actor
from app.core.errors import Invalid, NotFound
from app.initiatives import service as initiatives
from app.media import images
from app.media import service as media
from app.media.forms import AddPhotosInput, AltTextInput, uploads_in
from app.media.models import StoredFile
from app.media.storage import MediaStore, media_store
from app.web.auth import CurrentViewer, MaybeViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _, ngettext
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

log = logging.getLogger("cailloux.media")
router = APIRouter()

# Every photo of a proposal in one send, plus the text fields around them; each file is then
# held to images.MAX_FILE_BYTES while it is read.
UPLOAD_BODY_BYTES = media.MAX_PHOTOS * images.MAX_FILE_BYTES + 1024 * 1024
# A stored file is never a page: no script, no plugin, no same-origin access, even opened directly.
FILE_CSP = "sandbox; default-src 'none'"
SERVED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def stored_file_response(request: Request, store: MediaStore, row: StoredFile, *, public: bool) -> Response:
    """The response for a stored file the caller has checked the viewer may see.

    ``public``: anyone may see it, so shared caches may keep it a little while.
    """
    extension = SERVED_TYPES.get(row.content_type)
    media_type = row.content_type if extension else "application/octet-stream"
    disposition = "inline" if extension else "attachment"
    etag = f'"{row.sha256}"'
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        # A generated name (RFC 6266): the uploaded name may hold anything, it never reaches a header.
        "Content-Disposition": f'{disposition}; filename="{row.public_id}.{extension or "bin"}"',
        "ETag": etag,
        "Cache-Control": "public, max-age=600" if public else "private, no-cache",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    try:
        data = store.read(row.storage_key)
    except FileNotFoundError:
        log.error("stored file %s has no bytes in the media store", row.public_id)
        raise NotFound(_("Ce fichier n'existe pas.")) from None
    return Response(content=data, media_type=media_type, headers=headers)


def _store(request: Request) -> MediaStore:
    return media_store(request.app.state.settings)


def _initiative_url(request: Request, public_id: str) -> str:
    return url(request, "initiatives:show", public_id=public_id)


def _panel(
    request: Request, db: Session, actor: Actor | None, territory_id: int, public_id: str, *,
    errors: dict[str, dict[str, str]] | None = None, values: dict[str, dict[str, Any]] | None = None,
    message: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    """The photo panel alone for HTMX, else the photo page around it."""
    context = {
        "photos": media.gallery(db, actor, territory_id, public_id),
        "photo_errors": errors or {},
        "photo_values": values or {},
        "photo_message": message,
        "back_url": _initiative_url(request, public_id),
    }
    template = "partials/media/gallery.html" if is_htmx(request) else "pages/media/photos.html"
    return render(request, template, context, status_code=status_code)


def _done(request: Request, db: Session, viewer: Actor, territory_id: int, public_id: str, message: str) -> Response:
    if not is_htmx(request):
        return redirect(request, _initiative_url(request, public_id), flash=message)
    remember_result(request, _initiative_url(request, public_id))
    return _panel(request, db, viewer, territory_id, public_id, message=message)


@router.get("/initiatives/{public_id}/photos", name="media:photos")
def photos(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    return _panel(request, db, viewer, territory.id, public_id)


@router.get("/initiatives/{public_id}/photos/{photo_id}", name="media:photo")
def photo(
    request: Request, public_id: str, photo_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> Response:
    served = media.photo_file(db, viewer, territory.id, public_id, photo_id, thumbnail=False)
    return stored_file_response(request, _store(request), served.file, public=served.public)


@router.get("/initiatives/{public_id}/photos/{photo_id}/miniature", name="media:thumbnail")
def thumbnail(
    request: Request, public_id: str, photo_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> Response:
    served = media.photo_file(db, viewer, territory.id, public_id, photo_id, thumbnail=True)
    return stored_file_response(request, _store(request), served.file, public=served.public)


@router.post("/initiatives/{public_id}/photos", name="media:add_photos", max_body_size=UPLOAD_BODY_BYTES)
def add_photos(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, read_db: ReadSession,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    # Rights and quota first (an unknown or hidden initiative is a 404), on the read session:
    # the write transaction, and SQLite's write lock with it, starts only once the images are ready.
    existing = media.check_can_add(read_db, viewer, territory.id, public_id)
    result = validate_form(AddPhotosInput, form)
    uploads = uploads_in(form)
    try:
        if result.data is None:
            raise Invalid(next(iter(result.errors.values())), field=next(iter(result.errors)))
        media.check_quota(existing, len(uploads))
        for _upload in uploads:
            request.app.state.rate_limiter.hit("upload:account", str(viewer.account_id))
        prepared = media.prepare_photos(uploads, existing=existing)
        # A refused batch leaves nothing behind, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            added = media.add_photos(
                db, viewer, territory.id, public_id, prepared, store=_store(request), alt_text=result.data.alt_text
            )
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        values = {k: v for k, v in result.values.items() if isinstance(v, str)}
        return _panel(
            request, read_db, viewer, territory.id, public_id, errors={"add": errors}, values={"add": values},
            status_code=422,
        )  # fmt: skip
    message = ngettext("La photo est ajoutée.", "Les %(num)d photos sont ajoutées.", len(added)) % {"num": len(added)}
    return _done(request, db, viewer, territory.id, public_id, message)


@router.post("/initiatives/{public_id}/photos/{photo_id}/description", name="media:describe_photo")
def describe_photo(
    request: Request, public_id: str, photo_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiatives.get_visible(db, viewer, territory.id, public_id)
    result = validate_form(AltTextInput, form)
    try:
        if result.data is None:
            raise Invalid(next(iter(result.errors.values())), field=next(iter(result.errors)))
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            media.describe_photo(db, viewer, territory.id, public_id, photo_id, result.data.alt_text)
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        return _panel(
            request, db, viewer, territory.id, public_id, errors={photo_id: errors},
            values={photo_id: result.values}, status_code=422,
        )  # fmt: skip
    return _done(request, db, viewer, territory.id, public_id, _("La description de la photo est enregistrée."))


@router.post("/initiatives/{public_id}/photos/{photo_id}/retirer", name="media:remove_photo")
def remove_photo(
    request: Request, public_id: str, photo_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    media.remove_photo(db, viewer, territory.id, public_id, photo_id, store=_store(request))
    return _done(request, db, viewer, territory.id, public_id, _("La photo est retirée."))
