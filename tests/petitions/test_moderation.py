"""Anyone may report a published petition; an agent hides it with a reason (audited on the petition):
it leaves the list, the search and its page for the public, while its author and the staff still see
it with the reason; restoring it brings it back."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db.session import Database, read_only
from app.moderation.models import ContentReport
from tests.factories import Factory, form_fields
from tests.petitions import helpers as h

TITLE = "Des bancs à l'arrêt de bus de la Cité 5"


def _report(client: TestClient, public_id: str) -> Any:
    link = f"/signaler/petition/{public_id}"
    form = client.get(link)
    assert form.status_code == 200, form.text[:300]
    return client.post(link, data={**form_fields(form.text), "reason": "insult"})


def _decide(client: TestClient, public_id: str, action: str, **data: str) -> Any:
    page = client.get(f"/moderation/petition/{public_id}")
    assert page.status_code == 200, page.text[:300]
    assert "Des bancs" in page.text
    return client.post(f"/moderation/petition/{public_id}/{action}", data={**form_fields(page.text), **data})


def _audit(database: Database, action: str) -> list[AuditEntry]:
    with read_only(database) as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.expunge_all()
        return rows


def test_a_reported_petition_is_hidden_then_restored(
    app: FastAPI, client: TestClient, factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    author = factory.account("autrice@example.org", display_name="Aline Autrice")
    agent = factory.account("agent@example.org", roles=("agent",))
    pid = h.opened(database, h.viewer(author), h.viewer(agent, "agent"), tid, title=TITLE)

    page = client.get(f"/petitions/{pid}").text
    assert f'href="/signaler/petition/{pid}"' in page
    assert _report(client, pid).status_code == 303
    with read_only(database) as db:
        assert db.scalars(select(ContentReport.subject_type)).all() == ["petition"]

    factory.login(client, author)
    assert "/signaler/petition/" not in client.get(f"/petitions/{pid}").text  # not its own author

    factory.login(client, agent)
    assert f'href="/moderation/petition/{pid}"' in client.get(f"/petitions/{pid}").text
    assert _decide(client, pid, "masquer", reason="Attaque contre une personne nommée.").status_code == 303
    [entry] = _audit(database, "moderation.hide")
    assert (entry.subject_type, entry.subject_id) == ("petition", pid)

    client.cookies.clear()
    assert client.get(f"/petitions/{pid}").status_code == 404
    assert "Des bancs" not in client.get("/petitions").text
    assert "Des bancs" not in client.get("/petitions", params={"q": "bancs"}).text
    assert client.get(f"/signaler/petition/{pid}").status_code == 404

    factory.login(client, author)
    mine = client.get(f"/petitions/{pid}")
    assert mine.status_code == 200
    assert "Attaque contre une personne nommée." in mine.text

    factory.login(client, agent)
    assert _decide(client, pid, "retablir", reason="Passage reformulé par l'autrice.").status_code == 303
    client.cookies.clear()
    assert client.get(f"/petitions/{pid}").status_code == 200
    assert "Des bancs" in client.get("/petitions").text


def test_another_towns_petition_cannot_be_reported(
    app: FastAPI, client: TestClient, factory: Factory, database: Database
) -> None:
    other = factory.territory("autre", name="Autreville", host="autre.test", insee="59350")
    author = factory.account("a@autre.fr", territory="autre")
    agent = factory.account("agent@autre.fr", territory="autre", roles=("agent",))
    pid = h.opened(database, h.viewer(author), h.viewer(agent, "agent"), other, title=TITLE)
    factory.territory()
    assert client.get(f"/signaler/petition/{pid}").status_code == 404
