"""Demo initiatives for Loos-en-Gohelle: about 25 fifty-fifty projects over five fiscal years.

Everything goes through the services, so the workflow, the ledger's valuation (the volunteer
hour is the SMIC in force on each project's start date), the envelopes and the audit trail
hold: residents propose and write their side of the ledger, the agent writes the town's side
and reviews (going through the review checklist: each point done, or waived with a reason), the
mayor decides (committing the envelope of the project's fiscal year).

The services stamp "now"; a demo with five years of history needs past dates. After each step,
only the dates are set back explicitly (``created_at``, ``submitted_at``, ``state_changed_at``,
``decided_at``, ``paused_since``, ``decision_due_on``, the lines' and the review points' dates;
``Decision.decided_on`` is passed to ``decide``) together with the fiscal year the
submission fell in, before the decision so that it commits against that year's envelope. No
rule is bypassed: states change through the services only, money moves only through ``decide``.

Loading is idempotent: accounts and envelopes are looked up first, and an initiative whose title
already exists in the territory is skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import Account, AgeBracket, Person
from app.accounts.service import Registration, actor_for, normalise_email, register
from app.accounts.sessions import active_roles
from app.audit import service as audit
from app.audit.models import AuditEntry
from app.config import Settings
from app.conventions import service as conventions
from app.conventions.models import Convention, SignatureParty
from app.core.actor import OPERATOR, Actor
from app.demo import DEMO_PASSWORD, LOOS_MAIL_DOMAIN
from app.funds import service as funds
from app.funds.forms import EnvelopeForm
from app.funds.models import Fund, FundEnvelope
from app.initiatives import service as initiatives
from app.initiatives.forms import InitiativeInput, InviteInput
from app.initiatives.models import (
    BeneficiaryKind,
    Decision,
    DecisionAct,
    Initiative,
    InitiativeState,
    MemberRole,
    ProjectType,
    ThreadMessage,
)
from app.ledger import service as ledger
from app.ledger.models import LineKind
from app.mail.models import OutboxEmail
from app.media.service import Upload
from app.notifications.kinds import Frequency
from app.notifications.service import set_preferences
from app.review import agenda, checklist
from app.review import service as review
from app.review.models import ItemState, ReviewItem
from app.territories.context import TerritoryContext
from app.territories.models import CouncilSitting, Neighbourhood, Territory, Theme

S = InitiativeState
PHYSICAL = ProjectType.PHYSICAL
ACTIVITY = ProjectType.ACTIVITY
DEMO_REASON = "données de démonstration"

# Envelopes of the past fiscal years, in euros, by offset from the current fiscal year (the
# current year's envelope comes with the default fund).
PAST_ENVELOPES_EUROS: dict[int, int] = {-4: 20_000, -3: 22_000, -2: 25_000, -1: 28_000}
# Cité Bellevue has its own small envelope this year (a priority neighbourhood): the bike
# shelter takes most of it and the picnic table waits on its waiting list.
NEIGHBOURHOOD_ENVELOPE = ("Cité Bellevue", 2_200)


# ---------------------------------------------------------------- the people


@dataclass(frozen=True)
class DemoResident:
    email: str
    display_name: str
    neighbourhood: str
    age_bracket: AgeBracket = AgeBracket.ADULT
    guardian_contact: str | None = None


def _mail(local: str) -> str:
    return f"{local}@{LOOS_MAIL_DOMAIN}"


RESIDENTS: tuple[DemoResident, ...] = (
    DemoResident(_mail("martine.delattre"), "Martine Delattre", "Cité 5"),
    DemoResident(_mail("jean-pierre.wattez"), "Jean-Pierre Wattez", "Cité 12"),
    DemoResident(_mail("sophie.leclercq"), "Sophie Leclercq", "Centre-ville"),
    DemoResident(_mail("rachid.haddou"), "Rachid Haddou", "Cité Belgique"),
    DemoResident(_mail("sandrine.lemaire"), "Sandrine Lemaire", "Cité 14"),
    DemoResident(
        _mail("enzo.lemaire"),
        "Enzo Lemaire",
        "Cité 14",
        age_bracket=AgeBracket.UNDER_15,
        guardian_contact=f"Sandrine Lemaire (sa mère), {_mail('sandrine.lemaire')}",
    ),
    DemoResident(_mail("aurelie.dubois"), "Aurélie Dubois", "Centre-ville"),
    DemoResident(_mail("gerard.vasseur"), "Gérard Vasseur", "Cité des Castors"),
    DemoResident(_mail("melanie.bruneel"), "Mélanie Bruneel", "Cité Bellevue"),
    DemoResident(_mail("thierry.lefranc"), "Thierry Lefranc", "Cité 14"),
    DemoResident(_mail("chantal.delporte"), "Chantal Delporte", "Cité 12"),
    DemoResident(_mail("bernard.wallart"), "Bernard Wallart", "Centre-ville"),
)
HABITANTE = _mail("habitante")  # the demo's resident account (app.demo), who has projects too
AGENT = _mail("agent")
MAYOR = _mail("maire")
ADMIN = _mail("admin")


# ---------------------------------------------------------------- ledger lines


@dataclass(frozen=True)
class Line:
    kind: LineKind
    label: str
    quantity: int  # minutes for hours, days for a loan, units otherwise
    unit_value_cents: int | None = None
    equipment: str = ""
    supplier: str = ""
    partner_name: str = ""

    def as_input(self) -> ledger.LineInput:
        return ledger.LineInput(
            kind=self.kind,
            label=self.label,
            quantity=self.quantity,
            unit_value_cents=self.unit_value_cents,
            equipment=self.equipment,
            supplier=self.supplier,
            partner_name=self.partner_name,
        )


def hours(label: str, h: int) -> Line:
    return Line(LineKind.VOLUNTEER_HOURS, label, h * 60)


def pro_hours(label: str, h: int) -> Line:
    return Line(LineKind.DONATED_SERVICES, label, h * 60)


def materials(label: str, euros: int) -> Line:
    return Line(LineKind.DONATED_MATERIALS, label, 1, euros * 100)


def residents_cash(label: str, euros: int) -> Line:
    return Line(LineKind.RESIDENTS_CASH, label, 1, euros * 100)


def partner(name: str, label: str, euros: int, *, cash: bool = False) -> Line:
    kind = LineKind.PARTNER_CASH if cash else LineKind.PARTNER_IN_KIND
    return Line(kind, label, 1, euros * 100, partner_name=name)


def purchase(label: str, euros: int, supplier: str) -> Line:
    return Line(LineKind.PURCHASE, label, 1, euros * 100, supplier=supplier)


def subsidy(label: str, euros: int) -> Line:
    return Line(LineKind.SUBSIDY, label, 1, euros * 100)


def staff(label: str, h: int) -> Line:
    return Line(LineKind.STAFF_HOURS, label, h * 60)


def loan(equipment: str, days: int) -> Line:
    return Line(LineKind.EQUIPMENT_LOAN, "", days, equipment=equipment)


def logistics(label: str, quantity: int, euros: int) -> Line:
    return Line(LineKind.LOGISTICS, label, quantity, euros * 100)


# ---------------------------------------------------------------- the review checklist

# Points of the default checklist that do not apply to most projects (keyword -> reason). The
# others (landowner's consent, public space, insurance) are checked for every project.
WAIVERS: dict[str, str] = {
    "urbanisme": "Pas de construction ni de changement d'aspect extérieur soumis à déclaration.",
    "patrimoine": "Hors du périmètre de protection des monuments historiques.",
    "jeux": "Le projet ne comporte ni aire ni équipement de jeux.",
}


# ---------------------------------------------------------------- the initiatives


@dataclass(frozen=True)
class DemoInitiative:
    title: str
    promoter: str  # e-mail
    neighbourhood: str
    theme: str
    project_type: ProjectType
    state: InitiativeState
    year_offset: int  # 0: the current fiscal year
    description: str
    residents_offer: str
    residents: tuple[Line, ...]  # written by the promoters while preparing the proposal
    town: tuple[Line, ...] = ()  # written by the agent once the proposal is submitted
    general_interest: str = ""
    town_request: str = ""
    address: str = ""
    # Where it is, for the map: (latitude, longitude) in decimal degrees, within Loos-en-Gohelle.
    point: tuple[str, str] | None = None
    # Past years: the (month, day) of submission; current year: how many days ago.
    submitted: tuple[int, int] = (3, 1)
    days_ago: int = 0
    decided_after_days: int = 26
    weeks: int = 8  # how long the project runs, from its start date
    beneficiary_kind: BeneficiaryKind = BeneficiaryKind.PERSON
    beneficiary_name: str = ""
    rna: str = ""
    legal_representative: str = ""
    guardian: str | None = None  # e-mail of the adult guarantor of a minor-led project
    # The decline reason, the changes asked, the reason for the pause or for withdrawing.
    message: str = ""
    reviewed: bool = True  # withdrawn after the review started (else while only submitted)
    act_reference: str = ""  # a council deliberation (subsidy to an association)
    # The review points that apply to this project among those usually waived (see WAIVERS).
    checks: tuple[str, ...] = ()
    # For an approved project: its convention "signed" (on paper before the platform's third year,
    # in the app since), only "proposed" to the signatories, or "none" drafted yet.
    convention: str = "signed"
    # For a project in review: placed on the agenda of the next council sitting.
    council: bool = False


INITIATIVES: tuple[DemoInitiative, ...] = (
    # ------------------------------------------------------------ four years ago
    DemoInitiative(
        title="Jardin partagé de la Cité 5",
        point=("50.453940", "2.776110"),
        promoter=_mail("martine.delattre"),
        neighbourhood="Cité 5",
        theme="Plan paysager",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-4,
        submitted=(3, 14),
        address="Rue de Bourgogne, terrain en friche derrière la maison de quartier Alfred-Bernard",
        description=(
            "Transformer une friche de la Cité 5 en jardin partagé : douze carrés potagers en bois, "
            "un coin de fleurs pour les pollinisateurs et un récupérateur d'eau de pluie."
        ),
        general_interest="Un lieu de rencontre entre voisin·es et des légumes frais pour les familles du quartier.",
        residents_offer="Construction des carrés, plantations, arrosage et entretien toute l'année.",
        town_request="Bois de douglas, terre végétale et une cuve de récupération d'eau.",
        residents=(hours("Construction des carrés et plantations", 180),),
        town=(purchase("Bois de douglas, terre végétale et cuve de 1 000 litres", 1_200, "Négoce Bois Gohelle"),),
    ),
    DemoInitiative(
        title="Nichoirs à hirondelles de la Cité 12",
        point=("50.464760", "2.802040"),
        promoter=_mail("jean-pierre.wattez"),
        neighbourhood="Cité 12",
        theme="Biodiversité",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-4,
        submitted=(2, 7),
        address="Façades des corons de la Cité 12",
        checks=("patrimoine",),
        description=(
            "Poser trente nichoirs à hirondelles sous les avancées de toit des corons, avec l'accord "
            "des habitant·es, avant le retour des oiseaux en avril ; puis compter les nids chaque année."
        ),
        general_interest="Les hirondelles de fenêtre déclinent : chaque nid compte.",
        residents_offer="Pose des nichoirs à l'échelle et comptage annuel des nids.",
        town_request="L'achat des nichoirs en béton de bois.",
        residents=(hours("Pose des nichoirs et premier comptage", 40),),
        town=(purchase("30 nichoirs à hirondelles en béton de bois", 250, "LPO boutique"),),
    ),
    DemoInitiative(
        title="Dépavage de la cour de l'école Basly",
        point=("50.458810", "2.795230"),
        promoter=_mail("aurelie.dubois"),
        neighbourhood="Centre-ville",
        theme="Eau",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-4,
        submitted=(5, 2),
        weeks=6,
        address="École Émile-Basly",
        description=(
            "Pendant les vacances d'été, retirer l'enrobé d'une partie de la cour de l'école Basly, "
            "puis la végétaliser : l'eau de pluie s'infiltre et la cour est plus fraîche."
        ),
        general_interest="Une cour d'école plus fraîche, et moins d'eau envoyée aux égouts.",
        residents_offer="Les parents d'élèves dépavent et plantent pendant les vacances.",
        town_request="Prêt d'outils, évacuation des gravats, terre et plants.",
        beneficiary_kind=BeneficiaryKind.INFORMAL_GROUP,
        beneficiary_name="Parents d'élèves de l'école Basly",
        residents=(hours("Dépavage et plantations par les parents", 400),),
        town=(
            purchase("Terre végétale, plants et évacuation des gravats", 3_000, "Paysages du Bassin minier"),
            loan("Remorque", 6),
        ),
    ),
    DemoInitiative(
        title="Piste de VTT de descente sur le terril 11/19",
        point=("50.443580", "2.782960"),
        promoter=_mail("thierry.lefranc"),
        neighbourhood="Base 11/19",
        theme="Implication des habitant·es",
        project_type=PHYSICAL,
        state=S.DECLINED,
        year_offset=-4,
        submitted=(6, 20),
        address="Terril 11/19",
        description="Tracer une piste de VTT de descente sur le flanc du terril, avec des virages relevés.",
        residents_offer="Tracé et entretien de la piste par les vététistes du quartier.",
        town_request="Des panneaux et des rondins pour les virages.",
        residents=(hours("Tracé et entretien de la piste", 60),),
        town=(purchase("Rondins et panneaux de signalisation", 500, "Scierie de l'Artois"),),
        message=(
            "Le terril 11/19 est un site protégé (Bassin minier, patrimoine mondial de l'UNESCO) et un "
            "espace naturel fragile : une piste de descente accélérerait l'érosion et ne peut pas y être "
            "autorisée. La commune vous propose d'en parler avec la Chaîne des terrils pour trouver un "
            "parcours adapté."
        ),
    ),
    # ------------------------------------------------------------ three years ago
    DemoInitiative(
        title="Boîte à livres de la place de la République",
        point=("50.457420", "2.792880"),
        promoter=_mail("sophie.leclercq"),
        neighbourhood="Centre-ville",
        theme="Information et formation",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-3,
        submitted=(1, 23),
        address="Place de la République",
        description="Une boîte à livres en bois, abritée, où chacun·e dépose et emprunte des livres librement.",
        general_interest="Faire circuler les livres et donner une seconde vie à ceux qui dorment dans les caves.",
        residents_offer="Peinture, premiers livres et passage chaque semaine pour ranger la boîte.",
        town_request="La menuiserie par les services techniques et la quincaillerie.",
        residents=(
            hours("Peinture, installation et rangement hebdomadaire", 16),
            materials("Premiers livres, peinture et vernis", 130),
        ),
        town=(
            purchase("Quincaillerie, plexiglas et ancrage", 150, "Quincaillerie du Centre"),
            staff("Menuiserie par les services techniques", 6),
        ),
    ),
    DemoInitiative(
        title="Bacs comestibles du square des Castors",
        point=("50.455960", "2.805210"),
        promoter=_mail("gerard.vasseur"),
        neighbourhood="Cité des Castors",
        theme="Plan paysager",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-3,
        submitted=(3, 6),
        address="Square des Castors, rue Hoche",
        description="Six bacs de plantes aromatiques et de petits fruits à l'entrée de la Cité des Castors.",
        general_interest="Une entrée de cité accueillante où chacun·e peut cueillir.",
        residents_offer="Fabrication des bacs, plantations, arrosage l'été.",
        residents=(hours("Fabrication, plantations et arrosage", 60),),
        town=(purchase("Bois, terreau et plants aromatiques", 400, "Jardinerie de Lens"),),
    ),
    DemoInitiative(
        title="Fresque de la mémoire minière de la Cité Belgique",
        point=("50.450930", "2.780140"),
        promoter=_mail("rachid.haddou"),
        neighbourhood="Cité Belgique",
        theme="Patrimoine et mémoire",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-3,
        submitted=(4, 17),
        weeks=10,
        address="Pignon de la salle Varet",
        checks=("urbanisme", "patrimoine"),
        description=(
            "Une fresque peinte par les habitant·es sur le pignon de la salle Varet, à partir des photos "
            "et des récits des anciens mineurs de la cité."
        ),
        general_interest="Transmettre la mémoire de la cité aux plus jeunes.",
        residents_offer="Collecte des récits, dessin et peinture de la fresque.",
        town_request="La peinture et le prêt d'un échafaudage.",
        residents=(
            hours("Collecte des récits, dessin et peinture", 120),
            partner("Maisons & Cités", "Préparation et enduit du mur", 400),
        ),
        town=(
            purchase("Peinture façade et vernis anti-graffiti", 900, "Peintures du Nord"),
            loan("Échafaudage", 10),
        ),
    ),
    DemoInitiative(
        title="Parc à chiens clôturé de la Cité 14",
        promoter=_mail("sandrine.lemaire"),
        neighbourhood="Cité 14",
        theme="Implication des habitant·es",
        project_type=PHYSICAL,
        state=S.DECLINED,
        year_offset=-3,
        submitted=(5, 22),
        description="Clôturer un terrain vague pour que les chiens du quartier puissent courir en liberté.",
        residents_offer="Pose de la clôture et nettoyage régulier.",
        residents=(hours("Pose de la clôture et nettoyage", 80),),
        town=(purchase("Grillage, poteaux et portillon", 900, "Clôtures de l'Artois"),),
        message=(
            "Le terrain proposé appartient au bailleur, qui n'a pas donné son accord : la commune ne peut "
            "pas y engager de travaux. Si vous retravaillez le projet, une autre implantation pourra être "
            "étudiée avec vous."
        ),
    ),
    DemoInitiative(
        title="Yoga du dimanche au pied des terrils",
        promoter=_mail("chantal.delporte"),
        neighbourhood="Base 11/19",
        theme="Implication des habitant·es",
        project_type=ACTIVITY,
        state=S.WITHDRAWN,
        year_offset=-3,
        submitted=(9, 11),
        description="Des séances de yoga gratuites chaque dimanche matin, de mai à septembre, à la Base 11/19.",
        residents_offer="Une animatrice bénévole et des tapis prêtés par les participant·es.",
        residents=(hours("Animation des séances", 40),),
        town=(purchase("Tapis et briques de yoga", 300, "Décathlon Lens"),),
        message="L'animatrice a quitté la région : le groupe préfère arrêter.",
    ),
    # ------------------------------------------------------------ two years ago
    DemoInitiative(
        title="Modules de skatepark de la Cité 14",
        point=("50.461870", "2.809310"),
        promoter=_mail("enzo.lemaire"),
        guardian=_mail("sandrine.lemaire"),
        neighbourhood="Cité 14",
        theme="Implication des habitant·es",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-2,
        submitted=(2, 12),
        weeks=16,
        address="Plateau sportif de la Cité 14",
        description=(
            "Des jeunes de 11 à 14 ans conçoivent et construisent avec des adultes des modules de skate "
            "(plan incliné, curb, rail) sur le plateau sportif de la Cité 14."
        ),
        general_interest="Un lieu pour les jeunes du quartier, construit par eux.",
        residents_offer="Chantier du samedi avec les jeunes, soudure des rails par un parent, entretien.",
        town_request="Les modules en béton préfabriqué et le kit de rampes.",
        beneficiary_kind=BeneficiaryKind.INFORMAL_GROUP,
        beneficiary_name="Les jeunes riders de la Cité 14",
        checks=("urbanisme", "jeux"),
        residents=(
            hours("Chantiers du samedi avec les jeunes et les parents", 320),
            pro_hours("Soudure des rails par un parent chaudronnier", 40),
            partner("BTP Gohelle", "Coulage de la dalle", 1_500),
            partner("Club de glisse lensois", "Participation aux rampes", 400, cash=True),
        ),
        town=(purchase("Modules en béton préfabriqué et kit de rampes", 6_500, "Skate Concept"),),
    ),
    DemoInitiative(
        title="Ramassage de déchets sur le terril 11/19",
        point=("50.444720", "2.786420"),
        promoter=_mail("thierry.lefranc"),
        neighbourhood="Base 11/19",
        theme="Déchets",
        project_type=ACTIVITY,
        state=S.APPROVED,
        year_offset=-2,
        submitted=(3, 4),
        weeks=2,
        address="Terril 11/19, départ du parking de la Base",
        description="Deux matinées de ramassage des déchets sur les pentes du terril, ouvertes à tous.",
        residents_offer="Organisation, encadrement des bénévoles et tri des déchets.",
        town_request="Sacs, pinces et enlèvement des sacs.",
        residents=(hours("Ramassage et tri", 90),),
        town=(
            purchase("Sacs et pinces de ramassage", 80, "Fournitures Collectivités"),
            staff("Enlèvement des sacs par les services", 2),
        ),
    ),
    DemoInitiative(
        title="Éclairage solaire du chemin du 11/19",
        promoter=_mail("bernard.wallart"),
        neighbourhood="Base 11/19",
        theme="Énergie",
        project_type=PHYSICAL,
        state=S.DECLINED,
        year_offset=-2,
        submitted=(10, 7),
        description="Poser des bornes solaires le long du chemin piéton qui mène à la Base 11/19.",
        residents_offer="Pose des bornes et suivi de leur fonctionnement.",
        residents=(
            hours("Pose des bornes", 60),
            partner("Électricité Gohelle", "Raccordement et réglage offerts", 1_800),
        ),
        town=(purchase("Douze bornes solaires", 2_400, "Solaire Nord"),),
        message=(
            "L'éclairage public relève de la commune : ce chemin est inscrit au programme de rénovation "
            "de l'éclairage. Une initiative fifty-fifty ne peut pas se substituer à une obligation de la "
            "commune ; merci pour votre vigilance, qui a fait avancer le dossier."
        ),
    ),
    # ------------------------------------------------------------ last year
    DemoInitiative(
        title="Repair café de la Cité 12",
        point=("50.463690", "2.800380"),
        promoter=_mail("chantal.delporte"),
        neighbourhood="Cité 12",
        theme="Déchets",
        project_type=ACTIVITY,
        state=S.APPROVED,
        year_offset=-1,
        submitted=(1, 20),
        weeks=40,
        address="Salle Caullet",
        description="Un samedi par mois, des bénévoles réparent avec vous petit électroménager, vélos et vêtements.",
        general_interest="Moins de déchets, et des savoir-faire qui se transmettent.",
        residents_offer="Dix heures de réparateur·rices bénévoles par mois.",
        town_request="Une subvention pour l'outillage et la salle un samedi par mois.",
        beneficiary_kind=BeneficiaryKind.ASSOCIATION,
        beneficiary_name="Les Répar'Acteurs loossois",
        rna="W623004512",
        legal_representative="Chantal Delporte, présidente",
        residents=(hours("Réparateur·rices bénévoles, dix heures par mois", 120),),
        town=(
            subsidy("Outillage du repair café", 300),
            logistics("Mise à disposition de la salle Caullet (samedis)", 10, 40),
        ),
        act_reference="Délibération n° 12 du conseil municipal",
    ),
    DemoInitiative(
        title="Cuve d'eau de pluie des jardins familiaux",
        point=("50.460240", "2.797610"),
        promoter=_mail("bernard.wallart"),
        neighbourhood="Centre-ville",
        theme="Eau",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-1,
        submitted=(2, 24),
        address="Jardins familiaux, chemin des Jardins",
        description="Une cuve de 5 000 litres enterrée, alimentée par les toits des abris de jardin.",
        general_interest="Arroser sans eau potable pendant les sécheresses.",
        residents_offer="Terrassement, pose des gouttières de récupération et une participation de l'association.",
        beneficiary_kind=BeneficiaryKind.ASSOCIATION,
        beneficiary_name="Jardins familiaux de Loos-en-Gohelle",
        rna="W623001187",
        legal_representative="Bernard Wallart, président",
        residents=(
            hours("Terrassement et pose", 30),
            materials("Gouttières et descentes de récupération", 200),
            residents_cash("Participation de l'association", 150),
        ),
        town=(purchase("Cuve de 5 000 litres et pompe manuelle", 700, "Eau et Jardin"),),
    ),
    DemoInitiative(
        title="Balade contée de la mémoire minière",
        point=("50.464350", "2.800910"),
        promoter=_mail("jean-pierre.wattez"),
        neighbourhood="Cité 12",
        theme="Patrimoine et mémoire",
        project_type=ACTIVITY,
        state=S.APPROVED,
        year_offset=-1,
        submitted=(4, 14),
        weeks=20,
        description="Des balades contées dans la Cité 12 avec d'anciens mineurs, le premier dimanche du mois.",
        residents_offer="Préparation des récits et animation des balades.",
        residents=(hours("Préparation et animation des balades", 40),),
        town=(
            purchase("Impression des livrets de la balade", 200, "Imprimerie Lensoise"),
            staff("Accompagnement par le service patrimoine", 10),
        ),
    ),
    DemoInitiative(
        title="Grainothèque de la médiathèque",
        promoter=_mail("sophie.leclercq"),
        neighbourhood="Centre-ville",
        theme="Information et formation",
        project_type=ACTIVITY,
        state=S.WITHDRAWN,
        year_offset=-1,
        submitted=(3, 17),
        description="Un meuble à tiroirs où chacun·e dépose et prend des graines de son jardin.",
        residents_offer="Tri et étiquetage des graines, permanences le samedi.",
        residents=(hours("Tri des graines et permanences", 24),),
        town=(purchase("Meuble à tiroirs et enveloppes", 180, "Mobilier Médiathèques"),),
        message="La médiathèque lance sa propre grainothèque : nous la rejoignons plutôt.",
    ),
    DemoInitiative(
        title="Verger partagé de la Cité des Castors",
        point=("50.454880", "2.807070"),
        promoter=_mail("gerard.vasseur"),
        neighbourhood="Cité des Castors",
        theme="Plan paysager",
        project_type=PHYSICAL,
        state=S.APPROVED,
        year_offset=-1,
        submitted=(10, 6),
        address="Espace vert de la rue Carpentier",
        description="Vingt arbres fruitiers de variétés régionales plantés à la Sainte-Catherine.",
        general_interest="Des fruits pour tous et des variétés locales préservées.",
        residents_offer="Plantation, paillage et taille des arbres.",
        residents=(
            hours("Plantation, paillage et taille", 80),
            materials("Paillage de bois broyé", 120),
        ),
        town=(purchase("Vingt arbres fruitiers de variétés régionales", 950, "Pépinières de Flandre"),),
    ),
    # ------------------------------------------------------------ this year
    DemoInitiative(
        title="Abri vélos de la Cité Bellevue",
        point=("50.449680", "2.773420"),
        promoter=_mail("melanie.bruneel"),
        neighbourhood="Cité Bellevue",
        theme="Déplacements doux",
        project_type=PHYSICAL,
        state=S.APPROVED,
        convention="proposed",
        year_offset=0,
        days_ago=150,
        address="Entrée de la Cité Bellevue",
        checks=("urbanisme",),
        description="Un abri couvert pour douze vélos à l'entrée de la cité, bardé de bois par les habitant·es.",
        general_interest="Pouvoir garer son vélo à l'abri quand on habite un logement sans cave.",
        residents_offer="Montage de l'abri et bardage en bois de récupération.",
        town_request="La structure métallique et les arceaux.",
        residents=(
            hours("Montage et bardage", 50),
            materials("Bois de bardage de récupération", 300),
            partner("Maisons & Cités", "Dalle et ancrages", 950),
        ),
        town=(purchase("Structure d'abri et douze arceaux", 1_800, "Abris Urbains"),),
    ),
    DemoInitiative(
        title="Haie champêtre de la Cité 14",
        point=("50.462230", "2.809870"),
        promoter=_mail("sandrine.lemaire"),
        neighbourhood="Cité 14",
        theme="Plan paysager",
        project_type=PHYSICAL,
        state=S.APPROVED,
        convention="none",
        year_offset=0,
        days_ago=110,
        address="Le long du plateau sportif de la Cité 14",
        description="Planter 150 mètres de haie champêtre d'essences locales le long du plateau sportif.",
        general_interest="De l'ombre, un abri pour les oiseaux et un quartier plus vert.",
        residents_offer="Plantation en chantier participatif, paillage et arrosage la première année.",
        town_request="Les plants et le paillage.",
        residents=(hours("Plantation, paillage et arrosage", 90),),
        town=(purchase("450 plants d'essences locales et paillage", 900, "Pépinières de Flandre"),),
    ),
    DemoInitiative(
        title="Table de pique-nique et bancs de la Cité Bellevue",
        point=("50.449210", "2.772810"),
        promoter=_mail("melanie.bruneel"),
        neighbourhood="Cité Bellevue",
        theme="Implication des habitant·es",
        project_type=PHYSICAL,
        state=S.AWAITING_ENVELOPE,
        year_offset=0,
        days_ago=75,
        decided_after_days=30,
        description="Une table de pique-nique et deux bancs près de l'aire de jeux.",
        residents_offer="Montage, lasure et entretien.",
        residents=(
            hours("Montage et lasure", 40),
            materials("Lasure et visserie", 200),
        ),
        town=(purchase("Table de pique-nique et deux bancs en robinier", 650, "Mobilier Urbain du Nord"),),
    ),
    DemoInitiative(
        title="Atelier vélo participatif",
        promoter=_mail("rachid.haddou"),
        neighbourhood="Cité Belgique",
        theme="Déplacements doux",
        project_type=ACTIVITY,
        state=S.WITHDRAWN,
        year_offset=0,
        days_ago=50,
        reviewed=False,
        description="Un atelier mensuel pour apprendre à réparer son vélo.",
        residents_offer="Animation par des mécanicien·nes bénévoles.",
        residents=(hours("Animation des ateliers", 30),),
        town=(purchase("Établi et outillage vélo", 450, "Cycles Lensois"),),
        message="Je déménage à la rentrée ; le projet sera peut-être repris par d'autres.",
    ),
    DemoInitiative(
        title="Initiation au numérique pour les seniors",
        promoter=_mail("sophie.leclercq"),
        neighbourhood="Centre-ville",
        theme="Information et formation",
        project_type=ACTIVITY,
        state=S.ON_HOLD,
        year_offset=0,
        days_ago=60,
        description="Des ateliers hebdomadaires pour apprendre à se servir d'une tablette et des démarches en ligne.",
        residents_offer="Des lycéen·nes et des retraité·es bénévoles animent les ateliers.",
        residents=(hours("Animation des ateliers", 60),),
        town=(purchase("Quatre tablettes reconditionnées", 600, "Reconditionné Solidaire"),),
        message="La médiathèque, qui doit accueillir les ateliers, est en travaux : l'instruction reprendra à sa réouverture.",
    ),
    DemoInitiative(
        title="Hôtel à insectes et prairie fleurie de la Cité 5",
        promoter=HABITANTE,
        neighbourhood="Cité 5",
        theme="Biodiversité",
        project_type=PHYSICAL,
        state=S.CHANGES_REQUESTED,
        year_offset=0,
        days_ago=40,
        description="Un hôtel à insectes et une prairie fleurie semée sur la pelouse le long de la rue de Bourgogne.",
        residents_offer="Fabrication de l'hôtel avec l'école, semis et fauche tardive.",
        residents=(
            hours("Fabrication et semis", 30),
            materials("Palettes, briques et tiges creuses", 150),
        ),
        town=(purchase("Graines de prairie fleurie locale", 280, "Semences du Nord"),),
        message=(
            "Merci pour ce beau projet ! Pouvez-vous préciser l'emplacement exact de l'hôtel à insectes "
            "et qui assurera la fauche de la prairie la première année ?"
        ),
    ),
    DemoInitiative(
        title="Composteurs partagés de la Cité 5",
        point=("50.452640", "2.775190"),
        promoter=_mail("martine.delattre"),
        neighbourhood="Cité 5",
        theme="Déchets",
        project_type=PHYSICAL,
        state=S.IN_REVIEW,
        council=True,
        year_offset=0,
        days_ago=18,
        description="Trois composteurs collectifs en bois près des immeubles, avec un guide composteur.",
        residents_offer="Montage, brassage et suivi des composteurs par des référent·es.",
        residents=(hours("Montage et suivi des composteurs", 45),),
        town=(purchase("Trois composteurs collectifs en bois", 480, "Compost Service"),),
    ),
    DemoInitiative(
        title="Potager pédagogique de l'école Ovide-Leroy",
        point=("50.456310", "2.790460"),
        promoter=_mail("aurelie.dubois"),
        neighbourhood="Centre-ville",
        theme="Plan paysager",
        project_type=PHYSICAL,
        state=S.SUBMITTED,
        year_offset=0,
        days_ago=12,
        description="Des carrés potagers dans la cour de l'école, cultivés par les classes avec des parents.",
        residents_offer="Construction des carrés et accompagnement des classes par des parents.",
        beneficiary_kind=BeneficiaryKind.INFORMAL_GROUP,
        beneficiary_name="Parents d'élèves de l'école Ovide-Leroy",
        residents=(hours("Construction et accompagnement des classes", 70),),
        town=(purchase("Bois et terreau", 600, "Négoce Bois Gohelle"),),
    ),
    DemoInitiative(
        title="Fresque sur le transformateur de la Cité 14",
        point=("50.462810", "2.808690"),
        promoter=_mail("thierry.lefranc"),
        neighbourhood="Cité 14",
        theme="Patrimoine et mémoire",
        project_type=PHYSICAL,
        state=S.SUBMITTED,
        year_offset=0,
        days_ago=5,
        description="Peindre le transformateur électrique gris de la Cité 14 avec les jeunes du quartier.",
        residents_offer="Dessin et peinture avec les jeunes.",
        residents=(hours("Dessin et peinture", 35),),
        town=(purchase("Peinture et vernis", 350, "Peintures du Nord"),),
    ),
    DemoInitiative(
        title="Fête des voisins de la Cité 5",
        promoter=HABITANTE,
        neighbourhood="Cité 5",
        theme="Implication des habitant·es",
        project_type=ACTIVITY,
        state=S.DRAFT,
        year_offset=0,
        days_ago=3,
        description="Une grande tablée dans la rue, avec des jeux pour les enfants et une scène ouverte.",
        residents_offer="Organisation, repas partagé, animation des jeux.",
        residents=(hours("Organisation et animation", 25),),
    ),
)


# ---------------------------------------------------------------- loading


@dataclass
class InitiativesSummary:
    accounts: list[str] = field(default_factory=list)
    envelopes: int = 0
    initiatives: int = 0


@dataclass
class _Context:
    db: Session
    territory: Territory
    ctx: TerritoryContext
    fund: Fund
    settings: Settings
    base_url: str
    today: dt.date
    current_year: int
    tz: ZoneInfo
    actors: dict[str, Actor]
    neighbourhoods: dict[str, int]
    themes: dict[str, int]


def _actor(db: Session, account: Account) -> Actor:
    person = db.get_one(Person, account.person_id)
    return replace(actor_for(account, person), roles=active_roles(db, account.id))


def _resident(
    db: Session,
    territory: Territory,
    spec: DemoResident,
    hoods: dict[str, int],
    base_url: str,
    summary: InitiativesSummary,
) -> Account:
    _address, key = normalise_email(spec.email)
    account = db.scalar(select(Account).where(Account.territory_id == territory.id, Account.email_key == key))
    if account is not None:
        return account
    created = register(
        db,
        territory.id,
        Registration(
            email=spec.email,
            password=DEMO_PASSWORD,
            display_name=spec.display_name,
            neighbourhood_id=hoods.get(spec.neighbourhood),
            age_bracket=spec.age_bracket,
            guardian_contact=spec.guardian_contact,
            locale="fr",
        ),
        base_url,
        verified_by_operator=True,
    )
    if created is None:  # pragma: no cover - looked up just above
        raise RuntimeError(f"demo account {spec.email} could not be created")
    audit.record(
        db, OPERATOR, "account.verify_email", "account", created.id, territory_id=territory.id, reason=DEMO_REASON
    )
    # Their history is long: these residents chose a weekly summary rather than one e-mail per step.
    set_preferences(db, _actor(db, created), {initiatives.INITIATIVES_KIND.key: Frequency.WEEKLY.value})
    summary.accounts.append(spec.email)
    return created


def _envelopes(c: _Context, summary: InitiativesSummary) -> None:
    """The past years' envelopes and Cité Bellevue's own envelope this year, opened by the admin."""
    admin = c.actors[ADMIN]
    wanted: list[tuple[int, int | None, str | None, int]] = [
        (c.current_year + offset, None, None, euros) for offset, euros in PAST_ENVELOPES_EUROS.items()
    ]
    name, euros = NEIGHBOURHOOD_ENVELOPE
    hood_id = c.neighbourhoods[name]
    hood_public_id = c.db.scalar(select(Neighbourhood.public_id).where(Neighbourhood.id == hood_id))
    wanted.append((c.current_year, hood_id, hood_public_id, euros))
    for year, neighbourhood_id, neighbourhood, amount_euros in wanted:
        existing = c.db.scalar(
            select(FundEnvelope.id).where(
                FundEnvelope.fund_id == c.fund.id,
                FundEnvelope.fiscal_year == year,
                FundEnvelope.neighbourhood_id.is_(None)
                if neighbourhood_id is None
                else FundEnvelope.neighbourhood_id == neighbourhood_id,
            )
        )
        if existing is not None:
            continue
        # An integer amount is read as euros by the form (as typed on the admin page).
        form = EnvelopeForm.model_validate(
            {"fiscal_year": year, "neighbourhood": neighbourhood, "amount_cents": amount_euros}
        )
        funds.set_envelope(c.db, admin, c.territory.id, c.fund.public_id, form)
        summary.envelopes += 1


def _at(c: _Context, day: dt.date, hour: int = 10) -> dt.datetime:
    """A local time of day on ``day``, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=c.tz).astimezone(dt.UTC)


