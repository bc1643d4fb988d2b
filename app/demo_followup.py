"""Demo follow-up of Loos-en-Gohelle: what became of the twelve signed conventions.

The oldest projects were carried out and evaluated (delivery report, realisations verified by the
town, volunteers' survey, evaluation, « fines traces », yearly upkeep checks), two are « réalisées »
and wait for their evaluation (one has a draft), two are under way (milestones, one overdue; a past
work day whose checked register became verified realisations, an upcoming one with sign-ups and
equipment bookings; progress updates; followers) and one was abandoned after its signature. The
town's equipment inventory, one entry shared with the peer library and a few initiatives older
than the platform (through the historical import, from a small CSV file) complete the picture.

As in ``app.demo_initiatives``, everything goes through the services (workflow, ledger, audit
trail, timeline); the services stamp "now", so each step's dates are set back explicitly
afterwards (the audit entries with ``_Clock``, and the step's own dates: a milestone's ``done_on``,
a realisation's ``created_at`` and ``verified_at``, a work day's ``day``...). A work day or a booking
in the past is planned for today (the services refuse a past date), then moved back to its day,
before its register is entered: the checked hours are then realisations of that day. The yearly
upkeep job (``app.evaluation.upkeep.run_upkeep``, which runs for the whole deployment, as the
daily job does) is replayed on each anniversary of the evaluated projects' signatures.

Loading is idempotent: an initiative is moved on only while it is still « convention signée »
(the whole follow-up is written in the caller's transaction, so it is there entirely or not at
all), equipment is looked up by name, the historical lines by their reference, the library entry
by its initiative; the upkeep job is replayed only when this run moved evaluated projects on. A
database loaded by an earlier demo gets the coordinates its initiatives lacked.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Account, Person
from app.accounts.service import normalise_email
from app.agent_tasks.models import AgentTask
from app.audit import service as audit
from app.config import Settings
from app.conventions.models import Convention
from app.core.actor import OPERATOR, Actor
from app.demo_initiatives import (
    ADMIN,
    AGENT,
    DEMO_REASON,
    HABITANTE,
    INITIATIVES,
    INVITATION_LINK_RE,
    RESIDENTS,
    DemoInitiative,
    _actor,
    _Clock,
    _mail,
)
from app.equipment import service as equipment
from app.equipment.forms import BookingInput, EquipmentInput
from app.equipment.models import Equipment, EquipmentBooking
from app.evaluation import service as evaluation
from app.evaluation import traces, upkeep
from app.evaluation.models import (
    Evaluation,
    Generalise,
    GoalsMet,
    Level,
    SurveyInvitation,
    TraceTag,
    UpkeepCheck,
    UpkeepStatus,
)
from app.follows import service as follows
from app.follows.models import InitiativeFollow
from app.followup import milestones
from app.followup import service as followup
from app.followup.models import Milestone
from app.history import csvfile
from app.history import service as history
from app.history.models import HistoricalRecord
from app.initiatives import service as initiatives
from app.initiatives.forms import InviteInput
from app.initiatives.models import Initiative, MemberRole
from app.initiatives.models import InitiativeState as S
from app.initiatives.service import INITIATIVES_KIND
from app.ledger import realisations
from app.ledger.models import CommitmentLine, LineKind, LineState, RealisationLine, RealisationSource, Side
from app.library import service as library
from app.library.forms import ShareInput
from app.mail.models import OutboxEmail
from app.media.service import Upload
from app.media.storage import media_store
from app.notifications.kinds import EVALUATION, FOLLOWED_INITIATIVES, Frequency
from app.notifications.service import set_preferences
from app.review import service as review
from app.territories.context import TerritoryContext
from app.territories.models import Territory
from app.updates import service as updates
from app.updates.forms import PhotoSlot
from app.workdays import service as workdays
from app.workdays.forms import RowInput, WorkDayInput
from app.workdays.models import WorkDay, WorkDayParticipant

# ---------------------------------------------------------------- what the specs say


@dataclass(frozen=True)
class Step:
    """A milestone: days after the start of the work it is due, and was done (None: not yet)."""

    side: Side
    title: str
    due: int
    done: int | None = None
    line: str = ""  # the start of the label of the commitment it delivers


@dataclass(frozen=True)
class News:
    """A progress update by the promoters, days after the start of the work."""

    day: int
    body: str
    percent: int | None = None


@dataclass(frozen=True)
class Answer:
    """One volunteer's answer to the 2-minute survey."""

    email: str
    satisfaction: int
    would_again: bool
    first_time: bool
    comment: str = ""
    named: bool = False


@dataclass(frozen=True)
class Review:
    """The town's evaluation."""

    goals: GoalsMet
    goals_comment: str
    social: Level
    social_comment: str
    environmental: Level
    environmental_comment: str
    economic: Level
    economic_comment: str
    lessons: str
    generalise: Generalise
    generalise_comment: str = ""

    def as_input(self) -> evaluation.EvaluationInput:
        return evaluation.EvaluationInput(
            goals_met=self.goals.value,
            goals_comment=self.goals_comment,
            social_level=self.social.value,
            social_comment=self.social_comment,
            environmental_level=self.environmental.value,
            environmental_comment=self.environmental_comment,
            economic_level=self.economic.value,
            economic_comment=self.economic_comment,
            lessons=self.lessons,
            generalise=self.generalise.value,
            generalise_comment=self.generalise_comment,
        )


@dataclass(frozen=True)
class Trace:
    """A « fine trace » noted by the agent, days after the start of the work."""

    day: int
    text: str
    tags: tuple[TraceTag, ...]
    publishable: bool = False
    involves_minor: bool = False


@dataclass(frozen=True)
class Upkeep:
    """An answer to a yearly upkeep check; ``status`` None leaves the check waiting."""

    status: UpkeepStatus | None
    comment: str = ""


@dataclass(frozen=True)
class FollowUp:
    title: str  # a signed demo initiative (app.demo_initiatives)
    state: S  # where it ends: delivered, evaluated or abandoned
    start: int  # days after the signature the work started
    steps: tuple[Step, ...] = ()
    news: tuple[News, ...] = ()
    delivered: int = 0  # days after the start
    report: tuple[str, str] = ("", "")  # what was done, what it changed
    hours_percent: int = 100  # the volunteer hours delivered, against those committed
    verified: bool = True  # the town verified what the residents declared
    answers: tuple[Answer, ...] = ()
    evaluated: int = 0  # days after the delivery
    review: Review | None = None  # final when the state is « évaluée », a draft otherwise
    traces: tuple[Trace, ...] = ()
    followers: tuple[str, ...] = ()
    co_promoters: tuple[str, ...] = ()  # invited (and accepting) a week into the work
    # The upkeep checks' answers, the latest first; the older checks take the last one.
    upkeep: tuple[Upkeep, ...] = ()
    abandoned: int = 0  # days after the start
    reason: str = ""


J = Side.RESIDENTS
T = Side.TOWN
P = Side.PARTNERS
MET, PARTLY = GoalsMet.MET, GoalsMet.PARTLY
NONE, LOW, MEDIUM, HIGH = Level.NONE, Level.LOW, Level.MEDIUM, Level.HIGH
MAINTAINED, NEEDS_HELP = UpkeepStatus.MAINTAINED, UpkeepStatus.NEEDS_HELP

