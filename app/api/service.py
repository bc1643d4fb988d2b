"""Read models of the API, built from the same services as the pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import Account, Person
from app.accounts.viewer import Viewer
from app.api.schemas import Me, MeUpdate, NamedRef, SittingOut, TerritoryInfo, TerritoryOut, Thresholds
from app.core.errors import Invalid
from app.territories import service as territories
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood
from app.web.i18n import _


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
        volunteer_hour_value_cents=overview.scheme.hour_value_cents,
        upcoming_sittings=[
            SittingOut(public_id=s.public_id, sitting_date=s.sitting_date, title=s.title)
            for s in overview.next_sittings
        ],
    )


def update_me(db: Session, viewer: Viewer, territory: TerritoryContext, data: MeUpdate, scopes: list[str]) -> Me:
    """Applies a partial profile update (only the fields sent) through the accounts service."""
    person = db.get_one(Person, viewer.person_id)
    account = db.get_one(Account, viewer.account_id)
    neighbourhood_id = person.neighbourhood_id
    if data.neighbourhood_id is not None:
        if data.neighbourhood_id == "":
            neighbourhood_id = None
        else:
            found = db.scalar(
                select(Neighbourhood.id).where(
                    Neighbourhood.public_id == data.neighbourhood_id, Neighbourhood.territory_id == territory.id
                )
            )
            if found is None:
                raise Invalid(_("Quartier inconnu dans ce territoire."), field="neighbourhood_id")
            neighbourhood_id = found
    accounts.update_profile(
        db,
        viewer,
        display_name=data.display_name if data.display_name is not None else person.display_name,
        neighbourhood_id=neighbourhood_id,
        locale=data.locale or account.locale,
    )
    refreshed = Viewer(**{**viewer.__dict__, "display_name": person.display_name, "locale": account.locale})
    return me(db, refreshed, territory, scopes)