def _submitted_on(c: _Context, spec: DemoInitiative) -> dt.date:
    if spec.year_offset < 0:
        month, day = spec.submitted
        return dt.date(c.current_year + spec.year_offset, month, day)
    return max(dt.date(c.current_year, 1, 2), c.today - dt.timedelta(days=spec.days_ago))


def _input(c: _Context, spec: DemoInitiative, start: dt.date) -> InitiativeInput:
    return InitiativeInput.model_validate(
        {
            "title": spec.title,
            "description": spec.description,
            "general_interest": spec.general_interest,
            "residents_offer": spec.residents_offer,
            "town_request": spec.town_request,
            "project_type": spec.project_type,
            "neighbourhood_id": c.neighbourhoods[spec.neighbourhood],
            "theme_id": c.themes[spec.theme],
            "address": spec.address,
            "latitude": spec.point[0] if spec.point else None,
            "longitude": spec.point[1] if spec.point else None,
            "start_on": start,
            "end_on": start + dt.timedelta(weeks=spec.weeks),
            "beneficiary_kind": spec.beneficiary_kind,
            "beneficiary_name": spec.beneficiary_name,
            "rna": spec.rna,
            "legal_representative": spec.legal_representative,
        }
    )


INVITATION_LINK_RE = re.compile(re.escape(initiatives.INVITATION_PATH) + r"([A-Za-z0-9_\-]+)")


