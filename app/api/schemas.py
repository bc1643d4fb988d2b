"""JSON shapes of the API. Money fields are integer cents ending in ``_cents``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """An error, as RFC 9457 ``application/problem+json``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": description}
    for status, description in {
        400: "Malformed request",
        401: "Missing, invalid or revoked token, or a token of another territory",
        403: "The token lacks the scope, or the person the role",
        404: "Not found (or not visible to this token)",
        422: "Invalid data",
        429: "Too many requests",
        500: "Unexpected error",
        503: "Database unavailable",
    }.items()
}


class NamedRef(BaseModel):
    public_id: str
    name: str


class TerritoryOut(BaseModel):
    slug: str
    name: str
    insee_code: str
    population: int
    registered_electors: int
    timezone: str


class Me(BaseModel):
    public_id: str
    display_name: str
    email: str
    email_verified: bool
    locale: str
    age_bracket: str
    neighbourhood: NamedRef | None
    roles: list[str]
    territory: TerritoryOut
    token_scopes: list[str]


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    neighbourhood_id: str | None = Field(default=None, description="public_id of a neighbourhood, or '' to clear")
    locale: str | None = Field(default=None, pattern="^(fr|en)$")


class Thresholds(BaseModel):
    answer: int
    council: int
    legal_request: int


class SittingOut(BaseModel):
    public_id: str
    sitting_date: dt.date
    title: str


class TerritoryInfo(BaseModel):
    territory: TerritoryOut
    neighbourhoods: list[NamedRef]
    themes: list[NamedRef]
    petition_thresholds: Thresholds
    volunteer_hour_value_cents: int
    upcoming_sittings: list[SittingOut]