FOLLOW_UPS: tuple[FollowUp, ...] = (
    # ------------------------------------------------------------ four years ago
    FollowUp(
        title="Nichoirs à hirondelles de la Cité 12",
        state=S.EVALUATED,
        start=3,
        steps=(
            Step(T, "Livraison des trente nichoirs", 4, 4, line="30 nichoirs"),
            Step(J, "Pose des nichoirs avant le retour des hirondelles", 20, 18),
            Step(J, "Premier comptage des nids", 110, 105),
        ),
        news=(
            News(
                18,
                "Les trente nichoirs sont posés sous les avancées de toit de douze corons. Rendez-vous en juillet "
                "pour compter les nids !",
                70,
            ),
            News(106, "Premier comptage : onze nichoirs occupés dès cette année ! Merci aux voisin·es.", 100),
        ),
        delivered=110,
        report=(
            "Trente nichoirs posés sous les avancées de toit de douze corons, avec l'accord des habitant·es. Au "
            "premier comptage de juillet, onze nichoirs étaient occupés.",
            "Les voisin·es se sont pris au jeu : plusieurs enfants tiennent un carnet d'observation des hirondelles.",
        ),
        answers=(
            Answer(
                _mail("jean-pierre.wattez"),
                5,
                True,
                False,
                "J'ai appris à reconnaître les nids d'hirondelles de fenêtre et de rustique.",
                named=True,
            ),
        ),
        evaluated=70,
        review=Review(
            MET,
            "Trente nichoirs posés à temps, onze occupés dès la première année.",
            MEDIUM,
            "Des habitant·es de tous âges autour d'un même projet, rue par rue.",
            HIGH,
            "Onze couples nicheurs la première année : une colonie qui se reconstitue.",
            LOW,
            "Un coût modeste pour la commune.",
            "Poser avant le retour des oiseaux (fin mars) et prévoir une planchette sous chaque nichoir pour "
            "protéger les façades.",
            Generalise.YES,
            "À proposer aux autres cités minières, avec la LPO.",
        ),
        traces=(
            Trace(
                40,
                "Un voisin de 80 ans, qui ne venait à aucune réunion, a prêté son échelle et raconté aux enfants "
                "les hirondelles de son enfance.",
                (TraceTag.FIRST_TIME, TraceTag.PASSING_ON),
                publishable=True,
            ),
        ),
    ),
    FollowUp(
        title="Jardin partagé de la Cité 5",
        state=S.EVALUATED,
        start=3,
        co_promoters=(HABITANTE, _mail("rachid.haddou")),
        followers=(_mail("sophie.leclercq"),),
        steps=(
            Step(T, "Livraison du bois, de la terre et de la cuve", 7, 9, line="Bois de douglas"),
            Step(J, "Construction des douze carrés", 28, 30),
            Step(J, "Premières plantations", 40, 38),
        ),
        news=(
            News(30, "Les douze carrés sont montés ! Merci aux vingt voisin·es venu·es samedi.", 60),
            News(45, "Premières salades et premiers radis : la récolte est partagée avec le centre social.", 90),
            News(
                56,
                "Le jardin est terminé : quinze familles y cultivent un carré. Fête des récoltes en septembre !",
                100,
            ),
        ),
        delivered=56,
        hours_percent=115,
        report=(
            "Douze carrés potagers construits en douglas, une bande fleurie pour les pollinisateurs et une cuve de "
            "1 000 litres branchée sur le toit de la maison de quartier. Quinze familles cultivent un carré ou une "
            "part de carré.",
            "La friche est devenue un lieu où l'on se retrouve le samedi matin ; les récoltes sont partagées avec "
            "le centre social.",
        ),
        answers=(
            Answer(
                _mail("martine.delattre"),
                5,
                True,
                False,
                "Voir des voisin·es qui ne se parlaient pas échanger leurs semis.",
                named=True,
            ),
            Answer(HABITANTE, 4, True, True, "J'ai appris à monter un carré potager et à faire mes semis."),
            Answer(_mail("rachid.haddou"), 4, True, False, "Il manque un abri pour ranger les outils."),
        ),
        evaluated=100,
        review=Review(
            MET,
            "Douze carrés cultivés dès le premier été.",
            HIGH,
            "Quinze familles, dont plusieurs arrivées récemment dans la cité, se retrouvent chaque semaine.",
            MEDIUM,
            "Une friche végétalisée et l'eau de pluie récupérée pour l'arrosage.",
            LOW,
            "Des légumes pour les familles, sans chiffrage précis.",
            "Prévoir dès le départ un abri pour les outils et une règle simple de partage des carrés ; la cuve de "
            "1 000 litres a suffi tout l'été.",
            Generalise.YES,
            "Même convention et même fournisseur pour les prochains jardins partagés.",
        ),
        traces=(
            Trace(
                20,
                "Une habitante arrivée il y a six mois propose d'animer l'atelier semis : elle était maraîchère "
                "avant de venir en France.",
                (TraceTag.FIRST_TIME, TraceTag.PASSING_ON),
                publishable=True,
            ),
            Trace(
                60,
                "Les jardinier·es ont organisé d'eux-mêmes un tour d'arrosage pendant les vacances, sans la mairie.",
                (TraceTag.TAKING_CHARGE, TraceTag.NEIGHBOURS),
                publishable=True,
            ),
        ),
        upkeep=(
            Upkeep(MAINTAINED, "Les carrés tiennent bien ; deux planches changées par les jardinier·es."),
            Upkeep(MAINTAINED, "Tous les carrés sont cultivés et une liste d'attente est ouverte."),
            Upkeep(MAINTAINED, "Premier hiver passé sans dégâts ; la cuve a été vidée avant le gel."),
        ),
    ),
    FollowUp(
        title="Dépavage de la cour de l'école Basly",
        state=S.EVALUATED,
        start=23,
        steps=(
            Step(T, "Prêt de la remorque pour les gravats", 5, 5, line="Remorque"),
            Step(J, "Dépavage des 200 m²", 10, 12),
            Step(T, "Évacuation des gravats, livraison de la terre et des plants", 14, 16, line="Terre végétale"),
            Step(J, "Plantations avant la rentrée", 40, 45),
        ),
        news=(
            News(12, "L'enrobé est parti ! Deux cents mètres carrés de cour rendus à la pluie.", 50),
            News(48, "La noue et les arbres sont plantés : la cour est prête pour la rentrée.", 100),
        ),
        delivered=49,
        report=(
            "Deux cents mètres carrés d'enrobé retirés par les parents pendant l'été, remplacés par une noue "
            "plantée, deux arbres et un coin de copeaux pour les jeux.",
            "À la rentrée, la cour est plus fraîche et les flaques ont disparu : l'eau s'infiltre dans la noue.",
        ),
        answers=(
            Answer(
                _mail("aurelie.dubois"),
                5,
                True,
                True,
                "Je m'engageais pour la première fois dans un projet pour l'école : on recommencera.",
                named=True,
            ),
        ),
        evaluated=85,
        review=Review(
            MET,
            "Chantier terminé avant la rentrée, comme prévu.",
            MEDIUM,
            "Une trentaine de parents mobilisés, plusieurs pour la première fois.",
            HIGH,
            "200 m² désimperméabilisés et un îlot de fraîcheur dans la cour.",
            MEDIUM,
            "Le chantier fait par les parents a divisé le coût par deux par rapport à une entreprise.",
            "Faire le chantier pendant les vacances, commander la terre avant le 14 juillet et organiser "
            "l'arrosage du mois d'août avec les familles.",
            Generalise.YES,
            "À étendre aux autres cours d'école : un programme sur plusieurs années à étudier avec "
            "le service éducation.",
        ),
        traces=(
            Trace(
                12,
                "Un père qui conduisait des engins sur les chantiers a encadré le dépavage ; il est devenu le "
                "référent du groupe des parents.",
                (TraceTag.NEW_SKILL, TraceTag.TAKING_CHARGE),
            ),
        ),
        upkeep=(
            Upkeep(MAINTAINED, "Les plantations ont bien pris ; l'arrosage d'été s'est fait avec les familles."),
            Upkeep(MAINTAINED, "La noue fonctionne : pas de flaque cet hiver."),
        ),
    ),
    # ------------------------------------------------------------ three years ago
    FollowUp(
        title="Boîte à livres de la place de la République",
        state=S.EVALUATED,
        start=4,
        steps=(
            Step(T, "Menuiserie de la boîte par les services techniques", 20, 24, line="Menuiserie"),
            Step(J, "Peinture et installation sous le préau", 35, 40),
        ),
        delivered=45,
        report=(
            "La boîte à livres, fabriquée par les services techniques et peinte par des habitant·es, est installée "
            "sous le préau de la place de la République. Deux cents livres déposés le premier mois.",
            "Les livres tournent vite ; des bénévoles passent chaque semaine ranger la boîte et retirer les livres "
            "abîmés.",
        ),
        answers=(
            Answer(
                _mail("sophie.leclercq"),
                4,
                True,
                False,
                "Plus de livres pour enfants que prévu : une étagère basse serait utile.",
            ),
        ),
        evaluated=140,
        review=Review(
            MET,
            "La boîte est installée et utilisée chaque jour.",
            MEDIUM,
            "Un lieu d'échange sur la place, entre collégien·nes et retraité·es.",
            LOW,
            "Le réemploi de quelques centaines de livres par an.",
            LOW,
            "",
            "Prévoir une étagère basse pour les enfants et un plexiglas épais : la porte a dû être changée une fois.",
            Generalise.TO_STUDY,
            "Une deuxième boîte est demandée à la Cité 14.",
        ),
        traces=(
            Trace(
                70,
                "Des collégien·nes déposent leurs mangas et en discutent avec les retraité·es qui rangent la boîte.",
                (TraceTag.NEIGHBOURS,),
                publishable=True,
            ),
        ),
    ),
    FollowUp(
        title="Bacs comestibles du square des Castors",
        state=S.EVALUATED,
        start=3,
        steps=(
            Step(T, "Livraison du bois, du terreau et des plants", 7, 8, line="Bois, terreau"),
            Step(J, "Fabrication des six bacs", 14, 12),
            Step(J, "Plantations", 30, 31),
        ),
        delivered=40,
        report=(
            "Six bacs en bois à l'entrée de la Cité des Castors, plantés d'aromatiques (thym, romarin, ciboulette) "
            "et de petits fruits (groseilliers, fraisiers).",
            "Les habitant·es cueillent librement ; un panneau dit quoi cueillir et quand.",
        ),
        answers=(
            Answer(
                _mail("gerard.vasseur"),
                4,
                True,
                False,
                "L'arrosage de l'été repose sur trois personnes : il faudrait plus de monde.",
            ),
        ),
        evaluated=150,
        review=Review(
            PARTLY,
            "Les fraisiers n'ont pas résisté à la sécheresse de l'été.",
            MEDIUM,
            "Une entrée de cité plus accueillante, où l'on s'arrête pour cueillir.",
            MEDIUM,
            "Des plantes mellifères et des fruits en accès libre.",
            LOW,
            "",
            "Choisir des plantes sobres en eau et organiser un tour d'arrosage dès la plantation.",
            Generalise.YES,
            "À reprendre dans les cités, avec des essences plus résistantes à la sécheresse.",
        ),
    ),
    FollowUp(
        title="Fresque de la mémoire minière de la Cité Belgique",
        state=S.EVALUATED,
        start=3,
        followers=(_mail("jean-pierre.wattez"), HABITANTE),
        steps=(
            Step(J, "Collecte des récits des anciens mineurs", 21, 25),
            Step(P, "Préparation et enduit du mur", 30, 33, line="Préparation et enduit"),
            Step(T, "Montage de l'échafaudage", 35, 35, line="Échafaudage"),
            Step(T, "Livraison de la peinture et du vernis", 35, 36, line="Peinture façade"),
            Step(J, "Peinture de la fresque", 70, 78),
        ),
        news=(
            News(
                25,
                "Neuf anciens mineurs nous ont confié leurs souvenirs et leurs photos : le dessin de la fresque "
                "est prêt.",
                20,
            ),
            News(
                60,
                "Le dessin est reporté sur le mur, la couleur arrive ! Séances de peinture ouvertes à tous le "
                "samedi après-midi.",
                60,
            ),
            News(84, "La fresque est terminée ! Inauguration avec les anciens mineurs le mois prochain.", 100),
        ),
        delivered=85,
        report=(
            "Une fresque de quatorze mètres sur le pignon de la salle Varet, dessinée d'après les photos et les "
            "récits de neuf anciens mineurs de la cité et peinte par une trentaine d'habitant·es, enfants compris.",
            "L'inauguration a réuni plus de cent personnes ; les anciens mineurs font désormais visiter la fresque "
            "aux écoles.",
        ),
        answers=(
            Answer(
                _mail("rachid.haddou"),
                5,
                True,
                False,
                "Entendre les anciens raconter la fosse à des enfants : inoubliable.",
                named=True,
            ),
        ),
        evaluated=90,
        review=Review(
            MET,
            "Fresque achevée et inaugurée à la date prévue.",
            HIGH,
            "Une transmission entre générations : anciens mineurs, parents et enfants ont travaillé ensemble.",
            NONE,
            "",
            LOW,
            "",
            "Passer le vernis anti-graffiti dès la fin du chantier et compter un mois pour la collecte des récits.",
            Generalise.TO_STUDY,
            "D'autres pignons sont proposés : à étudier avec le bailleur.",
        ),
        traces=(
            Trace(
                25,
                "Un ancien mineur qui ne sortait plus guère depuis son veuvage est venu à chaque séance de dessin.",
                (TraceTag.FIRST_TIME,),
            ),
            Trace(
                86,
                "À l'inauguration, une adolescente qui avait peint avec son grand-père a pris la parole devant "
                "le maire.",
                (TraceTag.SPEAKING_UP,),
                involves_minor=True,
            ),
        ),
        upkeep=(
            Upkeep(
                NEEDS_HELP,
                "Des tags sont apparus en bas de la fresque et le vernis s'écaille par endroits : il "
                "nous faudrait la nacelle des services techniques et du vernis anti-graffiti.",
            ),
            Upkeep(MAINTAINED, "La fresque est intacte ; l'équipe a fait un petit raccord de peinture."),
            Upkeep(MAINTAINED, "Aucune dégradation."),
        ),
    ),
    # ------------------------------------------------------------ two years ago
    FollowUp(
        title="Modules de skatepark de la Cité 14",
        state=S.EVALUATED,
        start=9,
        followers=(_mail("thierry.lefranc"),),
        steps=(
            Step(P, "Coulage de la dalle", 21, 24, line="Coulage de la dalle"),
            Step(T, "Livraison des modules et du kit de rampes", 45, 50, line="Modules en béton"),
            Step(J, "Soudure des rails", 60, 70, line="Soudure des rails"),
            Step(J, "Assemblage des modules pendant les chantiers du samedi", 90, 95),
        ),
        news=(
            News(24, "La dalle est coulée ! Les modules arrivent dans trois semaines.", 25),
            News(70, "Le rail est soudé et les rampes sont montées : encore deux samedis de chantier.", 70),
            News(97, "Le skatepark est ouvert ! Le règlement écrit par les jeunes est affiché à l'entrée.", 100),
        ),
        delivered=98,
        report=(
            "Un plan incliné, un curb, un rail et une petite rampe posés sur le plateau sportif de la Cité 14, "
            "assemblés par une quinzaine de jeunes de 11 à 14 ans et leurs parents au fil de huit samedis.",
            "Le plateau est occupé tous les soirs d'été ; les jeunes ont écrit eux-mêmes le règlement affiché à "
            "l'entrée.",
        ),
        answers=(
            Answer(
                _mail("sandrine.lemaire"), 5, True, True, "Voir mon fils mener un projet de bout en bout.", named=True
            ),
            Answer(_mail("enzo.lemaire"), 5, True, True, "On a appris à lire un plan et à souder."),
        ),
        evaluated=110,
        review=Review(
            MET,
            "Les quatre modules prévus sont en place.",
            HIGH,
            "Des jeunes ont porté leur premier projet, du dessin des modules au règlement.",
            NONE,
            "",
            MEDIUM,
            "La dalle et une partie des rampes ont été apportées par des partenaires.",
            "Associer les jeunes dès le dessin des modules ; prévoir l'éclairage du plateau, réclamé dès le premier "
            "hiver.",
            Generalise.TO_STUDY,
            "L'éclairage du plateau est à inscrire au budget.",
        ),
        traces=(
            Trace(
                95,
                "Les jeunes ont écrit et affiché eux-mêmes le règlement du skatepark.",
                (TraceTag.TAKING_CHARGE,),
                involves_minor=True,
            ),
        ),
        upkeep=(
            Upkeep(None),  # the latest waits for its answer
            Upkeep(MAINTAINED, "Les modules sont en bon état ; les jeunes balaient la dalle avant les sessions."),
        ),
    ),
    FollowUp(
        title="Ramassage de déchets sur le terril 11/19",
        state=S.DELIVERED,
        start=2,
        steps=(
            Step(J, "Première matinée de ramassage", 4, 4),
            Step(J, "Deuxième matinée de ramassage", 11, 11),
            Step(T, "Enlèvement des sacs par les services", 12, 12, line="Enlèvement des sacs"),
        ),
        delivered=14,
        report=(
            "Deux matinées de ramassage sur les pentes du terril avec quarante-deux participant·es : 68 sacs de "
            "déchets triés, surtout des plastiques et des canettes.",
            "Le club de randonnée propose d'en faire un rendez-vous de printemps, chaque année.",
        ),
        answers=(Answer(_mail("thierry.lefranc"), 4, True, False, "Prévoir plus de pinces : on en a manqué."),),
        evaluated=30,
        review=Review(
            MET,
            "",
            MEDIUM,
            "",
            HIGH,
            "68 sacs retirés d'un site naturel protégé.",
            LOW,
            "",
            "",
            Generalise.YES,
        ),
    ),
    # ------------------------------------------------------------ last year
    FollowUp(
        title="Balade contée de la mémoire minière",
        state=S.DELIVERED,
        start=5,
        followers=(_mail("rachid.haddou"), _mail("sophie.leclercq")),
        steps=(
            Step(J, "Écriture des récits avec les anciens mineurs", 20, 18),
            Step(T, "Impression des livrets", 30, 28, line="Impression"),
            Step(J, "Cinq balades, de juin à octobre", 130, 126),
        ),
        news=(
            News(
                33,
                "Première balade dimanche dernier : soixante personnes ont suivi les anciens de la fosse 12 "
                "jusqu'au chevalement.",
                20,
            ),
            News(139, "Dernière balade de la saison : 160 participant·es en cinq dimanches. Merci aux conteurs !", 100),
        ),
        delivered=140,
        verified=False,
        report=(
            "Cinq balades contées dans la Cité 12, le premier dimanche du mois, avec d'anciens mineurs : 160 "
            "participant·es en tout, et un livret de 24 pages tiré à 500 exemplaires.",
            "Les écoles de la commune demandent une balade réservée aux classes au printemps.",
        ),
        answers=(
            Answer(
                _mail("jean-pierre.wattez"),
                5,
                True,
                False,
                "Les anciens ont eu plaisir à raconter, et le public en redemandait.",
                named=True,
            ),
        ),
        traces=(
            Trace(
                60,
                "Une ancienne trieuse de charbon, qui n'avait jamais parlé en public, a raconté son travail "
                "au carreau de fosse devant quarante personnes.",
                (TraceTag.SPEAKING_UP, TraceTag.PASSING_ON),
                publishable=True,
            ),
        ),
    ),
    FollowUp(
        title="Cuve d'eau de pluie des jardins familiaux",
        state=S.ABANDONED,
        start=10,
        # The digging is what found the gas pipe.
        steps=(Step(J, "Terrassement de l'emplacement de la cuve", 14, 16),),
        news=(News(12, "Le terrassement commence samedi matin : venez avec vos pelles !", 10),),
        abandoned=25,
        reason=(
            "Le terrassement a mis au jour une conduite de gaz qui ne figurait pas sur les plans, à l'emplacement "
            "prévu : la cuve ne peut pas y être enterrée et les jardins n'ont pas d'autre emplacement accessible aux "
            "engins. D'un commun accord avec l'association, le projet est abandonné et les crédits retournent à "
            "l'enveloppe ; un projet de cuves hors sol pourra être déposé."
        ),
    ),
)

