"""Review transitions, the paused deadline, the thread and the decision, through the service."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.db.session import unit_of_work
from app.funds.models import Enforcement, FundEnvelope
from app.initiatives.models import Decision, Initiative, InitiativeState, ThreadMessage
from app.notifications.models import Notification
from app.review import service as review
from tests.factories import Factory
from tests.review.conftest import World, actor, state_of

S = InitiativeState


def act(world: World, initiative_id: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs one service call in its own transaction, as a request would."""
    with unit_of_work(world.database) as db:
        initiative = db.get_one(Initiative, initiative_id)
        if "settings" in inspect.signature(fn).parameters:
            kwargs["settings"] = world.settings
        return fn(db, *args[:1], initiative, *args[1:], **kwargs)


def audit_count(world: World, action: str) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def test_review_path_pauses_and_resumes_the_deadline(world: World) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        initiative = world.initiative(S.SUBMITTED)
        due = world.reload(initiative.id).decision_due_on
        assert due is not None
        act(world, initiative.id, review.start_review, world.agent_actor)
        row = world.reload(initiative.id)
        assert row.state == S.IN_REVIEW
        assert row.assigned_agent_person_id == world.agent.person_id
        act(world, initiative.id, review.request_changes, world.agent_actor, "Précisez l'emplacement des bacs.")
        row = world.reload(initiative.id)
        assert row.state == S.CHANGES_REQUESTED
        assert row.paused_since is not None
    with time_machine.travel(start + dt.timedelta(days=10), tick=False):
        act(world, initiative.id, review.resubmit, world.promoter_actor)
        row = world.reload(initiative.id)
        assert row.state == S.IN_REVIEW
        assert row.paused_since is None
        assert row.decision_due_on == due + dt.timedelta(days=10)
        act(world, initiative.id, review.put_on_hold, world.agent_actor, "Avis des services techniques", None)
    with time_machine.travel(start + dt.timedelta(days=14), tick=False):
        act(world, initiative.id, review.resume, world.agent_actor)
        row = world.reload(initiative.id)
        assert row.state == S.IN_REVIEW
        assert row.decision_due_on == due + dt.timedelta(days=14)
        assert row.hold_reason == ""
    for action in ("start_review", "request_changes", "resubmit", "put_on_hold", "resume"):
        assert audit_count(world, f"initiative.{action}") == 1
    with unit_of_work(world.database) as db:
        [message] = db.scalars(select(ThreadMessage).where(ThreadMessage.initiative_id == initiative.id))
        assert message.body == "Précisez l'emplacement des bacs."
        assert not message.staff_only
        kinds = set(db.scalars(select(Notification.kind).where(Notification.person_id == world.promoter.person_id)))
        assert kinds == {"initiatives"}


def test_illegal_transitions_change_nothing(world: World) -> None:
    draft = world.initiative(S.DRAFT)
    with pytest.raises(Conflict):
        act(world, draft.id, review.request_changes, world.agent_actor, "Une question")
    assert state_of(world.database, draft.id) == S.DRAFT
    assert world.reload(draft.id).paused_since is None
    submitted = world.initiative(S.SUBMITTED)
    with pytest.raises(Conflict):
        act(world, submitted.id, review.decide, world.executive_actor, "approve")
    with pytest.raises(Conflict):
        act(world, submitted.id, review.resume, world.agent_actor)
    with pytest.raises(Forbidden):  # a promoter does not review
        act(world, submitted.id, review.start_review, world.promoter_actor)
    with pytest.raises(Invalid):
        act(world, submitted.id, review.request_changes, world.agent_actor, "   ")
    assert state_of(world.database, submitted.id) == S.SUBMITTED
    with unit_of_work(world.database) as db:
        assert db.scalar(select(func.count()).select_from(ThreadMessage)) == 0
        assert db.scalar(select(func.count()).select_from(Decision)) == 0
        assert (
            db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("initiative.%"))) == 0
        )


def test_an_agent_may_resubmit_for_the_promoters(world: World) -> None:
    initiative = world.initiative(S.CHANGES_REQUESTED)
    act(world, initiative.id, review.resubmit, world.agent_actor)
    assert state_of(world.database, initiative.id) == S.IN_REVIEW


