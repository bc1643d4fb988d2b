"""Who may review, decide on, and talk about an initiative.

Plain functions used by the review service (which refuses) and by the templates (which hide the
buttons). ``Involvement`` says how the actor is tied to the initiative: a promoter, a co-promoter,
a guardian or the beneficiary's person can never review or decide on it (conflict of interest).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.models import Role
from app.core.actor import Actor
from app.initiatives import workflow
from app.initiatives.models import Initiative, InitiativeState
from app.initiatives.permissions import is_public
from app.initiatives.workflow import Action

STAFF_ROLES = (Role.AGENT, Role.EXECUTIVE, Role.ADMIN)

# The review actions an agent takes from the queue or the workspace, by their URL name.
AGENT_ACTIONS: dict[str, Action] = {
    "start": Action.START_REVIEW,
    "changes": Action.REQUEST_CHANGES,
    "hold": Action.PUT_ON_HOLD,
    "resume": Action.RESUME,
    "resubmit": Action.RESUBMIT,
    "abandon": Action.ABANDON,
}


@dataclass(frozen=True)
class Involvement:
    """How one person stands towards one initiative."""

    member: bool = False  # an accepted promoter, co-promoter or guardian
    conflicted: bool = False  # any tie (member, pending invitation, beneficiary): may not review nor decide


def is_staff(actor: Actor) -> bool:
    return actor.has_any_role(*STAFF_ROLES)


def can_see(actor: Actor, initiative: Initiative, involvement: Involvement) -> bool:
    return involvement.conflicted or is_staff(actor) or is_public(initiative)


def can_review(actor: Actor, involvement: Involvement) -> bool:
    return is_staff(actor) and not involvement.conflicted


def can_decide(actor: Actor, involvement: Involvement) -> bool:
    return actor.has_role(Role.EXECUTIVE) and not involvement.conflicted


def can_read_staff_notes(actor: Actor, involvement: Involvement) -> bool:
    return can_review(actor, involvement)


def can_post(actor: Actor, involvement: Involvement, *, staff_only: bool = False) -> bool:
    if staff_only:
        return can_read_staff_notes(actor, involvement)
    return involvement.member or can_review(actor, involvement)


def workflow_actors(actor: Actor, involvement: Involvement) -> list[workflow.Actor]:
    """The capacities in which the actor may move this initiative through the workflow."""
    capacities = []
    if involvement.member:
        capacities.append(workflow.Actor.PROMOTER)
    if can_review(actor, involvement):
        capacities.append(workflow.Actor.AGENT)
    if can_decide(actor, involvement):
        capacities.append(workflow.Actor.EXECUTIVE)
    return capacities


def capacity_for(actor: Actor, involvement: Involvement, action: Action) -> workflow.Actor | None:
    """The capacity in which the actor may take ``action`` (whatever the state), or None."""
    allowed = workflow.TRANSITIONS[action].by
    for capacity in workflow_actors(actor, involvement):
        if capacity in allowed:
            return capacity
    return None


def allowed_review_actions(state: str, actor: Actor, involvement: Involvement) -> list[str]:
    """The URL names of the review actions the actor may take now (for the actions partial)."""
    allowed: set[Action] = set()
    for capacity in workflow_actors(actor, involvement):
        allowed.update(workflow.allowed_actions(state, capacity))
    return [name for name, action in AGENT_ACTIONS.items() if action in allowed]


QUEUE_STATES = frozenset(
    {
        InitiativeState.SUBMITTED,
        InitiativeState.IN_REVIEW,
        InitiativeState.CHANGES_REQUESTED,
        InitiativeState.ON_HOLD,
        InitiativeState.AWAITING_ENVELOPE,
    }
)


@dataclass(frozen=True)
class ReviewPanel:
    """What the review actions partial offers a viewer on an initiative."""

    actions: list[str]
    can_decide: bool
    can_assign: bool
    can_post: bool
    can_write_staff_notes: bool
    assigned_to_me: bool


def panel(actor: Actor | None, initiative: Initiative, involvement: Involvement | None = None) -> ReviewPanel:
    """Without ``involvement`` (a page that did not load it), staff are taken as not tied to the
    initiative and anyone else who sees it as one of its promoters: the service still refuses
    what they may not do."""
    if actor is None or actor.territory_id != initiative.territory_id:
        return ReviewPanel([], False, False, False, False, False)
    if involvement is None:
        involvement = Involvement(member=not is_staff(actor), conflicted=not is_staff(actor))
    decidable = workflow.allowed_actions(initiative.state, workflow.Actor.EXECUTIVE)
    return ReviewPanel(
        actions=allowed_review_actions(initiative.state, actor, involvement),
        can_decide=can_decide(actor, involvement) and Action.APPROVE in decidable,
        can_assign=can_review(actor, involvement) and initiative.state in QUEUE_STATES,
        can_post=can_post(actor, involvement),
        can_write_staff_notes=can_read_staff_notes(actor, involvement),
        assigned_to_me=initiative.assigned_agent_person_id is not None
        and initiative.assigned_agent_person_id == actor.person_id,
    )
