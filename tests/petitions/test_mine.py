"""« Mes pétitions » lists what the person started and what they signed with their account: legal-request
signers get no notifications, so this is where they follow the request."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from app.db.session import Database, unit_of_work
from app.petitions import signing
from app.petitions.models import PetitionKind
from app.petitions.signing import Choices, ElectorDetails
from tests.factories import Factory
from tests.petitions.signing_support import make_petition, territory_context, viewer_for


def test_my_signatures_are_listed_with_the_legal_stage(
    client: TestClient, factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    territory = territory_context(database, tid)
    civic = make_petition(database, tid, title="Un abri à vélos place de la République")
    withdrawn = make_petition(database, tid, title="Une fontaine rue Hoche")
    legal = make_petition(database, tid, kind=PetitionKind.LEGAL, title="Consulter sur la route du 11/19")
    not_mine = make_petition(database, tid, title="Des poubelles de tri au stade")
    alice = factory.account("alice@example.org", display_name="Alice Martin")
    bob = factory.account("bob@example.org", display_name="Bob")
    with unit_of_work(database) as db:
        for public_id in (civic, withdrawn):
            signing.sign(db, viewer_for(alice), territory, signing.get_petition(db, tid, public_id), Choices())
        elector = ElectorDetails("Martin", "Alice", "3 rue Hoche, Loos-en-Gohelle", dt.date(1980, 4, 2))
        signing.sign(db, viewer_for(alice), territory, signing.get_petition(db, tid, legal), Choices(), elector=elector)
        signing.sign(db, viewer_for(bob, name="Bob"), territory, signing.get_petition(db, tid, not_mine), Choices())
    with unit_of_work(database) as db:
        assert signing.withdraw(db, viewer_for(alice), territory, signing.get_petition(db, tid, withdrawn))

    factory.login(client, alice)
    page = client.get("/mes-petitions")
    assert page.status_code == 200
    assert "Mes signatures" in page.text
    assert "abri à vélos" in page.text
    assert "Consulter sur la route du 11/19" in page.text
    assert "recueil des signatures" in page.text  # the legal request's stage
    assert "fontaine" not in page.text  # withdrawn
    assert "poubelles" not in page.text  # someone else's

    factory.login(client, bob)
    assert "abri à vélos" not in client.get("/mes-petitions").text
