"""Posting updates as a browser would, and reading what was stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import Account
from app.db.base import utcnow
from app.db.session import Database, read_only, unit_of_work
from app.follows.models import InitiativeFollow
from app.initiatives.models import Initiative, InitiativeMember, MemberRole
from app.notifications.models import Notification, NotificationPreference
from app.updates.models import ProgressUpdate, ProgressUpdatePhoto
from tests.factories import form_fields
from tests.media import helpers as m


@dataclass(frozen=True)
class Photo:
    identifiable: str | None = "no"  # "yes" / "no" / None (not answered)
    agreed: str | None = None
    alt: str = ""
    data: bytes = b""
    name: str = "chantier.jpg"


def post_update(
    client: TestClient,
    public_id: str,
    body: str = "Les bacs sont posés.",
    progress: str = "",
    photos: list[Photo] | None = None,
    *,
    headers: dict[str, str] | None = None,
    page_url: str | None = None,
) -> Any:
    """Sends the update form of the initiative page, as a browser without JavaScript would."""
    page = client.get(page_url or f"/initiatives/{public_id}")
    assert page.status_code == 200, page.text[:300]
    data: dict[str, str] = {**form_fields(page.text), "body": body, "progress": progress}
    files = []
    for n, photo in enumerate(photos or [], start=1):
        files.append((f"photo-{n}", (photo.name, photo.data or m.jpeg(), "image/jpeg")))
        data[f"alt-{n}"] = photo.alt
        if photo.identifiable is not None:
            data[f"identifiable-{n}"] = photo.identifiable
        if photo.agreed is not None:
            data[f"agreed-{n}"] = photo.agreed
    return client.post(f"/initiatives/{public_id}/avancement", data=data, files=files or None, headers=headers or {})


def updates(database: Database) -> list[ProgressUpdate]:
    with read_only(database) as db:
        rows = list(db.scalars(select(ProgressUpdate).order_by(ProgressUpdate.id)))
        for r in rows:
            db.expunge(r)
        return rows


def photos(database: Database) -> list[ProgressUpdatePhoto]:
    with read_only(database) as db:
        rows = list(db.scalars(select(ProgressUpdatePhoto).order_by(ProgressUpdatePhoto.id)))
        for r in rows:
            db.expunge(r)
        return rows


def photo_url(public_id: str, update_id: str, photo_id: str, *, thumbnail: bool = False) -> str:
    path = f"/initiatives/{public_id}/avancement/{update_id}/photos/{photo_id}"
    return path + "/miniature" if thumbnail else path


def follow(database: Database, initiative: Initiative, account: Account) -> None:
    with unit_of_work(database) as db:
        db.add(
            InitiativeFollow(
                territory_id=initiative.territory_id, initiative_id=initiative.id, person_id=account.person_id
            )
        )


def add_member(
    database: Database, initiative: Initiative, account: Account, role: str = MemberRole.CO_PROMOTER
) -> None:
    with unit_of_work(database) as db:
        db.add(
            InitiativeMember(
                territory_id=initiative.territory_id,
                initiative_id=initiative.id,
                person_id=account.person_id,
                role=role,
                accepted_at=utcnow(),
            )
        )


def set_frequency(database: Database, person_id: int, kind: str, frequency: str) -> None:
    with unit_of_work(database) as db:
        db.add(NotificationPreference(person_id=person_id, kind=kind, frequency=frequency))


def notifications(database: Database, person_id: int) -> list[Notification]:
    with read_only(database) as db:
        rows = list(
            db.scalars(select(Notification).where(Notification.person_id == person_id).order_by(Notification.id))
        )
        for r in rows:
            db.expunge(r)
        return rows
