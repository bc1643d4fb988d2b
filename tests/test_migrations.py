"""The Alembic migrations build exactly the models' schema, run both ways, keep data, and the
SQLite engines behave as app.db.session promises (WAL, foreign keys, BEGIN IMMEDIATE for writes)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, inspect, pool, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, StatementError

import app.models  # noqa: F401  (fills the metadata)
from app.accounts import sessions
from app.accounts.models import Account, AgeBracket, Person, UserSession
from app.accounts.service import Registration, register
from app.audit.models import AuditEntry
from app.core.actor import OPERATOR
from app.db.base import Base, UTCDateTime
from app.db.search_objects import is_search_object
from app.db.session import Database, get_database, read_only, unit_of_work
from app.territories import service as territories
from app.territories.models import Territory, TerritoryHost
from tests.conftest import PG_URL, fresh_database_url, run_migrations

ROOT = Path(__file__).resolve().parent.parent
sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite engine behaviour (the suite runs on PostgreSQL)")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """The same filter as migrations/env.py: hand-made full-text search objects have no model."""
    return not is_search_object(name, type_)


@pytest.fixture
def fresh_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database of the engine under test (not migrated)."""
    label = "mig_" + request.node.name.removeprefix("test_")[:20]
    url, cleanup = fresh_database_url(tmp_path, label)
    yield url
    db = get_database(url)
    db.dispose()
    cleanup()  # type: ignore[operator]


