"""What the library forms carry: the texts the agent re-reads before sharing, and the agreement."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ShareInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    lessons: str = Field(default="", max_length=5_000)
    # The agent confirms that the promoters agreed to the sharing (checked by the service).
    promoters_agreed: bool = False

    @field_validator("promoters_agreed", mode="before")
    @classmethod
    def _unticked(cls, value: Any) -> Any:
        # An unticked box is absent, or empty when a page sends it anyway: not agreed, not an error.
        return False if value in ("", None) else value


class WithdrawEntryInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=2_000)
