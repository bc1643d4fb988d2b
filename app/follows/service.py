"""Following an initiative, and telling its followers what happens to it.

The followers of an initiative are its promoters (implicitly) and the residents who chose
« Suivre »: ``followers_of`` is the one place that says so, for every domain that tells them
something (progress updates here, work days and commitments elsewhere). Following and
unfollowing are idempotent; who follows what is never shown to anyone but the person, only
the count is public.

``tell_state_change`` is called by ``app.review.service.move`` for the steps after the
signature: the followers who are not promoters hear of them (each workflow step tells the
promoters itself, as every step of the review does).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Person
from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Forbidden
from app.follows import permissions as follow_perm
from app.follows.models import InitiativeFollow
from app.initiatives import permissions as perm
from app.initiatives import service as initiatives
from app.initiatives import workflow as wf
from app.initiatives.models import Initiative, InitiativeMember
from app.initiatives.models import InitiativeState as S
from app.notifications.kinds import FOLLOWED_INITIATIVES
from app.privacy.export import register_section
from app.web.i18n import _

# The steps after which followers hear from the initiative (its promoters are told by the step).
TOLD_STATES = frozenset({S.IN_PROGRESS, S.DELIVERED, S.EVALUATED, S.ABANDONED})


class Outcome(enum.StrEnum):
    FOLLOWED = "followed"
    UNFOLLOWED = "unfollowed"
    UNCHANGED = "unchanged"  # already so: a double click changes nothing
    PROMOTER = "promoter"  # promoters follow their initiative without a row


# ---------------------------------------------------------------- who follows


def _acting_members(initiative_id: int) -> Any:
    return select(InitiativeMember.person_id).where(
        InitiativeMember.initiative_id == initiative_id,
        InitiativeMember.person_id.is_not(None),
        InitiativeMember.accepted_at.is_not(None),
        InitiativeMember.role.in_([r.value for r in perm.ACTING_ROLES]),
    )


def followers_of(db: Session, initiative: Initiative) -> list[int]:
    """The person ids of the initiative's followers: its promoters and those who chose to follow
    it, once each, erased accounts left out (one query)."""
    explicit = select(InitiativeFollow.person_id).where(
        InitiativeFollow.initiative_id == initiative.id, InitiativeFollow.territory_id == initiative.territory_id
    )
    return list(
        db.scalars(
            select(Person.id)
            .where(
                Person.territory_id == initiative.territory_id,
                Person.anonymised_at.is_(None),
                or_(Person.id.in_(_acting_members(initiative.id)), Person.id.in_(explicit)),
            )
            .order_by(Person.id)
        )
    )


def follower_count(db: Session, initiative: Initiative) -> int:
    return len(followers_of(db, initiative))


def _row(db: Session, initiative: Initiative, person_id: int) -> InitiativeFollow | None:
    return db.scalar(
        select(InitiativeFollow).where(
            InitiativeFollow.initiative_id == initiative.id, InitiativeFollow.person_id == person_id
        )
    )


# ---------------------------------------------------------------- following


def _require_resident(actor: Actor, territory_id: int) -> int:
    if not follow_perm.is_resident(actor, territory_id) or actor.person_id is None:
        raise Forbidden(_("Connectez-vous avec un compte de cette commune pour suivre une initiative."))
    return actor.person_id


def follow(db: Session, actor: Actor, territory_id: int, public_id: str) -> Outcome:
    """The actor follows the initiative (404 if they may not see it); nothing changes if they already do."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    person_id = _require_resident(actor, territory_id)
    if follow_perm.follows_implicitly(actor, initiative, members):
        return Outcome.PROMOTER
    if _row(db, initiative, person_id) is not None:
        return Outcome.UNCHANGED
    try:
        with db.begin_nested():
            db.add(InitiativeFollow(territory_id=territory_id, initiative_id=initiative.id, person_id=person_id))
            db.flush()
    except IntegrityError:  # a parallel click committed first: the person follows, as asked
        return Outcome.UNCHANGED
    # Filed under the person, like their notification choices: the initiative's history never names followers.
    audit.record(
        db, actor, "follow.follow", "person", person_id, territory_id=territory_id,
        data={"initiative": initiative.public_id},
    )  # fmt: skip
    return Outcome.FOLLOWED


