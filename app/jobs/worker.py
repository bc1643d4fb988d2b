"""The background worker: claims due jobs one at a time, runs them, retries failures with backoff.

Claiming takes a short transaction of its own (``locked_at``/``locked_by``); on PostgreSQL the
row is picked with ``FOR UPDATE SKIP LOCKED`` so that several workers share the queue, on SQLite
``BEGIN IMMEDIATE`` serialises the writers. The handler then runs in its own transaction, which
also marks the job done, so the work and its "done" are committed together. A worker that dies
leaves a lock that goes stale after ``LOCK_TIMEOUT`` and the job is picked up again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db.base import utcnow
from app.db.session import Database, get_database, unit_of_work
from app.jobs import registry
from app.jobs.models import Job
from app.jobs.service import enqueue

log = logging.getLogger("cailloux.worker")

LOCK_TIMEOUT = dt.timedelta(minutes=10)
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=6)
# How often the worker loop looks for recurring jobs to schedule.
SCHEDULE_EVERY = dt.timedelta(minutes=1)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def backoff(attempts: int) -> dt.timedelta:
    """Delay before retry number ``attempts`` (1, 2, ...): 30 s, 1 min, 2 min ... capped at 6 h."""
    exponent = max(attempts - 1, 0)
    if exponent >= 20:
        return BACKOFF_CAP
    delay: dt.timedelta = BACKOFF_BASE * (2**exponent)
    return min(delay, BACKOFF_CAP)


def _as_database(db_or_database: Database | Session | None) -> Database:
    if db_or_database is None:
        return get_database()
    if isinstance(db_or_database, Database):
        return db_or_database
    url = db_or_database.get_bind().engine.url.render_as_string(hide_password=False)
    return get_database(url)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]


def claim_next(
    database: Database, worker_id: str, now: dt.datetime | None = None, *, kind: str | None = None
) -> ClaimedJob | None:
    """Locks the next due job (of ``kind`` if given) for this worker, in a committed transaction of its own."""
    now = now or utcnow()
    query = (
        select(Job)
        .where(
            Job.kind == kind if kind is not None else true(),
            Job.done_at.is_(None),
            Job.failed_at.is_(None),
            Job.run_at <= now,
            or_(Job.locked_at.is_(None), Job.locked_at < now - LOCK_TIMEOUT),
        )
        .order_by(Job.run_at, Job.id)
        .limit(1)
    )
    if not database.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    with unit_of_work(database) as db:
        job = db.scalar(query)
        if job is None:
            return None
        job.locked_at = now
        job.locked_by = worker_id
        return ClaimedJob(id=job.id, kind=job.kind, payload=dict(job.payload or {}))


def run_job(database: Database, claimed: ClaimedJob, worker_id: str) -> bool:
    """Runs a claimed job; True on success. A failure is recorded and scheduled for retry."""
    try:
        handler = registry.handler_for(claimed.kind)
        with unit_of_work(database) as db:
            handler(db, claimed.payload)
            job = db.get_one(Job, claimed.id)
            job.done_at = utcnow()
            job.locked_at = None
            job.locked_by = None
            job.last_error = None
        return True
    except Exception as exc:
        log.exception("job %s (%s) failed", claimed.id, claimed.kind)
        _record_failure(database, claimed, worker_id, exc)
        return False


def _record_failure(database: Database, claimed: ClaimedJob, worker_id: str, exc: Exception) -> None:
    with unit_of_work(database) as db:
        job = db.get(Job, claimed.id)
        if job is None or job.locked_by != worker_id:
            return
        now = utcnow()
        job.attempts += 1
        job.last_error = f"{type(exc).__name__}: {exc}"[:4000]
        job.locked_at = None
        job.locked_by = None
        if job.attempts >= job.max_attempts:
            job.failed_at = now
            log.error("job %s (%s) gave up after %s attempts", job.id, job.kind, job.attempts)
        else:
            job.run_at = now + backoff(job.attempts)


def run_pending(
    db_or_database: Database | Session | None = None,
    limit: int = 100,
    *,
    settings: Settings | None = None,
    worker_id: str | None = None,
    kind: str | None = None,
) -> int:
    """Runs up to ``limit`` due jobs (of one ``kind`` if given); returns how many ran (successfully or not)."""
    database = _as_database(db_or_database)
    worker_id = worker_id or default_worker_id()
    count = 0
    with registry.using_settings(settings):
        while count < limit:
            claimed = claim_next(database, worker_id, kind=kind)
            if claimed is None:
                break
            run_job(database, claimed, worker_id)
            count += 1
    return count


def schedule_recurring(
    db_or_database: Database | Session | None = None,
    now: dt.datetime | None = None,
    *,
    kinds: list[str] | None = None,
) -> list[str]:
    """Enqueues the current period's job of every recurring kind (once: dedupe key per period).

    Returns the dedupe keys of the jobs that exist for this period. Running it twice, or from two
    workers at once, leaves one job per kind and period.
    """
    database = _as_database(db_or_database)
    now = now or utcnow()
    keys: list[str] = []
    for spec in registry.recurring_jobs():
        if kinds is not None and spec.kind not in kinds:
            continue
        start = spec.period_start(now)
        key = spec.dedupe_key(start)
        payload = {"period_start": start.isoformat(), "period": key}
        try:
            with unit_of_work(database) as db:
                enqueue(db, spec.kind, payload, run_at=start, dedupe_key=key)
        except IntegrityError:
            # Another worker inserted the same period's job between our check and our insert.
            log.info("recurring job %s already scheduled", key)
        keys.append(key)
    return keys


def worker_loop(
    stop_event: threading.Event,
    *,
    database: Database | None = None,
    settings: Settings | None = None,
    worker_id: str | None = None,
) -> None:
    """Polls for due jobs until ``stop_event`` is set; the current job always finishes first."""
    settings = settings or get_settings()
    database = database or get_database(settings.database_url)
    worker_id = worker_id or default_worker_id()
    next_schedule = utcnow()
    log.info("worker %s started (polling every %ss)", worker_id, settings.worker_poll_seconds)
    while not stop_event.is_set():
        try:
            if utcnow() >= next_schedule:
                schedule_recurring(database)
                next_schedule = utcnow() + SCHEDULE_EVERY
            with registry.using_settings(settings):
                while not stop_event.is_set():
                    claimed = claim_next(database, worker_id)
                    if claimed is None:
                        break
                    run_job(database, claimed, worker_id)
        except Exception:
            # The database may be briefly unreachable: log, wait, try again.
            log.exception("worker iteration failed")
        stop_event.wait(settings.worker_poll_seconds)
    log.info("worker %s stopped", worker_id)


def run_worker(settings: Settings | None = None) -> None:
    """Runs the worker in the foreground until SIGTERM or SIGINT (Ctrl-C)."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received, stopping after the current job", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker_loop(stop, settings=settings)
