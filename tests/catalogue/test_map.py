"""The map page: the list first, the markers in a JSON data island (public and located ones only),
Leaflet loaded there only, and a Content-Security-Policy that allows the tile host for images only.
No tile is ever loaded by these tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.db.session import Database
from app.initiatives.models import InitiativeState
from app.main import create_app
from app.web.middleware import CSP
from tests.catalogue import helpers as c
from tests.factories import Factory
from tests.review.conftest import World

S = InitiativeState
ROOT = Path(__file__).resolve().parent.parent.parent
ISLAND_RE = re.compile(r'<script type="application/json" id="map-data">(.*?)</script>', re.S)


def island(html: str) -> dict[str, object]:
    match = ISLAND_RE.search(html)
    assert match is not None, "no map data island"
    data = json.loads(match.group(1))
    assert isinstance(data, dict)
    return data


def directives(header: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip() for d in header.split(";") if d.strip()}


def test_markers_are_the_public_located_initiatives(client: TestClient, factory: Factory, world: World) -> None:
    placed = world.initiative(S.IN_PROGRESS, title="Fresque du préau")
    c.place(world, placed.id, "50.457800", "2.791500")
    unplaced = world.initiative(S.APPROVED, title="Bancs sans adresse")
    private = world.initiative(S.SUBMITTED, title="Demande en attente")
    c.place(world, private.id)
    draft = world.initiative(S.DRAFT, title="Brouillon placé")
    c.place(world, draft.id)

    page = client.get("/initiatives/carte")
    assert page.status_code == 200
    data = island(page.text)
    markers = data["markers"]
    assert isinstance(markers, list)
    assert markers == [
        {
            "title": "Fresque du préau",
            "lat": 50.4578,
            "lng": 2.7915,
            "state": "en cours de réalisation",
            "neighbourhood": "",
            "url": f"/initiatives/{placed.public_id}",
        }
    ]
    for absent in (unplaced, private, draft):
        assert absent.title not in page.text
    # The list, the accessible alternative, comes before the map in the page.
    text = page.text
    assert text.index(f'id="card-{placed.public_id}"') < text.index('id="map"')
    assert 'role="region" aria-label="Carte des initiatives' in text
    assert "aria-hidden" not in text.split('id="map"', 1)[1].split(">", 1)[0]
    # The staff's map holds their whole territory's located initiatives, never another town's.
    factory.login(client, world.agent)
    staff = island(client.get("/initiatives/carte").text)["markers"]
    assert isinstance(staff, list)
    assert {m["title"] for m in staff} == {"Fresque du préau", "Demande en attente"}


def test_leaflet_loads_on_the_map_page_only_from_our_own_files(client: TestClient, world: World) -> None:
    placed = world.initiative(S.APPROVED, title="Bancs de la place")
    c.place(world, placed.id)
    page = client.get("/initiatives/carte").text
    assert '<script src="/static/vendor/leaflet/leaflet.js?v=1" defer></script>' in page
    assert '<script src="/static/js/map.js?v=1" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css?v=1">' in page
    # No inline script: only external files and the (inert) JSON data island.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    for attributes, body in scripts:
        assert 'src="' in attributes or 'type="application/json"' in attributes, attributes
        assert 'src="' not in attributes or not body.strip()
    for other in ("/", "/initiatives", f"/initiatives/{placed.public_id}"):
        assert "leaflet" not in client.get(other).text, other
    for path in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css", "/static/js/map.js"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/vendor/leaflet/images/marker-icon.png").status_code == 200


def test_the_csp_allows_the_tile_host_for_images_on_the_map_page_only(client: TestClient, world: World) -> None:
    placed = world.initiative(S.APPROVED, title="Bancs de la place")
    c.place(world, placed.id)
    page = client.get("/initiatives/carte")
    policy = directives(page.headers["content-security-policy"])
    assert policy["img-src"] == "img-src 'self' data: https://data.geopf.fr"
    # Everything else is the site's policy, unchanged: scripts from this site only.
    site = directives(CSP)
    assert {k: v for k, v in policy.items() if k != "img-src"} == {k: v for k, v in site.items() if k != "img-src"}
    assert policy["script-src"] == "script-src 'self'"
    data = island(page.text)
    tiles = data["tiles"]
    assert isinstance(tiles, dict)
    assert str(tiles["url"]).startswith("https://data.geopf.fr/wmts?")
    assert "IGN" in str(tiles["attribution"])
    for other in ("/initiatives", f"/initiatives/{placed.public_id}", "/"):
        assert client.get(other).headers["content-security-policy"] == CSP, other


def test_the_tile_server_is_a_setting(settings: Settings, database: Database, factory: Factory, world: World) -> None:
    placed = world.initiative(S.APPROVED, title="Bancs de la place")
    c.place(world, placed.id)
    osm = settings.model_copy(
        update={
            "map_tile_url": "https://{s}.tile.openstreetmap.fr/osmfr/{z}/{x}/{y}.png",
            "map_tile_attribution": "© OpenStreetMap",
            "map_max_zoom": 19,
        }
    )
    for tiles_settings, expected_img_src in (
        (osm, "img-src 'self' data: https://*.tile.openstreetmap.fr"),
        (settings.model_copy(update={"map_tile_url": ""}), "img-src 'self' data:"),
    ):
        app: FastAPI = create_app(tiles_settings, database)
        with TestClient(app, base_url="http://loos.test") as other:
            page = other.get("/initiatives/carte")
        assert directives(page.headers["content-security-policy"])["img-src"] == expected_img_src
        data = island(page.text)
        assert data["tiles"] == {
            "url": tiles_settings.map_tile_url,
            "attribution": tiles_settings.map_tile_attribution,
            "maxZoom": tiles_settings.map_max_zoom,
        }


def test_titles_cannot_break_out_of_the_data_island(client: TestClient, world: World) -> None:
    title = "</script><script>alert(1)</script> & « guillemets »"
    placed = world.initiative(S.APPROVED, title=title)
    c.place(world, placed.id)
    page = client.get("/initiatives/carte").text
    assert "<script>alert(1)" not in page
    markers = island(page)["markers"]
    assert isinstance(markers, list)
    assert markers[0]["title"] == title


def test_without_located_initiatives_the_page_says_so(client: TestClient, world: World) -> None:
    world.initiative(S.APPROVED, title="Bancs sans adresse")
    page = client.get("/initiatives/carte")
    assert page.status_code == 200
    assert "Aucune initiative de cette sélection n'a encore de lieu sur la carte." in page.text
    assert 'id="map-data"' not in page.text


def test_leaflet_is_vendored_from_npm_at_a_pinned_version() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"]["leaflet"] == "1.9.4"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/leaflet"]["version"] == "1.9.4"
    assert 't.version="1.9.4"' in (ROOT / "static/vendor/leaflet/leaflet.js").read_text()
    assert "node_modules/leaflet/dist/leaflet.js" in (ROOT / "Makefile").read_text()
