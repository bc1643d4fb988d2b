"""What the report and moderation forms carry, validated with translated messages (app.web.forms)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.moderation.models import ReportReason
from app.web.i18n import N_, _

COMMENT_MAX = 2_000
REASON_MAX = 2_000

REASON_LABELS = {
    ReportReason.INSULT: N_("Insulte, propos injurieux ou haineux"),
    ReportReason.PERSONAL_DATA: N_("Données personnelles (le nom, l'adresse ou le visage de quelqu'un)"),
    ReportReason.OFF_TOPIC: N_("Hors sujet, publicité"),
    ReportReason.OTHER: N_("Autre raison"),
}


class ReportInput(BaseModel):
    """A report: which part of the content (for an initiative: its text or one of its photos), why."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    element: str = Field(default="", max_length=40)
    reason: ReportReason
    comment: str = Field(default="", max_length=COMMENT_MAX, validate_default=True)

    @field_validator("comment")
    @classmethod
    def _explained(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("reason") == ReportReason.OTHER and not value:
            raise ValueError(_("Dites en quelques mots ce qui pose problème."))
        return value


class DecisionInput(BaseModel):
    """Hiding or restoring content always says why (the team of the content reads it)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=REASON_MAX)


class DismissInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=REASON_MAX)
