"""The signing service without HTTP: canonical keys, quarters, confusable e-mails, the box's count."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.core.errors import Conflict, Forbidden, Invalid
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.petitions import signing
from app.petitions.models import Petition, PetitionCount, PetitionKind, PetitionState
from app.petitions.signing import Choices, GuestDetails, Outcome
from app.privacy.export import build_export
from tests.factories import Factory
from tests.petitions.signing_support import make_petition, signature_rows, territory_context, viewer_for


def test_name_keys_fold_case_accents_and_spacing() -> None:
    assert signing.name_key("  Éloïse   DE la Tour-Martin ") == signing.name_key("eloise de la tour martin")
    assert signing.name_key("Ｊｅａｎ") == "jean"  # fullwidth (NFKC)
    assert signing.name_key("O’Neil") == signing.name_key("O'Neil") == signing.name_key("o neil")


def test_quarters_are_counted_in_the_territorys_time_zone() -> None:
    # 31 December 23:30 UTC is already 1 January in Paris.
    moment = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert signing.quarter_of(moment, "Europe/Paris") == "2027-Q1"
    assert signing.quarter_of(moment, "UTC") == "2026-Q4"
    assert signing.quarter_label("2026-Q4") == "4e trimestre 2026"


def test_disposable_domains_and_their_subdomains() -> None:
    domains = ["yopmail.com"]
    assert signing.is_disposable("a@yopmail.com", domains)
    assert signing.is_disposable("a@x.YOPMAIL.com.", domains)
    assert not signing.is_disposable("a@notyopmail.com", domains)


def _guest(name: str, email: str) -> GuestDetails:
    return GuestDetails(name, email, "62750", Choices())


def test_confusable_and_aliased_addresses_are_the_same_person(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    territory = territory_context(database, tid)
    pid = make_petition(database, tid)
    attempts = [
        ("Alice Martin", "alice@example.org"),
        ("ALICE MARTIN", "Alice@Example.ORG"),
        ("Alice Martin", "ａlice@example.org"),  # fullwidth a
        ("Alice Martin", "alice@EXAMPLE.org."),
    ]
    outcomes = []
    for name, email in attempts:
        with unit_of_work(database) as db:
            petition = signing.get_petition(db, tid, pid)
            try:
                outcomes.append(
                    signing.sign_as_guest(
                        db, territory, petition, _guest(name, email), source_hash="", base_url="http://x", locale="fr"
                    )
                )
            except Invalid as exc:
                outcomes.append(exc.field)  # type: ignore[arg-type]
    assert outcomes[0] == Outcome.PENDING
    assert all(o in (Outcome.ALREADY, "email") for o in outcomes[1:]), outcomes
    assert len(signature_rows(database, pid)) == 1


def test_guest_signing_is_for_civic_petitions(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    territory = territory_context(database, tid)
    pid = make_petition(database, tid, kind=PetitionKind.LEGAL)
    with unit_of_work(database) as db, pytest.raises(Forbidden):
        signing.sign_as_guest(
            db,
            territory,
            signing.get_petition(db, tid, pid),
            _guest("A", "a@example.org"),
            source_hash="",
            base_url="http://x",
            locale="fr",
        )


def test_withdrawing_after_closing_is_refused(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    territory = territory_context(database, tid)
    viewer = viewer_for(factory.account())
    pid = make_petition(database, tid)
    with unit_of_work(database) as db:
        signing.sign(db, viewer, territory, signing.get_petition(db, tid, pid), Choices())
    with unit_of_work(database) as db:
        petition = db.scalar(select(Petition).where(Petition.public_id == pid))
        assert petition is not None
        petition.state = PetitionState.CLOSED
        petition.closed_at = utcnow()
    with unit_of_work(database) as db, pytest.raises(Conflict):
        signing.withdraw(db, viewer, territory, signing.get_petition(db, tid, pid))
    assert signature_rows(database, pid)[0].withdrawn_at is None


def test_box_count_adds_ones_own_signature_only_until_the_worker_counted_it(
    factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    territory = territory_context(database, tid)
    viewer = viewer_for(factory.account())
    pid = make_petition(database, tid, threshold_basis="town")
    with unit_of_work(database) as db:
        petition = signing.get_petition(db, tid, pid)
        db.add(PetitionCount(petition_id=petition.id, territory_id=tid, total=12, town=10, computed_at=utcnow()))
        db.flush()
        box = signing.sign_box(db, viewer, territory, petition)
        assert (box.can_sign, box.signed, box.count) == (True, False, 10)
        signing.sign(db, viewer, territory, petition, Choices(relation="lives"))
        box = signing.sign_box(db, viewer, territory, petition)
        assert (box.can_sign, box.signed, box.can_withdraw, box.count) == (False, True, True, 11)
        # Once the worker's count is newer than the signature, it is already included.
        count = db.get_one(PetitionCount, petition.id)
        count.town, count.computed_at = 11, utcnow() + dt.timedelta(seconds=1)
        db.flush()
        assert signing.sign_box(db, viewer, territory, petition).count == 11


def test_signers_from_elsewhere_do_not_move_a_town_count(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    territory = territory_context(database, tid)
    viewer = viewer_for(factory.account())
    pid = make_petition(database, tid, threshold_basis="town")
    with unit_of_work(database) as db:
        petition = signing.get_petition(db, tid, pid)
        signing.sign(db, viewer, territory, petition, Choices(relation="none"))
        assert signing.sign_box(db, viewer, territory, petition).count == 0


def test_only_agents_manage_signatures(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    pid = make_petition(database, tid)
    resident = viewer_for(factory.account())
    admin = viewer_for(factory.account("adm@example.org"), Role.ADMIN)
    with unit_of_work(database) as db:
        petition = signing.get_petition(db, tid, pid)
        for who in (resident, admin):
            with pytest.raises(Forbidden):
                signing.count_invalidation(db, who, petition, source_hash="x")


def test_the_signers_data_export_lists_their_signatures(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    territory = territory_context(database, tid)
    pid = make_petition(database, tid)
    account = factory.account("signe@example.org")
    other = factory.account("autre@example.org")
    with unit_of_work(database) as db:
        signing.sign(db, viewer_for(account), territory, signing.get_petition(db, tid, pid), Choices(notify=True))
    with unit_of_work(database) as db:
        (entry,) = build_export(db, viewer_for(account))["petition_signatures"]
        assert (entry["petition"], entry["notify"], entry["withdrawn_at"]) == (pid, True, None)
        assert entry["counted_at"] is not None
        assert build_export(db, viewer_for(other))["petition_signatures"] == []
