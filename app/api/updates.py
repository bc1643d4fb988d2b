"""Progress updates in the JSON API: the news of the work (text and progress %) after the signature.

Photos carry two answers about the people they show (image rights): they are sent through the
initiative's page, not here; the API lists those the token's person may see. Rights and states
are decided by ``app.updates``: this module parses, calls and shapes.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.api.deps import ReadScope, WriteScope
from app.api.initiatives import IDEMPOTENCY_NOTE, RESPONSES, IdempotencyKey, _once
from app.core.errors import NotFound
from app.media.storage import media_store
from app.updates import service as updates
from app.updates.forms import BODY_MAX
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.i18n import _

router = APIRouter(prefix="/api/v1", tags=["updates"], responses=RESPONSES)


class HiddenOut(BaseModel):
    reason: str
    since: dt.datetime


class UpdatePhotoOut(BaseModel):
    public_id: str
    number: int
    alt_text: str
    thumbnail_width: int | None
    thumbnail_height: int | None
    private: bool = Field(description="Recognisable people without everyone's agreement: promoters and staff only")
    hidden: HiddenOut | None = Field(description="Hidden from the public by an agent (only the team and staff see it)")


class UpdateOut(BaseModel):
    public_id: str
    body: str
    progress_percent: int | None
    created_at: dt.datetime
    edited_at: dt.datetime | None
    author_name: str
    photos: list[UpdatePhotoOut]
    can_change: bool
    hidden: HiddenOut | None = Field(description="Hidden from the public by an agent (only the team and staff see it)")


class UpdatesOut(BaseModel):
    initiative_public_id: str
    progress: int | None = Field(description="The % of the latest update that gives one")
    can_post: bool
    updates: list[UpdateOut] = Field(description="Newest first")


class UpdateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=BODY_MAX)
    progress: int | None = Field(default=None, ge=0, le=100, description="Progress of the work, in %")


def updates_out(db: Session, viewer: Viewer, territory_id: int, public_id: str) -> UpdatesOut:
    panel = updates.panel(db, viewer, territory_id, public_id)
    return UpdatesOut(
        initiative_public_id=panel.initiative_public_id,
        progress=panel.progress,
        can_post=panel.can_post,
        updates=[
            UpdateOut(
                public_id=u.public_id,
                body=u.body,
                progress_percent=u.progress_percent,
                created_at=u.created_at,
                edited_at=u.edited_at,
                author_name=u.author_name,
                photos=[UpdatePhotoOut.model_validate(p, from_attributes=True) for p in u.photos],
                can_change=u.can_change,
                hidden=HiddenOut(reason=u.hidden.reason, since=u.hidden.since) if u.hidden is not None else None,
            )
            for u in panel.updates
        ],
    )


@router.get(
    "/initiatives/{public_id}/updates",
    response_model=UpdatesOut,
    summary="The progress updates of an initiative, newest first, and its current progress",
)
def list_updates(public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> UpdatesOut:
    return updates_out(db, viewer, territory.id, public_id)


@router.post(
    "/initiatives/{public_id}/updates",
    status_code=201,
    response_model=UpdateOut,
    summary="Post a progress update: text and progress % (the promoters and the staff; scope: write)",
    description="Once the convention is signed (409 before). The initiative's followers are told. Photos, "
    "with their questions about the people they show, are added through the initiative's page. " + IDEMPOTENCY_NOTE,
)
def post_update(
    request: Request, public_id: str, body: UpdateCreate, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        settings = request.app.state.settings
        row = updates.post_update(
            db, viewer, territory.id, public_id, body.body, body.progress, store=media_store(settings),
            settings=settings,
        )  # fmt: skip
        found = next(
            (u for u in updates_out(db, viewer, territory.id, public_id).updates if u.public_id == row.public_id), None
        )
        if found is None:
            raise NotFound(_("Ces nouvelles n'existent pas."))
        return 201, found

    return _once(request, db, viewer, territory, idempotency_key, body, action)