def _add_guardian(c: _Context, initiative: Initiative, promoter: Actor, guardian_email: str) -> None:
    """The young promoter invites the adult guarantor, who accepts from the link in the e-mail."""
    invitation = InviteInput(email=guardian_email, role=MemberRole.GUARDIAN.value)
    initiatives.invite(c.db, promoter, c.territory.id, initiative.public_id, invitation, base_url=c.base_url)
    body = c.db.scalar(
        select(OutboxEmail.body_text)
        .where(OutboxEmail.to_address == guardian_email)
        .order_by(OutboxEmail.id.desc())
        .limit(1)
    )
    match = INVITATION_LINK_RE.search(body or "")
    if match is None:  # pragma: no cover - the invitation template carries the link
        raise RuntimeError("the guardian's invitation e-mail has no link")
    initiatives.accept_invitation(c.db, c.actors[guardian_email], c.territory.id, match.group(1))


def _add_lines(c: _Context, actor: Actor, initiative: Initiative, lines: tuple[Line, ...], day: dt.date) -> None:
    for line in lines:
        row = ledger.add_line(c.db, actor, initiative.public_id, c.territory.id, line.as_input())
        row.created_at = _at(c, day, 18)


def _check_match(c: _Context, initiative: Initiative) -> None:
    """The demo shows projects that honour the Loos rules: no match or cap warning."""
    balance = ledger.balance(c.db, initiative)
    if not (balance.match_ok and balance.cap_ok):  # pragma: no cover - the figures above are checked by the tests
        raise RuntimeError(f"demo initiative {initiative.title!r} breaks the fund's rules: {balance.warnings}")


