"""The close-out of a delivered initiative: the town's evaluation and the volunteers' survey.

The evaluation is a draft an agent saves as often as needed; finalising it is the workflow's
EVALUATE step (réalisée → évaluée, through ``review.move``: audit entry and timeline), which
freezes it, closes the survey and tells the promoters. One evaluation per initiative (unique).

What is public, once the evaluation is final and the initiative public: whether the goals were
met, the level of the effects on the three axes and the lessons. The comments on the goals and on
each axis, the « À généraliser ? » answer and its comment stay with the promoters and the town's
staff; the survey's results with the staff only, aggregated.

The survey: when an initiative is delivered, the recurring job ``evaluation_surveys`` invites the
people ``survey_people`` names (once each, ``SurveyInvitation`` is unique). One answer per person,
editable until the evaluation is final. The staff see counts and averages (from
``MIN_ANSWERS_SHOWN`` answers, so that a lone answer cannot be recognised) and the comments without
names; a respondent's name only if they ticked that they agree to be named.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.display import public_name
from app.accounts.models import Account, Person
from app.audit import service as audit
from app.config import Settings
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Forbidden, Invalid
from app.db.base import utcnow
from app.evaluation import permissions as perm
from app.evaluation import traces
from app.evaluation import upkeep as upkeep_checks
from app.evaluation.models import (
    Evaluation,
    Generalise,
    GoalsMet,
    Level,
    SurveyAnswer,
    SurveyInvitation,
    UpkeepCheck,
)
from app.followup.models import DeliveryReport
from app.initiatives import workflow
from app.initiatives.models import Initiative, InitiativeMember
from app.initiatives.models import InitiativeState as S
from app.initiatives.permissions import is_public
from app.initiatives.workflow import Action
from app.notifications.kinds import EVALUATION
from app.notifications.service import notify
from app.privacy.export import register_section
from app.review import permissions as review_perm
from app.review import service as review
from app.review.permissions import Involvement
from app.territories.models import Neighbourhood
from app.web.forms import clean_text
from app.web.i18n import N_, _
from app.workdays.models import WorkDay, WorkDayParticipant

TEXT_MAX_LENGTH = 5000
COMMENT_MAX_LENGTH = 2000
# Below this many answers the figures are withheld: with one or two answers, they would name them.
MIN_ANSWERS_SHOWN = 3

GOALS_LABELS: dict[str, str] = {
    GoalsMet.MET: N_("atteints"),
    GoalsMet.PARTLY: N_("atteints en partie"),
    GoalsMet.NOT_MET: N_("non atteints"),
}
LEVEL_LABELS: dict[str, str] = {
    Level.NONE: N_("aucun"),
    Level.LOW: N_("faible"),
    Level.MEDIUM: N_("moyen"),
    Level.HIGH: N_("fort"),
}
GENERALISE_LABELS: dict[str, str] = {
    Generalise.YES: N_("oui"),
    Generalise.NO: N_("non"),
    Generalise.TO_STUDY: N_("à étudier"),
}
AXES: tuple[tuple[str, str], ...] = (
    ("social", N_("Social")),
    ("environmental", N_("Environnemental")),
    ("economic", N_("Économique")),
)
SURVEY_PATH = "/initiatives/{public_id}/questionnaire"


def goals_label(value: str | None) -> str:
    return _(GOALS_LABELS[value]) if value in GOALS_LABELS else ""


def level_label(value: str | None) -> str:
    return _(LEVEL_LABELS[value]) if value in LEVEL_LABELS else ""


def generalise_label(value: str | None) -> str:
    return _(GENERALISE_LABELS[value]) if value in GENERALISE_LABELS else ""


def choices(labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in labels.items()]


# ---------------------------------------------------------------- loading


def involvement(db: Session, actor: Actor | None, initiative: Initiative) -> Involvement:
    if actor is None or actor.territory_id != initiative.territory_id:
        return Involvement()
    return review.involvement_of(db, actor, initiative)


def evaluation_of(db: Session, initiative: Initiative) -> Evaluation | None:
    return db.scalar(
        select(Evaluation).where(
            Evaluation.initiative_id == initiative.id, Evaluation.territory_id == initiative.territory_id
        )
    )


# ---------------------------------------------------------------- writing the evaluation


@dataclass(frozen=True)
class EvaluationInput:
    """The evaluation form's values; blank choices are allowed in a draft, not when finalising."""

    goals_met: str = ""
    goals_comment: str = ""
    social_level: str = ""
    social_comment: str = ""
    environmental_level: str = ""
    environmental_comment: str = ""
    economic_level: str = ""
    economic_comment: str = ""
    lessons: str = ""
    generalise: str = ""
    generalise_comment: str = ""