# The two projects under way (their dates follow today's: see _verger and _repair_cafe).
VERGER = "Verger partagé de la Cité des Castors"
REPAIR_CAFE = "Repair café de la Cité 12"
WALK_IN = "Paulette Dumez"  # came to the work day without an account

EQUIPMENT: tuple[EquipmentInput, ...] = (
    EquipmentInput(
        name="Bétonnière",
        description="Bétonnière électrique de 160 litres, avec sa rallonge.",
        quantity=1,
        condition_notes="Bon état ; graisser la couronne après usage.",
        active=True,
    ),
    EquipmentInput(
        name="Échafaudage",
        description="Échafaudage roulant en aluminium, hauteur de travail 6 m (deux tours complètes).",
        quantity=2,
        condition_notes="Montage par deux personnes formées ; notice dans la caisse.",
        active=True,
    ),
    EquipmentInput(
        name="Remorque",
        description="Remorque plateau de 750 kg, attelage à boule.",
        quantity=1,
        condition_notes="Pneus changés au printemps.",
        active=True,
    ),
    EquipmentInput(
        name="Outillage de jardin (lot)",
        description="Un lot : deux bêches, deux fourches, un râteau, une brouette et six paires de gants.",
        quantity=6,
        active=True,
    ),
    EquipmentInput(
        name="Broyeur de végétaux",
        description="Broyeur thermique pour les branches jusqu'à 5 cm de diamètre.",
        quantity=1,
        condition_notes="Remis avec les consignes de sécurité ; lunettes et casque antibruit fournis.",
        active=True,
    ),
    EquipmentInput(
        name="Taille-haie électrique",
        description="Taille-haie sur batterie, deux batteries par appareil.",
        quantity=2,
        active=True,
    ),
    EquipmentInput(
        name="Barnum 3 × 3 m",
        description="Tente pliante avec ses poids de lestage.",
        quantity=4,
        active=True,
    ),
    EquipmentInput(
        name="Tables et bancs de fête (lot)",
        description="Un lot : une table et deux bancs pliants.",
        quantity=12,
        active=True,
    ),
    EquipmentInput(
        name="Débroussailleuse",
        description="Débroussailleuse thermique à dos.",
        quantity=1,
        condition_notes="En réparation (embrayage) : ne pas prêter.",
        active=False,
    ),
)

