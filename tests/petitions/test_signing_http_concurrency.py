"""Signatures through HTTP against real uvicorn workers (two processes, one database: SQLite or
PostgreSQL, whichever the suite runs on): a hundred people signing at once give exactly a hundred
counted signatures, and one person's burst of parallel clicks gives one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db.session import Database, unit_of_work
from app.petitions import counting
from app.petitions.models import Petition, PetitionCount, PetitionSignature
from tests.api.test_api import bearer, make_token
from tests.conftest import TEST_SECRET
from tests.factories import Factory
from tests.petitions.signing_support import make_petition

PEOPLE = 100
SAME_PERSON_CLICKS = 20
HOST = "loos.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "CAILLOUX_ENVIRONMENT": "test",
        "CAILLOUX_DATABASE_URL": database_url,
        "CAILLOUX_SECRET_KEY": TEST_SECRET,
        "CAILLOUX_VAR_DIR": str(tmp_path / "var"),
        "CAILLOUX_MAIL_BACKEND": "memory",
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "2", "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", "--log-level", "warning",
        ],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(f"{base}/healthz", headers={"Host": HOST}), timeout=2
                ):
                    break
            except OSError:
                pass
            assert process.poll() is None, "uvicorn stopped"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _sign(base: str, public_id: str, token: str, address: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/petitions/{public_id}/signature",
        data=json.dumps({"relation": "lives"}).encode(),
        method="POST",
        # Each signer from their own address: one address's burst would be set aside for an agent.
        headers={**bearer(token), "Host": HOST, "X-Forwarded-For": address, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_parallel_signatures_through_http_count_exactly(
    server: str, factory: Factory, database: Database, settings: Settings
) -> None:
    tid = factory.territory()
    public_id = make_petition(database, tid, title="Des arceaux à vélos devant la médiathèque")
    tokens = [make_token(factory, factory.account(f"signataire{i}@example.org")) for i in range(PEOPLE)]

    with ThreadPoolExecutor(max_workers=32) as pool:
        distinct = list(
            pool.map(lambda i: _sign(server, public_id, tokens[i], f"10.1.{i // 200}.{i % 200 + 1}"), range(PEOPLE))
        )
        same = list(pool.map(lambda _i: _sign(server, public_id, tokens[0], "10.9.9.9"), range(SAME_PERSON_CLICKS)))
    assert set(distinct) <= {200, 201}, distinct
    assert set(same) <= {200, 201}, same

    with unit_of_work(database) as db:
        petition_id = db.scalars(select(Petition.id).where(Petition.public_id == public_id)).one()
        rows = db.scalar(select(func.count()).where(PetitionSignature.petition_id == petition_id))
        counted = db.scalar(
            select(func.count()).where(
                PetitionSignature.petition_id == petition_id,
                PetitionSignature.counted_at.is_not(None),
                PetitionSignature.flagged_at.is_(None),
            )
        )
    assert rows == PEOPLE
    assert counted == PEOPLE
    with unit_of_work(database) as db:
        counting.recount(db, settings=settings)
    with unit_of_work(database) as db:
        assert db.get_one(PetitionCount, petition_id).total == PEOPLE
