"""The initiative's state machine: which action leads from which state to which, and who may act.

Services call ``target_state`` before changing anything: an action that is not allowed from the
current state raises ``Conflict`` (409) and nothing is changed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.core.errors import Conflict
from app.initiatives.models import InitiativeState as S
from app.web.i18n import N_, _


class Actor(enum.StrEnum):
    PROMOTER = "promoter"
    AGENT = "agent"
    EXECUTIVE = "executive"
    SYSTEM = "system"


class Action(enum.StrEnum):
    SUBMIT = "submit"
    START_REVIEW = "start_review"
    REQUEST_CHANGES = "request_changes"
    RESUBMIT = "resubmit"
    PUT_ON_HOLD = "put_on_hold"
    RESUME = "resume"
    APPROVE = "approve"
    APPROVE_WAITING = "approve_waiting"  # approved, placed on the envelope's waiting list
    ENVELOPE_RELEASED = "envelope_released"  # money freed: a waiting approval is committed
    DECLINE = "decline"
    REWORK = "rework"  # a declined initiative goes back to draft to be reworked and resubmitted
    PROPOSE_CONVENTION = "propose_convention"
    SIGN_CONVENTION = "sign_convention"
    START_WORK = "start_work"
    DELIVER = "deliver"
    EVALUATE = "evaluate"
    WITHDRAW = "withdraw"
    ABANDON = "abandon"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[S]
    target: S
    by: frozenset[Actor]


def _t(sources: set[S], target: S, *by: Actor) -> Transition:
    return Transition(frozenset(sources), target, frozenset(by))


OPEN_REVIEW = {S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED}

TRANSITIONS: dict[Action, Transition] = {
    Action.SUBMIT: _t({S.DRAFT}, S.SUBMITTED, Actor.PROMOTER, Actor.AGENT),
    Action.START_REVIEW: _t({S.SUBMITTED}, S.IN_REVIEW, Actor.AGENT),
    Action.REQUEST_CHANGES: _t({S.SUBMITTED, S.IN_REVIEW}, S.CHANGES_REQUESTED, Actor.AGENT),
    Action.RESUBMIT: _t({S.CHANGES_REQUESTED}, S.IN_REVIEW, Actor.PROMOTER, Actor.AGENT),
    Action.PUT_ON_HOLD: _t(OPEN_REVIEW, S.ON_HOLD, Actor.AGENT),
    Action.RESUME: _t({S.ON_HOLD}, S.IN_REVIEW, Actor.AGENT),
    Action.APPROVE: _t({S.IN_REVIEW}, S.APPROVED, Actor.EXECUTIVE),
    Action.APPROVE_WAITING: _t({S.IN_REVIEW}, S.AWAITING_ENVELOPE, Actor.EXECUTIVE),
    Action.ENVELOPE_RELEASED: _t({S.AWAITING_ENVELOPE}, S.APPROVED, Actor.SYSTEM),
    Action.DECLINE: _t({S.IN_REVIEW, S.AWAITING_ENVELOPE}, S.DECLINED, Actor.EXECUTIVE),
    Action.REWORK: _t({S.DECLINED}, S.DRAFT, Actor.PROMOTER),
    Action.PROPOSE_CONVENTION: _t({S.APPROVED}, S.CONVENTION_PROPOSED, Actor.AGENT),
    Action.SIGN_CONVENTION: _t({S.CONVENTION_PROPOSED}, S.CONVENTION_SIGNED, Actor.SYSTEM),
    Action.START_WORK: _t({S.CONVENTION_SIGNED}, S.IN_PROGRESS, Actor.PROMOTER, Actor.AGENT),
    Action.DELIVER: _t({S.IN_PROGRESS}, S.DELIVERED, Actor.PROMOTER, Actor.AGENT),
    Action.EVALUATE: _t({S.DELIVERED}, S.EVALUATED, Actor.AGENT),
    Action.WITHDRAW: _t(
        {S.DRAFT, *OPEN_REVIEW, S.ON_HOLD, S.APPROVED, S.AWAITING_ENVELOPE, S.CONVENTION_PROPOSED},
        S.WITHDRAWN,
        Actor.PROMOTER,
    ),
    # SYSTEM: the daily job abandons an initiative whose convention stayed unsigned too long.
    Action.ABANDON: _t(
        {S.APPROVED, S.CONVENTION_PROPOSED, S.CONVENTION_SIGNED, S.IN_PROGRESS, S.DELIVERED},
        S.ABANDONED,
        Actor.AGENT,
        Actor.EXECUTIVE,
        Actor.SYSTEM,
    ),
}

# States in which the decision deadline does not run.
PAUSED_STATES = frozenset({S.CHANGES_REQUESTED, S.ON_HOLD})
# States in which the envelope holds money for the initiative.
COMMITTED_STATES = frozenset(
    {S.APPROVED, S.CONVENTION_PROPOSED, S.CONVENTION_SIGNED, S.IN_PROGRESS, S.DELIVERED, S.EVALUATED}
)
# After signature: the convention governs the work, and changes to it are amendments.
SIGNED_STATES = frozenset({S.CONVENTION_SIGNED, S.IN_PROGRESS, S.DELIVERED, S.EVALUATED})
# Outcomes that stay private unless the promoters opt in.
PRIVATE_OUTCOMES = frozenset({S.DECLINED, S.WITHDRAWN})
# States in which the promoters may still edit the proposal itself.
EDITABLE_STATES = frozenset({S.DRAFT, S.CHANGES_REQUESTED})

STATE_LABELS: dict[S, str] = {
    S.DRAFT: N_("brouillon"),
    S.SUBMITTED: N_("déposée"),
    S.IN_REVIEW: N_("en instruction"),
    S.CHANGES_REQUESTED: N_("modifications demandées"),
    S.ON_HOLD: N_("en pause"),
    S.APPROVED: N_("acceptée"),
    S.AWAITING_ENVELOPE: N_("acceptée, en attente de crédits"),
    S.DECLINED: N_("refusée"),
    S.CONVENTION_PROPOSED: N_("convention proposée"),
    S.CONVENTION_SIGNED: N_("convention signée"),
    S.IN_PROGRESS: N_("en cours de réalisation"),
    S.DELIVERED: N_("réalisée"),
    S.EVALUATED: N_("évaluée"),
    S.WITHDRAWN: N_("retirée"),
    S.ABANDONED: N_("abandonnée"),
}


def state_label(state: str) -> str:
    return _(STATE_LABELS[S(state)]) if state in STATE_LABELS else state


def allowed_actions(state: str, actor: Actor) -> list[Action]:
    return [a for a, t in TRANSITIONS.items() if S(state) in t.sources and actor in t.by]


def target_state(state: str, action: Action, actor: Actor) -> S:
    """The state ``action`` leads to, or ``Conflict`` if it is not allowed now for this actor."""
    transition = TRANSITIONS[action]
    if S(state) not in transition.sources or actor not in transition.by:
        raise Conflict(_("Action impossible : l'initiative est « %(state)s ».") % {"state": state_label(state)})
    return transition.target
