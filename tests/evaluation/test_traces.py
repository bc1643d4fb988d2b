"""The fines traces log: written by the staff, read by the staff and the council, filtered by tag,
neighbourhood and year (also through HTMX), published on an initiative's page only when marked so."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.session import unit_of_work
from app.evaluation.models import FineTrace, FineTraceTag
from app.territories.models import Neighbourhood
from tests.evaluation.conftest import World, audit_count, count, delivered
from tests.factories import Factory, form_fields

HX = {"HX-Request": "true"}


def _create(client: TestClient, **values: Any) -> Any:
    page = client.get("/fines-traces/nouvelle")
    assert page.status_code == 200, page.text[:300]
    data = {"noted_on": dt.date.today().isoformat(), "text": "Une habitante a pris la parole.", **values}
    return client.post("/fines-traces/nouvelle", data={**form_fields(page.text), **data})


def _hood(world: World, name: str) -> str:
    with unit_of_work(world.database) as db:
        found = db.scalar(
            select(Neighbourhood.public_id).where(
                Neighbourhood.territory_id == world.territory_id, Neighbourhood.name == name
            )
        )
        assert found is not None
        return found


def _trace_id(world: World, text: str) -> str:
    with unit_of_work(world.database) as db:
        found = db.scalar(select(FineTrace.public_id).where(FineTrace.text == text))
        assert found is not None
        return found


def test_agents_write_edit_and_delete_traces(client: TestClient, factory: Factory, world: World) -> None:
    cite = factory.neighbourhood_id(world.territory_id, "Cité 5")
    initiative = delivered(world, neighbourhood_id=cite)
    factory.login(client, world.agent)
    created = _create(
        client, initiative=initiative.public_id, tags=["speaking_up", "first_time"],
        **{"from": f"/initiatives/{initiative.public_id}"},
    )  # fmt: skip
    assert created.status_code == 303
    assert created.headers["location"] == f"/initiatives/{initiative.public_id}"
    with unit_of_work(world.database) as db:
        trace = db.scalars(select(FineTrace)).one()
        assert trace.initiative_id == initiative.id
        assert trace.neighbourhood_id == cite  # the initiative's
        assert sorted(db.scalars(select(FineTraceTag.tag))) == ["first_time", "speaking_up"]
        public_id = trace.public_id
    log = client.get("/fines-traces")
    assert "Une habitante a pris la parole." in log.text
    assert "prise de parole" in log.text
    assert "Annie Agent" in log.text

    edit = client.get(f"/fines-traces/{public_id}/modifier")
    assert edit.status_code == 200
    assert "checked" in edit.text
    updated = client.post(
        f"/fines-traces/{public_id}/modifier",
        data={**form_fields(edit.text), "noted_on": "2026-03-02", "text": "Texte revu", "tags": "new_skill"},
    )
    assert updated.status_code == 303
    with unit_of_work(world.database) as db:
        trace = db.scalars(select(FineTrace)).one()
        assert (trace.text, trace.noted_on, trace.initiative_id) == ("Texte revu", dt.date(2026, 3, 2), None)
        assert list(db.scalars(select(FineTraceTag.tag))) == ["new_skill"]
    again = client.get(f"/fines-traces/{public_id}/modifier")
    removed = client.post(f"/fines-traces/{public_id}/supprimer", data=form_fields(again.text))
    assert removed.status_code == 303
    assert count(world, FineTrace) == 0
    assert count(world, FineTraceTag) == 0
    assert [audit_count(world, f"fine_trace.{a}") for a in ("create", "update", "delete")] == [1, 1, 1]


def test_bad_traces_are_refused(client: TestClient, factory: Factory, world: World) -> None:
    factory.login(client, world.agent)
    future = _create(client, noted_on=(dt.date.today() + dt.timedelta(days=40)).isoformat())
    assert future.status_code == 422
    assert 'aria-invalid="true"' in future.text
    minor = _create(client, involves_minor="on", publishable="on", text="Un jeune a animé la réunion.")
    assert minor.status_code == 422
    assert "ne peut pas être publiée" in minor.text
    assert "Un jeune a animé la réunion." in minor.text  # the values are kept
    assert _create(client, tags=["inventé"]).status_code == 422
    assert _create(client, initiative="inconnue").status_code == 422
    assert _create(client, text="  ").status_code == 422
    assert count(world, FineTrace) == 0


def test_filters_by_tag_neighbourhood_and_year(client: TestClient, factory: Factory, world: World) -> None:
    factory.login(client, world.agent)
    cite, centre = _hood(world, "Cité 5"), _hood(world, "Centre")
    last_year = dt.date.today().year - 1
    _create(client, text="Trace A", tags=["speaking_up"], neighbourhood=cite)
    _create(client, text="Trace B", tags=["neighbours"], neighbourhood=centre, noted_on=f"{last_year}-06-01")
    _create(client, text="Trace C", tags=["neighbours", "new_skill"], neighbourhood=cite)

    by_tag = client.get("/fines-traces", params={"tag": "neighbours"}).text
    assert "Trace B" in by_tag
    assert "Trace C" in by_tag
    assert "Trace A" not in by_tag
    by_hood = client.get("/fines-traces", params={"neighbourhood": cite}).text
    assert "Trace A" in by_hood
    assert "Trace C" in by_hood
    assert "Trace B" not in by_hood
    by_year = client.get("/fines-traces", params={"year": str(last_year)}).text
    assert "Trace B" in by_year
    assert "Trace A" not in by_year
    both = client.get("/fines-traces", params={"tag": "neighbours", "neighbourhood": cite}).text
    assert "Trace C" in both
    assert "Trace B" not in both
    # Unknown values are ignored rather than refused.
    assert client.get("/fines-traces", params={"year": "abc", "tag": "x"}).status_code == 200

    fragment = client.get("/fines-traces", params={"tag": "speaking_up"}, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="traces-results"' in fragment.text
    assert "Trace A" in fragment.text
    assert "Trace C" not in fragment.text
    assert fragment.headers.get("vary", "").lower().find("hx-request") >= 0


def test_council_reads_residents_may_not(client: TestClient, factory: Factory, world: World) -> None:
    factory.login(client, world.agent)
    _create(client, text="Trace du conseil")
    public_id = _trace_id(world, "Trace du conseil")
    council = factory.account("elue@example.org", roles=("council_member",), display_name="Élise Élue")
    factory.login(client, council)
    page = client.get("/fines-traces")
    assert page.status_code == 200
    assert "Trace du conseil" in page.text
    assert "Noter une fine trace" not in page.text
    assert client.get("/fines-traces/nouvelle").status_code == 403
    assert client.get(f"/fines-traces/{public_id}/modifier").status_code == 403
    resident = factory.account("voisine@example.org", display_name="Véra Voisine")
    factory.login(client, resident)
    assert client.get("/fines-traces").status_code == 403
    assert client.post(f"/fines-traces/{public_id}/supprimer", data=form_fields(page.text)).status_code == 403
    assert "Fines traces" not in client.get("/").text
    client.cookies.clear()
    assert client.get("/fines-traces").status_code == 303
    assert count(world, FineTrace) == 1


def test_only_publishable_traces_reach_the_initiative_page(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    factory.login(client, world.agent)
    _create(client, initiative=initiative.public_id, text="Trace publiée", publishable="on", tags=["neighbours"])
    _create(client, initiative=initiative.public_id, text="Trace interne")
    _create(client, initiative=initiative.public_id, text="Trace concernant Noé", involves_minor="on")
    with unit_of_work(world.database) as db:
        # Even forced in the database, a trace about a minor never goes public.
        db.scalars(select(FineTrace).where(FineTrace.involves_minor.is_(True))).one().publishable = True
    client.cookies.clear()
    page = client.get(f"/initiatives/{initiative.public_id}").text
    assert "Trace publiée" in page
    assert "lien entre voisins" in page
    assert "Trace interne" not in page
    assert "Trace concernant Noé" not in page
    assert "Annie Agent" not in page  # who noted it is not shown
    factory.login(client, world.agent)
    evaluation_page = client.get(f"/initiatives/{initiative.public_id}/evaluation").text
    assert "Trace interne" in evaluation_page
    assert "Trace publiée" in evaluation_page


def test_another_towns_staff_get_404(
    client: TestClient, other_client: TestClient, factory: Factory, world: World
) -> None:
    initiative = delivered(world)
    factory.login(client, world.agent)
    _create(client, text="Trace de Loos", initiative=initiative.public_id)
    public_id = _trace_id(world, "Trace de Loos")
    stranger = factory.account("agent@autre.example.org", territory="autre", roles=("agent", "council_member"))
    factory.login(other_client, stranger)
    page = other_client.get("/fines-traces")
    assert page.status_code == 200
    assert "Trace de Loos" not in page.text
    assert other_client.get(f"/fines-traces/{public_id}/modifier").status_code == 404
    hidden = other_client.post(f"/fines-traces/{public_id}/supprimer", data=form_fields(page.text))
    assert hidden.status_code == 404
    for path in ("evaluation", "questionnaire", "entretien"):
        assert other_client.get(f"/initiatives/{initiative.public_id}/{path}").status_code == 404
    # Nor may they tie a trace to another town's initiative.
    form = other_client.get("/fines-traces/nouvelle")
    refused = other_client.post(
        "/fines-traces/nouvelle",
        data={**form_fields(form.text), "noted_on": dt.date.today().isoformat(), "text": "x",
              "initiative": initiative.public_id},
    )  # fmt: skip
    assert refused.status_code == 422
    assert count(world, FineTrace) == 1
