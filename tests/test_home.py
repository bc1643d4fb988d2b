from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory


def test_home_explains_the_scheme_in_french(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Loos-en-Gohelle" in response.text
    assert "Cité 5" in response.text
    # Default answer threshold: max(50, 1 % of 6 850) = 69.
    assert "À partir de 69 signatures" in response.text
    # Match ratios from the settings, as French euro amounts.
    assert "jusqu'à 1,00\xa0€ pour 1 € apporté" in response.text.replace("&#39;", "'")
    # The hour value in force today, from the rate table the ledger uses (gross SMIC since 2026-01-01).
    assert "valorisée 12,02\xa0€" in response.text
    # The funds' public rules and convention templates are one link away, in the page and the footer.
    assert response.text.count('href="/dispositifs"') == 2
    assert "Set-Cookie" not in response.headers  # public pages open no session
    assert "HX-Request" in response.headers["Vary"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_unknown_host_is_404(app: object, factory: Factory) -> None:
    factory.territory()
    with TestClient(app, base_url="http://nowhere.test") as c:  # type: ignore[arg-type]
        assert c.get("/").status_code == 404


def test_english_under_en_prefix(client: TestClient) -> None:
    response = client.get("/en/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "How it works" in response.text
    assert "Comment ça marche" not in response.text
    # Links stay in English: the locale is always in the URL.
    assert 'href="/en/connexion' in response.text
