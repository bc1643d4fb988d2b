"""Telling people things: stored notifications, e-mail now or in a digest, or an agent's task.

``notify`` is what other domains call. The person's preference for the kind decides:
immediate (an e-mail at once), daily or weekly (gathered by the digest jobs), never (kept,
visible in their space). A person without a usable e-mail address (a contact kept by agents)
is not shut out: the message becomes a task for an agent (a call or a letter).

Every e-mail carries a one-click unsubscribe link (RFC 8058) signed with the secret key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Account, Person
from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Invalid, NotFound
from app.db.base import utcnow
from app.jobs.registry import job_settings
from app.mail.service import queue_email
from app.notifications.kinds import (
    DEFAULT_FREQUENCY,
    DIGEST_FREQUENCIES,
    Frequency,
    NotificationKind,
    all_kinds,
    get_kind,
)
from app.notifications.models import Notification, NotificationPreference
from app.territories.models import Territory, TerritoryHost
from app.web.i18n import _, ngettext, use_locale

PREFERENCES_PATH = "/mon-espace/notifications"
UNSUBSCRIBE_PATH = "/desabonnement"
# Unsubscribe tokens for a digest name the digest rather than one kind.
DIGEST_PREFIX = "digest:"


# ---------------------------------------------------------------- links and tokens


def territory_base_url(db: Session, territory_id: int, settings: Settings) -> str:
    """``scheme://host`` of the territory's first host name, for links in e-mails sent by jobs."""
    host = db.scalar(
        select(TerritoryHost.host).where(TerritoryHost.territory_id == territory_id).order_by(TerritoryHost.id).limit(1)
    )
    return f"{settings.base_scheme}://{host}" if host else ""


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="unsubscribe")


def unsubscribe_token(secret_key: str, person_public_id: str, kind: str) -> str:
    """A token without expiry: an unsubscribe link must work in an old message too."""
    return _serializer(secret_key).dumps([person_public_id, kind])


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[str, str] | None:
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, str) for v in value)
        or not value[0]
        or not value[1]
    ):
        return None
    return value[0], value[1]


