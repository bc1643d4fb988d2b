"""The notification kind review messages go out under: the initiatives domain's "initiatives"."""

from __future__ import annotations

from app.notifications.kinds import NotificationKind

KIND = "initiatives"


def ensure_kind() -> NotificationKind:
    """The kind, declared by ``app.initiatives.service`` when it is imported."""
    from app.initiatives.service import INITIATIVES_KIND

    return INITIATIVES_KIND
