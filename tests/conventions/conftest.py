"""Convention test data: the review world (agent, executive, promoter, fund, envelope) and approved initiatives."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from app.accounts.models import Account
from app.audit.models import AuditEntry
from app.conventions import service as conventions
from app.conventions.models import Convention, ConventionSignature
from app.db.base import utcnow
from app.db.session import unit_of_work
from app.initiatives.models import Initiative, InitiativeMember, InitiativeState, MemberRole
from app.media.service import Upload
from app.review import service as review
from tests.factories import PASSWORD
from tests.review.conftest import World, actor, world

__all__ = ["World", "world"]

S = InitiativeState


def approved(world: World, *, waiting_list: bool = False, **kwargs: Any) -> Initiative:
    """An initiative approved by the executive: its town cash is committed in the envelope
    (or it waits for credits, with ``waiting_list``)."""
    initiative = world.initiative(S.IN_REVIEW, **kwargs)
    subsidy = kwargs.get("subsidy", False)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        review.decide(
            db, world.executive_actor, row, "approve",
            act_kind="deliberation" if subsidy else "decision", act_reference="2026-12" if subsidy else "",
            waiting_list=waiting_list, settings=world.settings,
        )  # fmt: skip
    return world.reload(initiative.id)


def add_member(world: World, initiative_id: int, account: Account, role: MemberRole, *, accepted: bool = True) -> None:
    with unit_of_work(world.database) as db:
        db.add(
            InitiativeMember(
                territory_id=world.territory_id,
                initiative_id=initiative_id,
                person_id=account.person_id,
                role=role,
                accepted_at=utcnow() if accepted else None,
            )
        )


def propose(
    world: World, initiative_id: int, upkeep_by: str = "Les Jardins de Loos", months: int = 24, **kw: Any
) -> Convention:
    with unit_of_work(world.database) as db:
        initiative = db.get_one(Initiative, initiative_id)
        convention = conventions.propose(
            db, world.agent_actor, initiative, upkeep_by, months, settings=world.settings, **kw
        )
        db.flush()
        db.expunge(convention)
        return convention


def convention_of(world: World, initiative_id: int) -> Convention:
    with unit_of_work(world.database) as db:
        row = db.scalar(select(Convention).where(Convention.initiative_id == initiative_id))
        assert row is not None
        db.expunge(row)
        return row


def sign(world: World, account: Account, initiative_id: int, *roles: str, password: str = PASSWORD,
         sha: str | None = None, **kw: Any) -> ConventionSignature:  # fmt: skip
    with unit_of_work(world.database) as db:
        convention = db.scalar(select(Convention).where(Convention.initiative_id == initiative_id))
        assert convention is not None
        signature = conventions.sign_online(
            db, actor(account, *roles), convention, password, sha or convention.text_sha256,
            settings=world.settings, **kw,
        )  # fmt: skip
        db.flush()
        db.expunge(signature)
        return signature


def signatures(world: World, initiative_id: int) -> list[ConventionSignature]:
    with unit_of_work(world.database) as db:
        rows = list(
            db.scalars(
                select(ConventionSignature)
                .join(Convention, Convention.id == ConventionSignature.convention_id)
                .where(Convention.initiative_id == initiative_id)
                .order_by(ConventionSignature.id)
            )
        )
        for r in rows:
            db.expunge(r)
        return rows


def audit_count(world: World, action: str) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(out, format="PNG")
    return out.getvalue()


def scan_upload() -> Upload:
    return Upload(filename="signature.png", stream=io.BytesIO(png_bytes()))


def days_after(moment: dt.datetime, days: int) -> dt.datetime:
    return moment + dt.timedelta(days=days)
