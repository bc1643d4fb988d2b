"""Administration pages of the historical import: upload, preview, confirmation, template and example.

The upload is checked on the read session (nothing is written while a line is bad); a clean file
is kept and its preview shown at its own address (Post/Redirect/Get), and the confirmation imports
it in the request's write transaction, all or nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from app.core.errors import Invalid
from app.history import csvfile
from app.history import service as history
from app.history.models import HistoricalImport
from app.territories.context import TerritoryContext
from app.territories.service import list_neighbourhoods, list_themes
from app.web.auth import RequireAdmin
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce
from app.web.forms_dep import FormDep
from app.web.i18n import _, ngettext
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()

# The file (2 MB at most) and the few fields around it; a bigger body is refused while streaming (413).
UPLOAD_BODY_BYTES = csvfile.MAX_FILE_BYTES + 64 * 1024
# Rows shown in the preview table (every problem is listed above it, whatever the number of rows).
PREVIEW_TABLE_ROWS = 500


def _index_page(
    request: Request, db: Session, viewer: RequireAdmin, territory: TerritoryContext, *,
    error: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "columns": csvfile.COLUMNS,
        "max_megabytes": csvfile.MAX_FILE_BYTES // (1024 * 1024),
        "max_rows": csvfile.MAX_ROWS,
        "neighbourhoods": [n.name for n in list_neighbourhoods(db, territory.id)],
        "themes": [t.name for t in list_themes(db, territory.id)],
        "imports": history.list_imports(db, viewer, territory.id),
        "errors": {"file": error} if error else {},
    }
    return render(request, "pages/history/index.html", context, status_code=status_code)


def _preview_page(
    request: Request, preview: history.Preview, *, staged: HistoricalImport | None = None, status_code: int = 200
) -> HTMLResponse:
    context = {
        "preview": preview,
        "staged": staged,
        "table_rows": preview.rows[:PREVIEW_TABLE_ROWS],
        "hidden_rows": max(0, len(preview.rows) - PREVIEW_TABLE_ROWS),
    }
    return render(request, "pages/history/preview.html", context, status_code=status_code)


@router.get("/admin/import", name="history:index")
def index(request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession) -> HTMLResponse:
    return _index_page(request, db, viewer, territory)


def _csv_response(data: bytes, filename: str) -> Response:
    return Response(
        content=data,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        },
    )


@router.get("/admin/import/modele.csv", name="history:template")
def template(request: Request, territory: CurrentTerritory, viewer: RequireAdmin) -> Response:
    return _csv_response(history.template_csv(), "modele-import-historique.csv")


@router.get("/admin/import/exemple.csv", name="history:example")
def example(request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession) -> Response:
    return _csv_response(history.example_csv(db, territory.id), "exemple-import-historique.csv")


def _uploaded(form: Any) -> tuple[str, bytes]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
        raise Invalid(_("Choisissez le fichier CSV à importer."), field="file")
    data = upload.file.read(csvfile.MAX_FILE_BYTES + 1)
    if len(data) > csvfile.MAX_FILE_BYTES:
        raise Invalid(
            _("Le fichier dépasse %(size)s Mo : découpez-le en plusieurs fichiers.")
            % {"size": csvfile.MAX_FILE_BYTES // (1024 * 1024)},
            field="file",
        )
    return upload.filename or "", data


@router.post("/admin/import", name="history:upload", max_body_size=UPLOAD_BODY_BYTES)
def upload(
    request: Request, territory: CurrentTerritory, viewer: RequireAdmin, read_db: ReadSession, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    # Read and checked on the read session: a bad file never takes the write lock, and writes nothing.
    try:
        file_name, data = _uploaded(form)
        checked, text = history.preview(read_db, territory, file_name, data)
    except Invalid as exc:
        return _index_page(request, read_db, viewer, territory, error=exc.message, status_code=422)
    if not checked.ok:
        return _preview_page(request, checked, status_code=422)
    if not checked.new_rows:
        # Nothing new to import: said at once, nothing kept.
        return _preview_page(request, checked)
    claim_form_nonce(request, db, form, territory.id)
    staged = history.stage(db, viewer, territory.id, checked, text)
    return redirect(request, url(request, "history:preview", public_id=staged.public_id))


@router.get("/admin/import/{public_id}", name="history:preview")
def preview(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession
) -> HTMLResponse:
    staged = history.get_import(db, viewer, territory.id, public_id)
    if staged.imported_at is not None:
        context = {"staged": staged, "initiatives": history.imported_initiatives(db, staged)}
        return render(request, "pages/history/result.html", context)
    checked = history.staged_preview(db, territory, staged)
    return _preview_page(request, checked, staged=staged, status_code=200 if checked.ok else 422)


@router.post("/admin/import/{public_id}/confirmer", name="history:confirm")
def confirm(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    staged = history.get_import(db, viewer, territory.id, public_id)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            result = history.confirm(db, viewer, territory, public_id)
    except history.ImportRefused as exc:
        return _preview_page(request, exc.preview, staged=staged, status_code=422)
    if result.created:
        message = ngettext(
            "%(num)d initiative historique est importée.", "%(num)d initiatives historiques sont importées.",
            result.created,
        ) % {"num": result.created}  # fmt: skip
    else:
        message = _("Aucune nouvelle initiative : toutes les lignes étaient déjà importées.")
    return redirect(request, url(request, "history:preview", public_id=public_id), flash=message)