def test_another_territory_answers_not_found(world: World, factory: Factory) -> None:
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    stranger = factory.account("agent@autre.example.org", territory="autre", roles=("agent",))
    initiative = world.initiative(S.SUBMITTED)
    with pytest.raises(NotFound):
        act(world, initiative.id, review.start_review, actor(stranger, "agent"))
    with unit_of_work(world.database) as db, pytest.raises(NotFound):
        review.get_initiative(db, actor(stranger, "agent"), initiative.public_id)


def test_staff_notes_are_hidden_from_promoters(world: World, factory: Factory) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    act(world, initiative.id, review.post_message, world.promoter_actor, "Voici le plan **modifié**.")
    act(world, initiative.id, review.post_message, world.agent_actor, "Le terrain est classé.", True)
    with pytest.raises(Forbidden):
        act(world, initiative.id, review.post_message, world.promoter_actor, "Je veux voir les notes", True)
    outsider = factory.account("voisin@example.org", display_name="Victor Voisin")
    with pytest.raises(NotFound):  # a review in progress is not public
        act(world, initiative.id, review.post_message, actor(outsider), "Bonjour")
    with pytest.raises(Invalid):
        act(world, initiative.id, review.post_message, world.agent_actor, "x" * 5001)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        promoter_view = review.thread(db, world.promoter_actor, row)
        agent_view = review.thread(db, world.agent_actor, row)
    assert [m.body for m in promoter_view] == ["Voici le plan **modifié**."]
    assert [m.author_name for m in promoter_view] == ["Paula Porteuse"]
    assert promoter_view[0].is_mine
    assert [(m.body, m.staff_only) for m in agent_view] == [
        ("Voici le plan **modifié**.", False),
        ("Le terrain est classé.", True),
    ]


def test_thread_is_one_query_whatever_its_length(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    for n in range(6):
        act(world, initiative.id, review.post_message, world.agent_actor, f"Message {n}")
    from sqlalchemy import event

    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        involvement = review.involvement_of(db, world.agent_actor, row)
        assert not involvement.conflicted
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        engine = db.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            entries = review.thread(db, world.agent_actor, row)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(entries) == 6
    # One for the viewer's involvement, one for the messages and their authors.
    assert len(statements) == 2


# ---------------------------------------------------------------- decisions


def envelope_committed(world: World) -> int:
    with unit_of_work(world.database) as db:
        return db.get_one(FundEnvelope, world.envelope_id).committed_cents


def test_approval_commits_the_envelope_and_snapshots_the_rules(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, town_cash_cents=40_000)
    decision = act(world, initiative.id, review.decide, world.executive_actor, "approve", "decision", "2026-12")
    row = world.reload(initiative.id)
    assert row.state == S.APPROVED
    assert row.committed_cents == 40_000
    assert envelope_committed(world) == 40_000
    assert decision.outcome == "approved"
    assert decision.snapshot["balance"]["town_cash_cents"] == 40_000
    assert decision.snapshot["balance"]["k_percent"] == 100
    assert {line["kind"] for line in decision.snapshot["lines"]} == {"volunteer_hours", "purchase"}
    assert audit_count(world, "initiative.approve") == 1


def test_decline_needs_a_reason_shown_to_promoters(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    with pytest.raises(Invalid) as exc:
        act(world, initiative.id, review.decide, world.executive_actor, "decline")
    assert exc.value.field == "reason"
    act(world, initiative.id, review.decide, world.executive_actor, "decline", reason="Le terrain n'est pas public.")
    row = world.reload(initiative.id)
    assert row.state == S.DECLINED
    assert row.decline_reason == "Le terrain n'est pas public."
    with unit_of_work(world.database) as db:
        bodies = list(db.scalars(select(Notification.body).where(Notification.person_id == world.promoter.person_id)))
    assert "Le terrain n'est pas public." in bodies


def test_only_an_untied_executive_decides(world: World, factory: Factory) -> None:
    mayor_promoter = factory.account("maire-porteur@example.org", roles=("executive",))
    own = world.initiative(S.IN_REVIEW, promoter=mayor_promoter)
    with pytest.raises(Forbidden):
        act(world, own.id, review.decide, actor(mayor_promoter, "executive"), "approve")
    with pytest.raises(Forbidden):
        act(world, own.id, review.decide, world.agent_actor, "approve")
    assert state_of(world.database, own.id) == S.IN_REVIEW


def test_block_mode_needs_a_written_override(world: World) -> None:
    world.set_fund(enforcement=Enforcement.BLOCK)
    # The residents bring 100 €, the town 500 €: the 1:1 match is broken.
    initiative = world.initiative(S.IN_REVIEW, town_cash_cents=50_000, residents_cents=10_000)
    with pytest.raises(Invalid) as exc:
        act(world, initiative.id, review.decide, world.executive_actor, "approve")
    assert exc.value.field == "override_reason"
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    assert envelope_committed(world) == 0
    decision = act(
        world, initiative.id, review.decide, world.executive_actor, "approve",
        override_reason="Projet pilote du quartier prioritaire.",
    )  # fmt: skip
    assert decision.override_reason == "Projet pilote du quartier prioritaire."
    with unit_of_work(world.database) as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "initiative.approve"))
        assert entry is not None
        assert entry.reason == "Projet pilote du quartier prioritaire."
        assert entry.data["broken"] == ["match"]