# Initiatives of the years before the platform, imported by the admin from the town's old spreadsheet.
HISTORY_FILE = "historique-fifty-fifty.csv"
HISTORY_REFERENCES = ("LOOS-HIST-01", "LOOS-HIST-02", "LOOS-HIST-03")

LIBRARY_TITLE = "Dépavage de la cour de l'école Basly"
LIBRARY_SHARE = ShareInput(
    title="Dépavage et végétalisation d'une cour d'école par les parents",
    description=(
        "Pendant les vacances d'été, des parents d'élèves retirent l'enrobé d'une partie de la cour (200 m²) et "
        "la végétalisent : une noue plantée, deux arbres, un coin de copeaux pour les jeux. La commune fournit la "
        "terre, les plants, l'évacuation des gravats et prête une remorque."
    ),
    lessons=(
        "Faire le chantier pendant les vacances, commander la terre avant le 14 juillet et organiser l'arrosage "
        "du mois d'août avec les familles."
    ),
    promoters_agreed=True,
)


# ---------------------------------------------------------------- loading


@dataclass
class FollowupSummary:
    moved: list[str] = field(default_factory=list)  # initiatives moved on from « convention signée »
    equipment: int = 0
    historical: int = 0
    located: int = 0
    shared: int = 0


@dataclass
class _Run:
    db: Session
    territory: Territory
    settings: Settings
    base_url: str
    actors: dict[str, Actor]
    specs: dict[str, DemoInitiative]
    tz: ZoneInfo
    today: dt.date
    clock: _Clock

    def at(self, day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
        """A local time of day on ``day``, as an aware UTC datetime."""
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz).astimezone(dt.UTC)

    def past(self, day: dt.date) -> dt.date:
        """The day, or yesterday if it would fall today or later."""
        return min(day, self.today - dt.timedelta(days=1))

    def stamp(self, moment: dt.datetime) -> None:
        self.clock.stamp(moment)

    def acting(self, title: str) -> Actor:
        """Who acts for the residents: the guarantor of a minor-led project, else its promoter."""
        spec = self.specs[title]
        return self.actors[spec.guardian or spec.promoter]

    @property
    def agent(self) -> Actor:
        return self.actors[AGENT]


