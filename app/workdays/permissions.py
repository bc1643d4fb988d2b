"""Who may plan a work day, sign up, enter the register, check it and export it (used by the
service, which refuses, and by the templates, which hide the buttons).

Promoters (accepted promoters, co-promoters, the guardian) and the town's agents plan work days
and enter the register; only an agent who is not tied to the initiative checks it (the checked
hours become verified realisations); the export, with personal data, is for the town's staff.
Anyone signed in who may see the initiative signs up while the day is ahead.
"""

from __future__ import annotations

import datetime as dt

from app.accounts.models import Role
from app.core.actor import Actor
from app.followup.permissions import OPEN_STATES
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.review.permissions import Involvement
from app.workdays.models import RegisterState, WorkDay, WorkDayState

# Work days are planned once the convention is signed, and while the work goes on.
PLANNING_STATES = frozenset({S.CONVENTION_SIGNED, S.IN_PROGRESS})
# A register is entered and checked until the evaluation (the last day's after the delivery report).
REGISTER_STATES = OPEN_STATES
# The panel shows the work days from the signature on.
SHOWN_STATES = frozenset({*PLANNING_STATES, S.DELIVERED, S.EVALUATED, S.ABANDONED})


def same_territory(actor: Actor | None, initiative: Initiative) -> bool:
    return actor is not None and actor.territory_id == initiative.territory_id


def is_staff(actor: Actor | None, initiative: Initiative) -> bool:
    return (
        same_territory(actor, initiative)
        and actor is not None
        and actor.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN)
    )


def is_agent(actor: Actor | None, initiative: Initiative) -> bool:
    return same_territory(actor, initiative) and actor is not None and actor.has_role(Role.AGENT)


def organises(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """A promoter of the initiative or an agent of its town: plans the days, enters the registers."""
    return same_territory(actor, initiative) and (involvement.member or is_agent(actor, initiative))


def can_plan(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    return initiative.state in PLANNING_STATES and organises(actor, initiative, involvement)


def can_edit(actor: Actor | None, initiative: Initiative, involvement: Involvement, work_day: WorkDay) -> bool:
    """Date, place and tasks change (or the day is cancelled) until its register is entered."""
    return (
        can_plan(actor, initiative, involvement)
        and work_day.state == WorkDayState.PLANNED
        and work_day.register_state == RegisterState.EMPTY
    )


def sign_up_open(initiative: Initiative, work_day: WorkDay, today: dt.date) -> bool:
    return (
        initiative.state in PLANNING_STATES
        and work_day.state == WorkDayState.PLANNED
        and work_day.register_state == RegisterState.EMPTY
        and work_day.day >= today
    )


def can_sign_up(actor: Actor | None, initiative: Initiative, work_day: WorkDay, today: dt.date) -> bool:
    """A person signed in, of the initiative's town (the caller checked they may see it)."""
    return (
        same_territory(actor, initiative)
        and actor is not None
        and actor.person_id is not None
        and sign_up_open(initiative, work_day, today)
    )


def sees_register(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """Names, minors and hours: the promoters and the town's staff only."""
    return same_territory(actor, initiative) and (involvement.member or is_staff(actor, initiative))


def can_enter_register(
    actor: Actor | None, initiative: Initiative, involvement: Involvement, work_day: WorkDay, today: dt.date
) -> bool:
    return (
        organises(actor, initiative, involvement)
        and initiative.state in REGISTER_STATES
        and work_day.state == WorkDayState.PLANNED
        and work_day.register_state != RegisterState.CHECKED
        and work_day.day <= today
    )


def may_check(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    """An agent of the town who is not tied to the initiative (never a promoter, even one on the staff)."""
    return is_agent(actor, initiative) and not involvement.conflicted


def can_check_register(
    actor: Actor | None, initiative: Initiative, involvement: Involvement, work_day: WorkDay
) -> bool:
    return (
        may_check(actor, initiative, involvement)
        and initiative.state in REGISTER_STATES
        and work_day.state == WorkDayState.PLANNED
        and work_day.register_state == RegisterState.ENTERED
    )


def can_export(actor: Actor | None, initiative: Initiative) -> bool:
    return is_staff(actor, initiative)
