"""Who may follow an initiative: a signed-in person of its town who may see it.

Its promoters (promoter, co-promoters, guardian) follow it without asking: they never need a
button, and cannot stop following the project they carry.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.actor import Actor
from app.initiatives import permissions as perm
from app.initiatives.models import Initiative, InitiativeMember


def is_resident(actor: Actor | None, territory_id: int) -> bool:
    return actor is not None and actor.person_id is not None and actor.territory_id == territory_id


def follows_implicitly(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    return perm.is_member(actor, initiative, members)


def can_follow(actor: Actor | None, initiative: Initiative, members: Iterable[InitiativeMember]) -> bool:
    members = list(members)
    return (
        is_resident(actor, initiative.territory_id)
        and perm.can_view(actor, initiative, members)
        and not follows_implicitly(actor, initiative, members)
    )