def _choice(value: str, allowed: type[GoalsMet] | type[Level] | type[Generalise], name: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if value not in {v.value for v in allowed}:
        raise Invalid(_("Choisissez une des valeurs proposées."), field=name)
    return value


def _text(value: str, name: str, limit: int) -> str:
    text = clean_text(value or "")
    if len(text) > limit:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": limit}, field=name)
    return text


def _clean(data: EvaluationInput) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "goals_met": _choice(data.goals_met, GoalsMet, "goals_met"),
        "goals_comment": _text(data.goals_comment, "goals_comment", COMMENT_MAX_LENGTH),
    }
    for axis, _label in AXES:
        values[f"{axis}_level"] = _choice(getattr(data, f"{axis}_level"), Level, f"{axis}_level")
        values[f"{axis}_comment"] = _text(getattr(data, f"{axis}_comment"), f"{axis}_comment", COMMENT_MAX_LENGTH)
    values["lessons"] = _text(data.lessons, "lessons", TEXT_MAX_LENGTH)
    values["generalise"] = _choice(data.generalise, Generalise, "generalise")
    values["generalise_comment"] = _text(data.generalise_comment, "generalise_comment", COMMENT_MAX_LENGTH)
    return values


def _complete(values: dict[str, str | None]) -> None:
    """A final evaluation answers every question (the comments stay optional)."""
    required = ["goals_met", *(f"{axis}_level" for axis, _label in AXES), "lessons", "generalise"]
    for name in required:
        if not values.get(name):
            message = (
                _("Écrivez les enseignements du projet, même en une phrase.")
                if name == "lessons"
                else _("Choisissez une réponse avant de finaliser l'évaluation.")
            )
            raise Invalid(message, field=name)


def _refuse_closed(initiative: Initiative) -> None:
    if initiative.state == S.EVALUATED:
        raise Conflict(_("L'évaluation est finalisée : elle ne change plus."))
    if initiative.state != S.DELIVERED:
        raise Conflict(
            _("L'évaluation commence quand l'initiative est réalisée (elle est « %(state)s »).")
            % {"state": workflow.state_label(initiative.state)}
        )


def _store(db: Session, actor: Actor, initiative: Initiative, values: dict[str, str | None]) -> tuple[Evaluation, bool]:
    evaluation = evaluation_of(db, initiative)
    created = evaluation is None
    if evaluation is None:
        evaluation = Evaluation(
            territory_id=initiative.territory_id, initiative_id=initiative.id, written_by_person_id=actor.person_id
        )
        db.add(evaluation)
    for name, value in values.items():
        setattr(evaluation, name, value)
    evaluation.updated_at = utcnow()
    db.flush()
    return evaluation, created


def save_draft(db: Session, actor: Actor, initiative: Initiative, data: EvaluationInput) -> Evaluation:
    """Saves the evaluation as a draft (staff not tied to the initiative, while it is « réalisée »)."""
    tie = review.visible_involvement(db, actor, initiative)
    if not perm.can_evaluate(actor, initiative, tie):
        if tie.conflicted and perm.is_staff(actor, initiative):
            raise Forbidden(_("Vous êtes porteur·se ou lié·e à cette initiative : vous ne pouvez pas l'évaluer."))
        raise Forbidden(_("Seul·es les agent·es de la commune évaluent les initiatives."))
    review.lock_initiative(db, initiative)
    _refuse_closed(initiative)
    values = _clean(data)
    evaluation, created = _store(db, actor, initiative, values)
    audit.record(
        db, actor, "evaluation.save", "evaluation", evaluation.public_id, territory_id=initiative.territory_id,
        data={"initiative": initiative.public_id, "created": created},
    )  # fmt: skip
    return evaluation