def _schema_differences(url: str) -> list[Any]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={"compare_type": True, "include_object": include_object, "target_metadata": Base.metadata},
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _table_names(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return {n for n in inspect(engine).get_table_names() if not is_search_object(n, "table")}
    finally:
        engine.dispose()


def test_single_head() -> None:
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    heads = script.get_heads()
    assert len(heads) == 1, f"several migration heads, merge them: {heads}"


def test_upgrade_head_matches_the_models(fresh_url: str) -> None:
    run_migrations(fresh_url)
    differences = _schema_differences(fresh_url)
    assert differences == [], "the migrations and app.models disagree:\n" + "\n".join(map(repr, differences))


def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    model_tables = {t.name for t in Base.metadata.sorted_tables}
    run_migrations(fresh_url)
    assert model_tables <= _table_names(fresh_url)

    run_migrations(fresh_url, "base", down=True)
    assert _table_names(fresh_url) <= {"alembic_version"}, "downgrade to base left tables behind"

    run_migrations(fresh_url)
    assert model_tables <= _table_names(fresh_url)
    assert _schema_differences(fresh_url) == []


def _fill(db: Database) -> dict[str, int]:
    """A territory with a host, an account (person, verification e-mail, audit) and a session."""
    with unit_of_work(db) as s:
        territory = territories.create_territory(
            s, OPERATOR, slug="loos", name="Loos-en-Gohelle", insee_code="62528", population=6850
        )
        territories.add_host(s, OPERATOR, territory, "loos.test")
        account = register(
            s,
            territory.id,
            Registration(
                email="alice@example.org",
                password="une phrase de passe solide",
                display_name="Alice Martin",
                neighbourhood_id=None,
                age_bracket=AgeBracket.ADULT,
                guardian_contact=None,
                locale="fr",
            ),
            base_url="http://loos.test",
        )
        assert account is not None
        sessions.open_session(s, account, "pytest")
        return {"territory": territory.id, "account": account.id}


def _counts(db: Database) -> dict[str, int]:
    models: list[type[Any]] = [Territory, TerritoryHost, Person, Account, UserSession, AuditEntry]
    with read_only(db) as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_data_survives_a_repeated_upgrade(fresh_url: str) -> None:
    run_migrations(fresh_url)
    db = get_database(fresh_url)
    ids = _fill(db)
    before = _counts(db)
    assert all(before.values()), before
    db.dispose()

    # Downgrading to the current head is a no-op, upgrading again too: neither may touch the data.
    run_migrations(fresh_url, "head", down=True)
    run_migrations(fresh_url)

    assert _counts(db) == before
    with read_only(db) as s:
        account = s.get_one(Account, ids["account"])
        assert account.territory_id == ids["territory"]
        assert account.email == "alice@example.org"
        if db.is_sqlite:
            assert s.execute(text("PRAGMA foreign_key_check")).fetchall() == []


def _all_table_counts(db: Database) -> dict[str, int]:
    with read_only(db) as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def test_migrations_carry_the_demo_data(fresh_url: str) -> None:
    """The demo data goes through every later migration step down and up again, unchanged."""
    from app.config import Settings
    from app.demo import load_demo

    run_migrations(fresh_url)
    db = get_database(fresh_url)
    load_demo(db, Settings(environment="development", database_url=fresh_url, mail_backend="memory"))
    before = _all_table_counts(db)
    assert before["territory"] == 2
    assert before["account"] >= 7
    db.dispose()

    script = ScriptDirectory.from_config(Config(str(Path(__file__).resolve().parent.parent / "alembic.ini")))
    revisions = list(reversed(list(script.walk_revisions())))
    # Each step after the first is undone and redone over the demo data; the tables a step
    # creates lose their rows when it is undone, every other table keeps them.
    lost: set[str] = set()
    for revision in revisions[1:]:
        run_migrations(fresh_url, str(revision.down_revision), down=True)
        db.dispose()
        lost |= set(before) - set(inspect(db.write_engine).get_table_names())
        run_migrations(fresh_url, revision.revision)
    run_migrations(fresh_url)

    after = _all_table_counts(db)
    kept = set(before) - lost
    assert kept, "some tables must outlive the down-and-up steps"
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    if db.is_sqlite:
        with read_only(db) as s:
            assert s.execute(text("PRAGMA foreign_key_check")).fetchall() == []


@sqlite_only
def test_sqlite_engines_pragmas(fresh_url: str) -> None:
    run_migrations(fresh_url)
    db = get_database(fresh_url)
    for engine in (db.write_engine, db.read_engine):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            conn.rollback()
    with db.write_engine.connect() as conn:
        # Foreign keys are enforced: a host for a territory that does not exist is refused.
        with pytest.raises(Exception, match="FOREIGN KEY"):
            conn.execute(text("INSERT INTO territory_host (territory_id, host) VALUES (999999, 'nulle.part')"))
        conn.rollback()


def _direct(url: str, busy_ms: int = 50) -> sqlite3.Connection:
    """A plain sqlite3 connection that gives up on a lock after a few milliseconds."""
    path = make_url(url).database
    assert path
    conn = sqlite3.connect(path, isolation_level=None, timeout=busy_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout={busy_ms}")
    return conn


def _count_hosts(conn: Any) -> int:
    return int(conn.execute(text("SELECT count(*) FROM territory_host")).scalar_one())


@sqlite_only
def test_write_engine_takes_the_write_lock_at_begin(fresh_url: str) -> None:
    run_migrations(fresh_url)
    db = get_database(fresh_url)
    other = _direct(fresh_url)
    try:
        with db.write_engine.connect() as conn:
            conn.begin()  # BEGIN IMMEDIATE: the lock is held before any statement
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            conn.rollback()
        # Released at the end of the transaction.
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")

        # A second connection of the write engine waits for the lock too (busy timeout shortened).
        with db.write_engine.connect() as first:
            first.begin()
            second = db.write_engine.connect()
            try:
                raw = second.connection.dbapi_connection
                assert raw is not None
                raw.execute("PRAGMA busy_timeout=50")
                with pytest.raises(OperationalError, match="locked"):
                    second.begin()
            finally:
                second.invalidate()  # never return the shortened timeout to the pool
                second.close()
            first.rollback()
    finally:
        other.close()


@sqlite_only
def test_read_engine_does_not_lock_and_reads_a_snapshot(fresh_url: str) -> None:
    run_migrations(fresh_url)
    db = get_database(fresh_url)
    with unit_of_work(db) as s:
        t = territories.create_territory(s, OPERATOR, slug="loos", name="Loos", insee_code="62528")
        territory_id = t.id
    other = _direct(fresh_url)
    try:
        with db.read_engine.connect() as reader:
            reader.begin()  # deferred BEGIN: no lock yet
            other.execute("BEGIN IMMEDIATE")  # a writer is not blocked by the open read transaction
            other.execute("ROLLBACK")
            assert _count_hosts(reader) == 0  # the read transaction now holds a snapshot

            # A write transaction commits while the read transaction is open (WAL: no blocking).
            with db.write_engine.begin() as writer:
                writer.execute(
                    text("INSERT INTO territory_host (territory_id, host) VALUES (:t, 'loos.test')"),
                    {"t": territory_id},
                )
            assert _count_hosts(reader) == 0, "a read transaction must keep its snapshot"
            reader.rollback()
            assert _count_hosts(reader) == 1
            reader.rollback()
    finally:
        other.close()


@pytest.fixture
def utc_probe(database: Database) -> Iterator[tuple[Table, Callable[[], Any]]]:
    table = Table(
        "utc_probe",  # each xdist worker has its own database
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    table.create(database.write_engine)
    try:
        yield table, database.write_engine.begin
    finally:
        table.drop(database.write_engine)


def test_utc_datetime_round_trip(utc_probe: tuple[Table, Callable[[], Any]], database: Database) -> None:
    table, begin = utc_probe
    paris = dt.timezone(dt.timedelta(hours=2))
    moment = dt.datetime(2026, 6, 21, 14, 30, 15, tzinfo=paris)
    with begin() as conn:
        conn.execute(table.insert().values(id=1, at=moment))
    with database.read_engine.connect() as conn:
        stored = conn.execute(select(table.c.at).where(table.c.id == 1)).scalar_one()
        conn.rollback()
    assert stored == moment  # same instant
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored.hour == 12  # given in UTC

    with pytest.raises(StatementError, match="naive datetime"), begin() as conn:
        conn.execute(table.insert().values(id=2, at=dt.datetime(2026, 6, 21, 14, 30)))


def test_model_datetimes_are_aware_utc(database: Database) -> None:
    with unit_of_work(database) as s:
        t = territories.create_territory(s, OPERATOR, slug="utc", name="Utc", insee_code="62528")
        tid = t.id
    with read_only(database) as s:
        created = s.get_one(Territory, tid).created_at
    assert created.tzinfo is not None
    assert created.utcoffset() == dt.timedelta(0)
