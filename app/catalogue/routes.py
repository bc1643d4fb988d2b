"""The public catalogue (``/initiatives``) and its map (``/initiatives/carte``).

The filter form is a plain GET form: without JavaScript it loads the page; with HTMX it
swaps the results only and pushes the URL, so that every filtered list has an address that
renders a full page. The map page lists the same initiatives first (the accessible
alternative, and all there is without JavaScript); Leaflet and our ``static/js/map.js`` load on
that page only, read the markers from a JSON data island, and its Content-Security-Policy
allows the tile server's images and nothing else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.catalogue import service as catalogue
from app.catalogue.forms import filters_from
from app.config import Settings
from app.web.auth import MaybeViewer
from app.web.deps import CurrentTerritory, ReadSession
from app.web.i18n import _
from app.web.middleware import CSP
from app.web.templating import render, url

router = APIRouter()


def map_csp(settings: Settings) -> str:
    """The site's policy, with the tile server allowed for images (only on the map page)."""
    origin = settings.map_tile_origin
    if not origin:
        return CSP
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}", 1)


@router.get("/initiatives", name="catalogue:index")
def index(request: Request, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession) -> HTMLResponse:
    filters = filters_from(request.query_params)
    page = catalogue.catalogue_page(db, viewer, territory.id, filters)
    context = {
        "page": page,
        "filters": page.filters,
        "options": catalogue.options(db, viewer, territory.id),
        "page_url": lambda number: url(request, "catalogue:index", query=page.filters.query(page=number)),
        "map_url": url(request, "catalogue:map", query=page.filters.query(page=1)),
    }
    return render(request, "pages/catalogue/index.html", context, block="results")


@router.get("/initiatives/carte", name="catalogue:map")
def map_page(request: Request, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    filters = filters_from(request.query_params)
    cards = catalogue.located(db, viewer, territory.id, filters)
    markers: list[dict[str, Any]] = [
        {
            "title": m.title,
            "lat": m.latitude,
            "lng": m.longitude,
            "state": m.state_label,
            "neighbourhood": m.neighbourhood,
            "url": url(request, "initiatives:show", public_id=m.public_id),
        }
        for m in catalogue.markers(cards)
    ]
    map_data = {
        "tiles": {
            "url": settings.map_tile_url,
            "attribution": settings.map_tile_attribution,
            "maxZoom": settings.map_max_zoom,
        },
        "labels": {"zoomIn": _("Zoomer"), "zoomOut": _("Dézoomer")},
        "markers": markers,
    }
    context = {
        "cards": cards,
        "filters": filters,
        "options": catalogue.options(db, viewer, territory.id),
        "map_data": map_data,
        "list_url": url(request, "catalogue:index", query=filters.query(page=1)),
        "limit": catalogue.MAP_LIMIT,
    }
    return render(request, "pages/catalogue/map.html", context, headers={"Content-Security-Policy": map_csp(settings)})
