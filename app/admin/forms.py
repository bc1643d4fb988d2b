"""Administration forms: typed input with French labels and help, validated before any change."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accounts.models import Role
from app.territories.settings_schema import AccessibilityStatement, LegalNotices, TerritorySettings
from app.web.i18n import N_, _

EUROS_RE = re.compile(r"^(\d{1,9})(?:[.,](\d{1,2}))?$")
SIRET_RE = re.compile(r"^\d{14}$")
SPACES = dict.fromkeys(map(ord, " \u00a0\u202f"), None)


def parse_euros(value: Any) -> Any:
    """ "11,88" or "11.88" or "1 234" euros -> integer cents; anything else is refused."""
    if isinstance(value, int):
        return value * 100
    if not isinstance(value, str):
        return value
    match = EUROS_RE.match(value.translate(SPACES).removesuffix("€"))
    if not match:
        raise ValueError(_("Saisissez un montant en euros, par exemple 11,88."))
    whole, frac = match.groups()
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


def parse_decimal(value: Any) -> Any:
    if isinstance(value, str):
        value = value.translate(SPACES).replace(",", ".")
        if value == "":
            return None
    return value


def empty_to_none(value: Any) -> Any:
    return None if value == "" else value


def cents_to_text(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    return f"{euros},{rest:02d}" if rest else str(euros)


def check_http_url(value: str) -> str:
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in value for c in " \r\n\t"):
        raise ValueError(_("Saisissez une adresse web commençant par https:// ou http://."))
    return value


@dataclass(frozen=True)
class FieldSpec:
    """How a settings field is shown: name, label, help text, input kind and choices."""

    name: str
    label: str
    help: str = ""
    kind: str = "text"  # text / number / euros / decimal / select / textarea / checkbox / date / email
    options: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- territory: general


class GeneralForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    population: int = Field(ge=0, le=100_000_000)
    registered_electors: int = Field(ge=0, le=100_000_000)
    siret: str | None = Field(default=None, max_length=40)
    timezone: str = Field(default="Europe/Paris", max_length=64)

    @field_validator("siret")
    @classmethod
    def _siret(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.translate(SPACES)
        if not SIRET_RE.match(value):
            raise ValueError(_("Le SIRET compte exactement 14 chiffres."))
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(_("Fuseau horaire inconnu."))
        return value


GENERAL_FIELDS = (
    FieldSpec("name", N_("Nom de la commune")),
    FieldSpec(
        "population",
        N_("Population municipale"),
        N_("Chiffre INSEE en vigueur ; sert aux seuils des pétitions."),
        "number",
    ),
    FieldSpec(
        "registered_electors",
        N_("Électeur·rices inscrit·es"),
        N_("Sert au seuil d'un dixième des électeurs pour demander une consultation locale."),
        "number",
    ),
    FieldSpec("siret", N_("SIRET de la commune"), N_("14 chiffres, espaces permis."), "text"),
    FieldSpec("timezone", N_("Fuseau horaire"), N_("Par exemple Europe/Paris, ou America/Cayenne en Guyane.")),
)


# ---------------------------------------------------------------- territory: scheme rules


class RulesForm(BaseModel):
    """The fifty-fifty and petition rules, flattened for one HTML form."""

    model_config = ConfigDict(extra="ignore")

    ff_upkeep_years: int = Field(ge=0, le=30)
    ff_fiscal_year_start_month: int = Field(ge=1, le=12)
    pt_answer_threshold_minimum: int = Field(ge=1, le=10_000_000)
    pt_answer_threshold_percent: float = Field(ge=0, le=100, allow_inf_nan=False)
    pt_council_threshold_minimum: int = Field(ge=1, le=10_000_000)
    pt_council_threshold_percent: float = Field(ge=0, le=100, allow_inf_nan=False)
    pt_answer_deadline_days: int = Field(ge=1, le=365)
    pt_open_period_months: int = Field(ge=1, le=24)
    pt_threshold_basis: Literal["town", "total"] = "town"
    # The petitions' charter, one reason a line: "key: label" (empty: unchanged).
    pt_charter_text: str = Field(default="", max_length=10_000)
    scheme_intro: str = Field(default="", max_length=5000)
    require_second_factor_for_staff: bool = False

    @field_validator("pt_answer_threshold_percent", "pt_council_threshold_percent", mode="before")
    @classmethod
    def _decimals(cls, value: Any) -> Any:
        return parse_decimal(value)

    @field_validator("pt_charter_text")
    @classmethod
    def _charter(cls, value: str) -> str:
        parse_charter(value)
        return value

    def apply(self, current: TerritorySettings) -> TerritorySettings:
        data = current.model_dump(mode="json")
        for key, value in self.model_dump().items():
            if key == "pt_charter_text":
                if value.strip():
                    data["petitions"]["charter"] = parse_charter(value)
            elif key.startswith("ff_"):
                data["fifty_fifty"][key[3:]] = value
            elif key.startswith("pt_"):
                data["petitions"][key[3:]] = value
            else:
                data[key] = value
        return TerritorySettings.model_validate(data)

    @staticmethod
    def values_from(settings: TerritorySettings) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in settings.fifty_fifty.model_dump().items():
            values["ff_" + key] = value
        for key, value in settings.petitions.model_dump().items():
            values["pt_" + key] = str(value).replace(".", ",") if isinstance(value, float) else value
        values.pop("pt_charter", None)
        values["pt_charter_text"] = "\n".join(f"{r.key}: {_(r.label)}" for r in settings.petitions.charter)
        values["scheme_intro"] = settings.scheme_intro
        values["require_second_factor_for_staff"] = settings.require_second_factor_for_staff
        return values


CHARTER_LINE_RE = re.compile(r"^([a-z0-9_]{1,32})\s*:\s*(\S.{0,299})$")


def parse_charter(text: str) -> list[dict[str, str]]:
    """The charter's lines "key: label" as reasons (ValueError with a translated message)."""
    reasons: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = CHARTER_LINE_RE.match(line)
        if match is None:
            raise ValueError(
                _("Ligne %(n)s : écrivez une clé (minuscules, chiffres, _), deux-points, puis le motif.")
                % {"n": number}
            )
        if any(r["key"] == match.group(1) for r in reasons):
            raise ValueError(_("Ligne %(n)s : cette clé est déjà utilisée.") % {"n": number})
        reasons.append({"key": match.group(1), "label": match.group(2).strip()})
    if text.strip() and not reasons:
        raise ValueError(_("La charte doit compter au moins un motif."))
    if len(reasons) > 30:
        raise ValueError(_("La charte compte au plus 30 motifs."))
    return reasons


