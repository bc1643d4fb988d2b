"""The development outbox page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.config import Settings
from app.db.session import Database, unit_of_work
from app.mail.models import OutboxEmail
from app.main import create_app
from tests.factories import Factory, link_from


def test_outbox_lists_the_territory_emails_newest_first(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    alice = factory.account("alice@example.org")
    factory.account("bob@example.org")
    factory.account("carol@example.org", territory="autre")
    with unit_of_work(database) as db:
        db.add(
            OutboxEmail(
                territory_id=factory.territories["loos"],
                person_id=None,
                to_address="dave@example.org",
                subject="Objet <b>gras</b>",
                body_text="Bonjour <script>alert(1)</script>",
            )
        )

    response = client.get("/dev/outbox")
    assert response.status_code == 200
    html = response.text
    assert "alice@example.org" in html
    assert "bob@example.org" in html
    assert "carol@example.org" not in html  # another town's mail
    assert html.index("dave@example.org") < html.index("bob@example.org") < html.index("alice@example.org")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>gras</b>" not in html
    # The verification link is there to click.
    [verification] = factory.outbox(to=alice.email)
    assert f'href="{link_from(verification)}"'.replace("&", "&amp;") in html
    assert response.headers["cache-control"] == "no-store"

    assert "carol@example.org" in other_client.get("/dev/outbox").text


def test_outbox_does_not_exist_in_production(factory: Factory, database: Database, database_url: str) -> None:
    factory.territory()
    production = Settings(
        environment="production",
        secret_key="p" * 40,  # type: ignore[arg-type]
        database_url=database_url,
        mail_backend="smtp",
        smtp_host="localhost",
        default_territory="",
        base_scheme="https",
    )
    app = create_app(production, database)
    with TestClient(app, base_url="https://loos.test", follow_redirects=False) as c:
        assert c.get("/").status_code == 200
        assert c.get("/dev/outbox").status_code == 404
