"""Read models of the API, built from the same services as the pages."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.accounts.models import Person
from app.accounts.viewer import Viewer
from app.api.schemas import Me, NamedRef, SittingOut, TerritoryInfo, TerritoryOut, Thresholds
from app.territories import service as territories
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood


def territory_out(territory: TerritoryContext) -> TerritoryOut:
    return TerritoryOut(
        slug=territory.slug,
        name=territory.name,
        insee_code=territory.insee_code,
        population=territory.population,
        registered_electors=territory.registered_electors,
        timezone=territory.timezone,
    )


def me(db: Session, viewer: Viewer, territory: TerritoryContext, scopes: list[str] | None = None) -> Me:
    person = db.get_one(Person, viewer.person_id)
    neighbourhood = db.get(Neighbourhood, person.neighbourhood_id) if person.neighbourhood_id else None
    return Me(
        public_id=person.public_id,
        display_name=person.display_name,
        email=viewer.email,
        email_verified=viewer.email_verified,
        locale=viewer.locale,
        age_bracket=person.age_bracket,
        neighbourhood=NamedRef(public_id=neighbourhood.public_id, name=neighbourhood.name) if neighbourhood else None,
        roles=sorted(viewer.roles),
        territory=territory_out(territory),
        token_scopes=sorted(scopes or []),
    )


def territory_info(db: Session, territory: TerritoryContext) -> TerritoryInfo:
    overview = territories.home_overview(db, territory)
    th = overview.thresholds
    return TerritoryInfo(
        territory=territory_out(territory),
        neighbourhoods=[NamedRef(public_id=n.public_id, name=n.name) for n in overview.neighbourhoods],
        themes=[NamedRef(public_id=t.public_id, name=t.name) for t in overview.themes],
        petition_thresholds=Thresholds(answer=th.answer, council=th.council, legal_request=th.legal_request),
        volunteer_hour_value_cents=territory.settings.fifty_fifty.volunteer_hour_value_cents,
        upcoming_sittings=[
            SittingOut(public_id=s.public_id, sitting_date=s.sitting_date, title=s.title) for s in overview.next_sittings
        ],
    )