def test_a_subsidy_needs_a_council_deliberation(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, subsidy=True)
    with pytest.raises(Invalid) as exc:
        act(world, initiative.id, review.decide, world.executive_actor, "approve", "decision", "A-2026-1")
    assert exc.value.field == "act_kind"
    with pytest.raises(Invalid) as exc:
        act(world, initiative.id, review.decide, world.executive_actor, "approve", "deliberation", "")
    assert exc.value.field == "act_reference"
    decision = act(world, initiative.id, review.decide, world.executive_actor, "approve", "deliberation", "D2026-14")
    assert decision.act_kind == "deliberation"
    assert decision.act_reference == "D2026-14"


def test_envelope_short_is_refused_and_changes_nothing(world: World) -> None:
    world.set_envelope(30_000)
    initiative = world.initiative(S.IN_REVIEW, town_cash_cents=40_000)
    with pytest.raises(Conflict) as exc:
        act(world, initiative.id, review.decide, world.executive_actor, "approve")
    assert "300,00" in exc.value.message
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    assert envelope_committed(world) == 0
    with unit_of_work(world.database) as db:
        assert db.scalar(select(func.count()).select_from(Decision)) == 0


def test_waiting_list_is_served_when_money_is_released(world: World) -> None:
    from app.ledger import service as ledger

    world.set_envelope(60_000)
    first = world.initiative(S.IN_REVIEW, title="Premier", town_cash_cents=50_000)
    second = world.initiative(S.IN_REVIEW, title="Second", town_cash_cents=40_000)
    act(world, first.id, review.decide, world.executive_actor, "approve")
    decision = act(world, second.id, review.decide, world.executive_actor, "approve", waiting_list=True)
    assert decision.outcome == "awaiting_envelope"
    assert state_of(world.database, second.id) == S.AWAITING_ENVELOPE
    assert envelope_committed(world) == 50_000
    with unit_of_work(world.database) as db:  # nothing freed yet: nobody moves
        assert review.process_releases(db, db.get_one(FundEnvelope, world.envelope_id)) == []
    with unit_of_work(world.database) as db:  # the first initiative is withdrawn
        row = db.get_one(Initiative, first.id)
        row.state = S.WITHDRAWN
        ledger.release_envelope(db, row)
        released = review.process_releases(db, db.get_one(FundEnvelope, world.envelope_id), settings=world.settings)
        assert [r.id for r in released] == [second.id]
    assert state_of(world.database, second.id) == S.APPROVED
    assert envelope_committed(world) == 40_000
    assert audit_count(world, "initiative.envelope_released") == 1


def test_assign_to_me_is_audited_and_refused_to_a_tied_agent(world: World, factory: Factory) -> None:
    initiative = world.initiative(S.SUBMITTED)
    act(world, initiative.id, review.assign_to_me, world.agent_actor)
    act(world, initiative.id, review.assign_to_me, world.agent_actor)  # twice: one entry
    assert world.reload(initiative.id).assigned_agent_person_id == world.agent.person_id
    assert audit_count(world, "initiative.assign") == 1
    agent_promoter = factory.account("agent-porteur@example.org", roles=("agent",))
    own = world.initiative(S.SUBMITTED, promoter=agent_promoter)
    tied: Actor = actor(agent_promoter, "agent")
    with pytest.raises(Forbidden):
        act(world, own.id, review.assign_to_me, tied)
    with pytest.raises(Forbidden):
        act(world, own.id, review.start_review, tied)


def test_hold_resume_date_must_be_in_the_future(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    yesterday = (utcnow() - dt.timedelta(days=1)).date()
    with pytest.raises(Invalid) as exc:
        act(world, initiative.id, review.put_on_hold, world.agent_actor, "Attente", yesterday)
    assert exc.value.field == "resume_on"
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