MONTHS = (
    N_("janvier"), N_("février"), N_("mars"), N_("avril"), N_("mai"), N_("juin"),
    N_("juillet"), N_("août"), N_("septembre"), N_("octobre"), N_("novembre"), N_("décembre"),
)  # fmt: skip

FIFTY_FIFTY_FIELDS = (
    FieldSpec(
        "ff_upkeep_years",
        N_("Durée d'entretien prévue par la convention (années)"),
        "",
        "number",
    ),
    FieldSpec("ff_fiscal_year_start_month", N_("Premier mois de l'exercice budgétaire"), "", "month"),
)

PETITION_FIELDS = (
    FieldSpec(
        "pt_answer_threshold_minimum",
        N_("Seuil de réponse du maire : nombre minimal de signatures"),
        N_("Le seuil retenu est le plus grand des deux : ce nombre ou le pourcentage de la population."),
        "number",
    ),
    FieldSpec(
        "pt_answer_threshold_percent",
        N_("Seuil de réponse : pourcentage de la population"),
        N_("Par exemple 1 ou 0,5."),
        "decimal",
    ),
    FieldSpec(
        "pt_council_threshold_minimum", N_("Seuil d'inscription au conseil municipal : nombre minimal"), "", "number"
    ),
    FieldSpec(
        "pt_council_threshold_percent",
        N_("Seuil d'inscription au conseil : pourcentage de la population"),
        "",
        "decimal",
    ),
    FieldSpec("pt_answer_deadline_days", N_("Délai de la réponse officielle (jours)"), "", "number"),
    FieldSpec("pt_open_period_months", N_("Durée d'ouverture d'une pétition (mois)"), "", "number"),
    FieldSpec(
        "pt_threshold_basis",
        N_("Signatures comptées pour les seuils"),
        N_("Les personnes qui vivent, travaillent ou utilisent les services de la commune, ou toutes les signatures."),
        "select",
        (("town", N_("liées à la commune")), ("total", N_("toutes les signatures"))),
    ),
    FieldSpec(
        "pt_charter_text",
        N_("Charte des pétitions : les motifs pour lesquels une pétition n'est pas publiée"),
        N_(
            "Un motif par ligne : une clé, deux-points, puis le motif (par exemple « hors_competence : "
            "La demande ne relève pas de la commune. »). Gardez les clés existantes : elles relient les "
            "pétitions déjà refusées à leur motif. La charte est publiée sur la page /petitions/charte."
        ),
        "textarea",
    ),
)

OTHER_RULE_FIELDS = (
    FieldSpec(
        "scheme_intro",
        N_("Présentation du dispositif (page d'accueil)"),
        N_("Texte simple ; Markdown accepté (listes, liens, gras)."),
        "textarea",
    ),
    FieldSpec(
        "require_second_factor_for_staff",
        N_("Exiger un second facteur pour le personnel"),
        "",
        "checkbox",
    ),
)


# ---------------------------------------------------------------- territory: legal notices and accessibility