class _Timeline:
    """The steps of one initiative, run in date order; each step's audit entries are dated after it."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.steps: list[tuple[dt.datetime, int, Callable[[], None]]] = []

    def add(self, moment: dt.datetime, step: Callable[[], None]) -> None:
        self.steps.append((moment, len(self.steps), step))

    def play(self) -> None:
        for moment, _order, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            step()
            self.run.stamp(moment)


def load_followup(
    db: Session, territory: Territory, staff: dict[str, Account], settings: Settings, base_url: str
) -> FollowupSummary:
    """Moves the signed demo initiatives of Loos-en-Gohelle on (in the caller's transaction), once."""
    summary = FollowupSummary()
    accounts = dict(staff)
    for resident in RESIDENTS:
        _address, key = normalise_email(resident.email)
        account = db.scalar(select(Account).where(Account.territory_id == territory.id, Account.email_key == key))
        if account is not None:
            accounts[resident.email] = account
    tz = ZoneInfo(territory.timezone)
    run = _Run(
        db=db,
        territory=territory,
        settings=settings,
        base_url=base_url,
        actors={email: _actor(db, account) for email, account in accounts.items()},
        specs={spec.title: spec for spec in INITIATIVES},
        tz=tz,
        today=dt.datetime.now(tz).date(),
        clock=_Clock(db),
    )
    _summaries(run)
    summary.located = _locate(run)
    run.clock = _Clock(db)  # the two above happen now; what follows is dated in the past
    summary.equipment = _inventory(run)
    signed = {
        i.title: i
        for i in db.scalars(
            select(Initiative).where(Initiative.territory_id == territory.id, Initiative.state == S.CONVENTION_SIGNED)
        )
    }
    evaluated: list[tuple[FollowUp, Initiative, Convention]] = []
    for spec in FOLLOW_UPS:
        initiative = signed.get(spec.title)
        if initiative is None:
            continue
        convention = _convention_of(db, initiative)
        _follow_up(run, spec, initiative, convention)
        summary.moved.append(spec.title)
        if spec.state == S.EVALUATED:
            evaluated.append((spec, initiative, convention))
    if VERGER in signed:
        _verger(run, signed[VERGER], _convention_of(db, signed[VERGER]))
        summary.moved.append(VERGER)
    if REPAIR_CAFE in signed:
        _repair_cafe(run, signed[REPAIR_CAFE], _convention_of(db, signed[REPAIR_CAFE]))
        summary.moved.append(REPAIR_CAFE)
    if evaluated:
        _upkeep(run, evaluated)
    summary.shared = _share(run)
    summary.historical = _history(run)
    db.flush()
    return summary


def _convention_of(db: Session, initiative: Initiative) -> Convention:
    convention = db.scalar(select(Convention).where(Convention.initiative_id == initiative.id))
    if convention is None or convention.signed_at is None:  # pragma: no cover - the initiative is signed
        raise RuntimeError(f"demo initiative {initiative.title!r} has no signed convention")
    return convention


def _signed_on(run: _Run, convention: Convention) -> dt.date:
    assert convention.signed_at is not None
    return review.local_date(convention.signed_at, run.tz)


def _summaries(run: _Run) -> None:
    """Years of follow-up happen in one go here: rather than one e-mail per step, the demo residents
    (like for their own projects) get the follow-up's news in a weekly summary, the agent in a daily one."""
    kinds = (FOLLOWED_INITIATIVES.key, EVALUATION.key, workdays.WORK_DAYS_KIND.key)
    for email in (HABITANTE, *(r.email for r in RESIDENTS)):
        actor = run.actors.get(email)
        if actor is not None:
            set_preferences(run.db, actor, dict.fromkeys(kinds, Frequency.WEEKLY.value))
    agent_kinds = (INITIATIVES_KIND.key, EVALUATION.key)
    set_preferences(run.db, run.agent, dict.fromkeys(agent_kinds, Frequency.DAILY.value))


def _locate(run: _Run) -> int:
    """Places on the map the demo initiatives loaded before they carried their coordinates."""
    located = 0
    for row in run.db.scalars(
        select(Initiative).where(
            Initiative.territory_id == run.territory.id,
            Initiative.latitude.is_(None),
            Initiative.title.in_([s.title for s in INITIATIVES if s.point]),
        )
    ):
        point = run.specs[row.title].point
        assert point is not None
        row.latitude, row.longitude = (Decimal(point[0]), Decimal(point[1]))
        audit.record(
            run.db, OPERATOR, "initiative.update", "initiative", row.public_id, territory_id=run.territory.id,
            reason=DEMO_REASON, data={"fields": ["latitude", "longitude"]},
        )  # fmt: skip
        located += 1
    return located


def _inventory(run: _Run) -> int:
    """The town's lendable equipment, listed by the agent when the platform opened."""
    existing = set(run.db.scalars(select(Equipment.name).where(Equipment.territory_id == run.territory.id)))
    opened = run.at(dt.date(run.today.year - 4, 1, 12), 14)
    created = 0
    for item in EQUIPMENT:
        if item.name in existing:
            continue
        row = equipment.create_equipment(run.db, run.agent, run.territory.id, item)
        row.created_at = opened
        created += 1
    run.stamp(opened)
    return created


# ---------------------------------------------------------------- one initiative, from its signature on


def _lines(db: Session, initiative: Initiative) -> list[CommitmentLine]:
    return list(
        db.scalars(
            select(CommitmentLine)
            .where(CommitmentLine.initiative_id == initiative.id, CommitmentLine.state != LineState.CANCELLED)
            .order_by(CommitmentLine.id)
        )
    )


def _line(lines: list[CommitmentLine], prefix: str) -> CommitmentLine:
    found = [line for line in lines if line.label.startswith(prefix)]
    if len(found) != 1:  # pragma: no cover - the specs name their lines
        raise RuntimeError(f"demo commitment {prefix!r}: {len(found)} lines")
    return found[0]


def _milestone(run: _Run, tl: _Timeline, initiative: Initiative, lines: list[CommitmentLine], step: Step,
               start: dt.date, author: Actor) -> None:  # fmt: skip
    """Written at the start of the work (by the promoters, or the agent for the town's and partners' side)."""
    writer = author if step.side == Side.RESIDENTS else run.agent
    due = start + dt.timedelta(days=step.due)
    holder: list[Milestone] = []

    def add() -> None:
        data = milestones.MilestoneInput(
            side=step.side.value, title=step.title, due_on=due,
            commitment_line=_line(lines, step.line).public_id if step.line else "",
        )  # fmt: skip
        row = milestones.add_milestone(run.db, writer, initiative, data)
        row.created_at = run.at(start, 19)
        holder.append(row)

    tl.add(run.at(start, 19), add)
    if step.done is not None:
        done = run.past(start + dt.timedelta(days=step.done))

        def mark() -> None:
            row = milestones.mark_done(run.db, writer, initiative, holder[0].public_id)
            row.done_on = done

        tl.add(max(run.at(done, 18), run.at(start, 19, 30)), mark)


def _news(run: _Run, tl: _Timeline, initiative: Initiative, author: Actor, day: dt.date, item: News,
          photos: list[updates.NewPhoto] | None = None) -> None:  # fmt: skip
    moment = run.at(run.past(day), 20)

    def post() -> None:
        row = updates.post_update(
            run.db, author, run.territory.id, initiative.public_id, item.body, item.percent, photos or [],
            store=media_store(run.settings), settings=run.settings,
        )  # fmt: skip
        row.created_at = moment

    tl.add(moment, post)


def _realise(run: _Run, tl: _Timeline, initiative: Initiative, line: CommitmentLine, quantity: int, day: dt.date,
             author: Actor, *, verify_on: dt.date | None, notes: str = "") -> None:  # fmt: skip
    """What was delivered against ``line``: by the agent for the town (a verified delivery) and the partners,
    by the promoters for the residents (verified by the agent on ``verify_on``, if given)."""
    day = run.past(day)
    moment = run.at(day, 18)
    holder: list[RealisationLine] = []

    def record() -> None:
        if line.side == Side.RESIDENTS:
            row = realisations.record_realisation(run.db, author, line, quantity, day, notes=notes)
        else:
            source = RealisationSource.DELIVERY if line.side == Side.TOWN else RealisationSource.MANUAL
            row = realisations.record_realisation(
                run.db, run.agent, line, quantity, day, source=source, notes=notes, verified=True
            )
            row.verified_at = moment
        row.created_at = moment
        holder.append(row)

    tl.add(moment, record)
    if verify_on is not None and line.side == Side.RESIDENTS:
        checked = max(run.at(run.past(verify_on), 11), moment + dt.timedelta(hours=1))

        def verify() -> None:
            row = realisations.verify_realisation(run.db, run.agent, initiative, holder[0].public_id)
            row.verified_at = checked

        tl.add(checked, verify)


def _move(run: _Run, tl: _Timeline, initiative: Initiative, moment: dt.datetime, step: Callable[[], object]) -> None:
    def moved() -> None:
        step()
        initiative.state_changed_at = moment

    tl.add(moment, moved)


def _team(run: _Run, tl: _Timeline, initiative: Initiative, promoter: Actor, emails: tuple[str, ...],
          day: dt.date) -> None:  # fmt: skip
    """Co-promoters joining during the work: invited by the promoter, accepting from the e-mail's link."""
    for offset, email in enumerate(emails):
        moment = run.at(day + dt.timedelta(days=offset), 19)

        def join(email: str = email, moment: dt.datetime = moment) -> None:
            invitation = InviteInput(email=email, role=MemberRole.CO_PROMOTER.value)
            member = initiatives.invite(
                run.db, promoter, run.territory.id, initiative.public_id, invitation, base_url=run.base_url
            )
            body = run.db.scalar(
                select(OutboxEmail.body_text)
                .where(OutboxEmail.to_address == email)
                .order_by(OutboxEmail.id.desc())
                .limit(1)
            )
            match = INVITATION_LINK_RE.search(body or "")
            if match is None:  # pragma: no cover - the invitation template carries the link
                raise RuntimeError("the co-promoter's invitation e-mail has no link")
            initiatives.accept_invitation(run.db, run.actors[email], run.territory.id, match.group(1))
            member.created_at = member.accepted_at = moment

        tl.add(moment, join)


def _follow(run: _Run, tl: _Timeline, initiative: Initiative, emails: tuple[str, ...], day: dt.date) -> None:
    for offset, email in enumerate(emails):
        moment = run.at(run.past(day + dt.timedelta(days=offset)), 21)

        def follow(email: str = email, moment: dt.datetime = moment) -> None:
            follows.follow(run.db, run.actors[email], run.territory.id, initiative.public_id)
            row = run.db.scalar(
                select(InitiativeFollow).where(
                    InitiativeFollow.initiative_id == initiative.id,
                    InitiativeFollow.person_id == run.actors[email].person_id,
                )
            )
            if row is not None:
                row.created_at = moment

        tl.add(moment, follow)


def _trace(run: _Run, tl: _Timeline, initiative: Initiative, day: dt.date, item: Trace) -> None:
    noted_on = run.past(day)
    moment = run.at(noted_on, 17)

    def note() -> None:
        data = traces.TraceInput(
            noted_on=noted_on, text=item.text, tags=[t.value for t in item.tags], initiative=initiative.public_id,
            involves_minor=item.involves_minor, publishable=item.publishable,
        )  # fmt: skip
        row = traces.create_trace(run.db, run.agent, run.territory.id, data, run.today)
        row.created_at = moment

    tl.add(moment, note)


def _survey(run: _Run, tl: _Timeline, initiative: Initiative, delivered: dt.date, answers: tuple[Answer, ...]) -> None:
    invited = run.at(run.past(delivered + dt.timedelta(days=1)), 8)

    def invite() -> None:
        evaluation.invite_survey(run.db, initiative, settings=run.settings)
        run.db.execute(
            update(SurveyInvitation).where(SurveyInvitation.initiative_id == initiative.id).values(created_at=invited)
        )

    tl.add(invited, invite)
    for offset, item in enumerate(answers):
        moment = run.at(run.past(delivered + dt.timedelta(days=3 + 2 * offset)), 21)

        def answer(item: Answer = item, moment: dt.datetime = moment) -> None:
            data = evaluation.SurveyInput(
                item.satisfaction, item.would_again, item.first_time, item.comment, item.named
            )
            row = evaluation.answer_survey(run.db, run.actors[item.email], initiative, data)
            row.created_at = moment

        tl.add(moment, answer)


def _follow_up(run: _Run, spec: FollowUp, initiative: Initiative, convention: Convention) -> None:
    tl = _Timeline(run)
    promoter = run.acting(spec.title)
    lines = _lines(run.db, initiative)
    start = _signed_on(run, convention) + dt.timedelta(days=spec.start)
    _follow(run, tl, initiative, spec.followers, start - dt.timedelta(days=2))
    _move(run, tl, initiative, run.at(start, 18),
          lambda: followup.start_work(run.db, promoter, initiative, settings=run.settings))  # fmt: skip
    _team(run, tl, initiative, promoter, spec.co_promoters, start + dt.timedelta(days=7))
    for step in spec.steps:
        _milestone(run, tl, initiative, lines, step, start, promoter)
    for news in spec.news:
        _news(run, tl, initiative, promoter, start + dt.timedelta(days=news.day), news)
    for trace in spec.traces:
        _trace(run, tl, initiative, start + dt.timedelta(days=trace.day), trace)
    if spec.state == S.ABANDONED:
        moment = run.at(run.past(start + dt.timedelta(days=spec.abandoned)), 16)
        _move(run, tl, initiative, moment,
              lambda: review.abandon(run.db, run.agent, initiative, spec.reason, settings=run.settings))  # fmt: skip
        tl.play()
        return

    delivered = run.past(start + dt.timedelta(days=spec.delivered))
    done_on = {step.line: start + dt.timedelta(days=step.done) for step in spec.steps if step.line and step.done}
    verify_on = delivered + dt.timedelta(days=2) if spec.verified else None
    for line in lines:
        prefix = next((p for p in done_on if line.label.startswith(p)), None)
        if prefix is not None:
            day = done_on[prefix]
        elif line.side == Side.TOWN:
            day = start + (delivered - start) // 2
        else:
            day = delivered - dt.timedelta(days=2 if line.side == Side.RESIDENTS else 3)
        quantity = line.quantity
        if line.kind == LineKind.VOLUNTEER_HOURS:
            quantity = line.quantity * spec.hours_percent // 100
        _realise(run, tl, initiative, line, quantity, day, promoter, verify_on=verify_on)

    what_was_done, what_changed = spec.report

    def deliver() -> None:
        report = followup.deliver(run.db, promoter, initiative, what_was_done, what_changed, settings=run.settings)
        report.created_at = run.at(delivered, 18)

    _move(run, tl, initiative, run.at(delivered, 18), deliver)
    _survey(run, tl, initiative, delivered, spec.answers)
    if spec.review is not None:
        reviewed = run.past(delivered + dt.timedelta(days=spec.evaluated))
        moment = run.at(reviewed, 11)
        data = spec.review.as_input()

        def evaluate() -> None:
            if spec.state == S.EVALUATED:
                row = evaluation.finalise(run.db, run.agent, initiative, data, settings=run.settings)
                row.finalised_at = moment
            else:
                row = evaluation.save_draft(run.db, run.agent, initiative, data)
            row.created_at = row.updated_at = moment

        if spec.state == S.EVALUATED:
            _move(run, tl, initiative, moment, evaluate)
        else:
            tl.add(moment, evaluate)
    tl.play()


# ---------------------------------------------------------------- the two projects under way


def _saturday_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - 5) % 7)


