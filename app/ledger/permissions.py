"""Who may see and write an initiative's ledger, by role, side and state (used by the service and
the templates, so that what the page offers and what the server allows cannot drift apart)."""

from __future__ import annotations

from app.accounts.models import Role
from app.core.actor import Actor
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.initiatives.workflow import COMMITTED_STATES, EDITABLE_STATES, PRIVATE_OUTCOMES
from app.ledger.models import CommitmentLine, LineState, Side

# Promoters complete their side while preparing the proposal and while it is reviewed.
PROMOTER_WRITABLE_STATES = frozenset({*EDITABLE_STATES, S.SUBMITTED, S.IN_REVIEW})
# Agents complete every side until the decision.
AGENT_WRITABLE_STATES = frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.ON_HOLD})
# A pledge confirmed (a partner's letter, a purchase order) changes no value: agents record it
# during the review and after the decision too.
SECURABLE_STATES = frozenset({*AGENT_WRITABLE_STATES, S.AWAITING_ENVELOPE, *COMMITTED_STATES})
PROMOTER_SIDES = frozenset({Side.RESIDENTS, Side.PARTNERS})


def is_staff(actor: Actor | None, initiative: Initiative) -> bool:
    """An agent or the executive of the initiative's territory."""
    return (
        actor is not None
        and actor.territory_id == initiative.territory_id
        and actor.has_any_role(Role.AGENT, Role.EXECUTIVE)
    )


def _sees_everything(actor: Actor | None, initiative: Initiative) -> bool:
    return (
        actor is not None
        and actor.territory_id == initiative.territory_id
        and actor.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN, Role.COUNCIL_MEMBER)
    )


def is_private(initiative: Initiative) -> bool:
    if initiative.state == S.DRAFT:
        return True
    return initiative.state in PRIVATE_OUTCOMES and not initiative.public_despite_outcome


def can_see_ledger(actor: Actor | None, initiative: Initiative, *, is_member: bool) -> bool:
    return is_member or _sees_everything(actor, initiative) or not is_private(initiative)


def may_write_side(actor: Actor | None, initiative: Initiative, side: str, *, is_member: bool) -> bool:
    """Whether the person may ever write this side (whatever the state)."""
    if is_staff(actor, initiative):
        return True
    return is_member and side in PROMOTER_SIDES


def ledger_open(actor: Actor | None, initiative: Initiative, *, is_member: bool) -> bool:
    """Whether the state still lets this person write (after the decision the ledger is frozen)."""
    if is_staff(actor, initiative):
        return initiative.state in AGENT_WRITABLE_STATES
    return is_member and initiative.state in PROMOTER_WRITABLE_STATES


def can_add_line(actor: Actor | None, initiative: Initiative, side: str, *, is_member: bool) -> bool:
    return may_write_side(actor, initiative, side, is_member=is_member) and ledger_open(
        actor, initiative, is_member=is_member
    )


def can_cancel_line(actor: Actor | None, initiative: Initiative, line: CommitmentLine, *, is_member: bool) -> bool:
    return line.state != LineState.CANCELLED and can_add_line(actor, initiative, line.side, is_member=is_member)


def can_secure_line(actor: Actor | None, initiative: Initiative, line: CommitmentLine) -> bool:
    return line.state == LineState.PLEDGED and is_staff(actor, initiative) and initiative.state in SECURABLE_STATES
