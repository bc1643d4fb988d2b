"""Who may do what in the follow-up of a signed initiative (used by the services and the templates).

Two capacities, as in the review: the promoters (accepted promoters, co-promoters and the
guardian) act for the residents' side; the town's staff who are not tied to the initiative (the
review's ``can_review``) act for every side and are the only ones who verify. Proofs are private
to both: a resident of another initiative, or anyone of another town, gets a 404.
"""

from __future__ import annotations

from app.core.actor import Actor
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.ledger.models import Side
from app.review import permissions as review_perm
from app.review.permissions import Involvement

# The follow-up runs from the signature until the evaluation: milestones, realisations and proofs
# are written in these states, and read in every state after the signature.
OPEN_STATES = frozenset({S.CONVENTION_SIGNED, S.IN_PROGRESS, S.DELIVERED})
SHOWN_STATES = frozenset({*OPEN_STATES, S.EVALUATED, S.ABANDONED})
PROMOTER_SIDES = frozenset({Side.RESIDENTS})


def same_territory(actor: Actor | None, initiative: Initiative) -> bool:
    return actor is not None and actor.territory_id == initiative.territory_id


def acts_for_town(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """An agent (or the executive, or an admin) of the initiative's town who is not tied to it."""
    return actor is not None and same_territory(actor, initiative) and review_perm.can_review(actor, involvement)


def acts_for_residents(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    return same_territory(actor, initiative) and involvement.member


def is_party(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """One of the promoters, or the town's staff: the people the follow-up's private parts are for."""
    if not same_territory(actor, initiative) or actor is None:
        return False
    return involvement.member or review_perm.is_staff(actor)


def is_open(initiative: Initiative) -> bool:
    return S(initiative.state) in OPEN_STATES


def may_write_side(actor: Actor | None, initiative: Initiative, involvement: Involvement, side: str) -> bool:
    """Whether the person may write milestones or realisations on ``side`` (whatever the state)."""
    if acts_for_town(actor, initiative, involvement):
        return True
    return side in PROMOTER_SIDES and acts_for_residents(actor, initiative, involvement)


def can_write_side(actor: Actor | None, initiative: Initiative, involvement: Involvement, side: str) -> bool:
    return is_open(initiative) and may_write_side(actor, initiative, involvement, side)


def writable_sides(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> list[str]:
    if not is_open(initiative):
        return []
    return [s.value for s in Side if may_write_side(actor, initiative, involvement, s)]


def can_verify(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """Only the town verifies what was delivered; a promoter never does (even one who is also staff)."""
    return S(initiative.state) in OPEN_STATES and acts_for_town(actor, initiative, involvement)
