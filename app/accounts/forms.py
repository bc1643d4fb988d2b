"""Form models of the account pages (validated by ``app.web.forms.validate_form``).

Field rules that need the database (e-mail already used, neighbourhood of this town, password
policy) live in the service; these models check shape, lengths and choices.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from app.accounts.models import AgeBracket
from app.accounts.tokens import MAX_EXPIRY_DAYS, MAX_NAME_LENGTH
from app.web.i18n import _

Email = Annotated[str, StringConstraints(min_length=1, max_length=254)]
# The policy (8 to 256 characters, not a common password) is the service's; this only bounds input.
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=120)]


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _ConfirmedPassword(_Form):
    """The repeated password must match the first one (declared just before it)."""

    @staticmethod
    def _check_match(value: str, info: ValidationInfo, first: str) -> str:
        if first in info.data and value != info.data[first]:
            raise ValueError(_("Les deux mots de passe ne sont pas identiques."))
        return value


class RegisterForm(_ConfirmedPassword):
    email: Email
    password: Password
    password_confirm: Password
    display_name: DisplayName
    neighbourhood_id: int | None = None
    age_bracket: AgeBracket
    guardian_contact: Annotated[str, StringConstraints(max_length=300)] = ""

    _none = field_validator("neighbourhood_id", mode="before")(_empty_to_none)

    @field_validator("password_confirm")
    @classmethod
    def _same(cls, value: str, info: ValidationInfo) -> str:
        return cls._check_match(value, info, "password")

    @field_validator("guardian_contact")
    @classmethod
    def _guardian(cls, value: str, info: ValidationInfo) -> str:
        # The service checks it too; here it is reported together with the other fields' errors.
        if info.data.get("age_bracket") == AgeBracket.UNDER_15 and not value:
            raise ValueError(_("Pour les moins de 15 ans, indiquez le nom et le téléphone ou l'e-mail d'un parent."))
        return value


class LoginForm(_Form):
    email: Email
    password: Password
    next: Annotated[str, StringConstraints(max_length=500)] = ""


class ForgotForm(_Form):
    email: Email


class ResetForm(_ConfirmedPassword):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: Password
    password_confirm: Password

    @field_validator("password_confirm")
    @classmethod
    def _same(cls, value: str, info: ValidationInfo) -> str:
        return cls._check_match(value, info, "password")


class VerifyForm(_Form):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ProfileForm(_Form):
    display_name: DisplayName
    neighbourhood_id: int | None = None
    locale: Literal["fr", "en"] = "fr"

    _none = field_validator("neighbourhood_id", mode="before")(_empty_to_none)


class PasswordChangeForm(_ConfirmedPassword):
    current_password: Password
    new_password: Password
    new_password_confirm: Password

    @field_validator("new_password_confirm")
    @classmethod
    def _same(cls, value: str, info: ValidationInfo) -> str:
        return cls._check_match(value, info, "new_password")


class TokenForm(_Form):
    name: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)]
    scopes: list[Literal["read", "write"]] = Field(default_factory=list)
    expires_in_days: Annotated[int, Field(ge=1, le=MAX_EXPIRY_DAYS)] | None = None

    _none = field_validator("expires_in_days", mode="before")(_empty_to_none)

    @field_validator("scopes")
    @classmethod
    def _at_least_one(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(_("Cochez au moins une portée : lecture ou écriture."))
        return value