class _Clock:
    """Sets the audit entries written by the services (stamped "now") back to the step's date, so
    that the initiatives' timelines read as they happened."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.mark = self._last()

    def _last(self) -> int:
        self.db.flush()
        return self.db.scalar(select(func.max(AuditEntry.id))) or 0

    def stamp(self, moment: dt.datetime) -> None:
        last = self._last()
        if last > self.mark:
            self.db.execute(
                update(AuditEntry)
                .where(AuditEntry.id > self.mark, AuditEntry.id <= last)
                .values(created_at=moment)
                .execution_options(synchronize_session=False)
            )
        self.mark = last


def _load_one(c: _Context, spec: DemoInitiative) -> None:
    db = c.db
    clock = _Clock(db)
    promoter = c.actors[spec.promoter]
    agent, mayor = c.actors[AGENT], c.actors[MAYOR]
    submitted_on = _submitted_on(c, spec)
    proposed_on = submitted_on - dt.timedelta(days=9)
    start = submitted_on + dt.timedelta(days=45)
    initiative = initiatives.propose(db, promoter, c.territory.id, _input(c, spec, start))
    if spec.guardian is not None:
        _add_guardian(c, initiative, promoter, spec.guardian)
    _add_lines(c, promoter, initiative, spec.residents, proposed_on)
    initiative.created_at = _at(c, proposed_on)
    initiative.state_changed_at = initiative.created_at
    clock.stamp(initiative.created_at)
    if spec.state == S.DRAFT:
        _check_match(c, initiative)
        db.flush()
        return

    initiatives.submit(db, promoter, c.ctx, initiative.public_id, settings=c.settings, base_url=c.base_url)
    submitted_at = _at(c, submitted_on)
    initiative.submitted_at = initiative.state_changed_at = submitted_at
    clock.stamp(submitted_at)
    initiative.fiscal_year = funds.fiscal_year_of(submitted_on, c.ctx.settings.fifty_fifty.fiscal_year_start_month)
    initiative.decision_due_on = submitted_on + dt.timedelta(days=c.fund.decision_deadline_days)
    _add_lines(c, agent, initiative, spec.town, submitted_on + dt.timedelta(days=2))
    clock.stamp(_at(c, min(c.today, submitted_on + dt.timedelta(days=2)), 14))
    _check_match(c, initiative)
    if spec.state == S.WITHDRAWN and not spec.reviewed:
        initiatives.withdraw(db, promoter, c.territory.id, initiative.public_id, spec.message)
        initiative.state_changed_at = _at(c, min(c.today, submitted_on + dt.timedelta(days=10)))
        clock.stamp(initiative.state_changed_at)
        db.flush()
        return
    if spec.state == S.SUBMITTED:
        db.flush()
        return

    review.start_review(db, agent, initiative, settings=c.settings)
    reviewed_on = min(c.today, submitted_on + dt.timedelta(days=4))
    initiative.state_changed_at = _at(c, reviewed_on)
    clock.stamp(initiative.state_changed_at)
    decided_on = min(c.today, submitted_on + dt.timedelta(days=spec.decided_after_days))
    moved_on = min(c.today, submitted_on + dt.timedelta(days=10))
    if spec.state == S.CHANGES_REQUESTED:
        review.request_changes(db, agent, initiative, spec.message, settings=c.settings)
        initiative.paused_since = initiative.state_changed_at = _at(c, moved_on)
        for message in db.scalars(select(ThreadMessage).where(ThreadMessage.initiative_id == initiative.id)):
            message.created_at = initiative.paused_since
        clock.stamp(initiative.paused_since)
    elif spec.state == S.ON_HOLD:
        resume_on = c.today + dt.timedelta(days=45)
        review.put_on_hold(db, agent, initiative, spec.message, resume_on, settings=c.settings)
        initiative.paused_since = initiative.state_changed_at = _at(c, moved_on)
        clock.stamp(initiative.paused_since)
    elif spec.state == S.WITHDRAWN:
        initiatives.withdraw(db, promoter, c.territory.id, initiative.public_id, spec.message)
        initiative.state_changed_at = _at(c, moved_on)
        clock.stamp(initiative.state_changed_at)
    elif spec.state == S.IN_REVIEW:
        _work_checklist(c, spec, initiative, moved_on, limit=2)
        clock.stamp(_at(c, moved_on, 15))
        if spec.council:
            _schedule_on_council(c, initiative, mayor)
            clock.stamp(_at(c, moved_on, 17))
    elif spec.state in {S.APPROVED, S.AWAITING_ENVELOPE}:
        _work_checklist(c, spec, initiative, decided_on - dt.timedelta(days=3))
        clock.stamp(_at(c, decided_on - dt.timedelta(days=3), 15))
        _decide(c, spec, initiative, mayor, decided_on)
        clock.stamp(_at(c, decided_on, 17))
        if spec.state == S.APPROVED and spec.convention != "none":
            _convention(c, spec, initiative, decided_on, clock)
    elif spec.state == S.DECLINED:
        _decide(c, spec, initiative, mayor, decided_on)
        clock.stamp(_at(c, decided_on, 17))
    db.flush()


def _work_checklist(
    c: _Context, spec: DemoInitiative, initiative: Initiative, day: dt.date, limit: int | None = None
) -> None:
    """The agent goes through the review points: done, or waived with a reason when irrelevant."""
    agent = c.actors[AGENT]
    checklist.start(c.db, agent, initiative)
    items = list(
        c.db.scalars(
            select(ReviewItem)
            .where(ReviewItem.initiative_id == initiative.id, ReviewItem.state == ItemState.OPEN)
            .order_by(ReviewItem.position, ReviewItem.id)
        )
    )
    for item in items[:limit]:
        waiver = next(
            (reason for key, reason in WAIVERS.items() if key in item.label.lower() and key not in spec.checks), None
        )
        if waiver is None:
            checklist.complete_item(c.db, agent, initiative, item.public_id, "")
        else:
            checklist.waive_item(c.db, agent, initiative, item.public_id, waiver)
        item.done_at = _at(c, day, 15)


def _decide(c: _Context, spec: DemoInitiative, initiative: Initiative, mayor: Actor, decided_on: dt.date) -> None:
    declining = spec.state == S.DECLINED
    deliberation = bool(spec.act_reference)
    decision: Decision = review.decide(
        c.db,
        mayor,
        initiative,
        review.Outcome.DECLINE.value if declining else review.Outcome.APPROVE.value,
        act_kind=DecisionAct.DELIBERATION.value if deliberation else DecisionAct.DECISION.value,
        act_reference=f"{spec.act_reference} ({decided_on.year})" if deliberation else "",
        decided_on=decided_on,
        reason=spec.message if declining else "",
        waiting_list=spec.state == S.AWAITING_ENVELOPE,
        settings=c.settings,
    )
    if initiative.state != spec.state.value:  # pragma: no cover - the envelopes above are sized for it
        raise RuntimeError(f"demo initiative {spec.title!r} ended {initiative.state}, not {spec.state.value}")
    decided_at = _at(c, decided_on, 17)
    initiative.decided_at = initiative.state_changed_at = decision.created_at = decided_at


def _schedule_on_council(c: _Context, initiative: Initiative, mayor: Actor) -> None:
    """On the agenda of the next council sitting, when the demo town has one to come."""
    sitting = c.db.scalar(
        select(CouncilSitting.public_id)
        .where(CouncilSitting.territory_id == c.territory.id, CouncilSitting.sitting_date >= c.today)
        .order_by(CouncilSitting.sitting_date)
        .limit(1)
    )
    if sitting is not None:
        agenda.schedule(c.db, mayor, initiative, sitting, settings=c.settings)


def _scan(convention: Convention, signatory: str, day: dt.date) -> Upload:
    """A plain picture standing for the scan of a page signed on paper."""
    page = Image.new("RGB", (620, 877), "white")
    pen = ImageDraw.Draw(page)
    lines = [f"Convention n° {convention.number}", "", "Lu et approuvé,", signatory, day.isoformat()]
    for row, text in enumerate(lines):
        pen.text((60, 80 + 40 * row), text, fill="black")
    pen.line((60, 420, 320, 380), fill="navy", width=3)  # the signature's stroke
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=80)
    buffer.seek(0)
    return Upload(filename="convention-signee.jpg", stream=buffer)


def _convention(c: _Context, spec: DemoInitiative, initiative: Initiative, decided_on: dt.date, clock: _Clock) -> None:
    """The agent drafts the convention a week after the decision; both sides sign it ten days later,
    on paper in the scheme's early years, in the app since. A proposed one waits for its signatures."""
    db = c.db
    agent, mayor = c.actors[AGENT], c.actors[MAYOR]
    proposed_on = decided_on + dt.timedelta(days=7)
    if spec.convention == "proposed":
        # Recent enough for the unsigned-convention deadline not to have passed.
        proposed_on = max(decided_on, c.today - dt.timedelta(days=20))
    months = 36 if spec.project_type == PHYSICAL else 12
    convention = conventions.propose(
        db, agent, initiative, conventions.default_upkeep_by(db, initiative), months,
        now=_at(c, proposed_on, 11), settings=c.settings,
    )  # fmt: skip
    initiative.state_changed_at = _at(c, proposed_on, 11)
    clock.stamp(initiative.state_changed_at)
    if spec.convention != "signed":
        return
    signed_on = proposed_on + dt.timedelta(days=10)
    resident_email = spec.guardian or spec.promoter
    if spec.year_offset <= -3:
        names = {
            SignatureParty.PROMOTERS: (c.actors[resident_email].label, "Porteur·se du projet"),
            SignatureParty.TOWN: (mayor.label, "Maire"),
        }
        for party in conventions.required_parties(convention.kind):
            name, capacity = names[party]
            moment = _at(c, signed_on + dt.timedelta(days=1), 9)
            conventions.record_paper_signature(
                db, agent, convention, party.value, name, capacity, signed_on, _scan(convention, name, signed_on),
                now=moment, settings=c.settings,
            )  # fmt: skip
            clock.stamp(moment)
    else:
        signers = {SignatureParty.PROMOTERS: c.actors[resident_email], SignatureParty.TOWN: mayor}
        for offset, party in enumerate(conventions.required_parties(convention.kind)):
            moment = _at(c, signed_on + dt.timedelta(days=2 * offset), 18)
            conventions.sign_online(
                db, signers[party], convention, DEMO_PASSWORD, convention.text_sha256, now=moment,
                settings=c.settings,
            )  # fmt: skip
            clock.stamp(moment)
    if initiative.state != S.CONVENTION_SIGNED.value:  # pragma: no cover - both parties signed above
        raise RuntimeError(f"demo convention of {spec.title!r} is not signed")
    initiative.state_changed_at = convention.signed_at


