"""A fund's convention template: versions, the closed list of placeholders, the default French text.

Clause texts are Markdown in which a few ``{name}`` placeholders are replaced, in one pass, by
plain strings: there is no template language to evaluate (no server-side template injection),
and a placeholder the list does not know is refused when the template is saved.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.conventions.forms import TemplateForm
from app.conventions.models import ConventionTemplate
from app.core.actor import SYSTEM, Actor
from app.core.errors import Forbidden, Invalid, NotFound
from app.funds import service as funds
from app.funds.models import Fund
from app.territories.models import Territory
from app.web.forms import clean_text
from app.web.i18n import N_, _

PLACEHOLDER_RE = re.compile(r"\{([^{}\n]{0,60})\}")
# The placeholders a clause may use, with what they become (shown on the editor page).
PLACEHOLDERS: dict[str, str] = {
    "commune": N_("le nom de la commune"),
    "dispositif": N_("le nom du dispositif"),
    "initiative": N_("le titre de l'initiative"),
    "numero": N_("le numéro de la convention"),
    "beneficiaire": N_("le nom du bénéficiaire (association, école, groupe ou personne)"),
    "porteurs": N_("les noms des porteur·ses de projet"),
    "entretien_par": N_("qui entretient la réalisation"),
    "duree_entretien": N_("la durée de l'entretien, par exemple « 36 mois »"),
}
# The public rules page is not about one initiative: only the town and the fund make sense there.
RULES_PAGE_PLACEHOLDERS = frozenset({"commune", "dispositif"})
CLAUSE_FIELDS = ("title", "preamble", "upkeep_clause", "insurance_clause", "general_clauses")
TEMPLATE_FIELDS = (*CLAUSE_FIELDS, "rules_page", "default_upkeep_months")

DEFAULT_TITLE = "Convention de partenariat fifty-fifty"
DEFAULT_PREAMBLE = (
    "La commune de {commune} soutient, dans le cadre du dispositif « {dispositif} », les projets d'intérêt "
    "général que ses habitant·es proposent et réalisent avec elle. Chacun apporte sa part : les habitant·es "
    "leur temps, leurs savoir-faire ou des matériaux ; la commune de l'argent, du matériel ou le travail de "
    "ses agent·es.\n\n"
    "La présente convention fixe ce que chaque partie s'engage à apporter au projet « {initiative} », "
    "à quelle date, et qui en prend soin ensuite."
)
DEFAULT_UPKEEP = (
    "{entretien_par} s'engage à entretenir la réalisation pendant {duree_entretien} à compter de sa "
    "livraison : arrosage, petites réparations, propreté, signalement des dégradations à la commune.\n\n"
    "Un point est fait avec la commune douze mois après la livraison. Si l'entretien ne peut plus être "
    "assuré, {entretien_par} prévient la commune sans attendre, pour chercher ensemble une solution."
)
DEFAULT_INSURANCE = (
    "Les bénévoles qui participent aux chantiers prévus par la présente convention agissent comme "
    "collaborateur·rices occasionnel·les du service public : la commune les couvre par son assurance de "
    "responsabilité civile, dans les conditions de son contrat. {beneficiaire} reste responsable de ses "
    "propres activités et, s'il s'agit d'une personne morale, les assure.\n\n"
    "Les consignes de sécurité données par les agent·es de la commune sont respectées sur chaque chantier : "
    "équipements de protection fournis, outils adaptés, pas de travail en hauteur ni d'engin sans un·e "
    "professionnel·le. Les mineur·es participent sous la responsabilité d'un·e adulte présent·e."
)
DEFAULT_GENERAL = (
    "La présente convention prend effet à sa signature par toutes les parties et dure jusqu'au terme de "
    "l'entretien prévu. Elle ne se modifie que par un avenant écrit, signé dans les mêmes formes.\n\n"
    "Si une partie ne tient pas ses engagements, l'autre le lui signale par écrit ; faute de solution dans "
    "un délai d'un mois, la convention peut être résiliée. Les sommes versées et non employées conformément "
    "à son objet sont alors restituées à la commune.\n\n"
    "Les parties cherchent d'abord une solution amiable à tout désaccord ; à défaut, le tribunal "
    "administratif compétent peut être saisi."
)
DEFAULT_RULES_PAGE = (
    "## Qui peut proposer un projet ?\n\n"
    "Toute habitante, tout habitant de {commune}, quel que soit son âge (un·e adulte garant·e signe pour "
    "les mineur·es), un groupe de voisin·es, une association ou une école.\n\n"
    "## Quels projets ?\n\n"
    "Des projets d'intérêt général, dans l'espace public ou ouverts à toutes et tous : un jardin partagé, "
    "une fresque, des bancs, une fête de quartier, un atelier de réparation…\n\n"
    "## Comment la commune participe ?\n\n"
    "Les habitant·es apportent leur temps (chaque heure de bénévolat est valorisée), des matériaux ou des "
    "savoir-faire ; la commune apporte le reste : achats, matériel prêté, travail de ses agent·es.\n\n"
    "## Comment la commune décide ?\n\n"
    "Un·e agent·e étudie le projet avec vous, puis le maire ou son adjoint·e décide. Si le projet est "
    "accepté, une convention fixe les engagements de chacun ; pour un petit projet, un simple engagement "
    "suffit."
)


@dataclass(frozen=True)
class TemplateView:
    """A template version as the pages show it (or the default text before any version is saved)."""

    public_id: str
    version: int
    title: str
    preamble: str
    upkeep_clause: str
    insurance_clause: str
    general_clauses: str
    rules_page: str
    default_upkeep_months: int
    change_note: str
    created_at: dt.datetime | None
    saved: bool


def default_upkeep_months(db: Session, territory_id: int) -> int:
    territory = db.get_one(Territory, territory_id)
    return territory.settings.fifty_fifty.upkeep_years * 12


def _default_values(upkeep_months: int) -> dict[str, str | int]:
    return {
        "title": DEFAULT_TITLE,
        "preamble": DEFAULT_PREAMBLE,
        "upkeep_clause": DEFAULT_UPKEEP,
        "insurance_clause": DEFAULT_INSURANCE,
        "general_clauses": DEFAULT_GENERAL,
        "rules_page": DEFAULT_RULES_PAGE,
        "default_upkeep_months": upkeep_months,
    }


def view_of(template: ConventionTemplate) -> TemplateView:
    return TemplateView(
        public_id=template.public_id,
        version=template.version,
        title=template.title,
        preamble=template.preamble,
        upkeep_clause=template.upkeep_clause,
        insurance_clause=template.insurance_clause,
        general_clauses=template.general_clauses,
        rules_page=template.rules_page,
        default_upkeep_months=template.default_upkeep_months,
        change_note=template.change_note,
        created_at=template.created_at,
        saved=True,
    )


def unknown_placeholders(text: str, allowed: frozenset[str] | Mapping[str, str] = frozenset(PLACEHOLDERS)) -> list[str]:
    return sorted({m.group(1) for m in PLACEHOLDER_RE.finditer(text or "") if m.group(1) not in allowed})


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replaces the known placeholders in one pass: a value is never scanned again."""
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")


