"""What a proposal form carries, validated with translated messages (see app.web.forms)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from app.initiatives.models import LEGAL_PERSON_KINDS, BeneficiaryKind, MemberRole, ProjectType
from app.web.i18n import N_, _

SIRET_RE = re.compile(r"^[0-9]{14}$")
RNA_RE = re.compile(r"^W[0-9]{9}$")

PROJECT_TYPE_LABELS = {
    ProjectType.PHYSICAL: N_("Des travaux, un aménagement (quelque chose de construit ou planté)"),
    ProjectType.ACTIVITY: N_("Une activité, un événement, un atelier"),
}
BENEFICIARY_LABELS = {
    BeneficiaryKind.PERSON: N_("Moi-même (ou la personne qui porte le projet)"),
    BeneficiaryKind.INFORMAL_GROUP: N_("Un groupe d'habitant·es sans statut"),
    BeneficiaryKind.ASSOCIATION: N_("Une association"),
    BeneficiaryKind.SCHOOL: N_("Une école, un collège, un lycée"),
}
MEMBER_ROLE_LABELS = {
    MemberRole.PROMOTER: N_("porteur·se de projet"),
    MemberRole.CO_PROMOTER: N_("co-porteur·se"),
    MemberRole.GUARDIAN: N_("adulte garant·e"),
}


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class InitiativeInput(BaseModel):
    """A proposal as typed by a resident (or by an agent from a paper form).

    Checks that involve two fields sit on the later field (``info.data`` holds the earlier
    ones), so that each message is shown next to the field to correct.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    general_interest: str = Field(default="", max_length=5_000)
    residents_offer: str = Field(default="", max_length=5_000)
    town_request: str = Field(default="", max_length=5_000)
    project_type: ProjectType = ProjectType.PHYSICAL
    neighbourhood_id: int | None = None
    theme_id: int | None = None
    address: str = Field(default="", max_length=300)
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(
        default=None, ge=-180, le=180, max_digits=9, decimal_places=6, validate_default=True
    )
    start_on: dt.date | None = None
    end_on: dt.date | None = Field(default=None, validate_default=True)
    beneficiary_kind: BeneficiaryKind = BeneficiaryKind.PERSON
    beneficiary_name: str = Field(default="", max_length=200, validate_default=True)
    siret: str = Field(default="", max_length=20)
    rna: str = Field(default="", max_length=12, validate_default=True)
    legal_representative: str = Field(default="", max_length=200, validate_default=True)
    # An agent entering a paper form: the contact who brought it (their public id).
    contact_id: str = Field(default="", max_length=32)

    @field_validator("neighbourhood_id", "theme_id", "latitude", "longitude", "start_on", "end_on", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+,[0-9]+\s*", value):
            value = value.replace(",", ".")  # French decimal comma in coordinates
        return _blank_to_none(value)

    @field_validator("longitude")
    @classmethod
    def _point(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if "latitude" in info.data and (info.data["latitude"] is None) != (value is None):
            raise ValueError(_("Indiquez la latitude et la longitude, ou aucune des deux."))
        return value

    @field_validator("end_on")
    @classmethod
    def _dates(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("start_on")
        if start and value and value < start:
            raise ValueError(_("La date de fin doit être le même jour que le début ou après."))
        return value

    @field_validator("beneficiary_name")
    @classmethod
    def _name(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("beneficiary_kind")
        if kind is not None and kind != BeneficiaryKind.PERSON and not value:
            raise ValueError(_("Indiquez le nom du groupe, de l'association ou de l'école."))
        return value

    @field_validator("siret")
    @classmethod
    def _siret(cls, value: str) -> str:
        value = re.sub(r"[\s.]", "", value)
        if value and not SIRET_RE.match(value):
            raise ValueError(_("Un numéro SIRET compte 14 chiffres."))
        return value

    @field_validator("rna")
    @classmethod
    def _rna(cls, value: str, info: ValidationInfo) -> str:
        value = value.replace(" ", "").upper()
        if value and not RNA_RE.match(value):
            raise ValueError(_("Un numéro RNA commence par W suivi de 9 chiffres, par exemple W623000123."))
        kind = info.data.get("beneficiary_kind")
        if kind == BeneficiaryKind.ASSOCIATION and not value and info.data.get("siret", "?") == "":
            raise ValueError(_("Pour une association, indiquez son numéro SIRET ou son numéro RNA."))
        return value

    @field_validator("legal_representative")
    @classmethod
    def _representative(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("beneficiary_kind") in LEGAL_PERSON_KINDS and not value:
            raise ValueError(_("Indiquez la personne qui représente légalement la structure."))
        return value


class InviteInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: EmailStr = Field(max_length=254)
    role: Literal["co_promoter", "guardian"] = "co_promoter"


class AddContactInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    contact_id: str = Field(min_length=1, max_length=32)
    contact_role: Literal["co_promoter", "guardian"] = "co_promoter"


class WithdrawInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=2_000)
