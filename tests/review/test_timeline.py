"""The initiative's timeline, read from the audit log: promoters and staff see every step with who and
why; the public sees the milestones of a public initiative only, without names or reasons."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.initiatives.models import InitiativeState
from app.review import service as review
from tests.factories import Factory
from tests.review.conftest import World
from tests.review.test_service import act

S = InitiativeState


def _steps(html: str) -> list[str]:
    section = html.split('id="timeline-title"', 1)[1].split("</section>", 1)[0]
    return [re.sub(r"\s+", " ", step).strip() for step in re.findall(r"<strong>(.*?)</strong>", section, re.S)]


def _walk(world: World) -> str:
    initiative = world.initiative(S.SUBMITTED, title="Verger de la Cité 12")
    act(world, initiative.id, review.assign_to_me, world.agent_actor)
    act(world, initiative.id, review.start_review, world.agent_actor)
    act(world, initiative.id, review.request_changes, world.agent_actor, "Précisez le calendrier.")
    act(world, initiative.id, review.resubmit, world.promoter_actor)
    act(world, initiative.id, review.decide, world.executive_actor, "approve")
    return world.reload(initiative.id).public_id


def test_promoters_see_every_step_with_who_and_why(client: TestClient, factory: Factory, world: World) -> None:
    public_id = _walk(world)
    factory.login(client, world.promoter)
    html = client.get(f"/initiatives/{public_id}").text.replace("&#39;", "'")
    assert _steps(html) == [
        "Instruction commencée",
        "Modifications demandées",
        "Projet renvoyé à la commune après modifications",
        "Initiative acceptée",
    ]
    assert "Motif : Précisez le calendrier." in html
    assert "(par Annie Agent)" in html
    assert "(par Marc Maire)" in html
    factory.login(client, world.agent)
    staff_html = client.get(f"/initiatives/{public_id}").text.replace("&#39;", "'")
    # The staff also see who took the file.
    assert _steps(staff_html)[0] == "Instruction confiée à un·e agent·e"
    assert len(_steps(staff_html)) == 5


def test_the_public_sees_milestones_without_names_or_reasons(client: TestClient, world: World) -> None:
    public_id = _walk(world)
    html = client.get(f"/initiatives/{public_id}").text.replace("&#39;", "'")
    assert _steps(html) == ["Initiative acceptée"]
    assert "Précisez le calendrier." not in html
    assert "(par " not in html.split('id="timeline-title"', 1)[1]


def test_ledger_changes_appear_with_the_line(client: TestClient, factory: Factory, world: World) -> None:
    from app.db.session import unit_of_work
    from app.ledger import service as ledger
    from app.ledger.models import LineKind
    from app.ledger.service import LineInput

    initiative = world.initiative(S.IN_REVIEW, title="Jardin de pluie")
    with unit_of_work(world.database) as db:
        ledger.add_line(
            db, world.agent_actor, initiative.public_id, world.territory_id,
            LineInput(kind=LineKind.LOGISTICS, label="Barrières de chantier", quantity=1, unit_value_cents=5_000),
        )  # fmt: skip
    factory.login(client, world.promoter)
    html = client.get(f"/initiatives/{initiative.public_id}").text
    assert "Apport inscrit au registre</strong> : Barrières de chantier" in html
