"""Retention rules: each erases (or keeps) the right rows; the job is idempotent; inactive
accounts are warned, then anonymised if still unused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from sqlalchemy import func, select, update

from app.accounts import service as accounts
from app.accounts import sessions
from app.accounts.models import Account, ApiToken, EmailToken, Person, UserSession
from app.audit.models import AuditEntry
from app.config import Settings
from app.core.models import IdempotencyRecord, UsedFormNonce
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.history.models import HistoricalImport
from app.jobs.models import Job
from app.jobs.registry import handler_for, recurring_jobs, using_settings
from app.mail.models import OutboxEmail
from app.moderation.models import ContentReport, ReportStatus
from app.notifications.models import Notification
from app.privacy import registry
from app.privacy.erasure import ANONYMOUS_NAME
from app.privacy.retention import apply_retention
from tests.factories import Factory

DAY = dt.timedelta(days=1)


def count(database: Database, model: type[Any], *where: Any) -> int:
    with unit_of_work(database) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def run(database: Database, settings: Settings, now: dt.datetime | None = None) -> dict[str, int]:
    with unit_of_work(database) as db, using_settings(settings):
        return apply_retention(db, now)


def test_every_required_rule_is_registered() -> None:
    kinds = {rule.kind: rule for rule in registry.retention_rules()}
    for kind in (
        "unverified_accounts",
        "sessions",
        "email_tokens",
        "outbox_emails",
        "notifications",
        "form_nonces",
        "idempotency_records",
        "jobs",
        "audit_entries",
        "inactive_accounts_notice",
        "inactive_accounts",
        "staged_imports",
        "handled_reports",
    ):
        assert kind in kinds
    assert kinds["audit_entries"].action == "keep_restricted"
    assert kinds["audit_entries"].apply is None
    assert "retention" in {r.kind for r in recurring_jobs()}


def test_unverified_accounts_are_erased_after_seven_days(
    factory: Factory, database: Database, settings: Settings
) -> None:
    old = factory.account("old@example.org", verified=False)
    recent = factory.account("recent@example.org", verified=False)
    verified = factory.account("ok@example.org")
    with unit_of_work(database) as db:
        db.execute(update(Account).where(Account.id.in_([old.id, verified.id])).values(created_at=utcnow() - 8 * DAY))
    result = run(database, settings)
    assert result["unverified_accounts"] == 1
    assert count(database, Account, Account.id == old.id) == 0
    assert count(database, Person, Person.id == old.person_id) == 0
    assert count(database, OutboxEmail, OutboxEmail.to_address == "old@example.org") == 0
    assert count(database, Account, Account.id.in_([recent.id, verified.id])) == 2


def test_technical_records_are_erased_after_their_period(
    factory: Factory, database: Database, settings: Settings
) -> None:
    account = factory.account()
    now = utcnow()
    with unit_of_work(database) as db:
        fresh = db.get_one(Account, account.id)
        sessions.open_session(db, fresh, "old-revoked")
        sessions.open_session(db, fresh, "old-expired")
        sessions.open_session(db, fresh, "live")
        db.execute(update(UserSession).where(UserSession.user_agent == "old-revoked").values(revoked_at=now - 31 * DAY))
        db.execute(
            update(UserSession)
            .where(UserSession.user_agent == "old-expired")
            .values(expires_at=now - 31 * DAY, last_seen_at=now - 40 * DAY)
        )
        # The registration's verification link: expired long ago.
        db.execute(update(EmailToken).values(expires_at=now - 8 * DAY))
        db.add(
            EmailToken(
                territory_id=account.territory_id,
                account_id=account.id,
                purpose="reset_password",
                token_hash="b" * 64,
                expires_at=now + DAY,
            )
        )
        db.execute(update(OutboxEmail).values(sent_at=now - 91 * DAY))
        db.add(OutboxEmail(territory_id=account.territory_id, to_address="x@example.org", subject="s", body_text="b"))
        for delivered, created in ((now - 366 * DAY, now - 370 * DAY), (now - DAY, now - DAY), (None, now - 400 * DAY)):
            db.add(
                Notification(
                    territory_id=account.territory_id,
                    person_id=account.person_id,
                    kind="account",
                    subject="s",
                    body="b",
                    frequency="immediate",
                    delivered_at=delivered,
                    created_at=created,
                )
            )
        db.add(UsedFormNonce(nonce="old", territory_id=account.territory_id, created_at=now - 8 * DAY))
        db.add(UsedFormNonce(nonce="new", territory_id=account.territory_id))
        token = ApiToken(
            territory_id=account.territory_id, account_id=account.id, name="t", token_hash="a" * 64, prefix="cx_"
        )
        db.add(token)
        db.flush()
        for key, created in (("old", now - 25 * dt.timedelta(hours=1)), ("new", now)):
            db.add(
                IdempotencyRecord(
                    territory_id=account.territory_id,
                    api_token_id=token.id,
                    key=key,
                    request_fingerprint="f",
                    status_code=200,
                    created_at=created,
                )
            )
        db.execute(update(Job).values(done_at=now - 31 * DAY))
        db.add(Job(kind="send_email", failed_at=now - 31 * DAY))
        db.add(Job(kind="send_email", done_at=now - DAY))
        db.add(Job(kind="send_email"))
        db.add(
            AuditEntry(
                actor_label="x", action="old.action", subject_type="t", subject_id="1", created_at=now - 7 * 365 * DAY
            )
        )

    result = run(database, settings, now)
    assert result["sessions"] == 2
    assert count(database, UserSession) == 1
    assert result["email_tokens"] == 1
    assert count(database, EmailToken) == 1
    assert count(database, OutboxEmail, OutboxEmail.sent_at.is_(None)) == 1
    assert count(database, OutboxEmail, OutboxEmail.sent_at.is_not(None)) == 0
    assert result["notifications"] == 2
    assert count(database, Notification) == 1
    assert count(database, UsedFormNonce) == 1
    assert count(database, IdempotencyRecord) == 1
    assert count(database, Job, Job.done_at.is_(None), Job.failed_at.is_(None)) >= 1
    assert count(database, Job, Job.done_at < now - 30 * DAY) == 0
    assert count(database, Job, Job.failed_at.is_not(None)) == 0
    assert count(database, Job, Job.done_at.is_not(None)) == 1
    # The audit log is kept restricted, not erased here.
    assert count(database, AuditEntry, AuditEntry.action == "old.action") == 1
    assert count(database, AuditEntry, AuditEntry.action == "privacy.retention") >= 5

    # Idempotent: a second run changes nothing more.
    again = run(database, settings, now)
    assert all(n == 0 for n in again.values()), again


def test_unconfirmed_import_files_and_handled_reports_are_erased(
    factory: Factory, database: Database, settings: Settings
) -> None:
    territory_id = factory.territory()
    now = utcnow()
    with unit_of_work(database) as db:
        for name, created, imported in (
            ("stale.csv", now - 2 * DAY, None),  # checked, never confirmed: it may hold names
            ("fresh.csv", now - dt.timedelta(hours=2), None),  # still waiting for its confirmation
            ("done.csv", now - 400 * DAY, now - 400 * DAY),  # the record of an import: kept
        ):
            db.add(
                HistoricalImport(
                    territory_id=territory_id,
                    file_name=name,
                    sha256="0" * 64,
                    content="titre;annee\nx;2010\n" if imported is None else "",
                    created_at=created,
                    imported_at=imported,
                )
            )
        for comment, status, handled in (
            ("old", ReportStatus.HANDLED, now - 366 * DAY),
            ("recent", ReportStatus.HANDLED, now - 10 * DAY),
            ("open", ReportStatus.OPEN, None),
        ):
            db.add(
                ContentReport(
                    territory_id=territory_id,
                    subject_type="initiative",
                    subject_id="x",
                    reason="other",
                    comment=comment,
                    status=status,
                    handled_at=handled,
                    created_at=now - 400 * DAY,
                )
            )

    result = run(database, settings, now)
    assert result["staged_imports"] == 1
    with unit_of_work(database) as db:
        assert set(db.scalars(select(HistoricalImport.file_name))) == {"fresh.csv", "done.csv"}
        assert set(db.scalars(select(ContentReport.comment))) == {"recent", "open"}
    assert result["handled_reports"] == 1
    assert run(database, settings, now)["handled_reports"] == 0


def test_the_retention_job_handler_runs_every_rule(factory: Factory, database: Database, settings: Settings) -> None:
    factory.territory()
    with unit_of_work(database) as db:
        db.add(UsedFormNonce(nonce="old", territory_id=factory.territory(), created_at=utcnow() - 8 * DAY))
    with unit_of_work(database) as db, using_settings(settings):
        handler_for("retention")(db, {})
        handler_for("retention")(db, {})
    assert count(database, UsedFormNonce) == 0


def _inactive_account(factory: Factory, database: Database) -> Account:
    account = factory.account("dormant@example.org")
    long_ago = utcnow() - 800 * DAY
    with unit_of_work(database) as db:
        db.execute(
            update(Account)
            .where(Account.id == account.id)
            .values(created_at=long_ago, last_login_at=long_ago, last_active_at=long_ago)
        )
    return account


def test_inactive_account_is_warned_then_anonymised(factory: Factory, database: Database, settings: Settings) -> None:
    account = _inactive_account(factory, database)
    active = factory.account("active@example.org")
    before = len(factory.outbox(to="dormant@example.org"))
    assert run(database, settings)["inactive_accounts_notice"] == 1
    notices = factory.outbox(to="dormant@example.org")
    assert len(notices) == before + 1
    assert "supprimé" in notices[-1].subject
    assert "http://loos.test/connexion" in notices[-1].body_text
    assert run(database, settings)["inactive_accounts_notice"] == 0  # warned once
    assert len(factory.outbox(to="dormant@example.org")) == before + 1

    # 29 days later: still within the grace period.
    with time_machine.travel(utcnow() + 29 * DAY, tick=False):
        assert run(database, settings)["inactive_accounts"] == 0
    with time_machine.travel(utcnow() + 31 * DAY, tick=False):
        assert run(database, settings)["inactive_accounts"] == 1
    with unit_of_work(database) as db:
        person = db.get_one(Person, account.person_id)
        assert person.display_name == ANONYMOUS_NAME
        assert person.email is None
        assert person.anonymised_at is not None
        closed = db.get_one(Account, account.id)
        assert closed.disabled_at is not None
        assert closed.email == ""
        assert db.get_one(Account, active.id).disabled_at is None


def test_logging_in_after_the_notice_keeps_the_account(
    factory: Factory, database: Database, settings: Settings
) -> None:
    account = _inactive_account(factory, database)
    run(database, settings)
    with unit_of_work(database) as db:
        accounts.login(db, db.get_one(Account, account.id), "pytest")
    with time_machine.travel(utcnow() + 31 * DAY, tick=False):
        result = run(database, settings)
    assert result["inactive_accounts"] == 0
    with unit_of_work(database) as db:
        assert db.get_one(Account, account.id).disabled_at is None
        assert db.get_one(Person, account.person_id).anonymised_at is None


def test_a_keep_restricted_until_rule_can_be_registered(database: Database, settings: Settings) -> None:
    calls: list[dt.datetime] = []

    def erase_expired_evidence(db: Any, now: dt.datetime) -> int:
        calls.append(now)
        return 0

    rule = registry.RetentionRule(
        kind="test_evidence",
        label="Conventions signées",
        legal_basis=registry.LEGAL_OBLIGATION,
        action="keep_restricted",
        period="10 ans après la fin de la convention",
        apply=erase_expired_evidence,
    )
    registry.register_rule(rule)
    try:
        assert rule.period_label == "10 ans après la fin de la convention"
        run(database, settings)
        assert len(calls) == 1
    finally:
        registry.unregister_rule("test_evidence")


def test_periods_are_described_in_words() -> None:
    assert registry.describe_period(dt.timedelta(days=7)) == "7 jours"
    assert registry.describe_period(dt.timedelta(hours=24)) == "1 jour"
    assert registry.describe_period(dt.timedelta(hours=12)) == "12 heures"
    assert registry.describe_period(dt.timedelta(days=90)) == "3 mois"
    assert registry.describe_period(dt.timedelta(days=6 * 365)) == "6 ans"
