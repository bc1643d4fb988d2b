"""Rate limits (login, registration, password reset, later signing) over the ``limits`` library.

Storage is in memory by default (one process) and Redis in production
(``CAILLOUX_RATE_LIMIT_STORAGE=redis://127.0.0.1:6379``) so that all workers share the counts.
The client address comes from uvicorn, which trusts ``X-Forwarded-For`` only from the proxies
given to ``--forwarded-allow-ips``.
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.core.errors import TooManyRequests
from app.web.i18n import _

LIMITS: dict[str, str] = {
    "login:ip": "20/minute",
    "login:account": "5/minute",
    "register:ip": "10/hour",
    "reset:ip": "10/hour",
    "reset:account": "3/hour",
    "verify:account": "5/hour",
    # Counted per file: every photo of a few proposals in an hour, not a flood of decoding work.
    "upload:account": "60/hour",
    # Reports of public content: enough for a resident who finds several problems, too few to
    # flood the agents' moderation queue.
    "report:ip": "10/hour",
    "report:account": "30/hour",
    # Signing: an abuse ceiling only. Ordinary bursts from one address (a school, a town-hall
    # kiosk) are flagged silently by the signing service, not refused.
    "sign:ip": "300/hour",
    "sign:email": "10/hour",
}


class RateLimiter:
    def __init__(self, storage_uri: str) -> None:
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.items: dict[str, RateLimitItem] = {name: parse(value) for name, value in LIMITS.items()}

    def hit(self, name: str, *identifiers: str) -> None:
        """Counts one attempt, or raises ``TooManyRequests`` when the limit is reached."""
        if not self.limiter.hit(self.items[name], name, *identifiers):
            raise TooManyRequests(_("Trop de tentatives. Patientez quelques minutes puis réessayez."))

    def reset(self) -> None:
        self.storage.reset()
