"""Forms of the equipment pages: the inventory, a booking for a work day, handing out and taking back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5_000
CONDITION_MAX_LENGTH = 2_000
MAX_QUANTITY = 10_000


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class EquipmentInput(BaseModel):
    """An item of the inventory, as created or edited by an agent or an admin."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    description: str = Field(default="", max_length=TEXT_MAX_LENGTH)
    quantity: int = Field(ge=0, le=MAX_QUANTITY)
    condition_notes: str = Field(default="", max_length=TEXT_MAX_LENGTH)
    active: bool = False


class BookingInput(BaseModel):
    """Units of an equipment for a work day; the period defaults to the day itself."""

    model_config = ConfigDict(extra="ignore")

    equipment: str = Field(min_length=1, max_length=32)
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    commitment_line: str = Field(default="", max_length=32)

    @field_validator("starts_on", "ends_on", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> Any:
        return 1 if value in (None, "") else value


class ConditionInput(BaseModel):
    """The condition noted when the equipment leaves or comes back."""

    model_config = ConfigDict(extra="ignore")

    condition: str = Field(default="", max_length=CONDITION_MAX_LENGTH)


class CancelBookingInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(default="", max_length=CONDITION_MAX_LENGTH)