def check_placeholders(form: TemplateForm) -> None:
    """``Invalid`` on the first field that uses a placeholder the list does not know."""
    for name in (*CLAUSE_FIELDS, "rules_page"):
        allowed = RULES_PAGE_PLACEHOLDERS if name == "rules_page" else frozenset(PLACEHOLDERS)
        unknown = unknown_placeholders(getattr(form, name), allowed)
        if unknown:
            known = ", ".join("{" + p + "}" for p in sorted(allowed))
            raise Invalid(
                _("Repère inconnu : %(unknown)s. Les repères possibles ici sont : %(known)s.")
                % {"unknown": ", ".join("{" + u + "}" for u in unknown), "known": known},
                field=name,
            )


# ---------------------------------------------------------------- reading


def current_template(db: Session, fund_id: int) -> ConventionTemplate | None:
    return db.scalar(
        select(ConventionTemplate)
        .where(ConventionTemplate.fund_id == fund_id)
        .order_by(ConventionTemplate.version.desc())
        .limit(1)
    )


def current_view(db: Session, fund: Fund) -> TemplateView:
    """The current version, or the default text a first save (or the first convention) will write."""
    template = current_template(db, fund.id)
    if template is not None:
        return view_of(template)
    values = _default_values(default_upkeep_months(db, fund.territory_id))
    return TemplateView(
        public_id="",
        version=0,
        title=str(values["title"]),
        preamble=str(values["preamble"]),
        upkeep_clause=str(values["upkeep_clause"]),
        insurance_clause=str(values["insurance_clause"]),
        general_clauses=str(values["general_clauses"]),
        rules_page=str(values["rules_page"]),
        default_upkeep_months=int(values["default_upkeep_months"]),
        change_note="",
        created_at=None,
        saved=False,
    )


def versions(db: Session, fund: Fund) -> list[TemplateView]:
    rows = db.scalars(
        select(ConventionTemplate)
        .where(ConventionTemplate.fund_id == fund.id, ConventionTemplate.territory_id == fund.territory_id)
        .order_by(ConventionTemplate.version.desc())
    )
    return [view_of(t) for t in rows]