def finalise(
    db: Session, actor: Actor, initiative: Initiative, data: EvaluationInput, *, settings: Settings | None = None
) -> Evaluation:
    """Saves and finalises the evaluation: the EVALUATE step (« réalisée » → « évaluée »), once."""
    capacity = review.acting_capacity(db, actor, initiative, Action.EVALUATE)  # 404, 403 (conflicted), then the lock
    target = workflow.target_state(initiative.state, Action.EVALUATE, capacity)  # 409 unless « réalisée »
    values = _clean(data)
    _complete(values)
    evaluation, _created = _store(db, actor, initiative, values)
    evaluation.finalised_at = utcnow()
    evaluation.finalised_by_person_id = actor.person_id
    db.flush()
    review.move(
        db, actor, initiative, target, Action.EVALUATE,
        data={
            "evaluation": evaluation.public_id,
            "goals_met": evaluation.goals_met,
            **{f"{axis}_level": getattr(evaluation, f"{axis}_level") for axis, _label in AXES},
            "generalise": evaluation.generalise,
        },
    )  # fmt: skip
    review.tell_promoters(
        db,
        actor,
        initiative,
        _("L'évaluation de « %(title)s » est disponible") % {"title": initiative.title},
        _(
            "La commune a fait le bilan de votre projet : objectifs, effets et enseignements. "
            "Vous pouvez le lire sur la page de l'initiative."
        ),
        settings,
    )
    return evaluation


def form_values(evaluation: Evaluation | None) -> dict[str, str]:
    if evaluation is None:
        return {}
    names = ["goals_met", "goals_comment", "lessons", "generalise", "generalise_comment"]
    for axis, _label in AXES:
        names += [f"{axis}_level", f"{axis}_comment"]
    return {name: getattr(evaluation, name) or "" for name in names}


# ---------------------------------------------------------------- reading the evaluation


@dataclass(frozen=True)
class AxisView:
    key: str
    label: str
    level: str
    level_label: str
    comment: str


@dataclass(frozen=True)
class EvaluationView:
    final: bool
    finalised_at: dt.datetime | None
    goals_met: str
    goals_label: str
    goals_comment: str
    axes: list[AxisView]
    lessons: str
    generalise: str
    generalise_label: str
    generalise_comment: str


def evaluation_view(evaluation: Evaluation, *, private: bool) -> EvaluationView:
    """The evaluation as shown; without ``private``, the public summary only (no comment, no « À généraliser ? »)."""
    axes = [
        AxisView(
            key=axis,
            label=_(label),
            level=getattr(evaluation, f"{axis}_level") or "",
            level_label=level_label(getattr(evaluation, f"{axis}_level")),
            comment=getattr(evaluation, f"{axis}_comment") if private else "",
        )
        for axis, label in AXES
    ]
    return EvaluationView(
        final=evaluation.finalised_at is not None,
        finalised_at=evaluation.finalised_at,
        goals_met=evaluation.goals_met or "",
        goals_label=goals_label(evaluation.goals_met),
        goals_comment=evaluation.goals_comment if private else "",
        axes=axes,
        lessons=evaluation.lessons,
        generalise=(evaluation.generalise or "") if private else "",
        generalise_label=generalise_label(evaluation.generalise) if private else "",
        generalise_comment=evaluation.generalise_comment if private else "",
    )


def public_summary(db: Session, initiative: Initiative) -> EvaluationView | None:
    """The public part of a final evaluation of a public initiative (None otherwise)."""
    if not is_public(initiative):
        return None
    evaluation = evaluation_of(db, initiative)
    if evaluation is None or evaluation.finalised_at is None:
        return None
    return evaluation_view(evaluation, private=False)


@dataclass(frozen=True)
class ReportView:
    what_was_done: str
    what_changed: str


@dataclass(frozen=True)
class EvaluationPage:
    initiative: Initiative
    evaluation: EvaluationView | None  # None: nothing written yet, or a draft the viewer may not read
    can_edit: bool
    state_open: bool  # « réalisée »: the evaluation may be written
    conflicted: bool  # staff tied to the initiative: may read, not write
    report: ReportView | None
    survey: SurveyResults | None  # the staff only
    traces: list[traces.TraceRow]  # every fine trace of the initiative, for those who read the log
    can_note_trace: bool


