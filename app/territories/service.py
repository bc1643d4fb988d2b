"""Territories: creation (operator), host names, and the figures the public pages show."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Invalid
from app.territories.context import TerritoryContext, normalise_host
from app.territories.models import CouncilSitting, Neighbourhood, Territory, TerritoryHost, Theme
from app.territories.settings_schema import TerritorySettings
from app.web.i18n import _

INSEE_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
SIRET_RE = re.compile(r"^\d{14}$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
HOST_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)

# Default themes: the Loos-en-Gohelle "Charte du cadre de vie".
CHARTE_THEMES = [
    ("Plan paysager", "Haies, arbres, jardins et espaces verts partagés."),
    ("Biodiversité", "Faune et flore locales, refuges, nichoirs, prairies."),
    ("Eau", "Récupération de l'eau de pluie, désimperméabilisation, mares."),
    ("Déchets", "Réduction, tri, réemploi, réparation, nettoyage."),
    ("Énergie", "Économies d'énergie et énergies renouvelables."),
    ("Déplacements doux", "Marche, vélo, abris, cheminements."),
    ("Patrimoine et mémoire", "Mémoire minière, patrimoine bâti et paysager."),
    ("Information et formation", "Partage des savoirs, boîtes à livres, ateliers."),
    ("Implication des habitant·es", "Fêtes, chantiers, projets de quartier, jeunesse."),
]


def validate_insee(code: str) -> str:
    code = code.strip().upper()
    if not INSEE_RE.match(code):
        raise Invalid(
            _("Le code INSEE compte cinq caractères : des chiffres, ou 2A/2B pour la Corse."), field="insee_code"
        )
    return code


def validate_siret(siret: str | None) -> str | None:
    if not siret:
        return None
    siret = siret.replace(" ", "")
    if not SIRET_RE.match(siret):
        raise Invalid(_("Le SIRET compte exactement 14 chiffres."), field="siret")
    return siret


def validate_timezone(tz: str) -> str:
    if tz not in available_timezones():
        raise Invalid(_("Fuseau horaire inconnu."), field="timezone")
    return tz


def create_territory(
    db: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    insee_code: str,
    siret: str | None = None,
    population: int = 0,
    registered_electors: int = 0,
    timezone: str = "Europe/Paris",
    with_default_themes: bool = True,
) -> Territory:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise Invalid(_("L'identifiant court ne contient que des minuscules, chiffres et tirets."), field="slug")
    if db.scalar(select(Territory.id).where(Territory.slug == slug)) is not None:
        raise Conflict(_("Un territoire porte déjà cet identifiant."), field="slug")
    insee = validate_insee(insee_code)
    if db.scalar(select(Territory.id).where(Territory.insee_code == insee)) is not None:
        raise Conflict(_("Un territoire a déjà ce code INSEE."), field="insee_code")
    if population < 0 or registered_electors < 0:
        raise Invalid(_("La population et le nombre d'électeurs sont positifs."), field="population")
    territory = Territory(
        slug=slug,
        name=name.strip(),
        insee_code=insee,
        siret=validate_siret(siret),
        population=population,
        registered_electors=registered_electors,
        timezone=validate_timezone(timezone),
        settings_json=TerritorySettings().model_dump(mode="json"),
        legal_json={},
        accessibility_json={},
    )
    db.add(territory)
    db.flush()
    if with_default_themes:
        for position, (theme_name, description) in enumerate(CHARTE_THEMES):
            db.add(Theme(territory_id=territory.id, name=theme_name, description=description, position=position))
    audit.record(
        db, actor, "territory.create", "territory", territory.id, territory_id=territory.id, data={"slug": slug}
    )
    db.flush()
    # Imported here: the funds domain imports the territories models.
    from app.funds.service import seed_default_fund, seed_default_rates

    seed_default_rates(db, territory.id, actor)
    seed_default_fund(db, territory.id, actor)
    return territory


def add_host(db: Session, actor: Actor, territory: Territory, host: str) -> TerritoryHost:
    host = normalise_host(host)
    if not HOST_RE.match(host):
        raise Invalid(_("Nom d'hôte non valide."), field="host")
    existing = db.scalar(select(TerritoryHost).where(TerritoryHost.host == host))
    if existing is not None:
        if existing.territory_id == territory.id:
            return existing
        raise Conflict(_("Ce nom d'hôte sert déjà un autre territoire."), field="host")
    row = TerritoryHost(territory_id=territory.id, host=host)
    db.add(row)
    audit.record(
        db, actor, "territory.add_host", "territory", territory.id, territory_id=territory.id, data={"host": host}
    )
    db.flush()
    return row


def get_by_slug(db: Session, slug: str) -> Territory | None:
    return db.scalar(select(Territory).where(Territory.slug == slug))


@dataclass(frozen=True)
class Thresholds:
    answer: int
    council: int
    legal_request: int


def petition_thresholds(territory: TerritoryContext) -> Thresholds:
    rules = territory.settings.petitions
    answer = max(rules.answer_threshold_minimum, math.ceil(territory.population * rules.answer_threshold_percent / 100))
    council = max(
        rules.council_threshold_minimum, math.ceil(territory.population * rules.council_threshold_percent / 100)
    )
    legal = math.ceil(territory.registered_electors / 10) if territory.registered_electors else 0
    return Thresholds(answer=answer, council=council, legal_request=legal)


@dataclass(frozen=True)
class SchemeFigures:
    """What the home page promises, read from the rate table and the main fund (the ones the
    ledger uses), falling back to what a new fund and the seeded SMIC would give when none exists yet."""

    hour_value_cents: int
    match_physical_percent: int
    match_activity_percent: int
    answer_within_days: int


def fund_default(column: str) -> int:
    """The ``Fund`` model's default for ``column``: the rule a territory without a fund announces."""
    from app.funds.models import Fund

    value = getattr(Fund.__table__.c[column].default, "arg", None)
    if not isinstance(value, int):
        raise LookupError(column)
    return value


