"""Test set-up: one database per xdist worker built by the Alembic migrations, emptied after
each test; SQLite by default, PostgreSQL when ``CAILLOUX_TEST_DATABASE_URL`` is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db.base import Base
from app.db.session import Database, dispose_all, get_database
from app.main import create_app
from tests.factories import Factory

PG_URL = os.environ.get("CAILLOUX_TEST_DATABASE_URL")
TEST_SECRET = "test-secret-key-" + "x" * 40


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def run_migrations(url: str, revision: str = "head", *, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(Path(__file__).resolve().parent.parent / "alembic.ini"))
    cfg.attributes["database_url"] = url
    if down:
        command.downgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


def create_pg_database(base_url: str, name: str) -> str:
    url = make_url(base_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(base_url: str, name: str) -> None:
    url = make_url(base_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database_url(tmp_dir: Path, label: str) -> tuple[str, object]:
    """A new empty database (SQLite file, or PostgreSQL database) and a cleanup callable."""
    if PG_URL:
        name = f"{make_url(PG_URL).database}_{label}_{_worker()}"
        url = create_pg_database(PG_URL, name)
        return url, lambda: drop_pg_database(PG_URL, name)
    path = tmp_dir / f"{label}.db"
    return f"sqlite:///{path}", lambda: None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, cleanup = fresh_database_url(tmp_path_factory.mktemp("db"), "suite")
    run_migrations(url)
    yield url
    dispose_all()
    cleanup()  # type: ignore[operator]


@pytest.fixture(scope="session")
def database(database_url: str) -> Database:
    return get_database(database_url)


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    with db.write_engine.begin() as conn:
        if db.is_sqlite:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        else:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        var_dir=tmp_path / "var",
        mail_backend="memory",
        default_territory=None,
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def factory(database: Database, app: FastAPI) -> Factory:
    return Factory(database, app)


@pytest.fixture
def client(app: FastAPI, factory: Factory) -> Iterator[TestClient]:
    """A client on the main test territory's host (created by the factory)."""
    factory.territory()
    with TestClient(app, base_url="http://loos.test", follow_redirects=False) as c:
        yield c


@pytest.fixture
def other_client(app: FastAPI, factory: Factory) -> Iterator[TestClient]:
    """A client on a second territory's host, to prove isolation."""
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    with TestClient(app, base_url="http://autre.test", follow_redirects=False) as c:
        yield c
