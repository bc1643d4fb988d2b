"""Demo data: Loos-en-Gohelle (from the domain notes) and a second, smaller town, Malaunay.

Built through the services, so the rules and the audit trail hold. Loading is idempotent: each
piece is looked up first and created only when missing, so a second run changes nothing.
Figures that no source confirmed are marked « à valider » on the territory's home page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.contacts import ContactInput, create_contact
from app.accounts.models import Account, AgeBracket, Person, PersonKind, Role
from app.accounts.service import Registration, actor_for, normalise_email, register
from app.accounts.sessions import active_roles
from app.agent_tasks.models import AgentTask
from app.agent_tasks.service import create_task
from app.audit import service as audit
from app.config import Settings, get_settings
from app.core.actor import OPERATOR
from app.db.session import Database, unit_of_work
from app.territories import service as territories
from app.territories.models import CouncilSitting, Neighbourhood, Territory, TerritoryHost
from app.territories.settings_schema import AccessibilityStatement, LegalNotices

DEMO_PASSWORD = "cailloux-demo-2026"
# RFC 2606 reserved domains: valid addresses that can never reach a real mailbox.
LOOS_MAIL_DOMAIN = "loos.example"
MALAUNAY_MAIL_DOMAIN = "malaunay.example"


class DemoRefusedError(RuntimeError):
    """Demo data is never loaded into a production database."""


@dataclass(frozen=True)
class DemoAccount:
    territory: str
    email: str
    display_name: str
    role: str | None  # None: a resident without staff role
    label: str
    neighbourhood: str | None = None
    delegation_reference: str | None = None
    delegation_scope: str | None = None

    @property
    def password(self) -> str:
        return DEMO_PASSWORD


@dataclass(frozen=True)
class DemoNeighbourhood:
    name: str
    population: int
    is_priority: bool = False


@dataclass(frozen=True)
class DemoTerritory:
    slug: str
    name: str
    insee: str
    population: int
    electors: int
    hosts: tuple[str, ...]
    neighbourhoods: tuple[DemoNeighbourhood, ...]
    sittings: tuple[tuple[dt.date, str], ...]
    legal: LegalNotices
    accessibility: AccessibilityStatement
    intro: str
    siret: str | None = None


LOOS = DemoTerritory(
    slug="loos-en-gohelle",
    name="Loos-en-Gohelle",
    insee="62528",
    siret="21620528600017",
    population=6850,
    electors=5000,
    hosts=("localhost", "127.0.0.1", "loos.localhost"),
    # Quartier Ouest (Cité 5, Cité Belgique, Cité Bellevue: about 600, 80 and 20 homes) houses about
    # 2 000 people; the other figures spread the remaining 4 850 inhabitants and are to be checked.
    neighbourhoods=(
        DemoNeighbourhood("Centre-ville", 2900),
        DemoNeighbourhood("Cité 5", 1700, is_priority=True),
        DemoNeighbourhood("Cité Belgique", 230, is_priority=True),
        DemoNeighbourhood("Cité Bellevue", 70, is_priority=True),
        DemoNeighbourhood("Cité des Castors", 450),
        DemoNeighbourhood("Cité 12", 700),
        DemoNeighbourhood("Cité 14", 800),
        DemoNeighbourhood("Base 11/19", 0),
    ),
    sittings=(
        (dt.date(2026, 12, 10), "Conseil municipal : orientations budgétaires 2027"),
        (dt.date(2027, 2, 4), "Conseil municipal : vote du budget primitif 2027"),
        (dt.date(2027, 4, 8), "Conseil municipal : bilan des initiatives fifty-fifty 2026"),
        (dt.date(2027, 6, 24), "Conseil municipal : compte administratif 2026"),
    ),
    legal=LegalNotices(
        controller="Commune de Loos-en-Gohelle",
        controller_address="Hôtel de ville, 62750 Loos-en-Gohelle (adresse à valider)",
        dpo_contact="dpo@loos.example (à valider)",
        publication_director="Le maire de Loos-en-Gohelle",
        host="Serveur de démonstration (à valider)",
        contact_email=f"mairie@{LOOS_MAIL_DOMAIN}",
    ),
    accessibility=AccessibilityStatement(
        status="non_conforme",
        contact=f"Accueil de la mairie ou accessibilite@{LOOS_MAIL_DOMAIN} (à valider)",
    ),
    intro=(
        "**Données de démonstration.** Chiffres à valider avant tout usage réel : SIRET "
        "216 205 286 00017, environ 5 000 électeurs inscrits, et la population des quartiers "
        "en dehors du Quartier Ouest (Cité 5, Cité Belgique et Cité Bellevue comptent ensemble "
        "environ 2 000 habitant·es)."
    ),
)

MALAUNAY = DemoTerritory(
    slug="malaunay",
    name="Malaunay",
    insee="76402",
    population=6000,
    electors=4400,
    hosts=("malaunay.localhost",),
    neighbourhoods=(
        DemoNeighbourhood("Centre-bourg", 3200),
        DemoNeighbourhood("Le Plateau", 1700),
        DemoNeighbourhood("Vallée du Cailly", 1100),
    ),
    sittings=((dt.date(2027, 1, 21), "Conseil municipal : orientations budgétaires 2027"),),
    legal=LegalNotices(
        controller="Commune de Malaunay",
        controller_address="Hôtel de ville, 76770 Malaunay (adresse à valider)",
        publication_director="Le maire de Malaunay",
        host="Serveur de démonstration (à valider)",
        contact_email=f"mairie@{MALAUNAY_MAIL_DOMAIN}",
    ),
    accessibility=AccessibilityStatement(
        status="non_conforme", contact=f"accessibilite@{MALAUNAY_MAIL_DOMAIN} (à valider)"
    ),
    intro=(
        "**Données de démonstration.** La population (environ 6 000 habitant·es), le nombre "
        "d'électeurs et les quartiers de Malaunay sont à valider."
    ),
)

DEMO_TERRITORIES = (LOOS, MALAUNAY)

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "loos-en-gohelle",
        f"habitante@{LOOS_MAIL_DOMAIN}",
        "Camille Lefebvre",
        None,
        "habitante",
        neighbourhood="Cité 5",
    ),
    DemoAccount("loos-en-gohelle", f"agent@{LOOS_MAIL_DOMAIN}", "Karim Benali", Role.AGENT, "agent·e"),
    DemoAccount(
        "loos-en-gohelle",
        f"maire@{LOOS_MAIL_DOMAIN}",
        "Le maire (démo)",
        Role.EXECUTIVE,
        "exécutif (maire)",
        delegation_reference="Maire — pouvoirs propres",
        delegation_scope="Pouvoirs propres du maire : signe les conventions et les réponses officielles.",
    ),
    DemoAccount("loos-en-gohelle", f"elu@{LOOS_MAIL_DOMAIN}", "Nadia Dupont", Role.COUNCIL_MEMBER, "élu·e au conseil"),
    DemoAccount(
        "loos-en-gohelle", f"admin@{LOOS_MAIL_DOMAIN}", "Service participation", Role.ADMIN, "administrateur·rice"
    ),
    DemoAccount("malaunay", f"admin@{MALAUNAY_MAIL_DOMAIN}", "Mairie de Malaunay", Role.ADMIN, "administrateur·rice"),
    DemoAccount(
        "malaunay", f"habitant@{MALAUNAY_MAIL_DOMAIN}", "Louis Martin", None, "habitant", neighbourhood="Centre-bourg"
    ),
)

# A resident without e-mail, kept by the agent, with a call to make.
CONTACT_NAME = "Josiane Carpentier"
CONTACT_PHONE = "06 39 98 12 34"  # ARCEP range reserved for fiction
CONTACT_TASK_SUBJECT = "Appeler Mme Carpentier : elle souhaite proposer un banc à l'arrêt de bus de la Cité 5"


@dataclass
class DemoSummary:
    territories: list[str] = field(default_factory=list)
    neighbourhoods: int = 0
    sittings: int = 0
    accounts: list[str] = field(default_factory=list)
    contacts: int = 0
    tasks: int = 0
    # Loos-en-Gohelle's initiatives (app.demo_initiatives): their promoters, past envelopes, projects.
    promoters: list[str] = field(default_factory=list)
    envelopes: int = 0
    initiatives: int = 0
    # Their follow-up (app.demo_followup): signed initiatives moved on, the equipment inventory,
    # historical initiatives imported, initiatives placed on the map, entries shared with the library.
    followups: list[str] = field(default_factory=list)
    equipment: int = 0
    historical: int = 0
    located: int = 0
    shared: int = 0
    # Its petitions (app.demo_petitions): civic petitions and the legal request created, their signatures.
    petitions: list[str] = field(default_factory=list)
    signatures: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.territories
            or self.neighbourhoods
            or self.sittings
            or self.accounts
            or self.contacts
            or self.tasks
            or self.promoters
            or self.envelopes
            or self.initiatives
            or self.followups
            or self.equipment
            or self.historical
            or self.located
            or self.shared
            or self.petitions
            or self.signatures
        )


def base_url_for(territory: DemoTerritory, settings: Settings) -> str:
    host = next((h for h in territory.hosts if h.endswith(".localhost")), territory.hosts[0])
    return f"{settings.base_scheme}://{host}:8000" if settings.base_scheme == "http" else f"https://{host}"


def _territory(db: Session, spec: DemoTerritory, summary: DemoSummary) -> Territory:
    territory = territories.get_by_slug(db, spec.slug)
    if territory is None:
        territory = territories.create_territory(
            db,
            OPERATOR,
            slug=spec.slug,
            name=spec.name,
            insee_code=spec.insee,
            siret=spec.siret,
            population=spec.population,
            registered_electors=spec.electors,
        )
        summary.territories.append(spec.slug)
    for host in spec.hosts:
        known = db.scalar(select(TerritoryHost.id).where(TerritoryHost.host == host))
        if known is None:
            territories.add_host(db, OPERATOR, territory, host)
    _describe(db, territory, spec)
    return territory


def _describe(db: Session, territory: Territory, spec: DemoTerritory) -> None:
    """Legal notices, accessibility contact and the « à valider » note, set once."""
    changed: list[str] = []
    if not territory.legal_json:
        territory.legal_json = spec.legal.model_dump(mode="json")
        changed.append("legal")
    if not territory.accessibility_json:
        territory.accessibility_json = spec.accessibility.model_dump(mode="json")
        changed.append("accessibility")
    if not territory.settings.scheme_intro:
        territory.settings_json = {**(territory.settings_json or {}), "scheme_intro": spec.intro}
        changed.append("scheme_intro")
    if changed:
        audit.record(
            db,
            OPERATOR,
            "territory.update",
            "territory",
            territory.id,
            territory_id=territory.id,
            reason="données de démonstration",
            data={"fields": changed},
        )
        db.flush()


def _neighbourhoods(db: Session, territory: Territory, spec: DemoTerritory, summary: DemoSummary) -> None:
    existing = set(db.scalars(select(Neighbourhood.name).where(Neighbourhood.territory_id == territory.id)))
    for position, item in enumerate(spec.neighbourhoods):
        if item.name in existing:
            continue
        row = Neighbourhood(
            territory_id=territory.id,
            name=item.name,
            population=item.population,
            is_priority=item.is_priority,
            position=position,
        )
        db.add(row)
        db.flush()
        audit.record(
            db,
            OPERATOR,
            "neighbourhood.create",
            "neighbourhood",
            row.public_id,
            territory_id=territory.id,
            reason="données de démonstration",
            data={"name": item.name},
        )
        summary.neighbourhoods += 1


def _sittings(db: Session, territory: Territory, spec: DemoTerritory, summary: DemoSummary) -> None:
    existing = set(db.scalars(select(CouncilSitting.sitting_date).where(CouncilSitting.territory_id == territory.id)))
    for date, title in spec.sittings:
        if date in existing:
            continue
        row = CouncilSitting(territory_id=territory.id, sitting_date=date, title=title)
        db.add(row)
        db.flush()
        audit.record(
            db,
            OPERATOR,
            "council_sitting.create",
            "council_sitting",
            row.public_id,
            territory_id=territory.id,
            reason="données de démonstration",
            data={"date": date.isoformat()},
        )
        summary.sittings += 1


def _neighbourhood_id(db: Session, territory_id: int, name: str | None) -> int | None:
    if name is None:
        return None
    return db.scalar(
        select(Neighbourhood.id).where(Neighbourhood.territory_id == territory_id, Neighbourhood.name == name)
    )


def _account(
    db: Session, territory: Territory, spec: DemoAccount, base_url: str, summary: DemoSummary
) -> tuple[Account, Person]:
    from app.accounts import roles

    _address, key = normalise_email(spec.email)
    account = db.scalar(select(Account).where(Account.territory_id == territory.id, Account.email_key == key))
    if account is None:
        created = register(
            db,
            territory.id,
            Registration(
                email=spec.email,
                password=DEMO_PASSWORD,
                display_name=spec.display_name,
                neighbourhood_id=_neighbourhood_id(db, territory.id, spec.neighbourhood),
                age_bracket=AgeBracket.ADULT,
                guardian_contact=None,
                locale="fr",
            ),
            base_url,
            verified_by_operator=True,
        )
        if created is None:  # pragma: no cover - looked up just above
            raise RuntimeError(f"demo account {spec.email} could not be created")
        account = created
        audit.record(
            db,
            OPERATOR,
            "account.verify_email",
            "account",
            account.id,
            territory_id=territory.id,
            reason="compte de démonstration",
        )
        if spec.role is not None:
            roles.grant_role(
                db,
                OPERATOR,
                territory.id,
                account.id,
                spec.role,
                delegation_reference=spec.delegation_reference,
                delegation_scope=spec.delegation_scope,
                reason="compte de démonstration",
            )
        summary.accounts.append(spec.email)
        db.flush()
    person = db.get_one(Person, account.person_id)
    return account, person


def _contact_with_task(db: Session, territory: Territory, agent: tuple[Account, Person], summary: DemoSummary) -> None:
    agent_account, agent_person = agent
    actor = replace(actor_for(agent_account, agent_person), roles=active_roles(db, agent_account.id))
    contact = db.scalar(
        select(Person).where(
            Person.territory_id == territory.id,
            Person.kind == PersonKind.CONTACT,
            Person.display_name == CONTACT_NAME,
        )
    )
    if contact is None:
        contact = create_contact(
            db,
            actor,
            territory.id,
            ContactInput(
                display_name=CONTACT_NAME,
                phone=CONTACT_PHONE,
                postal_address="Cité 5, 62750 Loos-en-Gohelle",
                neighbourhood_id=_neighbourhood_id(db, territory.id, "Cité 5"),
                preferred_contact="phone",
                notes="Pas d'adresse e-mail ; préfère être appelée le matin.",
            ),
        )
        summary.contacts += 1
    task = db.scalar(
        select(AgentTask.id).where(AgentTask.person_id == contact.id, AgentTask.subject == CONTACT_TASK_SUBJECT)
    )
    if task is None:
        create_task(
            db,
            territory_id=territory.id,
            person_id=contact.id,
            channel="phone",
            subject=CONTACT_TASK_SUBJECT,
            body=(
                "Mme Carpentier est passée en mairie. Lui expliquer le fifty-fifty et l'aider à déposer "
                "sa proposition ; la rappeler au " + CONTACT_PHONE + "."
            ),
            actor=actor,
        )
        summary.tasks += 1


def load_demo(database: Database, settings: Settings | None = None) -> DemoSummary:
    """Loads (or completes) the demo data in one transaction; refuses in production."""
    settings = settings or get_settings()
    if settings.is_production:
        raise DemoRefusedError("Les données de démonstration ne se chargent pas en production.")
    summary = DemoSummary()
    with unit_of_work(database) as db:
        for spec in DEMO_TERRITORIES:
            territory = _territory(db, spec, summary)
            _neighbourhoods(db, territory, spec, summary)
            _sittings(db, territory, spec, summary)
            base_url = base_url_for(spec, settings)
            accounts = {
                a.email: _account(db, territory, a, base_url, summary)
                for a in DEMO_ACCOUNTS
                if a.territory == spec.slug
            }
            if spec is LOOS:
                _contact_with_task(db, territory, accounts[f"agent@{LOOS_MAIL_DOMAIN}"], summary)
                staff = {email: account for email, (account, _person) in accounts.items()}
                _initiatives(db, territory, staff, settings, base_url, summary)
    return summary


def _initiatives(
    db: Session,
    territory: Territory,
    staff: dict[str, Account],
    settings: Settings,
    base_url: str,
    summary: DemoSummary,
) -> None:
    """About 25 initiatives over five fiscal years, with their promoters and past envelopes, then
    what became of the signed ones (work, delivery, evaluation, upkeep) and the town's equipment,
    and the petitions of the last two years (some linked to those initiatives)."""
    from app.demo_followup import load_followup  # both import this module's constants
    from app.demo_initiatives import load_initiatives
    from app.demo_petitions import load_petitions

    loaded = load_initiatives(db, territory, staff, settings, base_url)
    summary.promoters += loaded.accounts
    summary.envelopes += loaded.envelopes
    summary.initiatives += loaded.initiatives
    followed = load_followup(db, territory, staff, settings, base_url)
    summary.followups += followed.moved
    summary.equipment += followed.equipment
    summary.historical += followed.historical
    summary.located += followed.located
    summary.shared += followed.shared
    petitions = load_petitions(db, territory, staff, settings)
    summary.petitions += petitions.petitions
    summary.signatures += petitions.signatures