def evaluation_page(db: Session, viewer: Actor, initiative: Initiative) -> EvaluationPage:
    """For the promoters and the town's staff (403 for anyone else who sees the initiative)."""
    tie = review.visible_involvement(db, viewer, initiative)
    if not perm.is_party(viewer, initiative, tie):
        raise Forbidden(_("Le bilan détaillé est réservé aux porteur·ses de projet et à la commune."))
    evaluation = evaluation_of(db, initiative)
    view = None
    if evaluation is not None and (evaluation.finalised_at is not None or perm.can_read_draft(viewer, initiative)):
        view = evaluation_view(evaluation, private=True)
    report = db.execute(
        select(DeliveryReport.what_was_done, DeliveryReport.what_changed).where(
            DeliveryReport.initiative_id == initiative.id, DeliveryReport.territory_id == initiative.territory_id
        )
    ).first()
    return EvaluationPage(
        initiative=initiative,
        evaluation=view,
        can_edit=perm.can_evaluate(viewer, initiative, tie) and initiative.state == S.DELIVERED,
        state_open=initiative.state == S.DELIVERED,
        conflicted=tie.conflicted and perm.is_staff(viewer, initiative),
        report=ReportView(report[0], report[1]) if report is not None else None,
        survey=survey_results(db, initiative) if perm.can_read_survey_results(viewer, initiative) else None,
        traces=traces.of_initiative(db, viewer, initiative)
        if perm.can_read_traces(viewer, initiative.territory_id)
        else [],
        can_note_trace=perm.can_write_traces(viewer, initiative.territory_id),
    )


# ---------------------------------------------------------------- the volunteers' survey


def survey_people(db: Session, initiative: Initiative) -> list[int]:
    """Who is invited to the survey: the people with an account in use who took part, that is the
    accepted members of the initiative (promoters, co-promoters, guardian) and the volunteers the
    register of one of its work days says came. Walk-ins without an account are asked on paper."""
    in_use = (Person.anonymised_at.is_(None), Account.disabled_at.is_(None))
    members = db.scalars(
        select(InitiativeMember.person_id)
        .join(Person, Person.id == InitiativeMember.person_id)
        .join(Account, Account.person_id == Person.id)
        .where(
            InitiativeMember.initiative_id == initiative.id,
            InitiativeMember.territory_id == initiative.territory_id,
            InitiativeMember.accepted_at.is_not(None),
            *in_use,
        )
        .order_by(InitiativeMember.id)
    )
    volunteers = db.scalars(
        select(WorkDayParticipant.person_id)
        .join(WorkDay, WorkDay.id == WorkDayParticipant.work_day_id)
        .join(Person, Person.id == WorkDayParticipant.person_id)
        .join(Account, Account.person_id == Person.id)
        .where(
            WorkDay.initiative_id == initiative.id,
            WorkDay.territory_id == initiative.territory_id,
            WorkDayParticipant.came.is_(True),
            *in_use,
        )
        .order_by(WorkDayParticipant.id)
    )
    return list(dict.fromkeys(pid for pid in [*members, *volunteers] if pid is not None))


def is_invited(db: Session, actor: Actor | None, initiative: Initiative) -> bool:
    return (
        actor is not None
        and actor.person_id is not None
        and actor.territory_id == initiative.territory_id
        and actor.person_id in survey_people(db, initiative)
    )


def survey_open(initiative: Initiative) -> bool:
    return initiative.state == S.DELIVERED