def unfollow(db: Session, actor: Actor, territory_id: int, public_id: str) -> Outcome:
    """The actor stops following; nothing changes if they did not follow. A promoter cannot stop."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    person_id = _require_resident(actor, territory_id)
    if follow_perm.follows_implicitly(actor, initiative, members):
        return Outcome.PROMOTER
    removed = db.execute(
        delete(InitiativeFollow).where(
            InitiativeFollow.initiative_id == initiative.id, InitiativeFollow.person_id == person_id
        )
    )
    if not getattr(removed, "rowcount", 0):
        return Outcome.UNCHANGED
    db.flush()
    audit.record(
        db, actor, "follow.unfollow", "person", person_id, territory_id=territory_id,
        data={"initiative": initiative.public_id},
    )  # fmt: skip
    return Outcome.UNFOLLOWED


# ---------------------------------------------------------------- telling followers


def tell_followers(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    subject: str,
    body: str,
    *,
    link: str = "",
    skip: Iterable[int] = (),
    settings: Settings | None = None,
) -> list[int]:
    """Notifies every follower but the actor (and ``skip``), per their preferences; returns who was told."""
    from app.notifications.service import notify

    left_out = {*skip, actor.person_id}
    told: list[int] = []
    for person_id in followers_of(db, initiative):
        if person_id in left_out:
            continue
        notify(
            db,
            territory_id=initiative.territory_id,
            person_id=person_id,
            kind=FOLLOWED_INITIATIVES.key,
            subject=subject,
            body=body,
            link=link or f"/initiatives/{initiative.public_id}",
            settings=settings,
        )
        told.append(person_id)
    return told


def _state_message(initiative: Initiative, target: S) -> tuple[str, str]:
    title = {"title": initiative.title}
    if target == S.IN_PROGRESS:
        return (
            _("Les travaux de « %(title)s » commencent") % title,
            _("L'initiative que vous suivez est en cours de réalisation. Son avancement est publié sur sa page."),
        )
    if target == S.DELIVERED:
        return (
            _("« %(title)s » est réalisée") % title,
            _("Les porteur·ses de projet ont terminé la réalisation de l'initiative que vous suivez."),
        )
    if target == S.EVALUATED:
        return (
            _("« %(title)s » est évaluée") % title,
            _("La commune a évalué avec les porteur·ses de projet l'initiative que vous suivez."),
        )
    return (
        _("L'initiative « %(title)s » est abandonnée") % title,
        _("L'initiative que vous suivez ne sera pas menée à son terme."),
    )


def tell_state_change(
    db: Session, actor: Actor, initiative: Initiative, target: S, *, settings: Settings | None = None
) -> list[int]:
    """Tells the followers who are not promoters that the initiative reached ``target`` (after signature)."""
    if target not in TOLD_STATES or not perm.is_public(initiative):
        return []
    promoters = set(db.scalars(_acting_members(initiative.id)))
    subject, body = _state_message(initiative, target)
    skip = {p for p in promoters if p is not None}
    return tell_followers(db, actor, initiative, subject, body, skip=skip, settings=settings)


# ---------------------------------------------------------------- what pages show


@dataclass(frozen=True)
class FollowBox:
    initiative_public_id: str
    count: int
    signed_in: bool
    can_follow: bool
    following: bool  # explicitly
    implicit: bool  # a promoter of the initiative


def box_for(
    db: Session, actor: Actor | None, initiative: Initiative, members: Sequence[InitiativeMember] | None = None
) -> FollowBox:
    """The follow button and count for an initiative already known to be visible to the actor."""
    if members is None:
        members = list(db.scalars(select(InitiativeMember).where(InitiativeMember.initiative_id == initiative.id)))
    following = False
    if follow_perm.is_resident(actor, initiative.territory_id) and actor is not None and actor.person_id is not None:
        following = _row(db, initiative, actor.person_id) is not None
    return FollowBox(
        initiative_public_id=initiative.public_id,
        count=follower_count(db, initiative),
        signed_in=actor is not None,
        can_follow=follow_perm.can_follow(actor, initiative, members),
        following=following,
        implicit=follow_perm.follows_implicitly(actor, initiative, members),
    )


def box(db: Session, actor: Actor | None, territory_id: int, public_id: str) -> FollowBox:
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    return box_for(db, actor, initiative, members)


@dataclass(frozen=True)
class FollowedRow:
    public_id: str
    title: str
    state_label: str
    since: dt.datetime


def my_follows(db: Session, actor: Actor, territory_id: int) -> list[FollowedRow]:
    """The initiatives the actor chose to follow and may still see, latest followed first (one query)."""
    if not follow_perm.is_resident(actor, territory_id):
        return []
    rows = db.execute(
        select(Initiative.public_id, Initiative.title, Initiative.state, InitiativeFollow.created_at)
        .join(InitiativeFollow, InitiativeFollow.initiative_id == Initiative.id)
        .where(
            InitiativeFollow.person_id == actor.person_id,
            InitiativeFollow.territory_id == territory_id,
            Initiative.territory_id == territory_id,
            perm.visible_clause(actor, territory_id),
        )
        .order_by(InitiativeFollow.created_at.desc(), InitiativeFollow.id.desc())
    ).all()
    return [FollowedRow(r[0], r[1], wf.state_label(r[2]), r[3]) for r in rows]


# ---------------------------------------------------------------- personal data


@register_section("followed_initiatives")
def _followed(db: Session, person: Person) -> list[dict[str, Any]]:
    rows = db.execute(
        select(Initiative.public_id, Initiative.title, InitiativeFollow.created_at)
        .join(InitiativeFollow, InitiativeFollow.initiative_id == Initiative.id)
        .where(InitiativeFollow.person_id == person.id, InitiativeFollow.territory_id == person.territory_id)
        .order_by(InitiativeFollow.id)
    )
    return [{"initiative": p, "title": t, "since": since.isoformat()} for p, t, since in rows]
