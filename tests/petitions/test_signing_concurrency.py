"""Signatures at the same time, from real processes on one database (SQLite, or PostgreSQL when
``CAILLOUX_TEST_DATABASE_URL`` is set): the database's unique keys, not a count in code, keep
one row per signer, and every distinct signer gets exactly one row."""

from __future__ import annotations

import multiprocessing
from typing import Any

from app.accounts.models import Account
from app.db.session import Database
from app.petitions.models import LegalQuarterSignature, PetitionKind
from app.petitions.signing import Choices, GuestDetails
from tests.factories import Factory
from tests.petitions.signing_support import count_rows, make_petition, sign_in_process, signature_rows, viewer_for

PROCESSES = 8


def _run(database_url: str, territory_id: int, public_id: str, whos: list[dict[str, Any]]) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(whos))
    results = ctx.Queue()
    processes = [
        ctx.Process(target=sign_in_process, args=(database_url, territory_id, public_id, who, barrier, results))
        for who in whos
    ]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=180) for _ in processes]
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    return outcomes


def test_one_person_signing_from_many_processes_gives_one_row(
    factory: Factory, database: Database, database_url: str
) -> None:
    account: Account = factory.account()
    tid = factory.territory()
    pid = make_petition(database, tid)
    viewer = viewer_for(account)

    outcomes = _run(database_url, tid, pid, [{"viewer": viewer}] * PROCESSES)

    assert sorted(outcomes) == sorted(["signed"] + ["already"] * (PROCESSES - 1)), outcomes
    rows = signature_rows(database, pid)
    assert len(rows) == 1
    assert rows[0].counted_at is not None


def test_the_same_guest_many_times_gives_one_row(factory: Factory, database: Database, database_url: str) -> None:
    tid = factory.territory()
    pid = make_petition(database, tid)
    guest = GuestDetails("Jeanne Petit", "jeanne@example.org", "62750", Choices())

    outcomes = _run(database_url, tid, pid, [{"guest": guest}] * PROCESSES)

    assert sorted(outcomes) == sorted(["pending"] + ["already"] * (PROCESSES - 1)), outcomes
    assert len(signature_rows(database, pid)) == 1


def test_distinct_guests_each_get_a_row(factory: Factory, database: Database, database_url: str) -> None:
    tid = factory.territory()
    pid = make_petition(database, tid)
    whos: list[dict[str, Any]] = [
        {"guest": GuestDetails(f"Signataire {n}", f"s{n}@example.org", "62750", Choices())} for n in range(PROCESSES)
    ]
    # Two more people sharing one address: slots 1 and 2, decided by the database.
    whos += [{"guest": GuestDetails(name, "couple@example.org", "62750", Choices())} for name in ("Ana", "Ben")]

    outcomes = _run(database_url, tid, pid, whos)

    assert outcomes == ["pending"] * len(whos), outcomes
    rows = signature_rows(database, pid)
    assert len(rows) == len(whos)
    assert sorted(r.email_slot or 0 for r in rows if r.email == "couple@example.org") == [1, 2]


def test_one_elector_per_quarter_under_concurrency(factory: Factory, database: Database, database_url: str) -> None:
    """The same elector signs two legal requests at once, from two accounts: one signature."""
    from tests.petitions.signing_support import sign_legal_in_process

    tid = factory.territory()
    first = make_petition(database, tid, kind=PetitionKind.LEGAL)
    second = make_petition(database, tid, kind=PetitionKind.LEGAL, title="Autre demande")
    accounts = [factory.account(f"e{n}@example.org", display_name=f"E{n}") for n in range(4)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(accounts))
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=sign_legal_in_process,
            args=(database_url, tid, first if n % 2 == 0 else second, viewer_for(a), barrier, results),
        )
        for n, a in enumerate(accounts)
    ]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=180) for _ in processes]
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(outcomes) == sorted(["signed"] + ["conflict"] * (len(accounts) - 1)), outcomes
    assert count_rows(database, LegalQuarterSignature) == 1
    assert len(signature_rows(database, first)) + len(signature_rows(database, second)) == 1
