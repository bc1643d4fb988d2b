"""Progress updates and their photos as content the public may report and agents may hide.

Registered with ``app.moderation.subjects`` when ``app.updates`` is imported. An update is
public while its initiative is (by its state, and not hidden); a photo also needs the agreement
of the people it shows: a photo without it is never seen by the public, so it cannot be
reported. Moderation decisions are filed under the initiative, on its team's timeline.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.initiatives import permissions as perm
from app.initiatives.models import Initiative
from app.moderation.models import SubjectType
from app.moderation.subjects import Link, Subject, register
from app.moderation.visibility import hidden_clause
from app.territories.models import Territory
from app.updates.models import ProgressUpdate, ProgressUpdatePhoto
from app.web.i18n import N_, _, date

UPDATE = "progress_update"
UPDATE_PHOTO = "progress_update_photo"
# What agents read of the text on their page (the initiative's page has all of it).
EXCERPT = 500


def _excerpt(body: str) -> str:
    return body if len(body) <= EXCERPT else body[: EXCERPT - 1].rstrip() + "…"


def _updates(db: Session, territory_id: int, public_ids: list[str]) -> dict[str, Subject]:
    rows = db.execute(
        select(
            ProgressUpdate.public_id,
            ProgressUpdate.body,
            ProgressUpdate.created_at,
            Initiative,
            Territory.timezone,
            hidden_clause(UPDATE, ProgressUpdate.public_id).label("update_hidden"),
            hidden_clause(SubjectType.INITIATIVE, Initiative.public_id).label("initiative_hidden"),
        )
        .join(Initiative, Initiative.id == ProgressUpdate.initiative_id)
        .join(Territory, Territory.id == ProgressUpdate.territory_id)
        .where(
            ProgressUpdate.territory_id == territory_id,
            Initiative.territory_id == territory_id,
            ProgressUpdate.public_id.in_(public_ids),
        )
    ).all()
    subjects: dict[str, Subject] = {}
    for update_id, body, created_at, initiative, tz, update_hidden, initiative_hidden in rows:
        subjects[update_id] = Subject(
            type=UPDATE,
            public_id=update_id,
            territory_id=territory_id,
            label=_("Nouvelles du %(date)s de l'initiative « %(title)s »")
            % {"date": date(created_at, tz=tz), "title": initiative.title},
            audit_type="initiative",
            audit_id=initiative.public_id,
            page=Link("initiatives:show", {"public_id": initiative.public_id}),
            image=None,
            public=perm.is_public_by_state(initiative) and not initiative_hidden,
            hidden=bool(update_hidden),
            parent_id=initiative.public_id,
            excerpt=_excerpt(body),
        )
    return subjects


def _photos(db: Session, territory_id: int, public_ids: list[str]) -> dict[str, Subject]:
    rows = db.execute(
        select(
            ProgressUpdatePhoto,
            ProgressUpdate.public_id,
            ProgressUpdate.created_at,
            Initiative,
            Territory.timezone,
            hidden_clause(UPDATE_PHOTO, ProgressUpdatePhoto.public_id).label("photo_hidden"),
            hidden_clause(UPDATE, ProgressUpdate.public_id).label("update_hidden"),
            hidden_clause(SubjectType.INITIATIVE, Initiative.public_id).label("initiative_hidden"),
        )
        .join(ProgressUpdate, ProgressUpdate.id == ProgressUpdatePhoto.update_id)
        .join(Initiative, Initiative.id == ProgressUpdate.initiative_id)
        .join(Territory, Territory.id == ProgressUpdatePhoto.territory_id)
        .where(
            ProgressUpdatePhoto.territory_id == territory_id,
            ProgressUpdate.territory_id == territory_id,
            Initiative.territory_id == territory_id,
            ProgressUpdatePhoto.public_id.in_(public_ids),
        )
    ).all()
    subjects: dict[str, Subject] = {}
    for photo, update_id, created_at, initiative, tz, photo_hidden, update_hidden, initiative_hidden in rows:
        params = {"public_id": initiative.public_id, "update_id": update_id, "photo_id": photo.public_id}
        subjects[photo.public_id] = Subject(
            type=UPDATE_PHOTO,
            public_id=photo.public_id,
            territory_id=territory_id,
            label=_("Photo « %(alt)s » des nouvelles du %(date)s de l'initiative « %(title)s »")
            % {"alt": photo.alt_text, "date": date(created_at, tz=tz), "title": initiative.title},
            audit_type="initiative",
            audit_id=initiative.public_id,
            page=Link("initiatives:show", {"public_id": initiative.public_id}),
            image=Link("updates:thumbnail", params),
            # Without the agreement of the people it shows, only the team and the staff see it.
            public=perm.is_public_by_state(initiative)
            and not initiative_hidden
            and not update_hidden
            and photo.is_public,
            hidden=bool(photo_hidden),
            parent_id=update_id,
        )
    return subjects


register(UPDATE, N_("Nouvelles d'une initiative"), _updates)
register(UPDATE_PHOTO, N_("Photo des nouvelles d'une initiative"), _photos)
