"""Which function runs each kind of background job, and which jobs recur.

Domains declare their handlers in ``app/<domain>/jobs.py`` (imported by :func:`load_handlers`)::

    @register("retention")
    def apply_retention(db: Session, payload: dict[str, Any]) -> None: ...

    recurring("retention", every=dt.timedelta(days=1))

A handler runs in its own transaction; it flushes, never commits, and must be safe to run twice
(a worker may die after the work and before the job is marked done).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.mail.backends import send_outbox_email

Handler = Callable[[Session, dict[str, Any]], None]

_handlers: dict[str, Handler] = {}

# Periods are counted from a Monday at midnight UTC, so weekly jobs fall on Mondays.
PERIOD_ANCHOR = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Recurring:
    kind: str
    every: dt.timedelta
    offset: dt.timedelta = dt.timedelta(0)

    def period_start(self, now: dt.datetime) -> dt.datetime:
        """The start of the period ``now`` falls in (anchor + offset + k * every)."""
        origin = PERIOD_ANCHOR + self.offset
        periods = (now - origin) // self.every
        return origin + periods * self.every

    def dedupe_key(self, period_start: dt.datetime) -> str:
        if self.every >= dt.timedelta(days=1) and period_start.time() == dt.time(0):
            return f"{self.kind}:{period_start:%Y-%m-%d}"
        return f"{self.kind}:{period_start:%Y-%m-%dT%H:%M}"


_recurring: dict[str, Recurring] = {}


def register(kind: str) -> Callable[[Handler], Handler]:
    """Declares the handler of a job kind."""

    def decorate(func: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and existing is not func:
            raise ValueError(f"a handler is already registered for job kind {kind!r}")
        _handlers[kind] = func
        return func

    return decorate


def recurring(kind: str, *, every: dt.timedelta, offset: dt.timedelta = dt.timedelta(0)) -> Recurring:
    """Declares that ``kind`` runs once per period of length ``every`` (its handler must be registered)."""
    if every <= dt.timedelta(0):
        raise ValueError("a recurring job needs a positive period")
    spec = Recurring(kind=kind, every=every, offset=offset)
    _recurring[kind] = spec
    return spec


def unregister(kind: str) -> None:
    """Removes a handler and its recurrence (used by tests that register temporary kinds)."""
    _handlers.pop(kind, None)
    _recurring.pop(kind, None)


def handler_for(kind: str) -> Handler:
    load_handlers()
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no handler registered for job kind {kind!r}") from None


def recurring_jobs() -> list[Recurring]:
    load_handlers()
    return sorted(_recurring.values(), key=lambda r: r.kind)


def registered_kinds() -> list[str]:
    load_handlers()
    return sorted(_handlers)


_loaded = False


def load_handlers() -> None:
    """Imports every ``app.<domain>.jobs`` module once, so their handlers are registered."""
    global _loaded
    if _loaded:
        return
    import app

    for module in pkgutil.iter_modules(app.__path__):
        if not module.ispkg:
            continue
        name = f"app.{module.name}.jobs"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    _loaded = True


# The settings of the running worker (tests pass their own); handlers read them here.
_job_settings: contextvars.ContextVar[Settings | None] = contextvars.ContextVar("job_settings", default=None)


def job_settings() -> Settings:
    return _job_settings.get() or get_settings()


@contextlib.contextmanager
def using_settings(settings: Settings | None) -> Iterator[None]:
    token = _job_settings.set(settings)
    try:
        yield
    finally:
        _job_settings.reset(token)


@register("send_email")
def send_email(db: Session, payload: dict[str, Any]) -> None:
    send_outbox_email(db, int(payload["email_id"]), job_settings())
