"""What personal data Cailloux keeps, why, and for how long: one registry every domain feeds.

Two registries, read by the retention job, the privacy notice and the draft register of
processing activities (RGPD art. 30):

- ``RetentionRule``: a kind of record, its legal basis, what happens at the end of its
  period (erase, anonymise, or keep restricted until a date) and the function that does it.
  A domain whose records are evidence the town must keep (a signed convention, the signatures
  of a legal request) registers a ``keep_restricted`` rule whose ``period`` is a description
  ("10 ans après la fin de la convention") and whose ``apply`` erases them once that date passed.
- ``ProcessingActivity``: a purpose, its legal basis, the data and people concerned, who
  receives the data, and the retention rules that apply.

Labels are marked with ``N_`` and translated when shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from app.web.i18n import N_, _, ngettext

Action = Literal["erase", "anonymise", "keep_restricted"]
ApplyRule = Callable[[Session, dt.datetime], int]

ACTION_LABELS: dict[str, str] = {
    "erase": N_("effacement"),
    "anonymise": N_("anonymisation"),
    "keep_restricted": N_("conservation en accès restreint"),
}

# Legal bases (RGPD art. 6.1), as the notice names them.
PUBLIC_INTEREST = N_("mission d'intérêt public (art. 6.1.e du RGPD)")
LEGAL_OBLIGATION = N_("obligation légale (art. 6.1.c du RGPD)")
CONSENT = N_("consentement (art. 6.1.a du RGPD)")


def describe_period(period: dt.timedelta | str) -> str:
    """A period in words ("7 jours", "24 mois", "6 ans"), or a described one translated."""
    if isinstance(period, str):
        return _(period)
    days = period.days
    if days == 0:
        hours = period.seconds // 3600
        return ngettext("%(num)d heure", "%(num)d heures", hours) % {"num": hours}
    if days % 365 == 0:
        years = days // 365
        return ngettext("%(num)d an", "%(num)d ans", years) % {"num": years}
    if days >= 60 and days % 30 == 0:
        months = days // 30
        return ngettext("%(num)d mois", "%(num)d mois", months) % {"num": months}
    return ngettext("%(num)d jour", "%(num)d jours", days) % {"num": days}


@dataclass(frozen=True)
class RetentionRule:
    kind: str
    label: str
    legal_basis: str
    action: Action
    period: dt.timedelta | str
    # Does the work and returns how many records it changed; None when nothing is done
    # automatically (kept restricted, erased by hand after the period).
    apply: ApplyRule | None = None
    # What starts the period ("après la dernière connexion"), shown in the notice.
    starts: str = ""

    @property
    def action_label(self) -> str:
        return _(ACTION_LABELS[self.action])

    @property
    def period_label(self) -> str:
        return describe_period(self.period)


@dataclass(frozen=True)
class ProcessingActivity:
    key: str
    name: str
    purpose: str
    legal_basis: str
    data_categories: str
    data_subjects: str
    recipients: str
    retention_kinds: tuple[str, ...] = field(default_factory=tuple)


_rules: dict[str, RetentionRule] = {}
_activities: dict[str, ProcessingActivity] = {}


def register_rule(rule: RetentionRule) -> RetentionRule:
    existing = _rules.get(rule.kind)
    if existing is not None and existing != rule:
        raise ValueError(f"a retention rule is already registered for {rule.kind!r}")
    _rules[rule.kind] = rule
    return rule


def unregister_rule(kind: str) -> None:
    """Removes a rule (used by tests that declare temporary rules)."""
    _rules.pop(kind, None)


def retention_rules() -> list[RetentionRule]:
    _load_core()
    return list(_rules.values())


def register_activity(activity: ProcessingActivity) -> ProcessingActivity:
    existing = _activities.get(activity.key)
    if existing is not None and existing != activity:
        raise ValueError(f"a processing activity is already registered for {activity.key!r}")
    _activities[activity.key] = activity
    return activity


def processing_activities() -> list[ProcessingActivity]:
    _load_core()
    return list(_activities.values())


def rules_for(activity: ProcessingActivity) -> list[RetentionRule]:
    _load_core()
    return [_rules[k] for k in activity.retention_kinds if k in _rules]


def _load_core() -> None:
    # The platform's own rules live in app.privacy.rules, which imports the services they
    # call; importing it here (not at module load) keeps this registry free of cycles.
    import app.privacy.rules  # noqa: F401