def get_version(db: Session, fund: Fund, public_id: str) -> TemplateView:
    template = db.scalar(
        select(ConventionTemplate).where(
            ConventionTemplate.fund_id == fund.id,
            ConventionTemplate.territory_id == fund.territory_id,
            ConventionTemplate.public_id == public_id,
        )
    )
    if template is None:
        raise NotFound(_("Cette version du modèle n'existe pas."))
    return view_of(template)


def form_values(view: TemplateView) -> dict[str, str | int]:
    return {name: getattr(view, name) for name in TEMPLATE_FIELDS}


# ---------------------------------------------------------------- writing


def ensure_template(db: Session, fund: Fund, actor: Actor = SYSTEM) -> ConventionTemplate:
    """The fund's current template, writing the default French text as version 1 if it has none."""
    template = current_template(db, fund.id)
    if template is not None:
        return template
    values = _default_values(default_upkeep_months(db, fund.territory_id))
    template = ConventionTemplate(
        territory_id=fund.territory_id,
        fund_id=fund.id,
        version=1,
        change_note="Modèle par défaut de Cailloux",
        created_by_person_id=actor.person_id,
        **values,
    )
    db.add(template)
    db.flush()
    audit.record(
        db, actor, "convention_template.seed", "fund", fund.id, territory_id=fund.territory_id,
        data={"template": template.public_id, "version": 1},
    )  # fmt: skip
    return template


def save_template(
    db: Session, actor: Actor, territory_id: int, fund_public_id: str, form: TemplateForm
) -> ConventionTemplate:
    """A new version (the earlier ones stay: conventions name the version they used)."""
    if not funds.can_configure(actor, territory_id):
        raise Forbidden(_("Seul·es les administrateur·rices modifient les dispositifs et leur modèle de convention."))
    fund = funds.get_fund(db, territory_id, fund_public_id)
    check_placeholders(form)
    latest = db.scalar(select(func.max(ConventionTemplate.version)).where(ConventionTemplate.fund_id == fund.id)) or 0
    template = ConventionTemplate(
        territory_id=territory_id,
        fund_id=fund.id,
        version=latest + 1,
        title=clean_text(form.title),
        preamble=form.preamble.strip(),
        upkeep_clause=form.upkeep_clause.strip(),
        insurance_clause=form.insurance_clause.strip(),
        general_clauses=form.general_clauses.strip(),
        rules_page=form.rules_page.strip(),
        default_upkeep_months=form.default_upkeep_months,
        change_note=form.change_note.strip(),
        created_by_person_id=actor.person_id,
    )
    db.add(template)
    db.flush()
    audit.record(
        db, actor, "convention_template.save", "fund", fund.id, territory_id=territory_id,
        data={"template": template.public_id, "version": template.version},
    )  # fmt: skip
    return template


# ---------------------------------------------------------------- the public rules pages


@dataclass(frozen=True)
class FundRules:
    """What the public rules page of a fund says (no login needed)."""

    public_id: str
    name: str
    description: str
    is_active: bool
    match_physical_percent: int
    match_activity_percent: int
    match_priority_percent: int | None
    match_first_time_percent: int | None
    partners_count: bool
    cap_town_cash_cents: int | None
    small_project_threshold_cents: int
    decision_deadline_days: int
    unsigned_release_days: int
    rules_page: str  # placeholders already filled
    template: TemplateView


def public_funds(db: Session, territory_id: int) -> list[Fund]:
    return list(
        db.scalars(select(Fund).where(Fund.territory_id == territory_id).order_by(Fund.is_active.desc(), Fund.name))
    )


def fund_rules(db: Session, territory_id: int, fund_public_id: str) -> FundRules:
    fund = funds.get_fund(db, territory_id, fund_public_id)
    view = current_view(db, fund)
    town = db.scalar(select(Territory.name).where(Territory.id == territory_id)) or ""
    return FundRules(
        public_id=fund.public_id,
        name=fund.name,
        description=fund.description,
        is_active=fund.is_active,
        match_physical_percent=fund.match_physical_percent,
        match_activity_percent=fund.match_activity_percent,
        match_priority_percent=fund.match_priority_percent,
        match_first_time_percent=fund.match_first_time_percent,
        partners_count=fund.partners_count,
        cap_town_cash_cents=fund.cap_town_cash_cents,
        small_project_threshold_cents=fund.small_project_threshold_cents,
        decision_deadline_days=fund.decision_deadline_days,
        unsigned_release_days=fund.unsigned_release_days,
        rules_page=fill(view.rules_page, {"commune": town, "dispositif": fund.name}),
        template=view,
    )