def invite_survey(db: Session, initiative: Initiative, *, settings: Settings | None = None) -> int:
    """Invites the survey's people not invited yet; returns how many (safe to run again)."""
    if not survey_open(initiative):
        return 0
    invited = set(db.scalars(select(SurveyInvitation.person_id).where(SurveyInvitation.initiative_id == initiative.id)))
    new = [pid for pid in survey_people(db, initiative) if pid not in invited]
    for person_id in new:
        db.add(SurveyInvitation(territory_id=initiative.territory_id, initiative_id=initiative.id, person_id=person_id))
        notify(
            db,
            territory_id=initiative.territory_id,
            person_id=person_id,
            kind=EVALUATION.key,
            subject=_("« %(title)s » est réalisée : 2 minutes pour votre avis ?") % {"title": initiative.title},
            body=_(
                "Vous avez participé à ce projet. Dites-nous en 2 minutes comment vous l'avez vécu : "
                "vos réponses aident la commune à faire son bilan et restent anonymes si vous le souhaitez."
            ),
            link=SURVEY_PATH.format(public_id=initiative.public_id),
            settings=settings,
        )
    if new:
        system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
        audit.record(
            db, system, "survey.invite", "initiative", initiative.public_id, territory_id=initiative.territory_id,
            data={"invited": len(new)},
        )  # fmt: skip
    db.flush()
    return len(new)


def send_survey_invitations(db: Session, *, settings: Settings | None = None) -> int:
    """The recurring job: invites the people of every delivered initiative (once each)."""
    initiatives = db.scalars(select(Initiative).where(Initiative.state == S.DELIVERED).order_by(Initiative.id))
    return sum(invite_survey(db, initiative, settings=settings) for initiative in list(initiatives))


@dataclass(frozen=True)
class SurveyInput:
    satisfaction: int
    would_again: bool
    first_time: bool
    comment: str = ""
    named: bool = False


def answer_of(db: Session, initiative: Initiative, person_id: int | None) -> SurveyAnswer | None:
    if person_id is None:
        return None
    return db.scalar(
        select(SurveyAnswer).where(SurveyAnswer.initiative_id == initiative.id, SurveyAnswer.person_id == person_id)
    )


def _require_invited(db: Session, actor: Actor, initiative: Initiative) -> None:
    review.visible_involvement(db, actor, initiative)  # 404 for what the person may not see
    if not is_invited(db, actor, initiative):
        raise Forbidden(_("Ce questionnaire s'adresse aux personnes qui ont participé au projet."))


def survey_form(db: Session, actor: Actor, initiative: Initiative) -> SurveyAnswer | None:
    """The person's answer so far (None before the first); 403 for anyone not invited."""
    _require_invited(db, actor, initiative)
    return answer_of(db, initiative, actor.person_id)


def answer_survey(db: Session, actor: Actor, initiative: Initiative, data: SurveyInput) -> SurveyAnswer:
    """Records (or updates) the person's answer, while the survey is open (409 once the evaluation is final)."""
    _require_invited(db, actor, initiative)
    if not survey_open(initiative):
        raise Conflict(_("Le questionnaire est clos : l'évaluation du projet est finalisée."))
    if not 1 <= data.satisfaction <= 5:
        raise Invalid(_("Choisissez une note de 1 à 5."), field="satisfaction")
    comment = _text(data.comment, "comment", COMMENT_MAX_LENGTH)
    values = {
        "satisfaction": data.satisfaction,
        "would_again": data.would_again,
        "first_time": data.first_time,
        "comment": comment,
        "named": data.named,
    }
    answer = answer_of(db, initiative, actor.person_id)
    edit = answer is not None
    if answer is None:
        answer = SurveyAnswer(
            territory_id=initiative.territory_id, initiative_id=initiative.id, person_id=actor.person_id, **values
        )
        try:
            with db.begin_nested():
                db.add(answer)
                db.flush()
        except IntegrityError:
            # The same person's other tab answered first: this answer updates theirs.
            answer = answer_of(db, initiative, actor.person_id)
            if answer is None:
                raise
            edit = True
    if edit:
        for name, value in values.items():
            setattr(answer, name, value)
        answer.updated_at = utcnow()
        db.flush()
    # The audit entry says that the person answered, never what (the answers may be anonymous).
    audit.record(
        db, actor, "survey.answer", "survey_answer", answer.public_id, territory_id=initiative.territory_id,
        data={"initiative": initiative.public_id, "edit": edit},
    )  # fmt: skip
    return answer


