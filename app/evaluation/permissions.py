"""Who may see and do what after delivery: plain functions used by the services (which refuse)
and the templates (which hide the buttons).

- The evaluation is written by the town's staff who are not tied to the initiative (the review's
  ``can_review``); the promoters and the staff read it once final (staff read the drafts too).
  Anyone who may see a public initiative reads its public summary once final.
- The survey is answered by the people ``service.survey_people`` names, while the initiative is
  delivered and its evaluation not final; only the staff read the results, aggregated.
- The fines traces log is for the staff and the council members; only the staff write in it.
  A trace marked publishable (never one about a minor) is shown on its initiative's page.
- An upkeep check is answered by a promoter or an agent not tied to the initiative.
"""

from __future__ import annotations

from app.accounts.models import Role
from app.core.actor import Actor
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.review import permissions as review_perm
from app.review.permissions import Involvement

# The states in which the close-out exists: the survey runs while delivered, upkeep after evaluation.
CLOSE_OUT_STATES = frozenset({S.DELIVERED, S.EVALUATED})
TRACE_READ_ROLES = (Role.AGENT, Role.EXECUTIVE, Role.ADMIN, Role.COUNCIL_MEMBER)


def same_territory(actor: Actor | None, territory_id: int) -> bool:
    return actor is not None and actor.territory_id == territory_id


def is_staff(actor: Actor | None, initiative: Initiative) -> bool:
    return actor is not None and same_territory(actor, initiative.territory_id) and review_perm.is_staff(actor)


def is_party(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """A promoter, or the town's staff: the people the close-out's private parts are for."""
    if actor is None or not same_territory(actor, initiative.territory_id):
        return False
    return involvement.member or review_perm.is_staff(actor)


def can_evaluate(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """Writing the evaluation (whatever the state; the service answers 409 out of « réalisée »)."""
    return (
        actor is not None
        and same_territory(actor, initiative.territory_id)
        and review_perm.can_review(actor, involvement)
    )


def can_read_draft(actor: Actor | None, initiative: Initiative) -> bool:
    return is_staff(actor, initiative)


def can_read_survey_results(actor: Actor | None, initiative: Initiative) -> bool:
    return is_staff(actor, initiative)


def can_read_traces(actor: Actor | None, territory_id: int) -> bool:
    return actor is not None and same_territory(actor, territory_id) and actor.has_any_role(*TRACE_READ_ROLES)


def can_write_traces(actor: Actor | None, territory_id: int) -> bool:
    return actor is not None and same_territory(actor, territory_id) and review_perm.is_staff(actor)


def can_answer_upkeep(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    if actor is None or not same_territory(actor, initiative.territory_id):
        return False
    return involvement.member or review_perm.can_review(actor, involvement)