def _book(run: _Run, initiative: Initiative, author: Actor, work_day: WorkDay, name: str, quantity: int,
          starts_on: dt.date, ends_on: dt.date) -> EquipmentBooking:  # fmt: skip
    item = run.db.scalars(
        select(Equipment).where(Equipment.territory_id == run.territory.id, Equipment.name == name)
    ).one()
    involvement = workdays.standing(run.db, author, initiative)
    data = BookingInput(equipment=item.public_id, quantity=quantity, starts_on=starts_on, ends_on=ends_on)
    return equipment.book(run.db, author, initiative, involvement, work_day, data)


def _plan_drawing() -> Upload:
    """The orchard's planting plan, drawn (no one on it): twenty trees, the first ten planted. Pillow's
    built-in font has no accented letters: the captions do without."""
    page = Image.new("RGB", (960, 640), (246, 242, 226))
    pen = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=22)
    pen.rectangle((40, 40, 920, 600), outline=(90, 120, 60), width=4)
    pen.text((60, 56), "Plan de plantation du verger (rue Carpentier)", fill=(40, 60, 30), font=font)
    for row in range(4):
        for column in range(5):
            x, y = 150 + column * 165, 150 + row * 115
            fill = (70, 140, 60) if row < 2 else (246, 242, 226)
            pen.ellipse((x - 26, y - 26, x + 26, y + 26), fill=fill, outline=(70, 140, 60), width=3)
    caption = "Plein : en terre depuis l'an dernier.    Vide : prochaine plantation (Sainte-Catherine)."
    pen.text((60, 556), caption, fill=(40, 60, 30), font=font)
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    buffer.seek(0)
    return Upload(filename="plan-verger.png", stream=buffer)


