"""What the petition forms carry, validated with translated messages (see app.web.forms), and the
public list's filters read from the query string (a value that makes no sense is ignored)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.petitions.models import AnswerOutcome, LegalPurpose, PetitionKind
from app.web.forms import clean_text
from app.web.i18n import N_, _

KIND_LABELS = {
    PetitionKind.CIVIC: N_("Une pétition citoyenne (ouverte à tous les habitant·es)"),
    PetitionKind.LEGAL: N_("Une demande de consultation (art. L1112-16 du CGCT, électeur·rices inscrit·es)"),
}
PURPOSE_LABELS = {
    LegalPurpose.CONSULTATION: N_("Demander au conseil municipal d'organiser une consultation locale"),
    LegalPurpose.POSITION: N_("Demander au conseil municipal de prendre position sur une question"),
}
OUTCOME_LABELS = {
    AnswerOutcome.ACCEPTED: N_("Demande acceptée"),
    AnswerOutcome.PARTLY: N_("Demande acceptée en partie"),
    AnswerOutcome.REFUSED: N_("Demande refusée"),
    AnswerOutcome.CONVERTED: N_("Transformée en initiative fifty-fifty"),
    AnswerOutcome.CONSULTATION: N_("Une consultation est organisée"),
    AnswerOutcome.TRANSMITTED: N_("Transmise à l'autorité compétente"),
}


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class PetitionInput(BaseModel):
    """A petition as its author writes it. The purpose is asked of legal requests only."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: PetitionKind = PetitionKind.CIVIC
    title: str = Field(min_length=1, max_length=200)
    request: str = Field(default="", max_length=2_000)
    body: str = Field(default="", max_length=20_000)
    neighbourhood_id: int | None = None
    theme_id: int | None = None
    legal_purpose: LegalPurpose | None = Field(default=None, validate_default=True)

    @field_validator("neighbourhood_id", "theme_id", "legal_purpose", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("legal_purpose")
    @classmethod
    def _purpose(cls, value: LegalPurpose | None, info: ValidationInfo) -> LegalPurpose | None:
        if info.data.get("kind") == PetitionKind.LEGAL:
            if value is None:
                raise ValueError(_("Dites ce que vous demandez au conseil municipal."))
            return value
        return None


class RejectInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=32)
    comment: str = Field(default="", max_length=5_000)


class AnswerInput(BaseModel):
    """The official answer's draft. Which fields a transmitted answer needs is checked on publishing."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    outcome: AnswerOutcome | None = None
    text: str = Field(default="", max_length=20_000)
    authority: str = Field(default="", max_length=200)
    transmitted_on: dt.date | None = None

    @field_validator("outcome", "transmitted_on", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _blank_to_none(value)


class ReplyInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reply_on: dt.date
    text: str = Field(min_length=1, max_length=20_000)

    @field_validator("reply_on", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _blank_to_none(value)


# ---------------------------------------------------------------- the public list's filters

MAX_PAGE = 10_000
PUBLIC_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
TABS = {
    "open": N_("Ouvertes"),
    "awaiting": N_("En attente de réponse"),
    "answered": N_("Avec une réponse"),
    "closed": N_("Closes"),
}


@dataclass(frozen=True)
class PetitionFilters:
    q: str = ""
    tab: str = ""  # a key of TABS, or every public petition
    neighbourhood: str = ""  # public ids
    theme: str = ""
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.q or self.tab or self.neighbourhood or self.theme)

    def query(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"q": self.q, "tab": self.tab, "neighbourhood": self.neighbourhood}
        values.update(theme=self.theme, page=self.page)
        values.update(changes)
        if values.get("page") == 1:
            values["page"] = ""
        return values


class _ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str = ""
    tab: str = ""
    neighbourhood: str = ""
    theme: str = ""
    page: int = 1

    @field_validator("q", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return clean_text(value.replace("\x00", ""))[:200] if isinstance(value, str) else ""

    @field_validator("tab", mode="before")
    @classmethod
    def _tab(cls, value: Any) -> Any:
        return value if value in TABS else ""

    @field_validator("neighbourhood", "theme", mode="before")
    @classmethod
    def _public_id(cls, value: Any) -> Any:
        return value if isinstance(value, str) and PUBLIC_ID_RE.fullmatch(value) else ""

    @field_validator("page", mode="before")
    @classmethod
    def _page(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit() and 1 <= int(value) <= MAX_PAGE:
            return int(value)
        return 1


def filters_from(params: Mapping[str, str]) -> PetitionFilters:
    query = _ListQuery.model_validate({k: params[k] for k in _ListQuery.model_fields if k in params})
    return PetitionFilters(
        q=query.q, tab=query.tab, neighbourhood=query.neighbourhood, theme=query.theme, page=query.page
    )
