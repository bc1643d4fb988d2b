"""Cross-cutting web behaviour: locale, security headers, CSRF, errors, formats."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.web import i18n


def test_security_headers_on_pages(client: TestClient) -> None:
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Content-Language"] == "fr"


def test_first_visit_redirects_english_browsers_once(client: TestClient) -> None:
    r = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.status_code == 302
    assert r.headers["location"] == "/en/"
    assert "cailloux_lang" in r.headers["set-cookie"]
    # Once negotiated (cookie present), the French URL stays French.
    r2 = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r2.status_code == 200
    assert '<html lang="fr">' in r2.text


def test_french_browsers_are_not_redirected(client: TestClient) -> None:
    r = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert r.status_code == 200


def test_language_switch_is_a_plain_link(client: TestClient) -> None:
    fr = client.get("/")
    assert 'href="/en/"' in fr.text
    en = client.get("/en/")
    assert 'href="/"' in en.text
    assert "Français" in en.text


def test_unknown_page_is_404_in_the_layout(client: TestClient) -> None:
    r = client.get("/nulle-part")
    assert r.status_code == 404
    assert "Page introuvable" in r.text
    assert "Loos-en-Gohelle" in r.text  # rendered inside the site layout
    assert client.get("/en/nowhere").status_code == 404


def test_post_without_csrf_token_is_refused(client: TestClient) -> None:
    r = client.post("/deconnexion", data={})
    assert r.status_code == 403


def test_cross_site_post_is_refused_even_with_a_token(client: TestClient) -> None:
    r = client.post("/deconnexion", data={"csrf_token": "x"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_unexpected_error_gives_500_page_with_reference(app: FastAPI) -> None:
    @app.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, base_url="http://loos.test", raise_server_exceptions=False) as c:
        from tests.factories import Factory

        Factory(app.state.database, app).territory()
        r = c.get("/boom-for-test")
    assert r.status_code == 500
    assert "Référence de l'erreur" in r.text
    assert "Traceback" not in r.text
    assert "RuntimeError" not in r.text


def test_french_and_english_formats() -> None:
    with i18n.use_locale("fr"):
        assert i18n.money(123450) == "1\u202f234,50\xa0€"
        assert i18n.date(dt.date(2026, 7, 14)) == "14 juillet 2026"
    with i18n.use_locale("en"):
        assert i18n.money(123450) == "€1,234.50"
        assert i18n.date(dt.date(2026, 7, 14)) == "14 July 2026"


def test_accept_language_negotiation() -> None:
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("de-DE, fr;q=0.5") == "fr"
    assert i18n.negotiate(None) == "fr"
    assert i18n.negotiate("de") == "fr"


def test_database_down_gives_503_with_retry_after(app: FastAPI) -> None:
    from sqlalchemy.exc import OperationalError

    @app.get("/db-down-for-test")
    def down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    @app.get("/api/v1/db-down-for-test")
    def api_down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with TestClient(app, base_url="http://loos.test") as c:
        from tests.factories import Factory

        Factory(app.state.database, app).territory()
        page = c.get("/db-down-for-test")
        api = c.get("/api/v1/db-down-for-test")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    assert "momentanément indisponible" in page.text
    assert "connection refused" not in page.text
    assert api.status_code == 503
    assert api.headers["content-type"].startswith("application/problem+json")


def test_htmx_error_goes_to_the_live_region(client: TestClient) -> None:
    r = client.get("/nulle-part", headers={"HX-Request": "true"})
    assert r.status_code == 404
    assert r.headers["HX-Retarget"] == "#toasts"
    assert "<html" not in r.text
    assert "Page introuvable" in r.text


def test_signed_in_home_is_no_store(client: TestClient, factory: object) -> None:
    from tests.factories import Factory

    assert isinstance(factory, Factory)
    assert "Cache-Control" not in client.get("/").headers
    factory.login(client, factory.account())
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"


def test_unknown_page_keeps_the_signed_in_navigation(client: TestClient, factory: object) -> None:
    from tests.factories import Factory

    assert isinstance(factory, Factory)
    factory.login(client, factory.account())
    r = client.get("/nulle-part")
    assert r.status_code == 404
    assert "Mon espace" in r.text
    assert "Se déconnecter" in r.text