class LegalForm(LegalNotices):
    """The legal notices as stored, plus the accessibility statement typed for the form."""

    status: Literal["non_conforme", "partiellement_conforme", "totalement_conforme"] = "non_conforme"
    audit_date: dt.date | None = None
    audit_rate_percent: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    auditor: str = Field(default="", max_length=300)
    contact: str = Field(default="", max_length=500)
    non_accessible_content: str = Field(default="", max_length=5000)

    @field_validator("audit_date", mode="before")
    @classmethod
    def _empty_date(cls, value: Any) -> Any:
        return empty_to_none(value)

    @field_validator("audit_rate_percent", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        return parse_decimal(value)

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not value:
            return value
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ValueError(_("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.")) from None

    def legal(self) -> LegalNotices:
        return LegalNotices.model_validate(self.model_dump(include=set(LegalNotices.model_fields)))

    def accessibility(self) -> AccessibilityStatement:
        data = self.model_dump(include=set(AccessibilityStatement.model_fields))
        data["audit_date"] = self.audit_date.isoformat() if self.audit_date else ""
        return AccessibilityStatement.model_validate(data)

    @staticmethod
    def values_from(legal: LegalNotices, accessibility: AccessibilityStatement) -> dict[str, Any]:
        values: dict[str, Any] = {**legal.model_dump(), **accessibility.model_dump()}
        rate = accessibility.audit_rate_percent
        values["audit_rate_percent"] = "" if rate is None else str(rate).replace(".", ",")
        return values


LEGAL_FIELDS = (
    FieldSpec("controller", N_("Responsable du traitement"), N_("En général : la commune, représentée par son maire.")),
    FieldSpec("controller_address", N_("Adresse de la mairie"), "", "textarea"),
    FieldSpec("dpo_contact", N_("Contact du ou de la délégué·e à la protection des données")),
    FieldSpec("publication_director", N_("Directeur·rice de la publication")),
    FieldSpec("host", N_("Hébergeur (nom, adresse, téléphone)"), "", "textarea"),
    FieldSpec("contact_email", N_("Adresse e-mail de contact"), "", "email"),
)

ACCESSIBILITY_FIELDS = (
    FieldSpec(
        "status",
        N_("État de conformité au RGAA"),
        N_("Sans audit, le site est « non conforme »."),
        "select",
        (
            ("non_conforme", N_("non conforme")),
            ("partiellement_conforme", N_("partiellement conforme")),
            ("totalement_conforme", N_("totalement conforme")),
        ),
    ),
    FieldSpec("audit_date", N_("Date de l'audit"), "", "date"),
    FieldSpec("audit_rate_percent", N_("Taux de conformité (en pourcentage)"), N_("Par exemple 87,5."), "decimal"),
    FieldSpec("auditor", N_("Auditeur ou auditrice")),
    FieldSpec("contact", N_("Contact pour signaler un défaut d'accessibilité"), "", "textarea"),
    FieldSpec(
        "non_accessible_content",
        N_("Contenus non accessibles"),
        N_("Liste des non-conformités et dérogations."),
        "textarea",
    ),
)


# ---------------------------------------------------------------- neighbourhoods, themes, sittings


class NeighbourhoodForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    population: int = Field(default=0, ge=0, le=100_000_000)
    is_priority: bool = False

    @field_validator("population", mode="before")
    @classmethod
    def _population(cls, value: Any) -> Any:
        return 0 if value == "" else value


class ThemeForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class SittingForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sitting_date: dt.date
    title: str = Field(min_length=1, max_length=300)
    agenda: str = Field(default="", max_length=20_000)
    deliberation_numbers: str = Field(default="", max_length=2000)
    minutes_url: str = Field(default="", max_length=500)

    @field_validator("minutes_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_http_url(value)

    @field_validator("sitting_date")
    @classmethod
    def _plausible(cls, value: dt.date) -> dt.date:
        if not 1900 <= value.year <= 2200:
            raise ValueError(_("Saisissez une date valide (jj/mm/aaaa)."))
        return value


# ---------------------------------------------------------------- roles


class GrantForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role
    delegation_reference: str = Field(default="", max_length=200)
    delegation_scope: str = Field(default="", max_length=2000)
    reason: str = Field(min_length=1, max_length=500)


class ReasonForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(min_length=1, max_length=500)


NEIGHBOURHOOD_FIELDS = (
    FieldSpec("name", N_("Nom du quartier")),
    FieldSpec("population", N_("Population"), N_("Nombre d'habitant·es, si vous le connaissez."), "number"),
    FieldSpec(
        "is_priority",
        N_("Quartier prioritaire de la politique de la ville"),
        N_("Les projets de ces quartiers sont signalés aux agent·es."),
        "checkbox",
    ),
)

THEME_FIELDS = (
    FieldSpec("name", N_("Nom de la thématique")),
    FieldSpec("description", N_("Description"), N_("Une phrase pour aider les habitant·es à choisir."), "textarea"),
)

SITTING_FIELDS = (
    FieldSpec("sitting_date", N_("Date de la séance"), "", "date"),
    FieldSpec("title", N_("Intitulé"), N_("Par exemple : Conseil municipal du 12 mars.")),
    FieldSpec("agenda", N_("Ordre du jour"), N_("Un point par ligne."), "textarea"),
    FieldSpec(
        "deliberation_numbers",
        N_("Numéros des délibérations"),
        N_("Séparés par des virgules, par exemple 2026-015, 2026-016."),
    ),
    FieldSpec("minutes_url", N_("Lien vers le procès-verbal"), N_("Adresse web commençant par https://."), "url"),
)
