"""The rules a territory sets for its fifty-fifty scheme and its petitions, with French defaults.

Stored as JSON on the territory; later domains read them through these models so that a
missing key always falls back to the documented default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.web.i18n import N_


class FiftyFiftyRules(BaseModel):
    """What the scheme keeps at the territory's level. The match rules, the cap and the decision
    deadline belong to each fund (``Fund``), the value of an hour to the dated rate table
    (``Rate``): keys once stored here for them are ignored."""

    model_config = ConfigDict(extra="ignore")

    upkeep_years: int = Field(default=3, ge=0, le=30)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


class CharterReason(BaseModel):
    """One reason of the published petition charter: a stable key (stored on a rejected petition)
    and its French label (defaults are translated when shown; an admin's own wording is shown as is)."""

    model_config = ConfigDict(extra="ignore")

    key: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1, max_length=300)


DEFAULT_CHARTER = (
    ("outside_powers", N_("La demande ne relève pas des compétences de la commune.")),
    ("insulting", N_("Le texte est diffamatoire, injurieux ou discriminatoire.")),
    ("personal", N_("Le texte contient des données personnelles ou met en cause une personne.")),
    ("propaganda", N_("Le texte est une publicité commerciale ou de la propagande électorale.")),
    ("duplicate", N_("Une pétition ouverte demande déjà la même chose : signez-la plutôt.")),
    ("unlawful", N_("La demande est contraire à la loi.")),
)


def _default_charter() -> list[CharterReason]:
    return [CharterReason(key=k, label=label) for k, label in DEFAULT_CHARTER]


class PetitionRules(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answer_threshold_minimum: int = Field(default=50, ge=1, le=10_000_000)
    answer_threshold_percent: float = Field(default=1.0, ge=0, le=100)
    council_threshold_minimum: int = Field(default=300, ge=1, le=10_000_000)
    council_threshold_percent: float = Field(default=5.0, ge=0, le=100)
    answer_deadline_days: int = Field(default=60, ge=1, le=365)
    open_period_months: int = Field(default=3, ge=1, le=24)
    # Which count the thresholds use: signers who live/work/use services in the town, or everyone.
    threshold_basis: Literal["town", "total"] = "town"
    # Throwaway e-mail domains refused for guest signatures (their subdomains too).
    disposable_domains: list[str] = Field(
        default_factory=lambda: [
            "yopmail.com",
            "yopmail.fr",
            "mailinator.com",
            "guerrillamail.com",
            "10minutemail.com",
            "temp-mail.org",
            "trashmail.com",
            "jetable.org",
        ],
        max_length=5000,
    )
    # The published charter: the only reasons for which the town may refuse to publish a petition.
    charter: list[CharterReason] = Field(default_factory=_default_charter, min_length=1, max_length=30)
    # Civic signers' names, e-mails and postcodes are erased this long after the answer or the
    # closing, whichever is later; the counts stay.
    signer_data_months: int = Field(default=12, ge=1, le=120)


class TerritorySettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fifty_fifty: FiftyFiftyRules = Field(default_factory=FiftyFiftyRules)
    petitions: PetitionRules = Field(default_factory=PetitionRules)
    # Plain-words presentation of the scheme, shown on the home page (Markdown).
    scheme_intro: str = Field(default="", max_length=5000)
    require_second_factor_for_staff: bool = False


class LegalNotices(BaseModel):
    model_config = ConfigDict(extra="ignore")

    controller: str = Field(default="", max_length=300)
    controller_address: str = Field(default="", max_length=500)
    dpo_contact: str = Field(default="", max_length=300)
    publication_director: str = Field(default="", max_length=300)
    host: str = Field(default="", max_length=500)
    contact_email: str = Field(default="", max_length=254)


class AccessibilityStatement(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # "non_conforme" until an audit is entered (RGAA: no audit means non-conforming).
    status: Literal["non_conforme", "partiellement_conforme", "totalement_conforme"] = "non_conforme"
    audit_date: str = Field(default="", max_length=10)
    audit_rate_percent: float | None = Field(default=None, ge=0, le=100)
    auditor: str = Field(default="", max_length=300)
    contact: str = Field(default="", max_length=500)
    non_accessible_content: str = Field(default="", max_length=5000)
