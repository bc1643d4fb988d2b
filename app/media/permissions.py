"""Who may change an initiative's photos.

The photos belong to the proposal: they are added and removed while the proposal itself may be
edited (draft, changes requested), by its promoters and the agents. Their text alternatives
may be improved later too, as long as the initiative is not closed: accessibility fixes
should never wait for a new proposal.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.actor import Actor
from app.initiatives import permissions as perm
from app.initiatives.models import Initiative, InitiativeMember
from app.initiatives.models import InitiativeState as S


def acts_for(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    """A promoter of the initiative or an agent of its town."""
    return perm.is_member(actor, initiative, members) or perm.is_agent(actor, initiative.territory_id)


def can_manage_photos(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return perm.can_edit(actor, initiative, members)


def can_describe_photos(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    members = list(members)
    if can_manage_photos(actor, initiative, members):
        return True
    return S(initiative.state) not in perm.CLOSED_STATES and acts_for(actor, initiative, members)


def sees_hidden_photos(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    """A photo hidden by a moderator (app.moderation) stays visible to the initiative's team and the staff."""
    return perm.is_staff(actor, initiative.territory_id) or perm.is_member(actor, initiative, members)
