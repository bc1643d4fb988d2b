"""Forms of the convention pages: the template editor, proposing, signing, paper signatures, amendments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.conventions.models import SignatureParty

TITLE_MAX_LENGTH = 200
CLAUSE_MAX_LENGTH = 20_000
NOTE_MAX_LENGTH = 2_000
UPKEEP_BY_MAX_LENGTH = 300
UPKEEP_MAX_MONTHS = 360
NAME_MAX_LENGTH = 200
REASON_MAX_LENGTH = 2_000
CHANGES_MAX_LENGTH = 10_000
PASSWORD_MAX_LENGTH = 256


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class TemplateForm(BaseModel):
    """A new version of a fund's convention template."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    preamble: str = Field(default="", max_length=CLAUSE_MAX_LENGTH)
    upkeep_clause: str = Field(default="", max_length=CLAUSE_MAX_LENGTH)
    insurance_clause: str = Field(default="", max_length=CLAUSE_MAX_LENGTH)
    general_clauses: str = Field(default="", max_length=CLAUSE_MAX_LENGTH)
    rules_page: str = Field(default="", max_length=CLAUSE_MAX_LENGTH)
    default_upkeep_months: int = Field(default=36, ge=0, le=UPKEEP_MAX_MONTHS)
    change_note: str = Field(default="", max_length=NOTE_MAX_LENGTH)


class ProposeForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    upkeep_by: str = Field(min_length=1, max_length=UPKEEP_BY_MAX_LENGTH)
    upkeep_months: int = Field(ge=0, le=UPKEEP_MAX_MONTHS)


class SignForm(BaseModel):
    """The password typed again, and the fingerprint of the text the page showed."""

    model_config = ConfigDict(extra="ignore")

    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)
    text_sha256: str = Field(default="", max_length=64)


class PaperForm(BaseModel):
    """A paper signature recorded by an agent (the scan comes as a file next to these fields)."""

    model_config = ConfigDict(extra="ignore")

    party: SignatureParty
    signatory_name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    signatory_capacity: str = Field(default="", max_length=NAME_MAX_LENGTH)
    signed_on: dt.date
    text_sha256: str = Field(default="", max_length=64)

    @field_validator("signed_on", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return _blank_to_none(value)


class AmendmentForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(min_length=1, max_length=REASON_MAX_LENGTH)
    changes: str = Field(min_length=1, max_length=CHANGES_MAX_LENGTH)
