"""Petitions as content the public may report and agents may hide (``app.moderation``).

Registered when ``app.petitions.permissions`` is imported. A petition is reportable while the
public sees it (published: open or closed) and it is not hidden; moderation decisions are filed
under the petition itself, so its author reads them in its history.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.moderation.subjects import Link, Subject, register
from app.moderation.visibility import hidden_clause
from app.petitions.models import Petition, PetitionState
from app.web.i18n import N_, _

PETITION = "petition"
# Published petitions: what the public sees (drafts, submitted and rejected ones stay private).
PUBLIC_STATES = frozenset({PetitionState.OPEN, PetitionState.CLOSED})
EXCERPT = 500


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _petitions(db: Session, territory_id: int, public_ids: list[str]) -> dict[str, Subject]:
    rows = db.execute(
        select(Petition, hidden_clause(PETITION, Petition.public_id).label("hidden")).where(
            Petition.territory_id == territory_id, Petition.public_id.in_(public_ids)
        )
    ).all()
    return {
        petition.public_id: Subject(
            type=PETITION,
            public_id=petition.public_id,
            territory_id=territory_id,
            label=_("Pétition « %(title)s »") % {"title": petition.title},
            audit_type="petition",
            audit_id=petition.public_id,
            page=Link("petitions:show", {"public_id": petition.public_id}),
            image=None,
            public=petition.state in PUBLIC_STATES,
            hidden=bool(hidden),
            excerpt=_excerpt(f"{petition.request}\n\n{petition.body}".strip()),
        )
        for petition, hidden in rows
    }


register(PETITION, N_("Pétition"), _petitions)