def _verger(run: _Run, initiative: Initiative, convention: Convention) -> None:
    """Planted in two seasons: ten trees the autumn it was signed, ten more now. A work day two weeks
    ago (mulch, rabbit guards), checked; another next Saturday, with sign-ups and equipment booked."""
    db, tl = run.db, _Timeline(run)
    gerard = run.acting(VERGER)
    lines = _lines(db, initiative)
    signed_on = _signed_on(run, convention)
    start = signed_on + dt.timedelta(days=3)
    # The last work day: the latest Saturday at least a week ago; the next one: the first Saturday in 3 days or more.
    past_day = max(_saturday_before(run.today - dt.timedelta(days=7)), start + dt.timedelta(days=10))
    next_day = _saturday_before(run.today + dt.timedelta(days=9))
    first = start + dt.timedelta(days=2)

    _follow(run, tl, initiative, (HABITANTE, _mail("jean-pierre.wattez"), _mail("chantal.delporte")), signed_on)
    _move(run, tl, initiative, run.at(start, 18),
          lambda: followup.start_work(db, gerard, initiative, settings=run.settings))  # fmt: skip
    steps = (
        Step(T, "Livraison des vingt arbres fruitiers", 1, 1, line="Vingt arbres"),
        Step(J, "Plantation des dix premiers arbres (Sainte-Catherine)", 2, 2),
        Step(T, "Livraison des tuteurs et des colliers", (past_day - start).days - 3, (past_day - start).days - 2),
        Step(J, "Paillage et protections contre les lapins", (past_day - start).days, (past_day - start).days),
        Step(J, "Plantation des dix derniers arbres", (next_day - start).days),
        Step(J, "Première taille de formation", (next_day - start).days + 90),
    )
    for step in steps:
        _milestone(run, tl, initiative, lines, step, start, gerard)
    _realise(run, tl, initiative, _line(lines, "Vingt arbres"), 1, start + dt.timedelta(days=1), gerard, verify_on=None,
             notes="Livrés en une fois ; dix arbres mis en jauge pour la seconde plantation.")  # fmt: skip
    hours = _line(lines, "Plantation, paillage")
    _realise(run, tl, initiative, hours, 24 * 60, first, gerard, verify_on=first + dt.timedelta(days=4),
             notes="Plantation des dix premiers arbres, avant les chantiers avec feuille d'heures.")  # fmt: skip
    _realise(run, tl, initiative, _line(lines, "Paillage"), 1, past_day, gerard, verify_on=None,
             notes="Bois broyé apporté par les jardinier·es (à vérifier par la commune).")  # fmt: skip
    _news(run, tl, initiative, gerard, first + dt.timedelta(days=1), News(
        1, "Les dix premiers arbres sont en terre : pommiers, poiriers et pruniers de variétés régionales. Les dix "
        "autres attendent en jauge la seconde plantation, à l'automne prochain.", 40))  # fmt: skip

    # The work day two weeks ago: planned, signed up for, equipment booked and handed out (all "today",
    # then moved back to its day), its register entered by the promoter and checked by the agent.
    past: list[WorkDay] = []
    planned_on = past_day - dt.timedelta(days=12)

    def plan_past() -> None:
        data = WorkDayInput(
            day=run.today, starts_at=dt.time(9), ends_at=dt.time(12, 30), place="Espace vert de la rue Carpentier",
            meeting_point="Devant le portail du verger",
            tasks="Pailler le pied des dix arbres plantés l'an dernier, poser les protections contre les lapins, "
            "broyer les branches de la haie voisine pour le paillage.",
            tools="Gants et bottes ; la commune prête brouettes, fourches et un broyeur.", max_participants=15,
        )  # fmt: skip
        work_day = workdays.plan(db, gerard, run.territory.id, initiative.public_id, data)
        work_day.created_at = run.at(planned_on, 20)
        past.append(work_day)

    tl.add(run.at(planned_on, 20), plan_past)
    volunteers = (gerard, run.actors[HABITANTE], run.actors[_mail("jean-pierre.wattez")],
                  run.actors[_mail("chantal.delporte")])  # fmt: skip
    for offset, volunteer in enumerate(volunteers):
        moment = run.at(planned_on + dt.timedelta(days=1 + offset), 19)

        def sign_up(volunteer: Actor = volunteer, moment: dt.datetime = moment) -> None:
            row = workdays.sign_up(db, volunteer, run.territory.id, initiative.public_id, past[0].public_id)
            row.created_at = moment

        tl.add(moment, sign_up)
    booked_at = run.at(past_day - dt.timedelta(days=4), 18)
    # (equipment, units, days kept after the work day, condition on return: None, still out and late)
    loans: tuple[tuple[str, int, int, str | None], ...] = (
        ("Remorque", 1, 0, "Rien à signaler."),
        ("Outillage de jardin (lot)", 2, 0, "Une fourche au manche fendu, à remplacer."),
        ("Broyeur de végétaux", 1, 2, None),
    )
    lent: list[tuple[EquipmentBooking, str | None]] = []

    def book_and_hand_out() -> None:
        work_day = past[0]
        for name, quantity, kept, condition in loans:
            booking = _book(run, initiative, gerard, work_day, name, quantity, run.today, run.today)
            context = equipment.get_booking(db, run.agent, run.territory.id, booking.public_id)
            equipment.hand_out(db, run.agent, context, "Bon état, vérifié au départ.")
            # The day comes: the booking is moved back to it (handed out the evening before).
            booking.created_at = booked_at
            booking.starts_on = past_day - dt.timedelta(days=1)
            booking.ends_on = past_day + dt.timedelta(days=kept)
            booking.out_at = run.at(past_day - dt.timedelta(days=1), 16)
            lent.append((booking, condition))
        work_day.day = past_day

    tl.add(booked_at, book_and_hand_out)
    returned_at = run.at(past_day + dt.timedelta(days=2), 9)

    def take_back() -> None:
        for booking, condition in lent:
            if condition is None:
                continue  # the shredder is still out: late
            context = equipment.get_booking(db, run.agent, run.territory.id, booking.public_id)
            equipment.take_back(db, run.agent, context, condition)
            booking.returned_at = returned_at

    tl.add(returned_at, take_back)
    entered_at = run.at(past_day, 14)

    def enter_register() -> None:
        work_day = past[0]
        rows = []
        hours_by_person = {gerard.person_id: "3:30", run.actors[HABITANTE].person_id: "3:30",
                           run.actors[_mail("jean-pierre.wattez")].person_id: "3:00"}  # fmt: skip
        for participant in db.scalars(
            select(WorkDayParticipant)
            .where(WorkDayParticipant.work_day_id == work_day.id)
            .order_by(WorkDayParticipant.id)
        ):
            spent = hours_by_person.get(participant.person_id)
            rows.append(RowInput(
                key=f"p-{participant.public_id}", participant=participant.public_id, name="", is_minor=False,
                came=spent is not None, safety_briefing=spent is not None, insurance_ack=spent is not None,
                parental_permission=False, hours=spent or "",
            ))  # fmt: skip
        rows.append(RowInput(key="new-0", participant=None, name=WALK_IN, is_minor=False, came=True,
                             safety_briefing=True, insurance_ack=True, parental_permission=False, hours="2:00"))  # fmt: skip
        workdays.enter_register(db, gerard, run.territory.id, initiative.public_id, work_day.public_id, rows)
        work_day.register_entered_at = entered_at
        for participant in db.scalars(select(WorkDayParticipant).where(WorkDayParticipant.work_day_id == work_day.id)):
            if not participant.signed_up:
                participant.created_at = entered_at
                walk_in = db.get_one(Person, participant.person_id)
                walk_in.created_at = entered_at

    tl.add(entered_at, enter_register)
    checked_at = run.at(past_day + dt.timedelta(days=3), 10)

    def check_register() -> None:
        work_day = past[0]
        workdays.check_register(db, run.agent, run.territory.id, initiative.public_id, work_day.public_id)
        work_day.register_checked_at = checked_at
        ids = [p.realisation_line_id for p in db.scalars(
            select(WorkDayParticipant).where(WorkDayParticipant.work_day_id == work_day.id)) if p.realisation_line_id]  # fmt: skip
        db.execute(update(RealisationLine).where(RealisationLine.id.in_(ids))
                   .values(created_at=checked_at, verified_at=checked_at))  # fmt: skip

    tl.add(checked_at, check_register)
    slots = [PhotoSlot(1, _plan_drawing(), "Plan du verger : vingt arbres en quatre rangs, les dix du haut déjà "
                       "plantés, les dix du bas à planter.", False, None)]  # fmt: skip
    _news(run, tl, initiative, gerard, past_day + dt.timedelta(days=1), News(
        1, f"Samedi, quatre jardinier·es ont paillé les dix arbres et posé les protections contre les lapins. "
        f"Prochain chantier le samedi {next_day.day}/{next_day.month} : on plante les dix derniers arbres, "
        "inscrivez-vous !", 60), updates.prepare_photos(slots))  # fmt: skip

    # The next work day: planned after the last one, sign-ups since, equipment booked for it.
    upcoming: list[WorkDay] = []
    announced = past_day + dt.timedelta(days=2)

    def plan_next() -> None:
        data = WorkDayInput(
            day=next_day, starts_at=dt.time(9), ends_at=dt.time(12), place="Espace vert de la rue Carpentier",
            meeting_point="Devant le portail du verger",
            tasks="Planter les dix derniers arbres fruitiers, les tuteurer et les pailler ; goûter partagé à midi.",
            tools="Bottes et gants ; bêches, fourches et brouettes prêtées par la commune.", max_participants=20,
        )  # fmt: skip
        work_day = workdays.plan(db, gerard, run.territory.id, initiative.public_id, data)
        work_day.created_at = run.at(announced, 20)
        upcoming.append(work_day)

    tl.add(run.at(announced, 20), plan_next)
    signers = (HABITANTE, _mail("martine.delattre"), _mail("thierry.lefranc"), _mail("aurelie.dubois"))
    for offset, email in enumerate(signers):
        moment = run.at(run.past(announced + dt.timedelta(days=1 + offset)), 21)

        def join(email: str = email, moment: dt.datetime = moment) -> None:
            row = workdays.sign_up(db, run.actors[email], run.territory.id, initiative.public_id, upcoming[0].public_id)
            row.created_at = moment

        tl.add(moment, join)
    booked = run.at(run.past(announced + dt.timedelta(days=2)), 18)

    def book_next() -> None:
        work_day = upcoming[0]
        pick_up = max(run.today, next_day - dt.timedelta(days=1))
        for name, quantity, starts_on in (("Remorque", 1, pick_up), ("Outillage de jardin (lot)", 4, next_day)):
            booking = _book(run, initiative, gerard, work_day, name, quantity, starts_on, next_day)
            booking.created_at = booked

    tl.add(booked, book_next)
    tl.play()


