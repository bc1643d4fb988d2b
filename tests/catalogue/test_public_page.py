"""What an anonymous visitor sees on a public initiative's page: the story, the photos, both sides'
totals, the public steps of the timeline and a report link; no personal data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.accounts.models import AgeBracket
from app.audit import service as audit
from app.db.base import utcnow
from app.db.session import unit_of_work
from app.initiatives.models import InitiativeMember, InitiativeState, MemberRole
from tests.catalogue import helpers as c
from tests.factories import Factory
from tests.review.conftest import World

S = InitiativeState


def test_the_public_page_tells_the_story_without_personal_data(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = c.with_photo(world, S.IN_PROGRESS, title="Bacs du quartier", alt="Trois bacs en bois")
    c.update(world, initiative.id, general_interest="Un lieu de rencontre pour **tout** le quartier.")
    teen = factory.account("lea@example.org", display_name="Léa Mineure", age_bracket=AgeBracket.FROM_15_TO_17)
    with unit_of_work(world.database) as db:
        db.add(
            InitiativeMember(
                territory_id=world.territory_id, initiative_id=initiative.id, person_id=teen.person_id,
                role=MemberRole.CO_PROMOTER, accepted_at=utcnow(),
            )
        )  # fmt: skip
        audit.record(
            db, world.executive_actor, "initiative.approve", "initiative", initiative.public_id,
            territory_id=world.territory_id, reason="Motif interne de la décision",
        )  # fmt: skip
    page = client.get(f"/initiatives/{initiative.public_id}")
    assert page.status_code == 200
    text = page.text
    # The story.
    assert "Des bacs de culture pour le quartier." in text
    assert "<strong>tout</strong>" in text
    # The photos.
    assert 'alt="Trois bacs en bois"' in text
    # Both sides' totals.
    assert "Apport des habitant·es : 1\u202f000,00\xa0€" in text
    assert "Apport de la commune : 500,00\xa0€" in text
    # The public timeline: the step, without who nor why.
    assert "Initiative acceptée" in text
    assert "Marc Maire" not in text
    assert "Motif interne" not in text
    # Adults by their public name, minors never by name, no e-mail address.
    assert "Paula Porteuse" in text
    assert "Léa" not in text
    assert "un·e jeune habitant·e" in text
    assert "@example.org" not in text
    # Anyone may report it.
    assert f'href="/signaler/initiative/{initiative.public_id}">Signaler ce contenu</a>' in text
