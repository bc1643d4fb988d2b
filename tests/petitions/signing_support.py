"""Shared by the signing tests: petitions built with the models, viewers, rows read back, and the
function the concurrency test runs in separate processes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from app.accounts.models import Account, AgeBracket
from app.accounts.viewer import Viewer
from app.db.base import utcnow
from app.db.session import Database, get_database, unit_of_work
from app.petitions.models import Petition, PetitionKind, PetitionSignature, PetitionState
from app.territories.context import TerritoryContext
from app.territories.models import Territory


def make_petition(
    database: Database,
    territory_id: int,
    *,
    kind: str = PetitionKind.CIVIC,
    state: str = PetitionState.OPEN,
    title: str = "Un passage piéton devant l'école",
    closes_in_days: int = 30,
    threshold_basis: str = "total",
) -> str:
    now = utcnow()
    with unit_of_work(database) as db:
        petition = Petition(
            territory_id=territory_id,
            kind=kind,
            legal_purpose="consultation" if kind == PetitionKind.LEGAL else None,
            title=title,
            request="Sécuriser la traversée.",
            state=state,
            opened_at=now - dt.timedelta(days=3),
            closes_on=(now + dt.timedelta(days=closes_in_days)).date(),
            closed_at=now if state == PetitionState.CLOSED else None,
            answer_threshold=50,
            council_threshold=300,
            threshold_basis=threshold_basis,
            legal_stage="collecting" if kind == PetitionKind.LEGAL else None,
            electors_frozen=5000 if kind == PetitionKind.LEGAL else None,
        )
        db.add(petition)
        db.flush()
        return petition.public_id


def territory_context(database: Database, territory_id: int) -> TerritoryContext:
    with unit_of_work(database) as db:
        return TerritoryContext.from_row(db.get_one(Territory, territory_id))


def viewer_for(
    account: Account, *roles: str, age_bracket: str = AgeBracket.ADULT, name: str = "Alice Martin"
) -> Viewer:
    return Viewer(
        person_id=account.person_id,
        account_id=account.id,
        territory_id=account.territory_id,
        label=name,
        roles=frozenset(roles),
        display_name=name,
        email=account.email,
        email_verified=True,
        age_bracket=age_bracket,
    )


def signature_rows(database: Database, public_id: str) -> list[PetitionSignature]:
    with unit_of_work(database) as db:
        rows = list(
            db.scalars(
                select(PetitionSignature)
                .join(Petition, Petition.id == PetitionSignature.petition_id)
                .where(Petition.public_id == public_id)
                .order_by(PetitionSignature.id)
            )
        )
        for row in rows:
            db.expunge(row)
        return rows


def count_rows(database: Database, model: type[Any], *where: Any) -> int:
    with unit_of_work(database) as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- Run in separate processes by the concurrency tests --------------------------------------------


def sign_in_process(
    url: str,
    territory_id: int,
    public_id: str,
    who: dict[str, Any],
    barrier: Any,
    results: Any,
) -> None:
    """Signs once, as an account (``who["viewer"]``) or a guest (``who["guest"]``)."""
    from app.petitions import signing

    database = get_database(url)
    try:
        territory = territory_context(database, territory_id)
        barrier.wait(timeout=60)
        with unit_of_work(database) as db:
            petition = signing.get_petition(db, territory_id, public_id)
            if "viewer" in who:
                outcome, _sig = signing.sign(db, who["viewer"], territory, petition, signing.Choices())
            else:
                outcome = signing.sign_as_guest(
                    db,
                    territory,
                    petition,
                    who["guest"],
                    source_hash=who.get("source", ""),
                    base_url="http://loos.test",
                    locale="fr",
                )
        results.put(str(outcome))
    except Exception as exc:  # the parent reports it
        results.put(repr(exc))
    finally:
        database.dispose()


def sign_legal_in_process(
    url: str, territory_id: int, public_id: str, viewer: Viewer, barrier: Any, results: Any
) -> None:
    """Signs a legal request with the same elector's details, whoever the account."""
    from app.core.errors import Conflict
    from app.petitions import signing

    database = get_database(url)
    try:
        territory = territory_context(database, territory_id)
        elector = signing.ElectorDetails("Dupré", "Anne Marie", "3 rue des Écoles", dt.date(1980, 5, 17))
        barrier.wait(timeout=60)
        try:
            with unit_of_work(database) as db:
                petition = signing.get_petition(db, territory_id, public_id)
                outcome, _sig = signing.sign(db, viewer, territory, petition, signing.Choices(), elector=elector)
            results.put(str(outcome))
        except Conflict:
            results.put("conflict")
    except Exception as exc:  # the parent reports it
        results.put(repr(exc))
    finally:
        database.dispose()