def _repair_cafe(run: _Run, initiative: Initiative, convention: Convention) -> None:
    """A Saturday a month since its signature; the town's subsidy paid and the hall lent, hours declared
    each term (the last ones still to verify), the season's report to the town overdue."""
    db, tl = run.db, _Timeline(run)
    chantal = run.acting(REPAIR_CAFE)
    lines = _lines(db, initiative)
    start = _signed_on(run, convention) + dt.timedelta(days=10)
    recent = run.today - dt.timedelta(days=20)
    _follow(run, tl, initiative, (_mail("bernard.wallart"), HABITANTE, _mail("jean-pierre.wattez")), start)
    _move(run, tl, initiative, run.at(start, 18),
          lambda: followup.start_work(db, chantal, initiative, settings=run.settings))  # fmt: skip
    steps = (
        Step(T, "Versement de la subvention pour l'outillage", 14, 12, line="Outillage du repair café"),
        Step(J, "Première séance à la salle Caullet", 22, 22),
        Step(J, "Bilan de la saison remis à la mairie", (run.today - start).days - 12),  # overdue
        Step(J, "Séance spéciale « jouets de Noël »", (run.today - start).days + 20),
    )
    for step in steps:
        _milestone(run, tl, initiative, lines, step, start, chantal)
    hours = _line(lines, "Réparateur")
    _realise(run, tl, initiative, _line(lines, "Outillage du repair café"), 1, start + dt.timedelta(days=12), chantal,
             verify_on=None, notes="Subvention versée à l'association.")  # fmt: skip
    _realise(run, tl, initiative, hours, 30 * 60, start + dt.timedelta(days=100), chantal,
             verify_on=start + dt.timedelta(days=104), notes="Séances d'avril à juin.")  # fmt: skip
    _realise(run, tl, initiative, hours, 40 * 60, start + dt.timedelta(days=200), chantal,
             verify_on=start + dt.timedelta(days=205), notes="Séances de juillet à octobre (pas de séance en août).")  # fmt: skip
    _realise(run, tl, initiative, hours, 30 * 60, recent, chantal, verify_on=None,
             notes="Séances depuis novembre, feuilles de présence jointes au bilan.")  # fmt: skip
    _realise(run, tl, initiative, _line(lines, "Mise à disposition"), 8, recent, chantal, verify_on=None,
             notes="Huit samedis sur les dix prévus.")  # fmt: skip
    for day, item in (
        (22, News(1, "Première séance : 23 objets apportés, 17 réparés (grille-pain, lampes, un vélo et même une "
                     "machine à coudre).", 15)),
        (205, News(1, "Cent vingt objets réparés depuis avril. Nous cherchons un·e bénévole qui s'y connaisse en "
                      "téléphones.", 55)),
    ):  # fmt: skip
        _news(run, tl, initiative, chantal, start + dt.timedelta(days=day), item)
    _news(run, tl, initiative, chantal, recent - dt.timedelta(days=5), News(
        1, "Deux cents objets réparés en tout, et une équipe de douze réparateur·rices. Le bilan de la saison "
        "arrive : nous rassemblons les feuilles de présence.", 80))  # fmt: skip
    _trace(run, tl, initiative, start + dt.timedelta(days=150), Trace(
        0, "Un retraité venu faire réparer son grille-pain est revenu le mois suivant comme réparateur bénévole.",
        (TraceTag.FIRST_TIME, TraceTag.PASSING_ON), publishable=True))  # fmt: skip
    tl.play()


# ---------------------------------------------------------------- upkeep, library, history


def _upkeep(run: _Run, evaluated: list[tuple[FollowUp, Initiative, Convention]]) -> None:
    """The daily job's runs on each anniversary of the signatures (it opens that year's check and
    reminds both sides); the promoters answer twelve days later, except a check left waiting."""
    due: list[tuple[dt.date, FollowUp, Initiative, int]] = []
    for spec, initiative, convention in evaluated:
        if not (upkeep.has_upkeep(convention) and spec.upkeep):
            continue
        dates = [d for d in upkeep.schedule(_signed_on(run, convention), convention.upkeep_months) if d < run.today]
        due += [(day, spec, initiative, len(dates) - number) for number, day in enumerate(dates, start=1)]
    for day, spec, initiative, age in sorted(due, key=lambda d: (d[0], d[2].id)):
        moment = run.at(day, 7)
        upkeep.run_upkeep(run.db, now=moment, settings=run.settings)
        run.stamp(moment)
        check = run.db.scalar(
            select(UpkeepCheck).where(UpkeepCheck.initiative_id == initiative.id, UpkeepCheck.due_on == day)
        )
        reply = spec.upkeep[min(age, len(spec.upkeep) - 1)]
        if check is None or reply.status is None:
            continue
        answered = run.at(run.past(day + dt.timedelta(days=12)), 19)
        data = upkeep.UpkeepInput(reply.status.value, reply.comment)
        upkeep.answer_check(run.db, run.acting(spec.title), initiative, check.public_id, data, settings=run.settings)
        check.answered_at = answered
        if check.task_id is not None:
            run.db.get_one(AgentTask, check.task_id).created_at = answered
        run.stamp(answered)


def _share(run: _Run) -> int:
    """The agent shares the school-yard project with the peer library, with its promoters' agreement."""
    initiative = run.db.scalar(
        select(Initiative).where(
            Initiative.territory_id == run.territory.id,
            Initiative.title == LIBRARY_TITLE,
            Initiative.state == S.EVALUATED,
        )
    )
    if initiative is None or library.entry_for(run.db, initiative) is not None:
        return 0
    evaluated = run.db.scalar(select(Evaluation.finalised_at).where(Evaluation.initiative_id == initiative.id))
    moment = run.at(run.past(review.local_date(evaluated, run.tz) + dt.timedelta(days=30)), 15) if evaluated else None
    entry = library.share(run.db, run.agent, run.territory.id, initiative.public_id, LIBRARY_SHARE)
    if moment is not None:
        entry.shared_at = entry.created_at = moment
        run.stamp(moment)
    return 1


def _history_csv(run: _Run) -> bytes:
    """The town's old spreadsheet: two projects carried out and one abandoned, before the platform."""
    first, second = run.today.year - 6, run.today.year - 5
    rows = [
        {
            "title": "Fleurissement des pieds de façade de la Cité 5", "year": str(first),
            "description": "Des bandes de vivaces plantées au pied des façades par les habitant·es, rue de Bourgogne.",
            "neighbourhood": "Cité 5", "theme": "Plan paysager", "project_type": "travaux",
            "carrier": "Les Amis de la Cité 5", "carrier_kind": "collectif", "outcome": "réalisée",
            "town": "800", "residents": "150", "address": "Rue de Bourgogne",
            "latitude": "50,4533", "longitude": "2,7751", "reference": HISTORY_REFERENCES[0],
        },
        {
            "title": "Four à pain de la Cité des Castors", "date": f"14/04/{second}",
            "description": "Un four à pain en briques réfractaires, allumé pour la fête de la cité.",
            "neighbourhood": "Cité des Castors", "theme": "Patrimoine et mémoire", "project_type": "travaux",
            "carrier": "Association des Castors loossois", "carrier_kind": "association", "outcome": "réalisée",
            "town": "2 500", "hours": "320", "partners": "500", "address": "Square des Castors, rue Hoche",
            "latitude": "50,4562", "longitude": "2,8049", "reference": HISTORY_REFERENCES[1],
        },
        {
            "title": "Marché de Noël solidaire de la Base 11/19", "year": str(second),
            "description": "Un marché d'artisans et d'associations au pied des terrils.",
            "neighbourhood": "Base 11/19", "theme": "Implication des habitant·es", "project_type": "activité",
            "carrier": "Comité des fêtes de la Base", "carrier_kind": "collectif", "outcome": "abandonnée",
            "town": "600", "hours": "40", "reference": HISTORY_REFERENCES[2],
        },
    ]  # fmt: skip
    header = [c.header for c in csvfile.COLUMNS]
    return csvfile.write([header] + [[row.get(c.key, "") for c in csvfile.COLUMNS] for row in rows])


def _history(run: _Run) -> int:
    """The admin imports the town's earlier initiatives when the platform opens (once: by their references)."""
    known = set(
        run.db.scalars(
            select(HistoricalRecord.reference).where(
                HistoricalRecord.territory_id == run.territory.id, HistoricalRecord.reference.in_(HISTORY_REFERENCES)
            )
        )
    )
    if known:
        return 0
    admin = run.actors[ADMIN]
    ctx = TerritoryContext.from_row(run.territory)
    checked, text = history.preview(run.db, ctx, HISTORY_FILE, _history_csv(run))
    staged = history.stage(run.db, admin, run.territory.id, checked, text)
    result = history.confirm(run.db, admin, ctx, staged.public_id)
    moment = run.at(dt.date(run.today.year - 4, 1, 20), 15)
    staged.created_at = moment
    staged.imported_at = moment
    run.db.execute(update(HistoricalRecord).where(HistoricalRecord.import_id == staged.id).values(imported_at=moment))
    run.stamp(moment)
    return result.created
