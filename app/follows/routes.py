"""Following an initiative (« Suivre » / « Ne plus suivre ») and the list of one's follows.

The button works as a plain form (redirected back with a message) and with HTMX (the box is
re-rendered in place, the message announced in the page's live region).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.accounts.viewer import Viewer
from app.follows import service as follows
from app.follows.service import Outcome
from app.web.auth import CurrentViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect, safe_next
from app.web.templating import is_htmx, render, url

router = APIRouter()


def _message(outcome: Outcome, *, following: bool) -> str:
    if outcome == Outcome.PROMOTER:
        return _("Vous portez cette initiative : vous en recevez toujours les nouvelles.")
    if outcome == Outcome.FOLLOWED:
        return _("Vous suivez cette initiative : vous recevrez ses nouvelles.")
    if outcome == Outcome.UNFOLLOWED:
        return _("Vous ne suivez plus cette initiative.")
    return _("Vous suivez déjà cette initiative.") if following else _("Vous ne suiviez pas cette initiative.")


def _done(
    request: Request, db: Session, viewer: Viewer, territory_id: int, public_id: str, form: FormData, message: str
) -> Response:
    back = safe_next(str(form.get("next") or ""), url(request, "initiatives:show", public_id=public_id))
    if not is_htmx(request):
        return redirect(request, back, flash=message)
    remember_result(request, back)
    context = {"follow": follows.box(db, viewer, territory_id, public_id), "follow_message": message}
    return render(request, "partials/follows/box.html", context)


@router.post("/initiatives/{public_id}/suivre", name="follows:follow")
def follow(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    outcome = follows.follow(db, viewer, territory.id, public_id)
    return _done(request, db, viewer, territory.id, public_id, form, _message(outcome, following=True))


@router.post("/initiatives/{public_id}/ne-plus-suivre", name="follows:unfollow")
def unfollow(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    outcome = follows.unfollow(db, viewer, territory.id, public_id)
    return _done(request, db, viewer, territory.id, public_id, form, _message(outcome, following=False))


@router.get("/mes-initiatives/suivies", name="follows:mine")
def mine(request: Request, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    return render(request, "pages/follows/mine.html", {"follows": follows.my_follows(db, viewer, territory.id)})
