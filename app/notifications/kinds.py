"""The kinds of notification a person may receive, and how often they may ask for each.

Each domain registers its kinds where it defines them::

    PROJECT_NEWS = register_kind("project_news", N_("Nouvelles des projets que je suis"))

Labels are marked with ``N_`` and translated when shown. A kind that cannot be turned off
(security notices) is always sent at once: a person must learn straight away that their
password changed or that a role was given to them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.web.i18n import N_, _


class Frequency(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    NEVER = "never"


DEFAULT_FREQUENCY = Frequency.IMMEDIATE
DIGEST_FREQUENCIES = (Frequency.DAILY, Frequency.WEEKLY)

FREQUENCY_LABELS = {
    Frequency.IMMEDIATE: N_("tout de suite"),
    Frequency.DAILY: N_("un résumé par jour"),
    Frequency.WEEKLY: N_("un résumé par semaine"),
    Frequency.NEVER: N_("jamais par e-mail"),
}


def frequency_label(frequency: str) -> str:
    return _(FREQUENCY_LABELS[Frequency(frequency)])


@dataclass(frozen=True)
class NotificationKind:
    key: str
    label: str  # marked with N_, translated when shown
    description: str = ""
    can_disable: bool = True

    @property
    def frequencies(self) -> tuple[Frequency, ...]:
        if not self.can_disable:
            return (Frequency.IMMEDIATE,)
        return tuple(Frequency)

    def allows(self, frequency: str) -> bool:
        return frequency in self.frequencies


_kinds: dict[str, NotificationKind] = {}


def register_kind(key: str, label: str, *, description: str = "", can_disable: bool = True) -> NotificationKind:
    """Declares a kind of notification (idempotent for an identical declaration)."""
    kind = NotificationKind(key=key, label=label, description=description, can_disable=can_disable)
    existing = _kinds.get(key)
    if existing is not None and existing != kind:
        raise ValueError(f"notification kind {key!r} is already registered differently")
    _kinds[key] = kind
    return kind


def unregister_kind(key: str) -> None:
    """Removes a kind (used by tests that declare temporary kinds)."""
    _kinds.pop(key, None)


def get_kind(key: str) -> NotificationKind:
    try:
        return _kinds[key]
    except KeyError:
        raise LookupError(f"unknown notification kind {key!r}") from None


def all_kinds() -> list[NotificationKind]:
    return list(_kinds.values())


ACCOUNT = register_kind(
    "account",
    N_("Mon compte : rôles et sécurité"),
    description=N_(
        "Un rôle vous est donné ou retiré, votre mot de passe ou votre adresse change. "
        "Ces messages protègent votre compte : ils sont toujours envoyés tout de suite."
    ),
    can_disable=False,
)

# Sent by app.follows to the followers of an initiative (its promoters included).
FOLLOWED_INITIATIVES = register_kind(
    "followed_initiatives",
    N_("Les initiatives que je suis"),
    description=N_(
        "Nouvelles publiées, début des travaux, réalisation, évaluation ou abandon des initiatives que vous suivez."
    ),
)

# Sent by app.evaluation: the volunteers' survey after delivery, the yearly upkeep checks.
EVALUATION = register_kind(
    "evaluation",
    N_("Bilans et entretien des projets"),
    description=N_(
        "Le court questionnaire après la réalisation d'un projet auquel vous avez participé, "
        "et les points d'entretien annuels des projets que vous portez ou suivez pour la commune."
    ),
)