def load_initiatives(
    db: Session,
    territory: Territory,
    staff: dict[str, Account],
    settings: Settings,
    base_url: str,
) -> InitiativesSummary:
    """Loads (or completes) the demo initiatives of Loos-en-Gohelle in the caller's transaction.

    ``staff`` maps the demo's e-mails (agent, mayor, admin, resident) to their accounts."""
    summary = InitiativesSummary()
    fund = funds.default_fund(db, territory.id)
    if fund is None:  # pragma: no cover - every territory gets a default fund at creation
        raise RuntimeError("the demo territory has no fund")
    hoods: dict[str, int] = {
        name: row_id
        for name, row_id in db.execute(
            select(Neighbourhood.name, Neighbourhood.id).where(Neighbourhood.territory_id == territory.id)
        )
    }
    themes: dict[str, int] = {
        name: row_id
        for name, row_id in db.execute(select(Theme.name, Theme.id).where(Theme.territory_id == territory.id))
    }
    accounts = dict(staff)
    for resident in RESIDENTS:
        accounts[resident.email] = _resident(db, territory, resident, hoods, base_url, summary)
    ctx = TerritoryContext.from_row(territory)
    tz = ZoneInfo(territory.timezone)
    today = dt.datetime.now(tz).date()
    c = _Context(
        db=db,
        territory=territory,
        ctx=ctx,
        fund=fund,
        settings=settings,
        base_url=base_url,
        today=today,
        current_year=funds.fiscal_year_of(today, ctx.settings.fifty_fifty.fiscal_year_start_month),
        tz=tz,
        actors={email: _actor(db, account) for email, account in accounts.items()},
        neighbourhoods=hoods,
        themes=themes,
    )
    _envelopes(c, summary)
    existing = set(db.scalars(select(Initiative.title).where(Initiative.territory_id == territory.id)))
    for spec in sorted(INITIATIVES, key=lambda spec: _submitted_on(c, spec)):
        if spec.title in existing:
            continue
        _load_one(c, spec)
        summary.initiatives += 1
    return summary
