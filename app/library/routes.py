"""The peer library's pages: browse and read every town's entries; share, update and withdraw one's own.

Reading is open to every signed-in person of any territory of the deployment (residents too, read
only): ``library:entry`` answers for another town's entry, the one deliberate exception to the
rule that another territory's identifier answers 404 (tests/test_isolation.py names it). Changing
an entry goes through the source town's own routes, which answer 404 for anyone else's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Invalid
from app.library import service as library
from app.library.forms import ShareInput, WithdrawEntryInput
from app.territories.context import TerritoryContext
from app.web.auth import CurrentViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()


@router.get("/bibliotheque", name="library:index")
def index(
    request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession,
    q: str = "", theme: str = "", projet: str = "", taille: str = "", budget: str = "",
) -> HTMLResponse:  # fmt: skip
    filters = library.Filters.parse(q, theme, projet, taille, budget)
    context = {
        "filters": filters,
        "rows": library.search(db, viewer, filters),
        "options": {
            "themes": library.theme_choices(db),
            "types": [(k, _(v)) for k, v in library.PROJECT_TYPE_LABELS.items()],
            "sizes": [(k, _(label)) for k, _upper, label in library.POPULATION_BRACKETS],
            "budgets": [(k, _(label)) for k, _low, _high, label in library.BUDGET_BRACKETS],
        },
    }
    return render(request, "pages/library/index.html", context, block="results")


@router.get("/bibliotheque/{public_id}", name="library:entry")
def entry(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    # Any town's entry: the deliberate exception to territory isolation.
    return render(request, "pages/library/entry.html", {"view": library.get_entry(db, viewer, public_id)})


@router.post("/bibliotheque/{public_id}/retirer", name="library:withdraw")
def withdraw(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    result = validate_form(WithdrawEntryInput, form)
    reason = result.data.reason if result.data is not None else ""
    claim_form_nonce(request, db, form, territory.id)
    library.withdraw(db, viewer, territory.id, public_id, reason)
    return redirect(
        request, url(request, "library:index"), flash=_("La fiche est retirée de la bibliothèque des villes pairs.")
    )


def _share_page(
    request: Request, db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str, *,
    values: dict[str, str] | None = None, errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    draft = library.share_draft(db, viewer, territory.id, public_id)
    context = {"draft": draft, "values": values if values is not None else draft.values, "errors": errors or {}}
    return render(request, "pages/library/share.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/bibliotheque", name="library:share_form")
def share_form(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    return _share_page(request, db, viewer, territory, public_id)


@router.post("/initiatives/{public_id}/bibliotheque", name="library:share")
def share(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    # Rights and state first: another town's initiative is a 404, a non-evaluated one a 409.
    library.share_draft(db, viewer, territory.id, public_id)
    result = validate_form(ShareInput, form)
    if result.data is None:
        return _share_page(
            request, db, viewer, territory, public_id, values=result.values, errors=result.errors, status_code=422
        )
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            shared = library.share(db, viewer, territory.id, public_id, result.data)
    except Invalid as exc:
        return _share_page(
            request, db, viewer, territory, public_id, values=result.values,
            errors={exc.field or "__all__": exc.message}, status_code=422,
        )  # fmt: skip
    return redirect(
        request,
        url(request, "library:entry", public_id=shared.public_id),
        flash=_("L'initiative est partagée avec les villes pairs."),
    )
