"""Demo petitions of Loos-en-Gohelle: six civic petitions of the last two years and one legal request.

Five civic petitions were answered, each in its own way (accepted, accepted in part, refused,
transmitted to the Communauté d'agglomération de Lens-Liévin with its later reply, turned into a
fifty-fifty initiative of the demo); the sixth is open, past its answer threshold, its answer due
and drafted by the agent. One lighting petition comes from a declined demo initiative; one petition
has a paper batch; a duplicate was not published (a reason of the charter). The legal request
(art. L1112-16 CGCT) is open with 120 signatures of the 500 it needs (5 000 electors).

The lifecycle goes through the services (start, submit, publish, reject, the demo residents'
signatures, the paper sheets entered by the agent, the answer drafted, published and completed),
then each step is dated back, its audit entries too (``_Clock``). The other civic signers are
pseudonymous demo signers inserted in one statement per petition as counted rows (confirmed guests
with example.org addresses); the legal request's paper signers give the electors' details, each
holding its one signature of the quarter. The counting job then computes the counts and stamps the
thresholds from those dates, and the closing job closes the petitions whose period ended. The
« habitante » has signed neither the open petition nor the legal request: the demo can try it.

Loading is idempotent: a petition is created only when no petition of the territory has its title.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.accounts.models import Account, Person
from app.accounts.service import normalise_email
from app.accounts.sessions import active_roles
from app.accounts.viewer import Viewer
from app.audit import service as audit
from app.audit.models import AuditEntry
from app.config import Settings
from app.core.actor import Actor
from app.demo_initiatives import AGENT, HABITANTE, MAYOR, RESIDENTS, _actor, _Clock, _mail
from app.initiatives.models import Initiative, InitiativeState
from app.petitions import answers, counting, paper, service, signing
from app.petitions.forms import AnswerInput, PetitionInput
from app.petitions.models import (
    AnswerOutcome,
    LegalPurpose,
    LegalQuarterSignature,
    Petition,
    PetitionKind,
    PetitionSignature,
    PetitionState,
    SignatureMethod,
    SignerRelation,
)
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood, Territory, Theme

CALL = "Communauté d'agglomération de Lens-Liévin"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# Pseudonymous demo signers: a first name and an initial (their e-mails are at example.org).
FIRST_NAMES = (
    "Nathalie", "Isabelle", "Sylvie", "Jean-Marc", "Dominique", "Christophe", "Stéphanie", "Laurent",
    "Véronique", "Frédéric", "Sébastien", "Céline", "Julien", "Émilie", "Kévin", "Manon", "Lucas", "Inès",
    "Yasmine", "Mohamed", "Patrick", "Brigitte", "Michel", "Monique", "Océane", "Dylan", "Ludivine",
    "Grégory", "Fabienne", "Hervé",
)  # fmt: skip
SURNAMES = (
    "Lefebvre", "Dupont", "Leroy", "Caron", "Duhamel", "Delcroix", "Vandenbussche", "Kowalski", "Nowak",
    "Bensaïd", "Carlier", "Deprez", "Fontaine", "Hennebelle", "Lecomte", "Merlin", "Ramette", "Szymanski",
    "Willart", "Boulanger", "Cuvelier", "Dhainaut", "Flament", "Guilbert", "Hochart", "Jankowski", "Maes",
    "Obert", "Pruvost", "Tison", "Verbeke",
)  # fmt: skip
STREETS = (
    "rue Roussel", "rue de Bourgogne", "rue Hoche", "rue Carpentier", "rue Jean-Jaurès", "rue de Lens",
    "rue Ferdinand-Buisson", "rue Émile-Zola", "rue de la Paix", "place de la République",
)  # fmt: skip
# Who signs from where, by position in a run of twenty signers: mostly residents.
RELATIONS = (
    SignerRelation.NONE, SignerRelation.WORKS, SignerRelation.USES, SignerRelation.WORKS, SignerRelation.USES,
    *([SignerRelation.LIVES] * 15),
)  # fmt: skip
POSTCODES = {
    SignerRelation.LIVES: ("62750",),
    SignerRelation.WORKS: ("62300", "62750", "62160"),
    SignerRelation.USES: ("62300", "62160", "62410"),
    SignerRelation.NONE: ("59000", "62800", "62000"),
}


@dataclass(frozen=True)
class Reply:
    """The official answer, published ``after`` days after the petition opened (drafted a week before)."""

    outcome: AnswerOutcome
    text: str  # may name {council}: the date of the council sitting that discussed it
    after: int
    transmitted_after: int = 0  # transmitted answers: when the town sent the request on
    reply_after: int = 0  # ... and when the authority answered
    reply: str = ""


@dataclass(frozen=True)
class DemoPetition:
    key: str  # in the demo signers' e-mail addresses
    title: str
    request: str
    body: str
    author: str
    neighbourhood: str
    theme: str
    days_ago: int  # started by its author
    signatures: int  # in all, paper included
    collect_days: int  # most signatures came within this many days of the opening
    signers: tuple[str, ...] = ()  # demo residents who sign with their account (the author first)
    reply: Reply | None = None  # None: still open, the answer under review
    draft: str = ""  # the agent's draft of the answer under review
    paper: tuple[int, int, str] | None = None  # a paper batch: signatures, of which in the town, sheet
    from_initiative: str = ""  # the declined demo initiative it comes from
    converted_into: str = ""  # the demo initiative it became


ROUSSEL = "Limiter la vitesse à 30 km/h rue Roussel"
LIGHTING = "Éclairer le chemin piéton de la Base 11/19"
BENCH = "Un banc à l'arrêt de bus de la Cité 5"
BELLEVUE = "Des bancs et une table pour la Cité Bellevue"
LIGHTING_INITIATIVE = "Éclairage solaire du chemin du 11/19"
BELLEVUE_INITIATIVE = "Table de pique-nique et bancs de la Cité Bellevue"

CIVIC: tuple[DemoPetition, ...] = (
    DemoPetition(
        key="roussel",
        title=ROUSSEL,
        request="Nous demandons que la vitesse soit limitée à 30 km/h sur toute la rue Roussel, avec des "
        "aménagements qui la font respecter.",
        body="La rue Roussel sert de raccourci entre la route de Lens et le centre. Les voitures y roulent "
        "vite alors que les enfants de l'école Salengro la traversent matin et soir et que les trottoirs "
        "sont étroits.\n\nDes feuilles de pétition sont aussi disponibles à la boulangerie.",
        author=_mail("sophie.leclercq"),
        neighbourhood="Centre-ville",
        theme="Déplacements doux",
        days_ago=690,
        signatures=184,
        collect_days=75,
        signers=(_mail("sophie.leclercq"), HABITANTE, _mail("aurelie.dubois"), _mail("bernard.wallart")),
        paper=(42, 40, "Feuilles déposées à la boulangerie de la rue Roussel"),
        reply=Reply(
            AnswerOutcome.PARTLY,
            "Le conseil municipal du {council} a créé une zone 30 sur la partie de la rue Roussel qui "
            "longe l'école Salengro, de la rue Jean-Jaurès au carrefour de la rue de Lens : panneaux, "
            "marquage et deux coussins berlinois posés par les services techniques, et un radar "
            "pédagogique pendant six mois.\n\nSur le reste de la rue, la commune fera d'abord compter "
            "les véhicules et mesurer leur vitesse ; la décision sera prise avec les riverain·es au vu "
            "de ces mesures.",
            after=84,
        ),
    ),
    DemoPetition(
        key="chemin1119",
        title=LIGHTING,
        request="Nous demandons l'éclairage du chemin piéton qui relie la rue de Bourgogne à la Base 11/19, "
        "avant l'hiver.",
        body="Ce chemin est emprunté chaque jour par les salarié·es et les visiteurs de la Base 11/19, par "
        "les coureurs et par les habitant·es de la Cité 5. L'hiver, il fait nuit noire dès 17 heures.\n\n"
        "Notre initiative fifty-fifty de bornes solaires n'a pas été retenue, l'éclairage public relevant "
        "de la commune : nous lui demandons donc de l'inscrire sans attendre à son programme.",
        author=_mail("bernard.wallart"),
        neighbourhood="Base 11/19",
        theme="Énergie",
        days_ago=600,
        signatures=250,
        collect_days=60,
        signers=(
            _mail("bernard.wallart"),
            _mail("gerard.vasseur"),
            _mail("jean-pierre.wattez"),
            _mail("sophie.leclercq"),
            _mail("thierry.lefranc"),
        ),
        from_initiative=LIGHTING_INITIATIVE,
        reply=Reply(
            AnswerOutcome.ACCEPTED,
            "La commune avance l'éclairage du chemin dans son programme de rénovation de l'éclairage "
            "public, décidé par le conseil municipal du {council} : quatorze points lumineux LED à "
            "détection de présence, orientés vers le sol pour ne pas gêner la faune des terrils, "
            "posés avant l'hiver. Merci aux signataires et aux porteurs de l'initiative d'avoir "
            "porté cette demande.",
            after=65,
        ),
    ),
    DemoPetition(
        key="feu14",
        title="Rétablir le feu d'artifice du 14 Juillet",
        request="Nous demandons que la commune tire de nouveau un feu d'artifice le soir du 14 Juillet.",
        body="Le feu d'artifice tiré depuis la Base 11/19 réunissait les familles de tous les quartiers. "
        "Les enfants le réclament.",
        author=_mail("thierry.lefranc"),
        neighbourhood="Cité 14",
        theme="Implication des habitant·es",
        days_ago=520,
        signatures=143,
        collect_days=50,
        signers=(_mail("thierry.lefranc"), _mail("enzo.lemaire"), _mail("sandrine.lemaire")),
        reply=Reply(
            AnswerOutcome.REFUSED,
            "Le conseil municipal du {council} a maintenu son choix : pas de feu d'artifice. Les "
            "terrils sont un site naturel où nichent des oiseaux protégés, les tirs y présentent un "
            "risque d'incendie en été, et la somme (environ 12 000 €) finance désormais un bal "
            "populaire et un spectacle de lumières sur la façade de la Base 11/19, auxquels "
            "les signataires sont invité·es à contribuer.",
            after=70,
        ),
    ),
    DemoPetition(
        key="verre",
        title="Des colonnes à verre à la Cité 12",
        request="Nous demandons l'installation de colonnes à verre dans la Cité 12.",
        body="Le point de collecte le plus proche est à vingt minutes à pied. Les personnes âgées de la "
        "cité, sans voiture, ne peuvent pas y porter leur verre, qui finit dans les ordures.",
        author=_mail("chantal.delporte"),
        neighbourhood="Cité 12",
        theme="Déchets",
        days_ago=420,
        signatures=96,
        collect_days=45,
        signers=(_mail("chantal.delporte"), _mail("jean-pierre.wattez")),
        reply=Reply(
            AnswerOutcome.TRANSMITTED,
            "La collecte du verre relève de la Communauté d'agglomération de Lens-Liévin. La commune lui a "
            "transmis la pétition en appuyant la demande, et a proposé deux emplacements rue de la Paix et "
            "près de la salle Caullet, examinés avec les signataires au conseil municipal du {council}.",
            after=58,
            transmitted_after=52,
            reply_after=150,
            reply="La Communauté d'agglomération installera deux colonnes à verre enterrées rue de la Paix "
            "au premier semestre de l'an prochain ; la collecte sera hebdomadaire.",
        ),
    ),
    DemoPetition(
        key="bellevue",
        title=BELLEVUE,
        request="Nous demandons une table de pique-nique et des bancs près de l'aire de jeux de la Cité Bellevue.",
        body="La Cité Bellevue n'a aucun endroit où s'asseoir. Les parents restent debout au bord de l'aire "
        "de jeux ; les anciens n'y viennent plus.",
        author=_mail("melanie.bruneel"),
        neighbourhood="Cité Bellevue",
        theme="Implication des habitant·es",
        days_ago=0,  # dated from the initiative it became
        signatures=19,
        collect_days=25,
        signers=(_mail("melanie.bruneel"),),
        converted_into=BELLEVUE_INITIATIVE,
        reply=Reply(
            AnswerOutcome.CONVERTED,
            "La commune propose d'en faire une initiative fifty-fifty : elle achète une table et deux "
            "bancs en robinier, les habitant·es les montent, les lasurent et les entretiennent. Le "
            "conseil municipal du {council} a salué la démarche ; l'initiative est ouverte aux "
            "signataires qui veulent y participer.",
            after=40,
        ),
    ),
    DemoPetition(
        key="banc5",
        title=BENCH,
        request="Nous demandons un banc, et si possible un abri, à l'arrêt de bus de la Cité 5, rue de Bourgogne.",
        body="Beaucoup de personnes âgées de la Cité 5 prennent le bus pour aller au marché de Lens ou chez "
        "le médecin. Elles attendent debout, parfois vingt minutes, sous la pluie.",
        author=_mail("martine.delattre"),
        neighbourhood="Cité 5",
        theme="Déplacements doux",
        days_ago=55,
        signatures=78,
        collect_days=45,
        signers=(_mail("martine.delattre"), _mail("rachid.haddou")),
        draft="Projet : la commune posera un banc à l'arrêt de la rue de Bourgogne au printemps ; l'abri "
        "dépend du syndicat des transports, à qui la demande sera transmise. Devis demandé aux services "
        "techniques.",
    ),
)

DUPLICATE = DemoPetition(
    key="doublon",
    title="Banc pour l'arrêt Cité 5 !",
    request="Installer un banc à l'arrêt de bus de la Cité 5.",
    body="Les anciens attendent debout.",
    author=_mail("aurelie.dubois"),
    neighbourhood="Cité 5",
    theme="Déplacements doux",
    days_ago=21,
    signatures=0,
    collect_days=0,
)
DUPLICATE_COMMENT = (
    "La pétition « Un banc à l'arrêt de bus de la Cité 5 » est ouverte et demande la même chose : "
    "signez-la, elle a déjà atteint son seuil de réponse."
)

LEGAL_TITLE = "Consultation sur l'avenir de la route d'accès à la Base 11/19"
LEGAL = DemoPetition(
    key="consultation1119",
    title=LEGAL_TITLE,
    request="Nous demandons au conseil municipal d'organiser une consultation des électeurs sur l'avenir de "
    "la route d'accès à la Base 11/19 : la garder réservée aux piétons, aux vélos et aux navettes, ou "
    "l'ouvrir aux voitures jusqu'aux parkings du site.",
    body="Le projet d'élargissement de la route d'accès à la Base 11/19 changerait la vie des riverain·es "
    "de la Cité 5 et l'usage du site. Une décision de cette importance mérite que les électeurs de la "
    "commune donnent leur avis (article L1112-16 du code général des collectivités territoriales).\n\n"
    "Les feuilles de signature sont aussi disponibles à la maison de quartier Alfred-Bernard.",
    author=_mail("rachid.haddou"),
    neighbourhood="Base 11/19",
    theme="Déplacements doux",
    days_ago=44,
    signatures=120,
    collect_days=41,
    signers=(
        _mail("rachid.haddou"),
        _mail("gerard.vasseur"),
        _mail("bernard.wallart"),
        _mail("jean-pierre.wattez"),
        _mail("chantal.delporte"),
    ),
)


@dataclass
class PetitionsSummary:
    petitions: list[str] = field(default_factory=list)
    signatures: int = 0


@dataclass
class _Run:
    db: Session
    territory: Territory
    ctx: TerritoryContext
    settings: Settings
    tz: ZoneInfo
    now: dt.datetime
    today: dt.date
    accounts: dict[str, Account]
    actors: dict[str, Actor]
    hoods: dict[str, int]
    themes: dict[str, int]
    clock: _Clock
    created: list[Petition] = field(default_factory=list)
    signatures: int = 0

    def at(self, day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz).astimezone(dt.UTC)

    def local(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()

    @property
    def agent(self) -> Actor:
        return self.actors[AGENT]

    def viewer(self, email: str) -> Viewer:
        account = self.accounts[email]
        person = self.db.get_one(Person, account.person_id)
        return Viewer(
            person_id=person.id,
            account_id=account.id,
            territory_id=account.territory_id,
            label=person.display_name,
            roles=active_roles(self.db, account.id),
            display_name=person.display_name,
            email=account.email,
            email_verified=True,
            age_bracket=person.age_bracket,
        )


def french_date(day: dt.date) -> str:
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]} {day.year}"


def load_petitions(
    db: Session, territory: Territory, staff: dict[str, Account], settings: Settings
) -> PetitionsSummary:
    """Loads the demo petitions of Loos-en-Gohelle missing from the territory (in the caller's transaction)."""
    summary = PetitionsSummary()
    existing = set(db.scalars(select(Petition.title).where(Petition.territory_id == territory.id)))
    wanted = [spec for spec in (*CIVIC, DUPLICATE, LEGAL) if spec.title not in existing]
    if not wanted:
        return summary
    accounts = dict(staff)
    for resident in RESIDENTS:
        _address, key = normalise_email(resident.email)
        account = db.scalar(select(Account).where(Account.territory_id == territory.id, Account.email_key == key))
        if account is not None:
            accounts[resident.email] = account
    tz = ZoneInfo(territory.timezone)
    now = dt.datetime.now(dt.UTC)
    run = _Run(
        db=db,
        territory=territory,
        ctx=TerritoryContext.from_row(territory),
        settings=settings,
        tz=tz,
        now=now,
        today=now.astimezone(tz).date(),
        accounts=accounts,
        actors={email: _actor(db, account) for email, account in accounts.items()},
        hoods={
            name: row_id
            for name, row_id in db.execute(
                select(Neighbourhood.name, Neighbourhood.id).where(Neighbourhood.territory_id == territory.id)
            )
        },
        themes={
            name: row_id
            for name, row_id in db.execute(select(Theme.name, Theme.id).where(Theme.territory_id == territory.id))
        },
        clock=_Clock(db),
    )
    for spec in wanted:
        if spec is DUPLICATE:
            _duplicate(run, spec)
        elif spec is LEGAL:
            _legal(run, spec)
        else:
            _civic(run, spec)
        summary.petitions.append(spec.title)
    _count_and_close(run)
    summary.signatures = run.signatures
    db.flush()
    return summary


# ---------------------------------------------------------------- the steps


def _input(run: _Run, spec: DemoPetition, kind: PetitionKind = PetitionKind.CIVIC) -> PetitionInput:
    return PetitionInput(
        kind=kind,
        legal_purpose=LegalPurpose.CONSULTATION if kind == PetitionKind.LEGAL else None,
        title=spec.title,
        request=spec.request,
        body=spec.body,
        neighbourhood_id=run.hoods.get(spec.neighbourhood),
        theme_id=run.themes.get(spec.theme),
    )


def _started(run: _Run, spec: DemoPetition, started: dt.date, kind: PetitionKind = PetitionKind.CIVIC) -> Petition:
    """Started and submitted by its author on ``started`` (a declined initiative's promoters start
    from it), dated back."""
    db, author = run.db, run.actors[spec.author]
    petition: Petition | None = None
    initiative = (
        db.scalar(
            select(Initiative).where(
                Initiative.territory_id == run.territory.id, Initiative.title == spec.from_initiative
            )
        )
        if spec.from_initiative
        else None
    )
    if initiative is not None and initiative.state == InitiativeState.DECLINED:
        draft = service.from_initiative(db, author, run.territory.id, initiative.public_id)
        petition = service.update_draft(db, author, run.territory.id, draft.public_id, _input(run, spec))
    else:
        petition = service.start(db, author, run.territory.id, _input(run, spec, kind))
    petition.created_at = run.at(started, 20, 30)
    run.clock.stamp(petition.created_at)
    service.submit(db, author, run.territory.id, petition.public_id)
    petition.submitted_at = run.at(started, 20, 45)
    run.clock.stamp(petition.submitted_at)
    run.created.append(petition)
    return petition


def _opened(run: _Run, petition: Petition, day: dt.date) -> dt.datetime:
    """Published by the agent on ``day``. The open period is dated back once the residents signed
    (the service refuses signatures to a petition whose period ended)."""
    service.publish(run.db, run.agent, run.ctx, petition.public_id)
    opened = run.at(day, 9, 40)
    petition.opened_at = opened
    run.clock.stamp(opened)
    return opened


def _period(run: _Run, petition: Petition, opened_on: dt.date) -> None:
    petition.closes_on = service.add_months(opened_on, run.ctx.settings.petitions.open_period_months)


def _moments(rng: random.Random, opened: dt.datetime, days: int, n: int, latest: dt.datetime) -> list[dt.datetime]:
    """``n`` moments from the opening, most of them early (a petition is shared most when it opens)."""
    span = dt.timedelta(days=days).total_seconds()
    moments = []
    for i in range(n):
        share = ((i + rng.random()) / max(n, 1)) ** 1.6
        moment = opened + dt.timedelta(seconds=span * share + 300)
        moments.append(min(moment, latest - dt.timedelta(minutes=2 * (n - i))))
    return sorted(moments)


def _sign_with_accounts(
    run: _Run, petition: Petition, emails: tuple[str, ...], moments: list[dt.datetime], elector: bool = False
) -> None:
    """The demo residents sign through the service (legal requests: with their elector's details)."""
    for index, (email, moment) in enumerate(zip(emails, moments, strict=False)):
        if email not in run.accounts:
            continue
        viewer = run.viewer(email)
        details = None
        if elector:
            first, _sep, surname = viewer.display_name.partition(" ")
            details = signing.ElectorDetails(
                surname=surname or first,
                first_names=first,
                address=f"{10 + 7 * index} {STREETS[index % len(STREETS)]}, 62750 Loos-en-Gohelle",
                birth_date=dt.date(1950 + 5 * index, 1 + index, 10 + index),
            )
        choices = signing.Choices(relation=SignerRelation.LIVES, show_name=True)
        _outcome, row = signing.sign(run.db, viewer, run.ctx, petition, choices, elector=details)
        row.created_at = row.counted_at = moment
        if elector:
            quarter = run.db.scalar(select(LegalQuarterSignature).where(LegalQuarterSignature.signature_id == row.id))
            if quarter is not None:
                quarter.quarter = signing.quarter_of(moment, run.territory.timezone)
        run.signatures += 1


def _guests(run: _Run, spec: DemoPetition, petition: Petition, moments: list[dt.datetime]) -> None:
    """Confirmed guest signatures of pseudonymous demo signers, inserted in one statement."""
    rng = random.Random(spec.key)
    rows = []
    for i, moment in enumerate(moments):
        relation = RELATIONS[i % len(RELATIONS)]
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {SURNAMES[(7 * i + len(spec.key)) % len(SURNAMES)][0]}."
        address = f"signataire-{spec.key}-{i + 1:03d}@example.org"
        rows.append(
            {
                "territory_id": run.territory.id,
                "petition_id": petition.id,
                "method": SignatureMethod.GUEST.value,
                "display_name": name,
                "name_key": signing.name_key(name),
                "email": address,
                "email_key": address,
                "email_slot": 1,
                "postcode": rng.choice(POSTCODES[relation]),
                "relation": relation.value,
                "show_name": i % 4 == 1,
                "notify": False,
                "invite_if_project": False,
                "created_at": moment - dt.timedelta(minutes=4),
                "confirmed_at": moment,
                "counted_at": moment,
            }
        )
    if rows:
        run.db.execute(insert(PetitionSignature), rows)
    run.signatures += len(rows)


def _answer(run: _Run, spec: DemoPetition, petition: Petition, opened_on: dt.date) -> None:
    reply = spec.reply
    assert reply is not None
    db, tid = run.db, run.territory.id
    published_on = opened_on + dt.timedelta(days=reply.after)
    drafted_on = published_on - dt.timedelta(days=7)
    council = published_on - dt.timedelta(days=3)
    transmitted_on = opened_on + dt.timedelta(days=reply.transmitted_after) if reply.transmitted_after else None
    data = AnswerInput(
        outcome=reply.outcome,
        text=reply.text.format(council=french_date(council)),
        authority=CALL if transmitted_on else "",
        transmitted_on=transmitted_on,
    )
    answer = answers.save_draft(db, run.agent, tid, petition.public_id, data)
    answer.created_at = answer.updated_at = run.at(drafted_on, 16)
    run.clock.stamp(answer.created_at)
    answers.publish(db, run.actors[MAYOR], tid, petition.public_id, settings=run.settings)
    answer.published_at = run.at(published_on, 11)
    run.clock.stamp(answer.published_at)
    if reply.reply_after:
        reply_on = opened_on + dt.timedelta(days=reply.reply_after)
        answers.add_authority_reply(db, run.agent, tid, petition.public_id, reply_on, reply.reply)
        run.clock.stamp(run.at(reply_on + dt.timedelta(days=2), 15))
    if spec.converted_into:
        initiative = _initiative(run, spec.converted_into)
        # The initiative already exists in the demo: the petition is linked to it, as the
        # conversion would (its promoter is the petition's author).
        petition.converted_initiative_id = initiative.id
        audit.record(
            db, run.actors[spec.author], "petition.convert", "petition", petition.public_id, territory_id=tid,
            data={"initiative": initiative.public_id},
        )  # fmt: skip
        run.clock.stamp(initiative.created_at)


def _initiative(run: _Run, title: str) -> Initiative:
    initiative = run.db.scalar(
        select(Initiative).where(Initiative.territory_id == run.territory.id, Initiative.title == title)
    )
    if initiative is None:  # pragma: no cover - the demo initiatives load first
        raise RuntimeError(f"demo initiative {title!r} is missing")
    return initiative


def _start_day(run: _Run, spec: DemoPetition) -> dt.date:
    started = run.today - dt.timedelta(days=spec.days_ago)
    if spec.converted_into and spec.reply is not None:
        # Answered ten days before the initiative it became was proposed.
        proposed = run.local(_initiative(run, spec.converted_into).created_at)
        started = proposed - dt.timedelta(days=spec.reply.after + 2 + 10)
    if spec.from_initiative:
        initiative = run.db.scalar(
            select(Initiative).where(
                Initiative.territory_id == run.territory.id, Initiative.title == spec.from_initiative
            )
        )
        if initiative is not None and initiative.state_changed_at is not None:
            started = max(started, run.local(initiative.state_changed_at) + dt.timedelta(days=14))
    return started


def _civic(run: _Run, spec: DemoPetition) -> None:
    started = _start_day(run, spec)
    petition = _started(run, spec, started)
    opened_on = started + dt.timedelta(days=2)
    opened = _opened(run, petition, opened_on)
    rng = random.Random(spec.title)
    online = spec.signatures - (spec.paper[0] if spec.paper else 0)
    latest = run.now - dt.timedelta(hours=3)
    if spec.reply is not None:
        latest = min(latest, run.at(opened_on + dt.timedelta(days=spec.reply.after - 1), 20))
    moments = _moments(rng, opened, spec.collect_days, online, latest)
    signers = tuple(e for e in spec.signers if e in run.accounts)
    _sign_with_accounts(run, petition, signers, moments[: len(signers)])
    _guests(run, spec, petition, moments[len(signers) :])
    if spec.paper:
        # The sheets left at the bakery, entered by their count (the names stay at the town hall).
        signatures, town, sheet = spec.paper
        signed_on = opened_on + dt.timedelta(days=30)
        batch = paper.enter_count(
            run.db, run.agent, run.ctx, petition, sheet=sheet, signed_on=signed_on,
            signatures=signatures, town_signatures=town,
        )  # fmt: skip
        batch.created_at = batch.counted_at = run.at(signed_on + dt.timedelta(days=3), 14)
        run.clock.stamp(batch.counted_at)
    _period(run, petition, opened_on)
    if spec.reply is not None:
        _answer(run, spec, petition, opened_on)
    elif spec.draft:
        answer = answers.save_draft(
            run.db, run.agent, run.territory.id, petition.public_id, AnswerInput(outcome=None, text=spec.draft)
        )
        answer.created_at = answer.updated_at = run.at(run.today - dt.timedelta(days=4), 16)
        run.clock.stamp(answer.created_at)
    run.db.flush()


def _duplicate(run: _Run, spec: DemoPetition) -> None:
    """A second petition for the same bench, not published: the charter's « duplicate » reason."""
    started = run.today - dt.timedelta(days=spec.days_ago)
    petition = _started(run, spec, started)
    service.reject(run.db, run.agent, run.ctx, petition.public_id, "duplicate", DUPLICATE_COMMENT)
    petition.rejected_at = run.at(started + dt.timedelta(days=2), 10, 15)
    run.clock.stamp(petition.rejected_at)


def _legal(run: _Run, spec: DemoPetition) -> None:
    """The legal request: open, 120 electors' signatures (five online, the others on the weekly paper
    sheets of the maison de quartier entered by the agent), each its elector's one signature of the quarter."""
    started = run.today - dt.timedelta(days=spec.days_ago)
    petition = _started(run, spec, started, PetitionKind.LEGAL)
    opened_on = started + dt.timedelta(days=2)
    opened = _opened(run, petition, opened_on)
    rng = random.Random(spec.title)
    signers = tuple(e for e in spec.signers if e in run.accounts)
    online = _moments(rng, opened, spec.collect_days, len(signers), run.now - dt.timedelta(hours=3))
    _sign_with_accounts(run, petition, signers, online, elector=True)
    # One sheet a week, signed at the Saturday permanence and entered by the agent on the Monday.
    remaining = spec.signatures - len(signers)
    saturdays = [
        day
        for day in (opened_on + dt.timedelta(days=n) for n in range(spec.collect_days))
        if day.weekday() == 5 and day + dt.timedelta(days=2) < run.today
    ] or [opened_on]
    sizes = [remaining // len(saturdays) + (1 if n < remaining % len(saturdays) else 0) for n in range(len(saturdays))]
    index = 0
    for number, (signed_on, size) in enumerate(zip(saturdays, sizes, strict=True), start=1):
        lines = []
        for line in range(1, size + 1):
            first, surname = FIRST_NAMES[(3 * index) % len(FIRST_NAMES)], SURNAMES[index % len(SURNAMES)]
            born = dt.date(1942 + index % 62, 1 + index % 12, 1 + (index * 5) % 28)
            lines.append(
                paper.SignerLine(
                    number=line,
                    surname=surname,
                    first_names=first,
                    address=f"{1 + (index * 13) % 140} {STREETS[index % len(STREETS)]}, 62750 Loos-en-Gohelle",
                    birth_date=born.strftime("%d/%m/%Y"),
                )
            )
            index += 1
        sheet = f"Maison de quartier Alfred-Bernard, feuille {number}"
        rows = paper.enter_signers(run.db, run.agent, run.ctx, petition, sheet=sheet, signed_on=signed_on, lines=lines)
        entered = run.at(min(signed_on + dt.timedelta(days=2), run.today - dt.timedelta(days=1)), 9, 30)
        for row in rows:
            row.created_at = row.counted_at = entered
        run.clock.stamp(entered)
        run.signatures += len(rows)
    _period(run, petition, opened_on)
    run.db.flush()


def _count_and_close(run: _Run) -> None:
    """The worker's jobs, run once: the counts and threshold stamps (from the signatures' dates),
    then the closing of the petitions whose period ended; their audit entries are dated back."""
    created = {p.public_id: p for p in run.created}
    if not any(p.state == PetitionState.OPEN for p in created.values()):
        return
    mark = _Clock(run.db).mark
    counting.recount(run.db, settings=run.settings)
    service.close_expired(run.db)
    for petition in created.values():
        if petition.state == PetitionState.CLOSED and petition.closes_on is not None:
            petition.closed_at = run.at(petition.closes_on + dt.timedelta(days=1), 0, 5)
    run.db.flush()
    for entry in run.db.scalars(select(AuditEntry).where(AuditEntry.id > mark, AuditEntry.subject_type == "petition")):
        subject = created.get(entry.subject_id)
        if subject is None:
            continue
        moment = {
            "petition.answer_threshold": subject.answer_threshold_reached_at,
            "petition.council_threshold": subject.council_threshold_reached_at,
            "petition.close": subject.closed_at,
        }.get(entry.action)
        if moment is not None:
            entry.created_at = moment
