"""The job worker: sending e-mails, retries with backoff, stale locks, recurring jobs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.jobs import registry
from app.jobs.models import Job
from app.jobs.service import enqueue
from app.jobs.worker import backoff, run_pending, schedule_recurring
from app.mail import backends
from app.mail.models import OutboxEmail
from tests.factories import Factory


def _jobs(database: Database, kind: str | None = None) -> list[Job]:
    with unit_of_work(database) as db:
        stmt = select(Job).order_by(Job.id)
        if kind:
            stmt = stmt.where(Job.kind == kind)
        rows = list(db.scalars(stmt))
        for row in rows:
            db.expunge(row)
        return rows


def _queue_raw_email(database: Database, territory_id: int | None, **values: Any) -> int:
    with unit_of_work(database) as db:
        email = OutboxEmail(
            territory_id=territory_id,
            person_id=None,
            to_address=values.get("to", "bob@example.org"),
            subject=values.get("subject", "Bonjour"),
            body_text=values.get("body_text", "Corps du message"),
            body_html=values.get("body_html", ""),
            headers=values.get("headers", {}),
        )
        db.add(email)
        db.flush()
        enqueue(db, "send_email", {"email_id": email.id})
        return email.id


def test_send_email_job_delivers_once(factory: Factory, database: Database, settings: Settings) -> None:
    account = factory.account("alice@example.org")
    [email] = factory.outbox(to=account.email)
    assert email.sent_at is None

    assert run_pending(database, settings=settings) == 1

    [message] = backends.sent_messages
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == email.subject
    assert message["From"] == settings.mail_from
    [sent] = factory.outbox(to=account.email)
    assert sent.sent_at is not None
    [job] = _jobs(database, "send_email")
    assert job.done_at is not None
    assert job.locked_at is None

    # Nothing left to do; a duplicate job for the same e-mail does not send it again.
    assert run_pending(database, settings=settings) == 0
    with unit_of_work(database) as db:
        enqueue(db, "send_email", {"email_id": email.id})
    assert run_pending(database, settings=settings) == 1
    assert len(backends.sent_messages) == 1


def test_run_pending_accepts_a_session(factory: Factory, database: Database, settings: Settings) -> None:
    factory.account("alice@example.org")
    with unit_of_work(database) as db:
        assert run_pending(db, settings=settings) == 1
    assert len(backends.sent_messages) == 1


def test_message_has_html_alternative_and_stored_headers(
    factory: Factory, database: Database, settings: Settings
) -> None:
    tid = factory.territory()
    _queue_raw_email(
        database,
        tid,
        body_html="<p>Bonjour</p>",
        headers={
            "List-Unsubscribe": "<https://loos.test/desabonnement?t=abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "From": "pirate@example.org",
        },
    )
    run_pending(database, settings=settings)
    [message] = backends.sent_messages
    assert message["List-Unsubscribe"] == "<https://loos.test/desabonnement?t=abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["From"] == settings.mail_from  # a stored header cannot replace ours
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("html",)).get_content().strip() == "<p>Bonjour</p>"  # type: ignore[union-attr]
    assert message.get_body(("plain",)).get_content().strip() == "Corps du message"  # type: ignore[union-attr]


def test_header_injection_fails_the_job_without_sending(
    factory: Factory, database: Database, settings: Settings
) -> None:
    tid = factory.territory()
    _queue_raw_email(database, tid, headers={"List-Unsubscribe": "<https://x>\r\nBcc: victim@example.org"})
    run_pending(database, settings=settings)
    assert backends.sent_messages == []
    [job] = _jobs(database, "send_email")
    assert job.attempts == 1
    assert job.done_at is None


def test_file_backend_writes_eml_and_logs_masked_address(
    factory: Factory, database: Database, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tid = factory.territory()
    _queue_raw_email(database, tid, to="habitante@example.org", subject="Vérifiez votre adresse")
    file_settings = settings.model_copy(update={"mail_backend": "file", "var_dir": tmp_path / "var"})
    with caplog.at_level(logging.INFO, logger="cailloux.mail"):
        run_pending(database, settings=file_settings)
    [eml] = list((tmp_path / "var" / "outbox").glob("*.eml"))
    content = eml.read_bytes().decode()
    assert "To: habitante@example.org" in content
    assert "mail to h***@example.org: Vérifiez votre adresse" in caplog.text
    assert "habitante@example.org" not in caplog.text


def test_smtp_backend_uses_starttls_and_login(
    factory: Factory, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            calls.append(f"connect {host}:{port}")

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *args: object) -> None:
            calls.append("quit")

        def starttls(self, context: object) -> None:
            calls.append("starttls")

        def login(self, user: str, password: str) -> None:
            calls.append(f"login {user}:{password}")

        def send_message(self, message: Any) -> None:
            calls.append(f"send {message['To']}")

    monkeypatch.setattr(backends.smtplib, "SMTP", FakeSMTP)
    tid = factory.territory()
    _queue_raw_email(database, tid)
    smtp_settings = settings.model_copy(
        update={"mail_backend": "smtp", "smtp_host": "mail.example.org", "smtp_username": "u"}
    )
    run_pending(database, settings=smtp_settings)
    assert calls == ["connect mail.example.org:587", "starttls", "login u:", "send bob@example.org", "quit"]


@pytest.fixture
def failing_kind() -> Iterator[str]:
    kind = "test_always_fails"

    @registry.register(kind)
    def _fail(db: Session, payload: dict[str, Any]) -> None:
        raise RuntimeError("the printer is on fire")

    yield kind
    registry.unregister(kind)


def _make_due(database: Database, job_id: int) -> None:
    with unit_of_work(database) as db:
        db.get_one(Job, job_id).run_at = utcnow() - dt.timedelta(seconds=1)


def test_failing_job_is_retried_with_backoff_then_failed(
    database: Database, settings: Settings, failing_kind: str
) -> None:
    with unit_of_work(database) as db:
        job_id = enqueue(db, failing_kind, {"n": 1}, max_attempts=3).id

    before = utcnow()
    assert run_pending(database, settings=settings) == 1
    [job] = _jobs(database, failing_kind)
    assert job.attempts == 1
    assert job.failed_at is None
    assert job.done_at is None
    assert job.locked_at is None
    assert job.last_error == "RuntimeError: the printer is on fire"
    assert job.run_at >= before + dt.timedelta(seconds=30)
    # Not due yet: nothing runs.
    assert run_pending(database, settings=settings) == 0

    _make_due(database, job_id)
    before = utcnow()
    run_pending(database, settings=settings)
    [job] = _jobs(database, failing_kind)
    assert job.attempts == 2
    assert job.run_at >= before + dt.timedelta(seconds=60)

    _make_due(database, job_id)
    run_pending(database, settings=settings)
    [job] = _jobs(database, failing_kind)
    assert job.attempts == 3
    assert job.failed_at is not None
    _make_due(database, job_id)
    assert run_pending(database, settings=settings) == 0


def test_backoff_grows_exponentially_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30) == dt.timedelta(hours=6)
    assert backoff(10_000) == dt.timedelta(hours=6)


def test_unknown_kind_is_retried_not_lost(database: Database, settings: Settings) -> None:
    with unit_of_work(database) as db:
        enqueue(db, "no_such_kind", {})
    run_pending(database, settings=settings)
    [job] = _jobs(database, "no_such_kind")
    assert job.attempts == 1
    assert "no handler registered" in (job.last_error or "")


def test_fresh_lock_is_respected_and_stale_lock_taken_over(
    factory: Factory, database: Database, settings: Settings
) -> None:
    tid = factory.territory()
    fresh = _queue_raw_email(database, tid, to="fresh@example.org")
    stale = _queue_raw_email(database, tid, to="stale@example.org")
    with unit_of_work(database) as db:
        for job in db.scalars(select(Job).where(Job.kind == "send_email")):
            email_id = job.payload["email_id"]
            job.locked_by = "another-worker"
            job.locked_at = utcnow() - (dt.timedelta(minutes=1) if email_id == fresh else dt.timedelta(minutes=11))
    assert run_pending(database, settings=settings) == 1
    assert [m["To"] for m in backends.sent_messages] == ["stale@example.org"]
    jobs = {j.payload["email_id"]: j for j in _jobs(database, "send_email")}
    assert jobs[stale].done_at is not None
    assert jobs[fresh].done_at is None
    assert jobs[fresh].locked_by == "another-worker"


def test_run_pending_respects_limit_and_kind(factory: Factory, database: Database, settings: Settings) -> None:
    tid = factory.territory()
    for i in range(3):
        _queue_raw_email(database, tid, to=f"p{i}@example.org")
    assert run_pending(database, limit=2, settings=settings) == 2
    assert run_pending(database, settings=settings, kind="retention_that_does_not_exist") == 0
    assert run_pending(database, settings=settings, kind="send_email") == 1
    assert len(backends.sent_messages) == 3


@pytest.fixture
def daily_kind() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    kind = "test_daily_cleanup"
    seen: list[dict[str, Any]] = []

    @registry.register(kind)
    def _handler(db: Session, payload: dict[str, Any]) -> None:
        seen.append(payload)

    registry.recurring(kind, every=dt.timedelta(days=1))
    yield kind, seen
    registry.unregister(kind)


def test_scheduling_recurring_twice_creates_one_job_per_period(
    database: Database, settings: Settings, daily_kind: tuple[str, list[dict[str, Any]]]
) -> None:
    kind, seen = daily_kind
    now = dt.datetime(2020, 3, 1, 9, 30, tzinfo=dt.UTC)
    assert schedule_recurring(database, now, kinds=[kind]) == [f"{kind}:2020-03-01"]
    assert schedule_recurring(database, now + dt.timedelta(hours=3), kinds=[kind]) == [f"{kind}:2020-03-01"]
    jobs = _jobs(database, kind)
    assert [j.dedupe_key for j in jobs] == [f"{kind}:2020-03-01"]
    assert jobs[0].run_at == dt.datetime(2020, 3, 1, tzinfo=dt.UTC)

    schedule_recurring(database, now + dt.timedelta(days=1), kinds=[kind])
    assert [j.dedupe_key for j in _jobs(database, kind)] == [f"{kind}:2020-03-01", f"{kind}:2020-03-02"]

    assert run_pending(database, settings=settings, kind=kind) == 2
    assert [p["period"] for p in seen] == [f"{kind}:2020-03-01", f"{kind}:2020-03-02"]
    # Once done, scheduling the same period again adds nothing and runs nothing.
    schedule_recurring(database, now, kinds=[kind])
    assert run_pending(database, settings=settings, kind=kind) == 0
    assert len(_jobs(database, kind)) == 2


def test_weekly_periods_start_on_monday() -> None:
    spec = registry.Recurring(kind="digest", every=dt.timedelta(weeks=1))
    wednesday = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    start = spec.period_start(wednesday)
    assert start.weekday() == 0
    assert start == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    assert spec.dedupe_key(start) == "digest:2026-11-23"
    hourly = registry.Recurring(kind="tick", every=dt.timedelta(hours=1))
    assert hourly.dedupe_key(hourly.period_start(wednesday)) == "tick:2026-11-25T15:00"


def test_register_refuses_a_second_handler_for_a_kind(daily_kind: tuple[str, list[dict[str, Any]]]) -> None:
    kind, _seen = daily_kind
    with pytest.raises(ValueError, match="already registered"):
        registry.register(kind)(lambda db, payload: None)
    assert "send_email" in registry.registered_kinds()
