"""Follow-up test data: signed initiatives of the review world, and small helpers to act as a request would."""

from __future__ import annotations

import datetime as dt
import inspect
import io
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.tokens import hmac_hex
from app.db.session import unit_of_work
from app.initiatives.models import Initiative, InitiativeState
from app.ledger.models import CommitmentLine, LineKind, RealisationLine, Side, Unit
from app.notifications.models import Notification
from tests.factories import Factory
from tests.review.conftest import World, actor, world

__all__ = ["World", "actor", "world"]

S = InitiativeState

# A tiny but complete PDF (header, one empty page, cross-reference table, end marker).
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def signed(world: World, *, state: InitiativeState = S.CONVENTION_SIGNED, **kwargs: Any) -> Initiative:
    """An initiative whose convention is signed (or in a later state), followed by the world's agent."""
    initiative = world.initiative(state, **kwargs)
    with unit_of_work(world.database) as db:
        db.get_one(Initiative, initiative.id).assigned_agent_person_id = world.agent.person_id
    return world.reload(initiative.id)


def act(world: World, initiative_id: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs one service call ``fn(db, actor, initiative, ...)`` in its own transaction, as a request would."""
    with unit_of_work(world.database) as db:
        initiative = db.get_one(Initiative, initiative_id)
        if "settings" in inspect.signature(fn).parameters:
            kwargs["settings"] = world.settings
        result = fn(db, *args[:1], initiative, *args[1:], **kwargs)
        db.flush()
        if result is not None and hasattr(result, "_sa_instance_state"):
            db.expunge(result)
        return result


def line_of(world: World, initiative_id: int, side: Side) -> CommitmentLine:
    with unit_of_work(world.database) as db:
        row = db.scalars(
            select(CommitmentLine)
            .where(CommitmentLine.initiative_id == initiative_id, CommitmentLine.side == side)
            .order_by(CommitmentLine.id)
        ).first()
        assert row is not None
        db.expunge(row)
        return row


def add_line(world: World, initiative_id: int, **values: Any) -> CommitmentLine:
    defaults: dict[str, Any] = {
        "side": Side.PARTNERS, "kind": LineKind.PARTNER_IN_KIND, "label": "Plants offerts par la pépinière",
        "quantity": 10, "unit": Unit.UNITS, "unit_value_cents": 500, "value_cents": 5000,
    }  # fmt: skip
    with unit_of_work(world.database) as db:
        row = CommitmentLine(territory_id=world.territory_id, initiative_id=initiative_id, **{**defaults, **values})
        db.add(row)
        db.flush()
        db.expunge(row)
        return row


def realisations(world: World, initiative_id: int) -> list[RealisationLine]:
    with unit_of_work(world.database) as db:
        rows = list(
            db.scalars(
                select(RealisationLine)
                .where(RealisationLine.initiative_id == initiative_id)
                .order_by(RealisationLine.id)
            )
        )
        for row in rows:
            db.expunge(row)
        return rows


def audit_count(world: World, action: str) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def notified(world: World, person_id: int | None, like: str = "%") -> int:
    with unit_of_work(world.database) as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.person_id == person_id, Notification.subject.like(like))
            )
            or 0
        )


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (120, 160, 90))
    exif = Image.Exif()
    exif[0x010F] = "Appareil espion"  # Make
    exif[0x8825] = {2: (50.0, 30.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def login(client: TestClient, factory: Factory, app: FastAPI, account: Any) -> dict[str, str]:
    """Signs the client in; returns the CSRF header its HTMX requests carry."""
    token = factory.login(client, account)
    return {"X-CSRF-Token": hmac_hex(app.state.secret_key, "csrf:session:" + token)}


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
