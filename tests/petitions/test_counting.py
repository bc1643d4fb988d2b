"""The counting job: the count from the counted rows, stamps written once with the Nth moment,
the answer's due date, and the 33/66/100 % notifications told once."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db.base import utcnow
from app.db.session import read_only, unit_of_work
from app.jobs.registry import recurring_jobs
from app.notifications.models import Notification
from app.petitions import counting
from app.petitions.models import PetitionCount
from tests.factories import Factory
from tests.petitions import helpers as h


@pytest.fixture
def world(factory: Factory) -> dict[str, h.Viewer]:
    factory.territory()
    return {
        "author": h.viewer(factory.account("auteur@example.org")),
        "agent": h.viewer(factory.account("agent@example.org", roles=("agent",)), "agent"),
    }


def _recount(factory: Factory, settings: Settings) -> None:
    with unit_of_work(factory.database) as db:
        counting.recount(db, settings=settings)


def _count(factory: Factory, public_id: str) -> tuple[int, int, int]:
    p = h.petition(factory.database, public_id)
    with read_only(factory.database) as db:
        row = db.get_one(PetitionCount, p.id)
        return row.total, row.town, row.flagged


def _small(factory: Factory, world: dict[str, h.Viewer], **values: object) -> str:
    public_id = h.opened(factory.database, world["author"], world["agent"], factory.territories["loos"])
    h.update(factory.database, public_id, **{"answer_threshold": 6, "council_threshold": 12, **values})
    return public_id


def test_jobs_are_registered() -> None:
    kinds = {r.kind: r.every for r in recurring_jobs()}
    assert kinds["petition_counts"] == dt.timedelta(minutes=1)
    assert "petitions_close" in kinds


def test_count_uses_only_counted_rows_and_paper_batches(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = _small(factory, world)
    now = utcnow()
    ids = h.add_signatures(factory.database, public_id, 6)
    h.add_signatures(factory.database, public_id, 2, relation="none", prefix="ext")
    h.set_signature(factory.database, ids[0], withdrawn_at=now)
    h.set_signature(factory.database, ids[1], invalidated_at=now, invalid_reason="doublon")
    h.set_signature(factory.database, ids[2], flagged_at=now)
    h.set_signature(factory.database, ids[3], flagged_at=now - dt.timedelta(hours=1), released_at=now)
    h.set_signature(factory.database, ids[4], counted_at=None)  # a guest who has not confirmed yet
    h.add_batch(factory.database, public_id, 10, 7, now)
    _recount(factory, settings)
    # Counted online: ids[3] (released), ids[5], and the two from elsewhere; paper: 10, 7 of the town.
    assert _count(factory, public_id) == (14, 9, 1)
    p = h.petition(factory.database, public_id)
    with read_only(factory.database) as db:
        view = counting.count_view(db, p)
    assert (view.total, view.town, view.basis_count, view.basis) == (14, 9, 9, "town")
    assert view.next_threshold == 12
    assert view.next_kind == "council"


def test_stamp_is_the_nth_moment_set_once_never_moved(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = _small(factory, world)
    start = utcnow() - dt.timedelta(days=2)
    ids = h.add_signatures(factory.database, public_id, 5, start_at=start)
    _recount(factory, settings)
    assert h.petition(factory.database, public_id).answer_threshold_reached_at is None
    ids += h.add_signatures(factory.database, public_id, 3, start_at=start + dt.timedelta(hours=1), prefix="b")
    _recount(factory, settings)
    p = h.petition(factory.database, public_id)
    sixth = start + dt.timedelta(hours=1)  # the first of the second wave became counted sixth
    assert p.answer_threshold_reached_at == sixth
    territory = h.context(factory.database, p.territory_id)
    from app.petitions.service import local_date

    assert p.answer_due_on == local_date(sixth, territory.timezone) + dt.timedelta(days=60)
    # Invalidations bring the count below: the stamp stays where it was.
    for sid in ids[:4]:
        h.set_signature(factory.database, sid, invalidated_at=utcnow())
    _recount(factory, settings)
    again = h.petition(factory.database, public_id)
    assert again.answer_threshold_reached_at == sixth
    assert again.answer_due_on == p.answer_due_on
    with read_only(factory.database) as db:
        view = counting.count_view(db, again)
    assert view.basis_count == 4
    assert view.below_after_stamp


def test_released_signature_counts_from_its_release(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = _small(factory, world, answer_threshold=2)
    start = utcnow() - dt.timedelta(days=2)
    ids = h.add_signatures(factory.database, public_id, 2, start_at=start)
    released = start + dt.timedelta(days=1)
    h.set_signature(factory.database, ids[1], flagged_at=start, released_at=released)
    _recount(factory, settings)
    assert h.petition(factory.database, public_id).answer_threshold_reached_at == released


def test_total_basis_and_paper_batches_in_the_nth_moment(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = _small(factory, world, threshold_basis="total")
    start = utcnow() - dt.timedelta(days=3)
    h.add_signatures(factory.database, public_id, 2, start_at=start, relation="none")
    batch_at = start + dt.timedelta(days=1)
    h.add_batch(factory.database, public_id, 5, 0, batch_at)
    _recount(factory, settings)
    assert h.petition(factory.database, public_id).answer_threshold_reached_at == batch_at


def test_signers_told_at_33_66_100_percent_once(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = _small(factory, world)
    signer = factory.account("signataire@example.org")
    p = h.petition(factory.database, public_id)
    from app.petitions.models import PetitionSignature

    with unit_of_work(factory.database) as db:
        db.add(
            PetitionSignature(
                territory_id=p.territory_id, petition_id=p.id, method="account", person_id=signer.person_id,
                notify=True, counted_at=utcnow() - dt.timedelta(days=3), relation="lives",
            )
        )  # fmt: skip
    h.add_signatures(factory.database, public_id, 1, notify=True, prefix="guest")  # 2 of 6: 33 %
    _recount(factory, settings)
    _recount(factory, settings)

    def told() -> list[str]:
        with read_only(factory.database) as db:
            return list(
                db.scalars(
                    select(Notification.subject)
                    .where(Notification.person_id == signer.person_id)
                    .order_by(Notification.id)
                )
            )

    assert len(told()) == 1
    assert "avance" in told()[0]
    assert len(factory.outbox("guest0@example.org")) == 1
    h.add_signatures(factory.database, public_id, 2, prefix="c")  # 4 of 6: 66 %
    _recount(factory, settings)
    assert len(told()) == 2
    h.add_signatures(factory.database, public_id, 3, prefix="d")  # 7: 100 % of 6, and 58 % of the council's 12
    _recount(factory, settings)
    _recount(factory, settings)
    subjects = told()
    assert len(subjects) == 4
    assert "seuil" in subjects[2]
    assert "avance" in subjects[3]
    assert len(factory.outbox("guest0@example.org")) == 4
    assert h.petition(factory.database, public_id).milestones_told & counting.Told.ANSWER_100


def test_agents_told_when_due_and_when_overdue(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = _small(factory, world)
    h.add_signatures(factory.database, public_id, 6)
    _recount(factory, settings)
    _recount(factory, settings)
    agent = world["agent"]

    def agent_subjects() -> list[str]:
        with read_only(factory.database) as db:
            return list(db.scalars(select(Notification.subject).where(Notification.person_id == agent.person_id)))

    assert [s for s in agent_subjects() if "préparer" in s]
    assert len(agent_subjects()) == 1
    h.update(factory.database, public_id, answer_due_on=dt.date.today() - dt.timedelta(days=3))
    _recount(factory, settings)
    _recount(factory, settings)
    subjects = agent_subjects()
    assert len(subjects) == 2
    assert "retard" in subjects[1]
    p = h.petition(factory.database, public_id)
    with read_only(factory.database) as db:
        assert counting.count_view(db, p).answer_overdue
        assert not counting.count_view(db, p, answered=True).answer_overdue


def test_legal_request_signers_are_never_told(factory: Factory, world: dict[str, h.Viewer], settings: Settings) -> None:
    public_id = h.opened(
        factory.database, world["author"], world["agent"], factory.territories["loos"], kind="legal",
        legal_purpose="position",
    )  # fmt: skip
    h.update(factory.database, public_id, answer_threshold=3)
    h.add_signatures(factory.database, public_id, 3, notify=True, prefix="elector")
    _recount(factory, settings)
    p = h.petition(factory.database, public_id)
    assert p.answer_threshold_reached_at is not None
    assert p.answer_due_on is None
    assert factory.outbox("elector0@example.org") == []


def test_the_job_handler_counts(factory: Factory, world: dict[str, h.Viewer]) -> None:
    from app.jobs.registry import handler_for

    public_id = _small(factory, world)
    h.add_signatures(factory.database, public_id, 2)
    with unit_of_work(factory.database) as db:
        handler_for("petition_counts")(db, {})
        handler_for("petitions_close")(db, {})
    assert _count(factory, public_id) == (2, 2, 0)


def test_legal_request_page_says_the_threshold_is_provisional(
    client: TestClient, factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = h.opened(
        factory.database, world["author"], world["agent"], factory.territories["loos"], kind="legal",
        legal_purpose="consultation",
    )  # fmt: skip
    assert "un dixième des 5" in client.get(f"/petitions/{public_id}").text
    h.update(factory.database, public_id, answer_threshold=2)
    h.add_signatures(factory.database, public_id, 2, prefix="elector")
    _recount(factory, settings)
    page = client.get(f"/petitions/{public_id}")
    assert "provisoire" in page.text
    assert "recueil des signatures" in page.text
