"""A petition's life through the services: draft, edit, submit, publish or reject with a charter
reason, withdraw, close; refused transitions are 409 and change nothing; another town's is 404."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import read_only, unit_of_work
from app.petitions import service
from app.petitions.forms import PetitionInput
from app.petitions.models import LegalStage, PetitionState
from app.territories.service import petition_thresholds
from tests.factories import Factory
from tests.petitions import helpers as h


@pytest.fixture
def people(factory: Factory) -> dict[str, h.Viewer]:
    factory.territory()
    return {
        "author": h.viewer(factory.account("auteur@example.org")),
        "other": h.viewer(factory.account("autre@example.org", display_name="Bob")),
        "agent": h.viewer(factory.account("agent@example.org", roles=("agent",)), "agent"),
        "mayor": h.viewer(factory.account("maire@example.org", roles=("executive",)), "executive"),
    }


def _audits(factory: Factory, action: str) -> int:
    with read_only(factory.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def test_draft_edit_submit_publish(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    public_id = h.start(factory.database, people["author"], tid)
    assert h.petition(factory.database, public_id).state == PetitionState.DRAFT
    data = PetitionInput(
        title="Éclairer le chemin du stade", request="Des lampadaires.", body="**La nuit** il fait noir."
    )
    with unit_of_work(factory.database) as db:
        service.update_draft(db, people["author"], tid, public_id, data)
    with unit_of_work(factory.database) as db:
        service.submit(db, people["author"], tid, public_id)
    p = h.petition(factory.database, public_id)
    assert p.state == PetitionState.SUBMITTED
    assert p.submitted_at is not None
    territory = h.context(factory.database, tid)
    with unit_of_work(factory.database) as db:
        service.publish(db, people["agent"], territory, public_id)
    p = h.petition(factory.database, public_id)
    thresholds = petition_thresholds(territory)
    assert p.state == PetitionState.OPEN
    assert p.opened_at is not None
    assert p.closes_on is not None
    assert p.closes_on == service.add_months(service.local_date(p.opened_at, territory.timezone), 3)
    assert (p.answer_threshold, p.council_threshold) == (thresholds.answer, thresholds.council)
    assert p.threshold_basis == "town"
    for action in ("petition.start", "petition.update", "petition.submit", "petition.publish"):
        assert _audits(factory, action) == 1


def test_refused_transitions_are_conflicts_and_change_nothing(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    territory = h.context(factory.database, tid)
    public_id = h.start(factory.database, people["author"], tid)
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        service.publish(db, people["agent"], territory, public_id)  # a draft is its author's only
    assert h.petition(factory.database, public_id).state == PetitionState.DRAFT
    opened = h.opened(factory.database, people["author"], people["agent"], tid)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        service.submit(db, people["author"], tid, opened)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        service.withdraw(db, people["author"], tid, opened)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        service.update_draft(db, people["author"], tid, opened, PetitionInput(title="Autre"))
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        service.publish(db, people["agent"], territory, opened)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        service.reject(db, people["agent"], territory, opened, "unlawful")
    p = h.petition(factory.database, opened)
    assert p.state == PetitionState.OPEN
    assert p.title.startswith("Un passage")
    assert not p.rejection_reason
    assert _audits(factory, "petition.publish") == 1


def test_only_agents_publish_and_reject_needs_a_charter_reason(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    territory = h.context(factory.database, tid)
    public_id = h.start(factory.database, people["author"], tid)
    with unit_of_work(factory.database) as db:
        service.submit(db, people["author"], tid, public_id)
    for who in (people["author"], people["mayor"]):
        with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
            service.publish(db, who, territory, public_id)
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        service.publish(db, people["other"], territory, public_id)  # a submitted petition is not public
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        service.reject(db, people["agent"], territory, public_id, "not-in-the-charter")
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        service.reject(db, people["agent"], territory, public_id, "")
    assert h.petition(factory.database, public_id).state == PetitionState.SUBMITTED
    with unit_of_work(factory.database) as db:
        service.reject(db, people["agent"], territory, public_id, "personal", "Un nom de voisin est cité.")
    p = h.petition(factory.database, public_id)
    assert p.state == PetitionState.REJECTED
    assert (p.rejection_reason, p.rejection_comment) == ("personal", "Un nom de voisin est cité.")
    assert service.charter_label(territory.settings.petitions, "personal").startswith("Le texte contient")


def test_only_the_author_edits_submits_and_withdraws(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    public_id = h.start(factory.database, people["author"], tid)
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        service.submit(db, people["other"], tid, public_id)  # another resident does not see a draft
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        service.withdraw(db, people["agent"], tid, public_id)  # nor do the staff
    with unit_of_work(factory.database) as db:
        service.withdraw(db, people["author"], tid, public_id)
    assert h.petition(factory.database, public_id).state == PetitionState.WITHDRAWN
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        service.submit(db, people["author"], tid, public_id)


def test_submitting_needs_the_request(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    public_id = h.start(factory.database, people["author"], tid, request="")
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        service.submit(db, people["author"], tid, public_id)
    assert h.petition(factory.database, public_id).state == PetitionState.DRAFT


def test_another_towns_petition_is_not_found(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    other_tid = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    stranger = h.viewer(factory.account("agent@autre.example", territory="autre", roles=("agent",)), "agent")
    public_id = h.opened(factory.database, people["author"], people["agent"], tid)
    with pytest.raises(NotFound), read_only(factory.database) as db:
        service.get_visible(db, stranger, other_tid, public_id)
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        service.publish(db, stranger, h.context(factory.database, other_tid), public_id)


def test_legal_request_freezes_the_electors(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    public_id = h.opened(
        factory.database, people["author"], people["agent"], tid, kind="legal", legal_purpose="consultation"
    )
    p = h.petition(factory.database, public_id)
    assert p.electors_frozen == 5000
    assert p.answer_threshold == 500
    assert p.legal_stage == LegalStage.COLLECTING
    assert p.threshold_basis == "total"
    with pytest.raises(Exception, match="conseil"):
        PetitionInput.model_validate({"title": "Consultation", "kind": "legal"})


def test_closing_job_closes_ended_petitions_once(factory: Factory, people: dict[str, h.Viewer]) -> None:
    tid = factory.territories["loos"]
    ended = h.opened(factory.database, people["author"], people["agent"], tid)
    running = h.opened(factory.database, people["author"], people["agent"], tid, title="Un autre")
    h.update(factory.database, ended, closes_on=dt.date.today() - dt.timedelta(days=2))
    with unit_of_work(factory.database) as db:
        assert service.close_expired(db) == 1
    with unit_of_work(factory.database) as db:
        assert service.close_expired(db) == 0
    assert h.petition(factory.database, ended).state == PetitionState.CLOSED
    assert h.petition(factory.database, running).state == PetitionState.OPEN
    assert _audits(factory, "petition.close") == 1


def test_a_declined_initiative_becomes_a_petition(factory: Factory, people: dict[str, h.Viewer]) -> None:
    from tests.initiatives import helpers as ih

    tid = factory.territories["loos"]
    initiative_id = ih.propose(
        factory.database, people["author"], tid, description="Un jardin.", general_interest="Pour tous."
    )
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        service.from_initiative(db, people["author"], tid, initiative_id)
    ih.set_state(factory.database, initiative_id, "declined")
    with pytest.raises((Forbidden, NotFound)), unit_of_work(factory.database) as db:
        service.from_initiative(db, people["other"], tid, initiative_id)
    with unit_of_work(factory.database) as db:
        public_id = service.from_initiative(db, people["author"], tid, initiative_id).public_id
    with unit_of_work(factory.database) as db:
        again = service.from_initiative(db, people["author"], tid, initiative_id).public_id
    assert again == public_id
    p = h.petition(factory.database, public_id)
    assert p.state == PetitionState.DRAFT
    assert p.from_initiative_id == ih.initiative(factory.database, initiative_id).id
    assert (p.request, p.body) == ("Pour tous.", "Un jardin.")