def survey_values(answer: SurveyAnswer | None) -> dict[str, str]:
    if answer is None:
        return {}
    return {
        "satisfaction": str(answer.satisfaction),
        "would_again": "yes" if answer.would_again else "no",
        "first_time": "yes" if answer.first_time else "no",
        "comment": answer.comment,
        "named": "on" if answer.named else "",
    }


@dataclass(frozen=True)
class NamedAnswer:
    name: str
    satisfaction: int
    would_again: bool
    first_time: bool
    comment: str


@dataclass(frozen=True)
class SurveyResults:
    invited: int
    answers: int
    shown: bool  # enough answers for the figures to be shown
    satisfaction_average: Decimal | None
    satisfaction_counts: list[tuple[int, int]]  # (score, how many), 1 to 5
    would_again: int
    first_time: int
    comments: list[str] = field(default_factory=list)  # without names, in alphabetical order
    named: list[NamedAnswer] = field(default_factory=list)


def survey_results(db: Session, initiative: Initiative) -> SurveyResults:
    """Aggregated answers for the staff; names only for those who agreed to be named."""
    invited = len(list(db.scalars(select(SurveyInvitation.id).where(SurveyInvitation.initiative_id == initiative.id))))
    rows = db.execute(
        select(SurveyAnswer, Person)
        .join(Person, Person.id == SurveyAnswer.person_id)
        .where(SurveyAnswer.initiative_id == initiative.id, SurveyAnswer.territory_id == initiative.territory_id)
        .order_by(SurveyAnswer.id)
    ).all()
    answers = [answer for answer, _person in rows]
    shown = len(answers) >= MIN_ANSWERS_SHOWN
    average = None
    if shown:
        average = (Decimal(sum(a.satisfaction for a in answers)) / len(answers)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    named = [
        NamedAnswer(
            name=person.display_name if person.anonymised_at is None else public_name(person),
            satisfaction=answer.satisfaction,
            would_again=answer.would_again,
            first_time=answer.first_time,
            comment=answer.comment,
        )
        for answer, person in rows
        if answer.named and person.anonymised_at is None
    ]
    anonymous = sorted(a.comment for a, person in rows if a.comment and not (a.named and person.anonymised_at is None))
    return SurveyResults(
        invited=invited,
        answers=len(answers),
        shown=shown,
        satisfaction_average=average,
        satisfaction_counts=[(score, sum(1 for a in answers if a.satisfaction == score)) for score in range(1, 6)]
        if shown
        else [],
        would_again=sum(1 for a in answers if a.would_again) if shown else 0,
        first_time=sum(1 for a in answers if a.first_time) if shown else 0,
        comments=anonymous if shown else [],
        named=named,
    )


# ---------------------------------------------------------------- the initiative page's panel


@dataclass(frozen=True)
class EvaluationPanel:
    """The close-out box of the initiative page, for a viewer already known to see the initiative."""

    initiative_public_id: str
    state: str
    summary: EvaluationView | None  # the public summary of a final evaluation
    party: bool  # a promoter or the town's staff: links to the full evaluation and the upkeep page
    can_evaluate: bool
    has_draft: bool
    survey_invited: bool
    survey_open: bool
    survey_answered: bool
    upkeep: upkeep_checks.UpkeepStatusView | None
    traces: list[traces.TraceRow]
    can_note_trace: bool


def panel(db: Session, viewer: Actor | None, initiative: Initiative) -> EvaluationPanel | None:
    """None when there is nothing to show (before delivery, with no published fine trace)."""
    published = traces.published(db, initiative)
    if initiative.state not in perm.CLOSE_OUT_STATES and not published:
        return None
    tie = involvement(db, viewer, initiative)
    party = perm.is_party(viewer, initiative, tie)
    evaluation = evaluation_of(db, initiative) if initiative.state in perm.CLOSE_OUT_STATES else None
    final = evaluation is not None and evaluation.finalised_at is not None
    invited = initiative.state in perm.CLOSE_OUT_STATES and is_invited(db, viewer, initiative)
    return EvaluationPanel(
        initiative_public_id=initiative.public_id,
        state=initiative.state,
        summary=evaluation_view(evaluation, private=False) if evaluation is not None and final else None,
        party=party and initiative.state in perm.CLOSE_OUT_STATES,
        can_evaluate=initiative.state == S.DELIVERED and perm.can_evaluate(viewer, initiative, tie),
        has_draft=evaluation is not None and not final and perm.can_read_draft(viewer, initiative),
        survey_invited=invited,
        survey_open=survey_open(initiative),
        survey_answered=invited and viewer is not None and answer_of(db, initiative, viewer.person_id) is not None,
        upkeep=upkeep_checks.status_view(db, viewer, initiative, tie),
        traces=published,
        can_note_trace=perm.can_write_traces(viewer, initiative.territory_id),
    )


# ---------------------------------------------------------------- the agents' list


@dataclass(frozen=True)
class ToEvaluateRow:
    public_id: str
    title: str
    neighbourhood: str
    delivered_at: dt.datetime | None
    has_draft: bool
    assigned_to_me: bool


@dataclass(frozen=True)
class OpenCheckRow:
    initiative_public_id: str
    title: str
    due_on: dt.date
    overdue: bool


@dataclass(frozen=True)
class WorkList:
    to_evaluate: list[ToEvaluateRow]
    open_checks: list[OpenCheckRow]


def work_list(db: Session, actor: Actor, territory_id: int, today: dt.date) -> WorkList:
    """What the close-out asks of the agents: delivered initiatives to evaluate (oldest delivery
    first) and upkeep checks waiting for an answer (oldest first)."""
    if not review_perm.is_staff(actor) or actor.territory_id != territory_id:
        raise Forbidden(_("Cette page est réservée au personnel habilité de la commune."))
    rows = db.execute(
        select(Initiative, Neighbourhood.name, Evaluation.id)
        .outerjoin(Neighbourhood, Neighbourhood.id == Initiative.neighbourhood_id)
        .outerjoin(Evaluation, Evaluation.initiative_id == Initiative.id)
        .where(Initiative.territory_id == territory_id, Initiative.state == S.DELIVERED)
        .order_by(Initiative.state_changed_at, Initiative.id)
    ).all()
    checks = db.execute(
        select(UpkeepCheck.due_on, Initiative.public_id, Initiative.title)
        .join(Initiative, Initiative.id == UpkeepCheck.initiative_id)
        .where(
            UpkeepCheck.territory_id == territory_id,
            UpkeepCheck.answered_at.is_(None),
            Initiative.state == S.EVALUATED,
        )
        .order_by(UpkeepCheck.due_on, UpkeepCheck.id)
    ).all()
    overdue_after = dt.timedelta(days=upkeep_checks.OVERDUE_DAYS)
    return WorkList(
        to_evaluate=[
            ToEvaluateRow(
                public_id=initiative.public_id,
                title=initiative.title,
                neighbourhood=hood or "",
                delivered_at=initiative.state_changed_at,
                has_draft=evaluation_id is not None,
                assigned_to_me=initiative.assigned_agent_person_id is not None
                and initiative.assigned_agent_person_id == actor.person_id,
            )
            for initiative, hood, evaluation_id in rows
        ],
        open_checks=[
            OpenCheckRow(initiative_public_id=pid, title=title, due_on=due, overdue=today >= due + overdue_after)
            for due, pid, title in checks
        ],
    )


# ---------------------------------------------------------------- personal data


@register_section("survey_answers")
def _survey_answers(db: Session, person: Person) -> list[dict[str, Any]]:
    """The person's answers to the volunteers' surveys, with the initiative they are about."""
    rows = db.execute(
        select(SurveyAnswer, Initiative.public_id, Initiative.title)
        .join(Initiative, Initiative.id == SurveyAnswer.initiative_id)
        .where(SurveyAnswer.person_id == person.id, SurveyAnswer.territory_id == person.territory_id)
        .order_by(SurveyAnswer.id)
    )
    return [
        {
            "initiative": public_id,
            "initiative_title": title,
            "satisfaction": answer.satisfaction,
            "would_again": answer.would_again,
            "first_time": answer.first_time,
            "comment": answer.comment,
            "named": answer.named,
            "answered_at": (answer.updated_at or answer.created_at).isoformat(),
        }
        for answer, public_id, title in rows
    ]
