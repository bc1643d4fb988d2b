"""Forms of the fund and rate administration pages: euros with a comma, percentages, dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.admin.forms import FieldSpec, cents_to_text, empty_to_none, parse_euros
from app.funds.models import Enforcement, Fund, RateKind
from app.web.i18n import N_

ENFORCEMENT_CHOICES: tuple[tuple[str, str], ...] = (
    (Enforcement.WARN.value, N_("Avertir : la règle est un esprit, la décision reste possible")),
    (Enforcement.BLOCK.value, N_("Bloquer : dépasser demande une dérogation écrite de l'exécutif")),
    (Enforcement.OFF.value, N_("Sans contrôle")),
)

RATE_KIND_LABELS: dict[str, str] = {
    RateKind.VOLUNTEER_HOUR.value: N_("Heure de bénévolat"),
    RateKind.PROFESSIONAL_HOUR.value: N_("Heure de prestation professionnelle"),
    RateKind.STAFF_HOUR.value: N_("Heure d'agent·e de la commune"),
    RateKind.EQUIPMENT_DAY.value: N_("Journée de matériel"),
}


def _optional_euros(value: Any) -> Any:
    value = empty_to_none(value)
    return None if value is None else parse_euros(value)


class FundForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    is_active: bool = False
    match_physical_percent: int = Field(ge=0, le=1000)
    match_activity_percent: int = Field(ge=0, le=1000)
    match_priority_percent: int | None = Field(default=None, ge=0, le=1000)
    match_first_time_percent: int | None = Field(default=None, ge=0, le=1000)
    partners_count: bool = False
    enforcement: Enforcement = Enforcement.WARN
    cap_town_cash_cents: int | None = Field(default=None, ge=0, le=10**11)
    small_project_threshold_cents: int = Field(default=50_000, ge=0, le=10**11)
    decision_deadline_days: int = Field(default=30, ge=1, le=365)
    unsigned_release_days: int = Field(default=60, ge=1, le=730)

    @field_validator("match_priority_percent", "match_first_time_percent", mode="before")
    @classmethod
    def _optional_percent(cls, value: Any) -> Any:
        return empty_to_none(value)

    @field_validator("cap_town_cash_cents", mode="before")
    @classmethod
    def _cap(cls, value: Any) -> Any:
        return _optional_euros(value)

    @field_validator("small_project_threshold_cents", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> Any:
        return parse_euros(value)

    @staticmethod
    def values_from(fund: Fund) -> dict[str, Any]:
        return {
            "name": fund.name,
            "description": fund.description,
            "is_active": fund.is_active,
            "match_physical_percent": fund.match_physical_percent,
            "match_activity_percent": fund.match_activity_percent,
            "match_priority_percent": "" if fund.match_priority_percent is None else fund.match_priority_percent,
            "match_first_time_percent": "" if fund.match_first_time_percent is None else fund.match_first_time_percent,
            "partners_count": fund.partners_count,
            "enforcement": fund.enforcement,
            "cap_town_cash_cents": "" if fund.cap_town_cash_cents is None else cents_to_text(fund.cap_town_cash_cents),
            "small_project_threshold_cents": cents_to_text(fund.small_project_threshold_cents),
            "decision_deadline_days": fund.decision_deadline_days,
            "unsigned_release_days": fund.unsigned_release_days,
        }


FUND_FIELDS = (
    FieldSpec("name", N_("Nom du dispositif"), N_("Par exemple « Fifty-fifty » ou « Petits projets jeunes »."), "text"),
    FieldSpec("description", N_("Présentation"), N_("En quelques phrases simples (Markdown)."), "textarea"),
    FieldSpec("is_active", N_("Dispositif ouvert aux nouvelles initiatives"), "", "checkbox"),
    FieldSpec(
        "match_physical_percent",
        N_("Apport demandé aux habitant·es pour des travaux (en pourcentage)"),
        N_("100 : un euro valorisé par les habitant·es pour un euro de la commune."),
        "number",
    ),
    FieldSpec(
        "match_activity_percent",
        N_("Apport demandé aux habitant·es pour une activité (en pourcentage)"),
        N_("50 : cinquante centimes valorisés pour un euro de la commune."),
        "number",
    ),
    FieldSpec(
        "match_priority_percent",
        N_("Apport demandé dans un quartier prioritaire (en pourcentage)"),
        N_("Laisser vide pour appliquer la règle générale."),
        "number",
    ),
    FieldSpec(
        "match_first_time_percent",
        N_("Apport demandé pour un premier projet (en pourcentage)"),
        N_("Laisser vide pour appliquer la règle générale."),
        "number",
    ),
    FieldSpec("partners_count", N_("Les partenaires comptent avec les habitant·es"), "", "checkbox"),
    FieldSpec("enforcement", N_("Si la règle n'est pas respectée"), "", "select", ENFORCEMENT_CHOICES),
    FieldSpec(
        "cap_town_cash_cents",
        N_("Plafond de dépense de la commune par initiative (€ TTC)"),
        N_("Laisser vide pour ne pas plafonner."),
        "euros",
    ),
    FieldSpec(
        "small_project_threshold_cents",
        N_("Seuil des petits projets (€)"),
        N_(
            "Sous ce montant d'apport de la commune (argent et nature), une procédure allégée s'applique : un simple engagement signé par les porteur·ses remplace la convention."
        ),
        "euros",
    ),
    FieldSpec("decision_deadline_days", N_("Délai de décision (jours)"), "", "number"),
    FieldSpec(
        "unsigned_release_days",
        N_("Crédits libérés si la convention n'est pas signée après (jours)"),
        "",
        "number",
    ),
)


class EnvelopeForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fiscal_year: int = Field(ge=2000, le=2100)
    neighbourhood: str | None = Field(default=None, max_length=32)
    amount_cents: int = Field(ge=0, le=10**11)

    @field_validator("neighbourhood", mode="before")
    @classmethod
    def _neighbourhood(cls, value: Any) -> Any:
        return empty_to_none(value)

    @field_validator("amount_cents", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        return parse_euros(value)


class RateForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: RateKind
    label: str = Field(default="", max_length=200)
    value_cents: int = Field(ge=0, le=10**9)
    effective_from: dt.date
    source: str = Field(default="", max_length=300)

    @field_validator("value_cents", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        return parse_euros(value)
