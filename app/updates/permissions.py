"""Who may post, change and see the progress updates of an initiative.

Promoters and the town's agents post news once the convention is signed, until the project is
evaluated. The author or the town's staff change or delete an update later, in any state: a
photo must always be removable. Photos without the agreement of the people they show are seen
by the promoters and the staff only, and so are the updates and photos an agent hid
(app.moderation). Anyone else may report what they see.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.actor import Actor
from app.initiatives import permissions as perm
from app.initiatives.models import Initiative, InitiativeMember
from app.initiatives.models import InitiativeState as S
from app.initiatives.workflow import SIGNED_STATES
from app.media import permissions as media_perm
from app.updates.models import ProgressUpdate


def acts_for(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    """A promoter of the initiative or an agent of its town."""
    return media_perm.acts_for(actor, initiative, members)


def is_open(initiative: Initiative) -> bool:
    return S(initiative.state) in SIGNED_STATES


def can_post(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return is_open(initiative) and acts_for(actor, initiative, members)


def sees_private_photos(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return perm.can_see_private_details(actor, initiative, members)


def can_change(actor: Actor | None, initiative: Initiative, update: ProgressUpdate) -> bool:
    if actor is None or actor.territory_id != initiative.territory_id:
        return False
    if perm.is_staff(actor, initiative.territory_id):
        return True
    return actor.person_id is not None and actor.person_id == update.author_person_id


def sees_hidden(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    """Updates and photos hidden by a moderator stay visible, marked, to the team and the staff."""
    return perm.can_see_private_details(actor, initiative, members)


def offers_report(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    """« Signaler » on the updates of a public initiative, for anyone but its team (the staff moderate)."""
    members = list(members)
    # is_public last: it asks the database whether the initiative is hidden.
    return not sees_hidden(actor, initiative, members) and perm.is_public(initiative)