@dataclass(frozen=True)
class HomeOverview:
    neighbourhoods: list[Neighbourhood]
    themes: list[Theme]
    next_sittings: list[CouncilSitting]
    thresholds: Thresholds
    scheme: SchemeFigures


def scheme_figures(db: Session, territory: TerritoryContext) -> SchemeFigures:
    from app.core.errors import Invalid as NoRate
    from app.funds import service as funds
    from app.funds.models import RateKind

    today = local_today(territory)
    try:
        hour_value = funds.rate_on(db, territory.id, RateKind.VOLUNTEER_HOUR, today).value_cents
    except NoRate:
        # No rate entered yet: the SMIC that ``seed_default_rates`` would have put in force today.
        in_force = [cents for day, cents, _source in funds.SMIC_HISTORY if day <= today]
        hour_value = in_force[-1] if in_force else funds.SMIC_HISTORY[0][1]
    fund = funds.default_fund(db, territory.id)
    if fund is None:
        return SchemeFigures(
            hour_value,
            fund_default("match_physical_percent"),
            fund_default("match_activity_percent"),
            fund_default("decision_deadline_days"),
        )
    return SchemeFigures(
        hour_value, fund.match_physical_percent, fund.match_activity_percent, fund.decision_deadline_days
    )


def local_today(territory: TerritoryContext) -> dt.date:
    return dt.datetime.now(ZoneInfo(territory.timezone)).date()


def list_neighbourhoods(db: Session, territory_id: int) -> list[Neighbourhood]:
    return list(
        db.scalars(
            select(Neighbourhood)
            .where(Neighbourhood.territory_id == territory_id)
            .order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


def list_themes(db: Session, territory_id: int) -> list[Theme]:
    return list(
        db.scalars(select(Theme).where(Theme.territory_id == territory_id).order_by(Theme.position, Theme.name))
    )


def upcoming_sittings(db: Session, territory: TerritoryContext, limit: int = 3) -> list[CouncilSitting]:
    return list(
        db.scalars(
            select(CouncilSitting)
            .where(CouncilSitting.territory_id == territory.id, CouncilSitting.sitting_date >= local_today(territory))
            .order_by(CouncilSitting.sitting_date)
            .limit(limit)
        )
    )


def home_overview(db: Session, territory: TerritoryContext) -> HomeOverview:
    return HomeOverview(
        neighbourhoods=list_neighbourhoods(db, territory.id),
        themes=list_themes(db, territory.id),
        next_sittings=upcoming_sittings(db, territory),
        thresholds=petition_thresholds(territory),
        scheme=scheme_figures(db, territory),
    )