def unsubscribe_headers(url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _absolute(base_url: str, link: str) -> str:
    return base_url + link if link.startswith("/") else link


def _locale_prefix(locale: str) -> str:
    return "/en" if locale == "en" else ""


# ---------------------------------------------------------------- preferences


def preferences(db: Session, person_id: int) -> dict[str, str]:
    """The frequency chosen for every registered kind (default: immediate)."""
    rows = db.execute(
        select(NotificationPreference.kind, NotificationPreference.frequency).where(
            NotificationPreference.person_id == person_id
        )
    )
    stored = {kind: frequency for kind, frequency in rows}
    result: dict[str, str] = {}
    for kind in all_kinds():
        value = stored.get(kind.key, DEFAULT_FREQUENCY)
        result[kind.key] = value if kind.allows(value) else DEFAULT_FREQUENCY
    return result


def frequency_for(db: Session, person_id: int, kind: NotificationKind) -> str:
    if not kind.can_disable:
        return Frequency.IMMEDIATE
    value = db.scalar(
        select(NotificationPreference.frequency).where(
            NotificationPreference.person_id == person_id, NotificationPreference.kind == kind.key
        )
    )
    return value if value is not None and kind.allows(value) else DEFAULT_FREQUENCY


def _store_preference(db: Session, person_id: int, kind: str, frequency: str) -> None:
    row = db.scalar(
        select(NotificationPreference).where(
            NotificationPreference.person_id == person_id, NotificationPreference.kind == kind
        )
    )
    if row is None:
        db.add(NotificationPreference(person_id=person_id, kind=kind, frequency=frequency))
    else:
        row.frequency = frequency
    # Messages still waiting for a digest follow the new choice; "immediate" ones go out
    # with the next daily digest rather than in a burst.
    pending = Frequency.DAILY if frequency == Frequency.IMMEDIATE else frequency
    db.execute(
        update(Notification)
        .where(
            Notification.person_id == person_id,
            Notification.kind == kind,
            Notification.delivered_at.is_(None),
            Notification.frequency.in_([f.value for f in DIGEST_FREQUENCIES]),
        )
        .values(frequency=pending)
    )
    db.flush()


def set_preferences(db: Session, actor: Actor, choices: dict[str, str]) -> dict[str, str]:
    """Saves the actor's choices (kind -> frequency); returns what changed. Audited."""
    if actor.person_id is None:
        raise NotFound(_("Personne inconnue."))
    for key, value in choices.items():
        try:
            kind = get_kind(key)
        except LookupError:
            raise Invalid(_("Cette catégorie de notifications n'existe pas."), field=f"kind-{key}") from None
        if not kind.allows(value):
            raise Invalid(_("Choisissez une des fréquences proposées."), field=f"kind-{key}")
    current = preferences(db, actor.person_id)
    changes = {key: value for key, value in choices.items() if current.get(key) != value}
    for key, value in changes.items():
        _store_preference(db, actor.person_id, key, value)
    if changes:
        audit.record(
            db,
            actor,
            "notifications.preferences",
            "person",
            actor.person_id,
            territory_id=actor.territory_id,
            data={"changes": changes},
        )
    return changes


# ---------------------------------------------------------------- unsubscribe


@dataclass(frozen=True)
class UnsubscribeTarget:
    person_id: int
    person_public_id: str
    territory_id: int
    kinds: tuple[NotificationKind, ...]
    digest: str | None  # "daily" / "weekly" for a digest link
    locked: bool  # the kind cannot be turned off


def resolve_unsubscribe(db: Session, territory_id: int, secret_key: str, token: str) -> UnsubscribeTarget:
    """What an unsubscribe link is about; NotFound for a bad token or another territory's."""
    parsed = read_unsubscribe_token(secret_key, token)
    if parsed is None:
        raise NotFound(_("Ce lien de désabonnement n'est pas valide."))
    public_id, key = parsed
    person = db.scalar(select(Person).where(Person.public_id == public_id, Person.territory_id == territory_id))
    if person is None or person.anonymised_at is not None:
        raise NotFound(_("Ce lien de désabonnement n'est pas valide."))
    if key.startswith(DIGEST_PREFIX):
        digest = key.removeprefix(DIGEST_PREFIX)
        if digest not in {f.value for f in DIGEST_FREQUENCIES}:
            raise NotFound(_("Ce lien de désabonnement n'est pas valide."))
        current = preferences(db, person.id)
        kinds = tuple(k for k in all_kinds() if k.can_disable and current[k.key] == digest)
        return UnsubscribeTarget(person.id, person.public_id, territory_id, kinds, digest, locked=False)
    try:
        kind = get_kind(key)
    except LookupError:
        raise NotFound(_("Ce lien de désabonnement n'est pas valide.")) from None
    return UnsubscribeTarget(person.id, person.public_id, territory_id, (kind,), None, locked=not kind.can_disable)


def unsubscribe(db: Session, target: UnsubscribeTarget) -> list[str]:
    """Sets the link's kinds to "never"; returns the kinds changed (none for a locked kind)."""
    if target.locked:
        return []
    changed = []
    for kind in target.kinds:
        if frequency_for(db, target.person_id, kind) != Frequency.NEVER:
            _store_preference(db, target.person_id, kind.key, Frequency.NEVER)
            changed.append(kind.key)
    if changed:
        actor = Actor(
            person_id=target.person_id,
            account_id=None,
            territory_id=target.territory_id,
            label=_("lien de désabonnement"),
        )
        audit.record(
            db,
            actor,
            "notifications.unsubscribe",
            "person",
            target.person_id,
            territory_id=target.territory_id,
            data={"kinds": changed},
        )
    return changed


# ---------------------------------------------------------------- sending


def _deliverable(person: Person, account: Account | None) -> bool:
    """Whether the person has a verified address that is still in use."""
    return (
        person.anonymised_at is None
        and account is not None
        and account.disabled_at is None
        and account.email_verified_at is not None
    )


def _territory_name(db: Session, territory_id: int) -> str:
    return db.scalar(select(Territory.name).where(Territory.id == territory_id)) or ""


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def _create_agent_task(db: Session, person: Person, subject: str, body: str, link: str) -> None:
    from app.agent_tasks import service as agent_tasks  # the agents' domain depends on this one

    text = body if not link else f"{body}\n\n{link}"
    agent_tasks.create_task(
        db,
        territory_id=person.territory_id,
        person_id=person.id,
        channel=None,  # the person's preferred channel: phone, or a letter without a phone number
        subject=subject,
        body=text,
    )


def notify(
    db: Session,
    *,
    territory_id: int,
    person_id: int,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    settings: Settings | None = None,
    base_url: str | None = None,
) -> Notification:
    """Stores a notification and delivers it per the person's preference.

    ``link`` is a path on the site ("/initiatives/…") or a full URL. ``settings`` default to
    the running worker's; ``base_url`` (``scheme://host``) to the territory's first host.
    """
    settings = settings or job_settings()
    notification_kind = get_kind(kind)
    person = db.scalar(select(Person).where(Person.id == person_id, Person.territory_id == territory_id))
    if person is None:
        raise NotFound(_("Personne inconnue."))
    subject = _one_line(subject, 300)
    account = db.scalar(select(Account).where(Account.person_id == person.id))
    if person.anonymised_at is not None:
        frequency: str = Frequency.NEVER
    elif account is None:
        frequency = Frequency.IMMEDIATE
    else:
        frequency = frequency_for(db, person.id, notification_kind)
    notification = Notification(
        territory_id=territory_id,
        person_id=person.id,
        kind=kind,
        subject=subject,
        body=body,
        link=link[:500],
        frequency=frequency,
    )
    db.add(notification)
    db.flush()
    if person.anonymised_at is not None:
        return notification
    if base_url is None:
        base_url = territory_base_url(db, territory_id, settings)
    if account is None:
        # No account, no e-mail: an agent calls or writes instead.
        _create_agent_task(db, person, subject, body, _absolute(base_url, link))
        notification.delivered_at = utcnow()
    elif frequency == Frequency.IMMEDIATE and _deliverable(person, account):
        _send_immediate(db, notification, person, account, settings, base_url)
    db.flush()
    return notification


def _footer_context(
    person: Person, account: Account, settings: Settings, base_url: str, token_kind: str
) -> tuple[dict[str, Any], dict[str, str]]:
    token = unsubscribe_token(settings.get_secret_key(), person.public_id, token_kind)
    unsubscribe_url = f"{base_url}{UNSUBSCRIBE_PATH}/{token}"
    context = {
        "display_name": person.display_name,
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": f"{base_url}{_locale_prefix(account.locale)}{PREFERENCES_PATH}",
    }
    return context, unsubscribe_headers(unsubscribe_url)


def _send_immediate(
    db: Session,
    notification: Notification,
    person: Person,
    account: Account,
    settings: Settings,
    base_url: str,
) -> None:
    kind = get_kind(notification.kind)
    context, headers = _footer_context(person, account, settings, base_url, kind.key)
    with use_locale(account.locale):
        kind_label = _(kind.label)
    context.update(
        subject=notification.subject,
        body=notification.body,
        link=_absolute(base_url, notification.link) if notification.link else "",
        kind_label=kind_label,
        can_disable=kind.can_disable,
        territory_name=_territory_name(db, notification.territory_id),
    )
    queue_email(
        db,
        territory_id=notification.territory_id,
        person_id=person.id,
        to=account.email,
        template="notification",
        context=context,
        locale=account.locale,
        headers=headers,
    )
    notification.delivered_at = utcnow()
    db.flush()


def _kind_label(key: str) -> str:
    try:
        return _(get_kind(key).label)
    except LookupError:  # a kind no longer declared: the message still goes out
        return ""


def send_digests(db: Session, frequency: str, settings: Settings) -> int:
    """One e-mail per person gathering their undelivered notifications of this frequency.

    Returns the number of e-mails queued. Safe to run twice: delivered rows are marked.
    """
    if frequency not in {f.value for f in DIGEST_FREQUENCIES}:
        raise ValueError(f"not a digest frequency: {frequency!r}")
    query = (
        select(Notification)
        .where(Notification.frequency == frequency, Notification.delivered_at.is_(None))
        .order_by(Notification.person_id, Notification.id)
    )
    if db.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for row in db.scalars(query):
        by_person[row.person_id].append(row)
    if not by_person:
        return 0
    people = db.execute(
        select(Person, Account)
        .join(Account, Account.person_id == Person.id)
        .where(
            Person.id.in_(by_person),
            Person.anonymised_at.is_(None),
            Account.disabled_at.is_(None),
            Account.email_verified_at.is_not(None),
        )
    )
    sent = 0
    base_urls: dict[int, str] = {}
    now = utcnow()
    for person, account in people:
        items = by_person[person.id]
        if person.territory_id not in base_urls:
            base_urls[person.territory_id] = territory_base_url(db, person.territory_id, settings)
        base_url = base_urls[person.territory_id]
        context, headers = _footer_context(person, account, settings, base_url, DIGEST_PREFIX + frequency)
        with use_locale(account.locale):
            entries = [
                {
                    "subject": n.subject,
                    "body": n.body,
                    "link": _absolute(base_url, n.link) if n.link else "",
                    "kind_label": _kind_label(n.kind),
                }
                for n in items
            ]
            if frequency == Frequency.DAILY:
                subject = ngettext(
                    "Votre résumé du jour : %(num)d nouvelle", "Votre résumé du jour : %(num)d nouvelles", len(items)
                ) % {"num": len(items)}
            else:
                subject = ngettext(
                    "Votre résumé de la semaine : %(num)d nouvelle",
                    "Votre résumé de la semaine : %(num)d nouvelles",
                    len(items),
                ) % {"num": len(items)}
        context.update(
            subject=subject,
            entries=entries,
            frequency=frequency,
            territory_name=_territory_name(db, person.territory_id),
        )
        queue_email(
            db,
            territory_id=person.territory_id,
            person_id=person.id,
            to=account.email,
            template="notification_digest",
            context=context,
            locale=account.locale,
            headers=headers,
        )
        for n in items:
            n.delivered_at = now
        sent += 1
    db.flush()
    return sent


def recent_notifications(db: Session, person_id: int, limit: int = 20) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.person_id == person_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )
