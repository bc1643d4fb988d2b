"""Engines and sessions.

Two engines over the same database: the *write* engine opens SQLite transactions with
``BEGIN IMMEDIATE`` (so a read-then-write never fails on a lock upgrade that the busy
timeout cannot retry), the *read* engine keeps SQLite's deferred transactions so that
GET requests never take the single write lock. On PostgreSQL both are ordinary pools.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.config import get_settings


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Python 3.11's sqlite3 has no ``autocommit`` attribute: take over transaction control.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def build_engine(url: str, *, write: bool) -> Engine:
    settings = get_settings()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


@dataclass
class Database:
    url: str
    write_engine: Engine
    read_engine: Engine
    write_factory: sessionmaker[Session]
    read_factory: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()


_lock = threading.Lock()
_databases: dict[str, Database] = {}


def get_database(url: str | None = None) -> Database:
    url = url or get_settings().database_url
    with _lock:
        db = _databases.get(url)
        if db is None:
            write_engine = build_engine(url, write=True)
            read_engine = build_engine(url, write=False)
            db = Database(
                url=url,
                write_engine=write_engine,
                read_engine=read_engine,
                write_factory=sessionmaker(write_engine, expire_on_commit=False, autoflush=True),
                read_factory=sessionmaker(read_engine, expire_on_commit=False, autoflush=False),
            )
            _databases[url] = db
        return db


def dispose_all() -> None:
    with _lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()


@contextlib.contextmanager
def unit_of_work(db: Database | None = None) -> Iterator[Session]:
    """A write transaction for the CLI, the worker and tests: commit on success, else roll back."""
    db = db or get_database()
    session = db.write_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextlib.contextmanager
def read_only(db: Database | None = None) -> Iterator[Session]:
    db = db or get_database()
    session = db.read_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
