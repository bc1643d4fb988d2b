"""Who may see and do what on a petition: plain functions used by the services and the templates.

Open and closed petitions are public; a draft, a submitted, rejected or withdrawn one is seen by
its author and the territory's staff only (anyone else gets 404). Agents moderate and draft
answers, the executive publishes them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from app.accounts.models import Role
from app.core.actor import Actor
from app.moderation.visibility import hidden_clause
from app.petitions.models import Petition, PetitionKind, PetitionState
from app.petitions.subjects import PETITION

PUBLIC_STATES = frozenset({PetitionState.OPEN, PetitionState.CLOSED})
EDITABLE_STATES = frozenset({PetitionState.DRAFT})
WITHDRAWABLE_STATES = frozenset({PetitionState.DRAFT, PetitionState.SUBMITTED})


def _in_territory(actor: Actor | None, territory_id: int) -> bool:
    return actor is not None and actor.territory_id == territory_id


def is_staff(actor: Actor | None, territory_id: int) -> bool:
    return (
        _in_territory(actor, territory_id)
        and actor is not None
        and actor.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN)
    )


def is_agent(actor: Actor | None, territory_id: int) -> bool:
    return _in_territory(actor, territory_id) and actor is not None and actor.has_role(Role.AGENT)


def is_executive(actor: Actor | None, territory_id: int) -> bool:
    return _in_territory(actor, territory_id) and actor is not None and actor.has_role(Role.EXECUTIVE)


def is_author(actor: Actor | None, petition: Petition) -> bool:
    return (
        _in_territory(actor, petition.territory_id)
        and actor is not None
        and actor.person_id is not None
        and actor.person_id == petition.author_person_id
    )


def is_public(petition: Petition) -> bool:
    return petition.state in PUBLIC_STATES


def can_view(actor: Actor | None, petition: Petition) -> bool:
    if is_public(petition) or is_author(actor, petition):
        return True
    return is_staff(actor, petition.territory_id) and petition.state != PetitionState.DRAFT


def sees_despite_hidden(actor: Actor | None, petition: Petition) -> bool:
    """A petition an agent hid stays visible to its author and the territory's staff (with the reason)."""
    return is_author(actor, petition) or is_staff(actor, petition.territory_id)


def can_report(actor: Actor | None, petition: Petition, hidden: bool) -> bool:
    """Anyone who sees a published petition may report it, except its author."""
    return is_public(petition) and not hidden and not is_author(actor, petition)


def can_start(actor: Actor | None, territory_id: int) -> bool:
    """Any registered resident of the territory (minors included) may start a petition."""
    return _in_territory(actor, territory_id) and actor is not None and actor.person_id is not None


def can_edit(actor: Actor | None, petition: Petition) -> bool:
    return petition.state in EDITABLE_STATES and is_author(actor, petition)


def can_submit(actor: Actor | None, petition: Petition) -> bool:
    return petition.state == PetitionState.DRAFT and is_author(actor, petition)


def can_withdraw(actor: Actor | None, petition: Petition) -> bool:
    return petition.state in WITHDRAWABLE_STATES and is_author(actor, petition)


def can_moderate(actor: Actor | None, petition: Petition) -> bool:
    """Publish or reject a submitted petition: the territory's agents."""
    return petition.state == PetitionState.SUBMITTED and is_agent(actor, petition.territory_id)


def can_draft_answer(actor: Actor | None, petition: Petition, published: bool) -> bool:
    return is_public(petition) and not published and is_agent(actor, petition.territory_id)


def can_publish_answer(actor: Actor | None, petition: Petition, published: bool) -> bool:
    return is_public(petition) and not published and is_executive(actor, petition.territory_id)


def can_convert(actor: Actor | None, petition: Petition) -> bool:
    """Turn a civic petition into a fifty-fifty initiative: its author or an agent, once."""
    return (
        petition.kind == PetitionKind.CIVIC
        and is_public(petition)
        and petition.converted_initiative_id is None
        and (is_author(actor, petition) or is_agent(actor, petition.territory_id))
    )


def visible_clause(actor: Actor | None, territory_id: int) -> ColumnElement[bool]:
    """The SQL form of ``can_view`` and of ``sees_despite_hidden`` (for lists and the similar search)."""
    public = and_(Petition.state.in_([s.value for s in PUBLIC_STATES]), ~hidden_clause(PETITION, Petition.public_id))
    mine = (
        Petition.author_person_id == actor.person_id
        if actor is not None and actor.person_id is not None and actor.territory_id == territory_id
        else None
    )
    if is_staff(actor, territory_id):
        staff = Petition.state != PetitionState.DRAFT.value
        return or_(staff, mine) if mine is not None else staff
    return or_(public, mine) if mine is not None else public
