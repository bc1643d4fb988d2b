"""Who may see and do what on an initiative: plain functions used by the service and the templates.

Promoters (accepted promoter, co-promoters and the guardian) and the territory's staff see
everything; everyone else sees only public initiatives. What a person may not see answers 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import object_session

from app.accounts.models import Role
from app.core.actor import Actor
from app.initiatives.models import Initiative, InitiativeMember, MemberRole
from app.initiatives.models import InitiativeState as S
from app.initiatives.workflow import EDITABLE_STATES, PRIVATE_OUTCOMES, TRANSITIONS, Action
from app.moderation.models import SubjectType
from app.moderation.visibility import hidden_clause
from app.moderation.visibility import is_hidden as _is_hidden

# Approved and later: the town backed the project, it is public.
PUBLIC_STATES = frozenset(
    {
        S.APPROVED,
        S.AWAITING_ENVELOPE,
        S.CONVENTION_PROPOSED,
        S.CONVENTION_SIGNED,
        S.IN_PROGRESS,
        S.DELIVERED,
        S.EVALUATED,
        S.ABANDONED,
    }
)
# Once finished or given up, nobody joins an initiative any more.
CLOSED_STATES = frozenset({S.WITHDRAWN, S.ABANDONED})
# Members who act for the initiative (the guardian signs for a minor-led one).
ACTING_ROLES = frozenset({MemberRole.PROMOTER, MemberRole.CO_PROMOTER, MemberRole.GUARDIAN})
PROMOTER_ROLES = frozenset({MemberRole.PROMOTER, MemberRole.CO_PROMOTER})


def is_staff(actor: Actor | None, territory_id: int) -> bool:
    return (
        actor is not None
        and actor.territory_id == territory_id
        and actor.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN)
    )


def is_agent(actor: Actor | None, territory_id: int) -> bool:
    return actor is not None and actor.territory_id == territory_id and actor.has_role(Role.AGENT)


def is_public_by_state(initiative: Initiative) -> bool:
    """Public by its state alone, before any moderation."""
    state = S(initiative.state)
    return state in PUBLIC_STATES or (state in PRIVATE_OUTCOMES and initiative.public_despite_outcome)


def is_hidden(initiative: Initiative) -> bool:
    """Hidden from the public by an agent (app.moderation): its team and the staff still see it."""
    db = object_session(initiative)
    # An initiative that is not attached to a session was built in memory, never hidden.
    return db is not None and _is_hidden(db, SubjectType.INITIATIVE, initiative.public_id)


def is_public(initiative: Initiative) -> bool:
    return is_public_by_state(initiative) and not is_hidden(initiative)


def acting_person_ids(members: Iterable[InitiativeMember]) -> set[int]:
    return {
        m.person_id for m in members if m.person_id is not None and m.accepted_at is not None and m.role in ACTING_ROLES
    }


def is_member(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return (
        actor is not None
        and actor.person_id is not None
        and actor.territory_id == initiative.territory_id
        and actor.person_id in acting_person_ids(members)
    )


def can_view(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    # is_public last: it may ask the database whether the initiative is hidden.
    return is_staff(actor, initiative.territory_id) or is_member(actor, initiative, members) or is_public(initiative)


def can_see_private_details(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    """Real names, pending invitations, the beneficiary's identifiers."""
    return is_staff(actor, initiative.territory_id) or is_member(actor, initiative, members)


def can_edit(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    if S(initiative.state) not in EDITABLE_STATES:
        return False
    return is_member(actor, initiative, members) or is_agent(actor, initiative.territory_id)


def can_submit(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return initiative.state == S.DRAFT and (
        is_member(actor, initiative, members) or is_agent(actor, initiative.territory_id)
    )


# Promoters may withdraw until the convention is signed; after that, only the town abandons.
WITHDRAWABLE = TRANSITIONS[Action.WITHDRAW].sources


def can_withdraw(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return S(initiative.state) in WITHDRAWABLE and is_member(actor, initiative, members)


def can_rework(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return initiative.state == S.DECLINED and is_member(actor, initiative, members)


def can_manage_members(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    if S(initiative.state) in CLOSED_STATES:
        return False
    return is_member(actor, initiative, members) or is_agent(actor, initiative.territory_id)


def can_add_contact(actor: Actor | None, initiative: Initiative) -> bool:
    return S(initiative.state) not in CLOSED_STATES and is_agent(actor, initiative.territory_id)


def visible_clause(actor: Actor, territory_id: int) -> ColumnElement[bool]:
    """The SQL form of ``can_view``: public initiatives, those the
    person acts for, and everything for the territory's staff."""
    if is_staff(actor, territory_id):
        return true()
    public = and_(
        or_(
            Initiative.state.in_([s.value for s in PUBLIC_STATES]),
            and_(
                Initiative.state.in_([s.value for s in PRIVATE_OUTCOMES]), Initiative.public_despite_outcome.is_(True)
            ),
        ),
        ~hidden_clause(SubjectType.INITIATIVE, Initiative.public_id),
    )
    if actor.person_id is None or actor.territory_id != territory_id:
        return public
    mine = select(InitiativeMember.initiative_id).where(
        InitiativeMember.person_id == actor.person_id,
        InitiativeMember.accepted_at.is_not(None),
        InitiativeMember.role.in_([r.value for r in ACTING_ROLES]),
    )
    return or_(public, Initiative.id.in_(mine))
