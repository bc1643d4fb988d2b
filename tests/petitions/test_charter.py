"""The petitions' charter: defaults published at /petitions/charte, edited by admins in the rules
form (one "key: label" a line), and the only reasons an agent may refuse a petition for."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.core.errors import Invalid
from app.db.session import unit_of_work
from app.petitions import service
from tests.factories import Factory, post_form
from tests.petitions import helpers as h

RULES = {
    "ff_upkeep_years": "3",
    "ff_fiscal_year_start_month": "1",
    "pt_answer_threshold_minimum": "50",
    "pt_answer_threshold_percent": "1",
    "pt_council_threshold_minimum": "300",
    "pt_council_threshold_percent": "5",
    "pt_answer_deadline_days": "60",
    "pt_open_period_months": "3",
    "pt_threshold_basis": "town",
}


def test_admin_edits_the_charter(client: TestClient, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",))
    factory.login(client, admin)
    page = client.get("/admin/territoire/regles")
    assert "outside_powers: La demande ne relève pas" in page.text
    bad = post_form(client, "/admin/territoire/regles", data={**RULES, "pt_charter_text": "pas de clé ici"})
    assert bad.status_code == 422
    text = "outside_powers: Hors des compétences de la commune.\nbruit: Nuisances sonores déjà traitées."
    saved = post_form(client, "/admin/territoire/regles", data={**RULES, "pt_charter_text": text})
    assert saved.status_code == 303
    charter = client.get("/petitions/charte").text
    assert "Nuisances sonores déjà traitées." in charter
    assert "diffamatoire" not in charter
    # An older form without the charter keeps it as it is.
    assert post_form(client, "/admin/territoire/regles", data=RULES).status_code == 303
    assert "Nuisances sonores" in client.get("/petitions/charte").text

    tid = factory.territories["loos"]
    author = h.viewer(factory.account("auteur@example.org"))
    agent = h.viewer(factory.account("agent@example.org", roles=("agent",)), "agent")
    public_id = h.start(factory.database, author, tid)
    with unit_of_work(factory.database) as db:
        service.submit(db, author, tid, public_id)
    territory = h.context(factory.database, tid)
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        service.reject(db, agent, territory, public_id, "insulting")  # no longer in the charter
    with unit_of_work(factory.database) as db:
        service.reject(db, agent, territory, public_id, "bruit")
    assert h.petition(factory.database, public_id).rejection_reason == "bruit"
