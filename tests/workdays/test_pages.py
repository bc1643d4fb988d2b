"""Work days through HTTP: the initiative page's panel, « Je participe » (HTMX and plain forms), the
planning form, the register's bulk form, the agent's check, the prints and the insurer's export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db.session import unit_of_work
from app.ledger.models import CommitmentLine, LineKind, LineState
from app.workdays.models import RegisterState
from tests.factories import Factory, form_fields, post_form
from tests.workdays.conftest import (
    HX,
    World,
    audit_count,
    participants,
    plan,
    realisations,
    reload,
    resident,
    sign_up,
    signed,
    today,
)


def _page(public_id: str) -> str:
    return f"/initiatives/{public_id}"


def _day(public_id: str, work_day_id: str, rest: str = "") -> str:
    return f"/initiatives/{public_id}/chantiers/{work_day_id}{rest}"


def test_the_initiative_page_lists_the_work_days(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    plan(world, initiative, place="Square Lavoisier")
    anonymous = client.get(_page(initiative.public_id))
    assert anonymous.status_code == 200
    assert "Chantiers participatifs" in anonymous.text
    assert "Square Lavoisier" in anonymous.text
    assert "Connectez-vous pour participer" in anonymous.text

    factory.login(client, resident(factory, "alice@example.org", "Alice Martin"))
    page = client.get(_page(initiative.public_id))
    assert ">Je participe</button>" in page.text
    assert "Programmer un chantier" not in page.text

    factory.login(client, world.promoter)
    page = client.get(_page(initiative.public_id))
    assert "Programmer un chantier" in page.text
    assert "Chantier participatif programmé" in page.text  # the timeline


def test_je_participe_swaps_its_box_and_works_without_javascript(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    factory.login(client, resident(factory, "alice@example.org", "Alice Martin"))
    show = _day(initiative.public_id, work_day.public_id)

    first = post_form(client, show, show + "/participer", headers=HX)
    assert first.status_code == 200
    assert f'id="participation-{work_day.public_id}"' in first.text
    assert "Je ne participe plus" in first.text
    assert "vous participez" in first.text
    assert "hx-swap-oob" in first.text
    # A double click: the second request finds the first sign-up.
    second = post_form(client, show, show + "/participer", headers=HX)
    assert second.status_code == 200
    assert len(participants(world, work_day)) == 1

    plain = post_form(client, show, show + "/ne-plus-participer", data={"next": _page(initiative.public_id)})
    assert plain.status_code == 303
    assert plain.headers["location"] == _page(initiative.public_id)
    assert participants(world, work_day) == []
    evil = post_form(client, show, show + "/participer", data={"next": "//evil.example/"})
    assert evil.headers["location"] == show


def test_planning_form(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    new = f"/initiatives/{initiative.public_id}/chantiers/nouveau"
    factory.login(client, resident(factory, "alice@example.org", "Alice Martin"))
    assert client.get(new).status_code == 403

    factory.login(client, world.promoter)
    day = (today(world) + dt.timedelta(days=7)).isoformat()
    action = f"/initiatives/{initiative.public_id}/chantiers"
    refused = post_form(client, new, action, data={"day": day, "starts_at": "14:00", "ends_at": "10:00", "place": ""})
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    assert "après l&#39;heure de début" in refused.text

    data = {"day": day, "starts_at": "09:00", "ends_at": "12:00", "place": "Square Lavoisier", "tasks": "Planter"}
    created = post_form(client, new, action, data=data)
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert "Square Lavoisier" in page.text
    assert "Modifier le chantier" in page.text


def _register_data(html: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {**form_fields(html), "new_rows": "3", **extra}


def test_register_is_entered_in_bulk_then_checked_once(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    alice = sign_up(world, resident(factory, "alice@example.org", "Alice Martin"), initiative, work_day)
    register = _day(initiative.public_id, work_day.public_id, "/feuille-d-heures")
    key = f"p-{alice.public_id}"

    factory.login(client, world.promoter)
    page = client.get(register)
    assert page.status_code == 200
    assert "Alice Martin" in page.text
    assert f'name="{key}-hours"' in page.text
    # Alice came but the safety briefing is not ticked; a walk-in without a name.
    bad = {f"{key}-row": "1", f"{key}-came": "on", f"{key}-insurance": "on", f"{key}-hours": "3:30",
           "new-0-came": "on", "new-0-hours": "2"}  # fmt: skip
    refused = client.post(register, data=_register_data(page.text, bad))
    assert refused.status_code == 422
    assert f'id="f-{key}-safety" name="{key}-safety" value="on" aria-label=' in refused.text
    assert f'aria-describedby="f-{key}-safety-error"' in refused.text
    assert 'id="f-new-0-name-error"' in refused.text
    assert 'value="3:30"' in refused.text  # what was typed stays
    assert reload(world, work_day).register_state == RegisterState.EMPTY

    good = {**bad, f"{key}-safety": "on", "new-0-name": "Dora Passante", "new-0-safety": "on",
            "new-0-insurance": "on", "new-0-minor": "on", "new-0-parental": "on"}  # fmt: skip
    saved = client.post(register, data=_register_data(client.get(register).text, good))
    assert saved.status_code == 303
    assert reload(world, work_day).register_state == RegisterState.ENTERED
    assert sorted(p.minutes or 0 for p in participants(world, work_day)) == [120, 210]
    assert "Valider la feuille d'heures" not in client.get(register).text
    assert client.post(register + "/verifier", data=form_fields(client.get(register).text)).status_code == 403

    factory.login(client, world.agent)
    agent_page = client.get(register)
    assert "Valider la feuille d'heures" in agent_page.text
    fields = form_fields(agent_page.text)
    checked = client.post(register + "/verifier", data=fields)
    assert checked.status_code == 303
    assert len(realisations(world, initiative)) == 2
    # The same form sent twice, then a fresh one: nothing more is written.
    assert client.post(register + "/verifier", data=fields).status_code == 303
    again = client.post(register + "/verifier", data=form_fields(client.get(register).text))
    assert again.status_code == 409
    assert len(realisations(world, initiative)) == 2
    assert "est vérifiée par la commune" in client.get(register).text


def test_check_without_an_hours_line_says_what_to_do(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    with unit_of_work(world.database) as db:
        db.execute(
            update(CommitmentLine)
            .where(CommitmentLine.initiative_id == initiative.id, CommitmentLine.kind == LineKind.VOLUNTEER_HOURS)
            .values(state=LineState.CANCELLED.value)
        )
    register = _day(initiative.public_id, work_day.public_id, "/feuille-d-heures")
    factory.login(client, world.agent)
    walk_in = {"new-0-name": "Dora", "new-0-came": "on", "new-0-safety": "on", "new-0-insurance": "on",
               "new-0-hours": "2"}  # fmt: skip
    assert client.post(register, data=_register_data(client.get(register).text, walk_in)).status_code == 303
    refused = client.post(register + "/verifier", data=form_fields(client.get(register).text))
    assert refused.status_code == 409
    assert "ajoutez-en une au registre des apports" in refused.text
    assert realisations(world, initiative) == []


def test_register_export_and_prints_are_for_the_right_people(
    client: TestClient, other_client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    sign_up(world, resident(factory, "alice@example.org", "Alice Martin"), initiative, work_day)
    show = _day(initiative.public_id, work_day.public_id)
    register = show + "/feuille-d-heures"

    factory.login(client, resident(factory, "voisin@example.org", "Victor Voisin"))
    assert client.get(show).status_code == 200
    assert "Alice Martin" not in client.get(show).text
    assert client.get(register).status_code == 404
    assert client.get(register + "/imprimer").status_code == 404
    assert other_client.get(show).status_code == 404

    factory.login(client, world.promoter)
    blank = client.get(register + "/imprimer?vierge=1")
    assert blank.status_code == 200
    assert "Alice Martin" in blank.text
    assert blank.text.count("Ligne libre") == 15
    assert client.post(register + "/export", data=form_fields(client.get(register).text)).status_code == 403

    factory.login(client, world.agent)
    exported = client.post(register + "/export", data=form_fields(client.get(register).text))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    assert exported.headers["cache-control"] == "no-store"
    assert exported.content.startswith("\ufeff".encode())
    assert "Alice Martin" in exported.content.decode("utf-8-sig")
    assert audit_count(world, "work_day.register_export") == 1
