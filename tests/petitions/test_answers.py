"""The official answer (agents draft, the executive publishes, then frozen; the authority's reply)
and the petition -> initiative conversion (a linked draft, opted-in signers invited)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.config import Settings
from app.core.errors import Conflict, Forbidden, Invalid
from app.db.base import utcnow
from app.db.session import read_only, unit_of_work
from app.initiatives.models import Initiative, InitiativeMember
from app.notifications.models import Notification
from app.petitions import answers
from app.petitions.forms import AnswerInput
from app.petitions.models import PetitionSignature
from tests.factories import Factory
from tests.petitions import helpers as h


@pytest.fixture
def world(factory: Factory) -> dict[str, h.Viewer]:
    factory.territory()
    return {
        "author": h.viewer(factory.account("auteur@example.org")),
        "agent": h.viewer(factory.account("agent@example.org", roles=("agent",)), "agent"),
        "mayor": h.viewer(factory.account("maire@example.org", roles=("executive",)), "executive"),
        "signer": h.viewer(factory.account("signataire@example.org", display_name="Chloé")),
    }


def _open_with_signer(factory: Factory, world: dict[str, h.Viewer], **flags: bool) -> str:
    tid = factory.territories["loos"]
    public_id = h.opened(factory.database, world["author"], world["agent"], tid)
    p = h.petition(factory.database, public_id)
    with unit_of_work(factory.database) as db:
        db.add(
            PetitionSignature(
                territory_id=tid, petition_id=p.id, method="account", person_id=world["signer"].person_id,
                counted_at=utcnow(), relation="lives", **flags,
            )
        )  # fmt: skip
    return public_id


def _draft(factory: Factory, who: h.Viewer, public_id: str, **values: object) -> None:
    data = AnswerInput.model_validate({"outcome": "accepted", "text": "Le passage sera peint en mars.", **values})
    with unit_of_work(factory.database) as db:
        answers.save_draft(db, who, factory.territories["loos"], public_id, data)


def _signer_subjects(factory: Factory, world: dict[str, h.Viewer]) -> list[str]:
    with read_only(factory.database) as db:
        return list(db.scalars(select(Notification.subject).where(Notification.person_id == world["signer"].person_id)))


def test_agents_draft_the_executive_publishes_then_frozen(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    tid = factory.territories["loos"]
    public_id = _open_with_signer(factory, world, notify=True)
    with pytest.raises(Forbidden):
        _draft(factory, world["mayor"], public_id)
    _draft(factory, world["agent"], public_id)
    _draft(factory, world["agent"], public_id, outcome="partly")
    for who in (world["agent"], world["author"]):
        with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
            answers.publish(db, who, tid, public_id, settings=settings)
    assert _signer_subjects(factory, world) == []
    with unit_of_work(factory.database) as db:
        answers.publish(db, world["mayor"], tid, public_id, settings=settings)
    with read_only(factory.database) as db:
        answer = answers.answer_of(db, h.petition(factory.database, public_id))
        assert answer is not None
        assert answer.published_at is not None
        assert answer.outcome == "partly"
    assert any("a répondu" in s for s in _signer_subjects(factory, world))
    with pytest.raises(Conflict):
        _draft(factory, world["agent"], public_id, text="Autre chose")
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        answers.publish(db, world["mayor"], tid, public_id, settings=settings)


def test_signers_who_did_not_opt_in_are_not_told(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    public_id = _open_with_signer(factory, world)
    _draft(factory, world["agent"], public_id)
    with unit_of_work(factory.database) as db:
        answers.publish(db, world["mayor"], factory.territories["loos"], public_id, settings=settings)
    assert _signer_subjects(factory, world) == []


def test_transmitted_needs_the_authority_then_its_reply(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    tid = factory.territories["loos"]
    public_id = _open_with_signer(factory, world)
    _draft(factory, world["agent"], public_id, outcome="transmitted")
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        answers.publish(db, world["mayor"], tid, public_id, settings=settings)
    _draft(
        factory, world["agent"], public_id, outcome="transmitted", authority="Communauté d'agglomération",
        transmitted_on="2026-11-02",
    )  # fmt: skip
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        answers.add_authority_reply(db, world["agent"], tid, public_id, dt.date(2026, 12, 1), "Accord.")
    with unit_of_work(factory.database) as db:
        answers.publish(db, world["mayor"], tid, public_id, settings=settings)
    with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
        answers.add_authority_reply(db, world["author"], tid, public_id, dt.date(2026, 12, 1), "Accord.")
    with unit_of_work(factory.database) as db:
        answers.add_authority_reply(db, world["agent"], tid, public_id, dt.date(2026, 12, 1), "Les travaux suivront.")
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        answers.add_authority_reply(db, world["agent"], tid, public_id, dt.date(2026, 12, 2), "Encore.")
    with read_only(factory.database) as db:
        answer = answers.answer_of(db, h.petition(factory.database, public_id))
        assert answer is not None
        view = answers.answer_view(answer)
    assert view is not None
    assert view.authority == "Communauté d'agglomération"
    assert (view.authority_reply_on, view.authority_reply) == (dt.date(2026, 12, 1), "Les travaux suivront.")


def test_conversion_opens_a_linked_initiative_and_invites_signers(
    factory: Factory, world: dict[str, h.Viewer], settings: Settings
) -> None:
    tid = factory.territories["loos"]
    public_id = _open_with_signer(factory, world, invite_if_project=True, notify=True)
    with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
        answers.convert(db, world["signer"], tid, public_id, base_url="http://loos.test", settings=settings)
    with unit_of_work(factory.database) as db:
        initiative_id = answers.convert(
            db, world["author"], tid, public_id, base_url="http://loos.test", settings=settings
        ).id
    p = h.petition(factory.database, public_id)
    assert p.converted_initiative_id == initiative_id
    with read_only(factory.database) as db:
        initiative = db.get_one(Initiative, initiative_id)
        assert initiative.state == "draft"
        assert initiative.title == p.title
        members = list(db.scalars(select(InitiativeMember).where(InitiativeMember.initiative_id == initiative_id)))
        invited = {m.invited_email for m in members if m.accepted_at is None}
    assert invited == {"signataire@example.org"}
    assert factory.outbox("signataire@example.org"), "the invitation is e-mailed"
    assert any("devient un projet" in s for s in _signer_subjects(factory, world))
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        answers.convert(db, world["agent"], tid, public_id, base_url="http://loos.test", settings=settings)
