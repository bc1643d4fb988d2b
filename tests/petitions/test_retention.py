"""Civic signers' personal data is erased a set time after the answer or the closing (whichever is
later), never while an answer is owed; the rows and their stamps stay so that counts never move.
Legal-request signers are kept restricted (archives), not erased."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.config import Settings
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.jobs.registry import using_settings
from app.petitions.models import (
    AnswerOutcome,
    Petition,
    PetitionAnswer,
    PetitionKind,
    PetitionSignature,
    PetitionState,
    SignatureMethod,
)
from app.privacy import registry
from app.privacy.retention import apply_retention
from app.territories.models import Territory
from tests.factories import Factory

DAY = dt.timedelta(days=1)


def _petition(
    database: Database,
    territory_id: int,
    title: str,
    *,
    closed_days_ago: int,
    kind: PetitionKind = PetitionKind.CIVIC,
    answered_days_ago: int | None = None,
    threshold_reached: bool = False,
) -> int:
    now = utcnow()
    with unit_of_work(database) as db:
        petition = Petition(
            territory_id=territory_id,
            kind=kind,
            title=title,
            state=PetitionState.CLOSED,
            opened_at=now - (closed_days_ago + 90) * DAY,
            closed_at=now - closed_days_ago * DAY,
            answer_threshold_reached_at=now - (closed_days_ago + 30) * DAY if threshold_reached else None,
        )
        db.add(petition)
        db.flush()
        for n in (1, 2):
            db.add(
                PetitionSignature(
                    territory_id=territory_id,
                    petition_id=petition.id,
                    method=SignatureMethod.GUEST,
                    display_name=f"Signataire {n}",
                    name_key=f"signataire {n}",
                    email=f"s{n}@example.org",
                    email_key=f"s{n}@example.org",
                    email_slot=1,
                    postcode="62750",
                    notify=True,
                    counted_at=now - (closed_days_ago + 60) * DAY,
                    confirmed_at=now - (closed_days_ago + 60) * DAY,
                    surname="Dupont" if kind == PetitionKind.LEGAL else "",
                )
            )
        if answered_days_ago is not None:
            db.add(
                PetitionAnswer(
                    territory_id=territory_id,
                    petition_id=petition.id,
                    outcome=AnswerOutcome.ACCEPTED,
                    text="Oui.",
                    published_at=now - answered_days_ago * DAY,
                )
            )
        return petition.id


def _signers(database: Database, petition_id: int) -> list[PetitionSignature]:
    with unit_of_work(database) as db:
        rows = list(db.scalars(select(PetitionSignature).where(PetitionSignature.petition_id == petition_id)))
        db.expunge_all()
        return rows


def test_civic_signers_are_erased_after_the_later_of_answer_and_closing(
    factory: Factory, database: Database, settings: Settings
) -> None:
    territory_id = factory.territory()
    old = _petition(database, territory_id, "Fermée il y a deux ans", closed_days_ago=730)
    recent = _petition(database, territory_id, "Fermée il y a deux mois", closed_days_ago=60)
    answered_late = _petition(
        database, territory_id, "Répondue après la clôture", closed_days_ago=400, answered_days_ago=100,
        threshold_reached=True,
    )  # fmt: skip
    owed = _petition(database, territory_id, "Réponse due", closed_days_ago=500, threshold_reached=True)
    legal = _petition(database, territory_id, "Demande L1112-16", closed_days_ago=900, kind=PetitionKind.LEGAL)

    with unit_of_work(database) as db, using_settings(settings):
        result = apply_retention(db, utcnow())
    assert result["civic_signers"] == 2

    for signer in _signers(database, old):
        assert signer.erased_at is not None
        assert (signer.display_name, signer.email, signer.email_key, signer.postcode) == ("", None, None, "")
        assert signer.notify is False
        assert signer.counted_at is not None  # the count never moves
    for kept in (recent, answered_late, owed, legal):
        assert all(s.erased_at is None and s.email for s in _signers(database, kept)), kept

    # The territory's setting shortens the period: the answer given 100 days ago now counts.
    with unit_of_work(database) as db:
        territory = db.get_one(Territory, territory_id)
        territory.settings_json = {**(territory.settings_json or {}), "petitions": {"signer_data_months": 3}}
    with unit_of_work(database) as db, using_settings(settings):
        again = apply_retention(db, utcnow())
    assert again["civic_signers"] == 2
    assert all(s.erased_at is not None for s in _signers(database, answered_late))
    assert all(s.erased_at is None for s in _signers(database, owed))


def test_legal_request_signers_are_kept_restricted() -> None:
    rules = {rule.kind: rule for rule in registry.retention_rules()}
    assert rules["legal_request_signers"].action == "keep_restricted"
    assert rules["legal_request_signers"].apply is None
    assert rules["civic_signers"].action == "erase"
