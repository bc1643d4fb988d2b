"""The ``cailloux`` command, run in-process against the test database."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from app import cli
from app.accounts.models import Account, ApiToken, RoleGrant
from app.audit.models import AuditEntry
from app.config import get_settings
from app.core.tokens import hash_token
from app.db.session import Database, get_database, unit_of_work
from app.jobs.models import Job
from app.mail import backends
from app.mail.models import OutboxEmail
from app.territories.models import Territory, TerritoryHost
from tests.conftest import TEST_SECRET, fresh_database_url

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CAILLOUX_DATABASE_URL", database_url)
    monkeypatch.setenv("CAILLOUX_ENVIRONMENT", "test")
    monkeypatch.setenv("CAILLOUX_MAIL_BACKEND", "memory")
    monkeypatch.setenv("CAILLOUX_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("CAILLOUX_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def invoke(*args: str, input: str | None = None) -> Any:
    return runner.invoke(cli.app, list(args), input=input)


def _create_loos() -> None:
    result = invoke(
        "territory",
        "create",
        "--slug",
        "loos",
        "--name",
        "Loos-en-Gohelle",
        "--insee",
        "62528",
        "--population",
        "6850",
        "--electors",
        "5000",
        "--siret",
        "21620528600017",
    )
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("cli_env")
def test_territory_create_accepts_corsican_insee_and_refuses_bad_codes(database: Database) -> None:
    result = invoke(
        "territory",
        "create",
        "--slug",
        "ajaccio",
        "--name",
        "Ajaccio",
        "--insee",
        "2A004",
        "--population",
        "73000",
        "--electors",
        "45000",
        "--timezone",
        "Europe/Paris",
    )
    assert result.exit_code == 0, result.output
    assert "ajaccio" in result.output

    refused = invoke(
        "territory",
        "create",
        "--slug",
        "nulle-part",
        "--name",
        "Nulle part",
        "--insee",
        "ABCDE",
        "--population",
        "10",
        "--electors",
        "5",
    )
    assert refused.exit_code == 1
    assert "INSEE" in refused.output

    duplicate = invoke(
        "territory",
        "create",
        "--slug",
        "ajaccio",
        "--name",
        "Ajaccio bis",
        "--insee",
        "2A005",
        "--population",
        "1",
        "--electors",
        "1",
    )
    assert duplicate.exit_code == 1

    with unit_of_work(database) as db:
        rows = {t.slug: t.insee_code for t in db.scalars(select(Territory))}
        assert rows == {"ajaccio": "2A004"}
        assert db.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "territory.create")) == 1
        assert db.scalar(select(AuditEntry.actor_label)) == "operator (CLI)"


@pytest.mark.usefixtures("cli_env")
def test_add_host(database: Database) -> None:
    _create_loos()
    result = invoke("territory", "add-host", "loos", "Participation.Loos.Example")
    assert result.exit_code == 0, result.output
    assert invoke("territory", "add-host", "loos", "not a host!").exit_code == 1
    assert invoke("territory", "add-host", "nowhere", "x.example").exit_code == 1
    with unit_of_work(database) as db:
        assert list(db.scalars(select(TerritoryHost.host))) == ["participation.loos.example"]


@pytest.mark.usefixtures("cli_env")
def test_create_admin_then_token_then_jobs_run(database: Database) -> None:
    _create_loos()
    invoke("territory", "add-host", "loos", "loos.test")
    result = invoke(
        "create-admin",
        "--territory",
        "loos",
        "--email",
        "Admin@Example.org",
        "--name",
        "Service participation",
        "--password-stdin",
        input="une phrase de passe solide\n",
    )
    assert result.exit_code == 0, result.output
    with unit_of_work(database) as db:
        account = db.scalars(select(Account)).one()
        assert account.email_verified_at is not None
        grant = db.scalars(select(RoleGrant)).one()
        assert (grant.role, grant.account_id) == ("admin", account.id)
        assert grant.confirmed_at is not None
        assert grant.revoked_at is None

    again = invoke(
        "create-admin",
        "--territory",
        "loos",
        "--email",
        "admin@example.org",
        "--name",
        "X",
        "--password-stdin",
        input="une autre phrase de passe\n",
    )
    assert again.exit_code == 1
    weak = invoke(
        "create-admin",
        "--territory",
        "loos",
        "--email",
        "other@example.org",
        "--name",
        "Y",
        "--password-stdin",
        input="azerty\n",
    )
    assert weak.exit_code == 1
    assert "mot de passe" in weak.output

    token = invoke(
        "token",
        "create",
        "--territory",
        "loos",
        "--email",
        "admin@example.org",
        "--name",
        "open data",
        "--scope",
        "read",
        "--scope",
        "write",
    )
    assert token.exit_code == 0, token.output
    raw = token.output.strip().splitlines()[-1]
    assert raw.startswith("cx_")
    with unit_of_work(database) as db:
        stored = db.scalars(select(ApiToken)).one()
        assert stored.token_hash == hash_token(raw)
        assert sorted(stored.scopes) == ["read", "write"]
    assert (
        invoke("token", "create", "--territory", "loos", "--email", "nobody@example.org", "--name", "n").exit_code == 1
    )

    # The queued e-mails (verification, role granted) go out with `cailloux jobs run`.
    assert invoke("jobs", "run", "no_such_kind").exit_code == 1
    ran = invoke("jobs", "run", "send_email")
    assert ran.exit_code == 0, ran.output
    with unit_of_work(database) as db:
        assert db.scalar(select(func.count(OutboxEmail.id)).where(OutboxEmail.sent_at.is_(None))) == 0
        assert db.scalar(select(func.count(Job.id)).where(Job.done_at.is_(None), Job.kind == "send_email")) == 0
    assert {m["To"] for m in backends.sent_messages} == {"Admin@example.org"}
    assert invoke("jobs", "run").exit_code == 0


@pytest.mark.usefixtures("cli_env")
def test_demo_command_is_idempotent(database: Database) -> None:
    first = invoke("demo")
    assert first.exit_code == 0, first.output
    assert "cailloux-demo-2026" in first.output
    second = invoke("demo")
    assert second.exit_code == 0
    assert "rien à faire" in second.output
    with unit_of_work(database) as db:
        assert set(db.scalars(select(Territory.slug))) == {"loos-en-gohelle", "malaunay"}


def test_demo_command_refuses_production(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAILLOUX_ENVIRONMENT", "production")
    monkeypatch.setenv("CAILLOUX_DATABASE_URL", database_url)
    monkeypatch.setenv("CAILLOUX_SECRET_KEY", "p" * 40)
    monkeypatch.setenv("CAILLOUX_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("CAILLOUX_SMTP_HOST", "localhost")
    monkeypatch.setenv("CAILLOUX_DEFAULT_TERRITORY", "")
    monkeypatch.setenv("CAILLOUX_BASE_SCHEME", "https")
    get_settings.cache_clear()
    try:
        result = invoke("demo")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "production" in result.output
    with unit_of_work(database) as db:
        assert db.scalar(select(func.count(Territory.id))) == 0


def test_migrate_builds_a_fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, cleanup = fresh_database_url(tmp_path, "cli_migrate")
    monkeypatch.setenv("CAILLOUX_DATABASE_URL", url)
    monkeypatch.setenv("CAILLOUX_ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        result = invoke("migrate")
        assert result.exit_code == 0, result.output
        engine = get_database(url).write_engine
        tables = set(inspect(engine).get_table_names())
        assert {"alembic_version", "territory", "account", "job", "outbox_email"} <= tables
        assert invoke("migrate").exit_code == 0  # already at head
    finally:
        get_settings.cache_clear()
        get_database(url).dispose()
        cleanup()  # type: ignore[operator]


@pytest.mark.usefixtures("cli_env")
def test_serve_runs_uvicorn_with_the_worker_and_stops_it(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    invoke("demo")
    started: list[list[str]] = []
    served: dict[str, Any] = {}

    class FakeProcess:
        terminated = False

        def __init__(self, args: list[str]) -> None:
            started.append(args)

        def terminate(self) -> None:
            FakeProcess.terminated = True

        def wait(self, timeout: float | None = None) -> int:
            return 0

    def fake_run(app: str, **kwargs: Any) -> None:
        served.update(kwargs, app=app)
        assert started, "the worker starts before uvicorn"

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = invoke("serve", "--host", "127.0.0.1", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert started[0][-3:] == ["-m", "app.cli", "worker"]
    assert served["app"] == "app.asgi:app"
    assert served["port"] == 8123
    assert FakeProcess.terminated
    assert "http://127.0.0.1:8123/" in result.output
    assert "http://malaunay.localhost:8123/" in result.output
    assert "cailloux-demo-2026" in result.output
