"""Application factory."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from app.config import Settings, get_settings
from app.db.session import Database, get_database
from app.security.ratelimit import RateLimiter
from app.territories.context import TerritoryResolver
from app.web import errors
from app.web.auth import get_viewer
from app.web.csrf import csrf_protect
from app.web.middleware import CaillouxMiddleware

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Form bodies above this size are refused while streaming (413), before being buffered.
MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or get_database(settings.database_url)
    logging.basicConfig(level=logging.INFO if not settings.is_production else logging.WARNING)

    app = FastAPI(
        title="Cailloux API",
        version="1",
        summary="JSON API of Cailloux (fifty-fifty initiatives, petitions, council dashboards).",
        docs_url=None if settings.is_production else "/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.secret_key = settings.get_secret_key()
    app.state.territory_resolver = TerritoryResolver(
        database, settings.default_territory if not settings.is_production else None
    )
    app.state.rate_limiter = RateLimiter(settings.rate_limit_storage)

    app.add_middleware(CaillouxMiddleware)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    from app.accounts import profile_routes
    from app.accounts import routes as accounts_routes
    from app.admin import routes as admin_routes
    from app.agent_tasks import routes as tasks_routes
    from app.api import conventions as conventions_api
    from app.api import evaluations as evaluations_api
    from app.api import followup as followup_api
    from app.api import initiatives as initiatives_api
    from app.api import petitions as petitions_api
    from app.api import routes as api_routes
    from app.api import updates as updates_api
    from app.api import workdays as workdays_api
    from app.catalogue import routes as catalogue_routes
    from app.conventions import routes as conventions_routes
    from app.equipment import routes as equipment_routes
    from app.evaluation import routes as evaluation_routes
    from app.follows import routes as follows_routes
    from app.followup import routes as followup_routes
    from app.funds import routes as funds_routes
    from app.history import routes as history_routes
    from app.home import routes as home_routes
    from app.initiatives import routes as initiatives_routes
    from app.ledger import routes as ledger_routes
    from app.legal import routes as legal_routes
    from app.library import routes as library_routes
    from app.mail import routes as mail_routes
    from app.media import routes as media_routes
    from app.moderation import routes as moderation_routes
    from app.notifications import routes as notification_routes
    from app.petitions import legal_routes as petitions_legal_routes
    from app.petitions import paper_routes, signing_routes
    from app.petitions import routes as petitions_routes
    from app.privacy import routes as privacy_routes
    from app.review import routes as review_routes
    from app.updates import routes as updates_routes
    from app.workdays import routes as workdays_routes

    html_deps = [Depends(csrf_protect), Depends(get_viewer)]
    for module in (
        home_routes,
        legal_routes,
        accounts_routes,
        profile_routes,
        notification_routes,
        privacy_routes,
        admin_routes,
        tasks_routes,
        funds_routes,
        history_routes,
        # Before the initiatives: /initiatives/carte is not an initiative's page.
        catalogue_routes,
        initiatives_routes,
        ledger_routes,
        review_routes,
        media_routes,
        conventions_routes,
        library_routes,
        moderation_routes,
        followup_routes,
        updates_routes,
        follows_routes,
        workdays_routes,
        equipment_routes,
        evaluation_routes,
        # Before the petitions' pages: /petitions/{id}/signer... are the signing module's.
        # Before the petitions' pages: a legal request's procedure, receipt, roll check and extract.
        petitions_legal_routes,
        signing_routes,
        paper_routes,
        petitions_routes,
    ):
        app.include_router(module.router, dependencies=html_deps, include_in_schema=False)
    if not settings.is_production:
        app.include_router(mail_routes.router, dependencies=html_deps, include_in_schema=False)
    app.include_router(api_routes.router)
    app.include_router(initiatives_api.router)
    app.include_router(conventions_api.router)
    app.include_router(evaluations_api.router)
    app.include_router(followup_api.router)
    app.include_router(workdays_api.router)
    app.include_router(updates_api.router)
    app.include_router(petitions_api.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
