"""Legal notices, privacy notice (retention table, draft register) and accessibility statement."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.db.session import Database, unit_of_work
from app.territories.models import Territory
from tests.factories import Factory


def _update_territory(factory: Factory, database: Database, **values: Any) -> None:
    with unit_of_work(database) as db:
        territory = db.get_one(Territory, factory.territory())
        for name, value in values.items():
            setattr(territory, name, value)
    factory.app.state.territory_resolver.invalidate()


def test_legal_notices_say_what_is_missing_then_show_it(
    client: TestClient, factory: Factory, database: Database
) -> None:
    page = client.get("/mentions-legales")
    assert page.status_code == 200
    assert "<h1>Mentions légales</h1>" in page.text
    assert "Loos-en-Gohelle" in page.text
    assert "à compléter par la commune" in page.text

    _update_territory(
        factory,
        database,
        siret="21620528900017",
        legal_json={
            "controller": "Commune de Loos-en-Gohelle, représentée par son maire",
            "controller_address": "Place de la République, 62750 Loos-en-Gohelle",
            "publication_director": "Le maire",
            "host": "Hébergeur Exemple, 1 rue du Serveur, 59000 Lille",
            "dpo_contact": "dpo@loos.example",
            "contact_email": "mairie@loos.example",
        },
    )
    page = client.get("/mentions-legales")
    assert "Place de la République, 62750 Loos-en-Gohelle" in page.text
    assert "Hébergeur Exemple" in page.text
    assert "dpo@loos.example" in page.text
    assert "21620528900017" in page.text
    assert "à compléter par la commune" not in page.text


def test_privacy_notice_lists_purposes_retention_rights_and_the_register(
    client: TestClient, factory: Factory, database: Database
) -> None:
    _update_territory(
        factory, database, legal_json={"controller": "Commune de Loos", "dpo_contact": "dpo@loos.example"}
    )
    page = client.get("/donnees-personnelles")
    assert page.status_code == 200
    text = page.text
    assert "Commune de Loos" in text
    assert "dpo@loos.example" in text
    assert "mission d'intérêt public" in text
    assert "obligation légale" in text
    assert "L1112-16" in text
    assert "consentement" in text
    assert 'id="retention-table"' in text
    assert "Sessions de connexion terminées" in text
    assert "30 jours" in text
    assert "Journal des actions" in text
    assert "6 ans" in text
    # Signed conventions outlive account deletion, kept restricted for the archives.
    assert "Conventions, avenants et signatures" in text
    assert "10 ans" in text
    assert "CNIL" in text
    assert "Registre des activités de traitement" in text
    assert 'href="/mon-espace/donnees.json"' in text


def test_accessibility_statement_is_non_conforming_until_an_audit(
    client: TestClient, factory: Factory, database: Database
) -> None:
    page = client.get("/accessibilite")
    assert page.status_code == 200
    assert "non conforme — audit non réalisé" in page.text
    assert "09 69 39 00 00" in page.text
    assert "Libre réponse 71120, 75342 Paris CEDEX 07" in page.text
    assert "formulaire.defenseurdesdroits.fr" in page.text

    _update_territory(
        factory,
        database,
        accessibility_json={
            "status": "partiellement_conforme",
            "audit_date": "2026-03-15",
            "audit_rate_percent": 72.5,
            "auditor": "Audit Accessible SARL",
            "contact": "accessibilite@loos.example",
            "non_accessible_content": "Les cartes des quartiers n'ont pas d'alternative textuelle.",
        },
    )
    page = client.get("/accessibilite")
    assert "audit non réalisé" not in page.text
    assert "partiellement conforme" in page.text
    assert "72,5" in page.text
    assert "Audit Accessible SARL" in page.text
    assert "15 mars 2026" in page.text
    assert "accessibilite@loos.example" in page.text
    assert "cartes des quartiers" in page.text


def test_legal_pages_exist_in_english_too(client: TestClient) -> None:
    for path in ("/en/mentions-legales", "/en/donnees-personnelles", "/en/accessibilite"):
        assert client.get(path).status_code == 200
