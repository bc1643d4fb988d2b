"""The close-out forms, validated with ``app.web.forms.validate_form`` (translated field errors);
the services check the rules again (choices, lengths, what a final evaluation must answer)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.evaluation.service import COMMENT_MAX_LENGTH, TEXT_MAX_LENGTH, EvaluationInput, SurveyInput
from app.evaluation.traces import TEXT_MAX_LENGTH as TRACE_MAX_LENGTH
from app.evaluation.traces import TraceFilters, TraceInput
from app.evaluation.upkeep import COMMENT_MAX_LENGTH as UPKEEP_COMMENT_MAX_LENGTH
from app.evaluation.upkeep import UpkeepInput

Choice = Literal["", "met", "partly", "not_met"]
LevelChoice = Literal["", "none", "low", "medium", "high"]
GeneraliseChoice = Literal["", "yes", "no", "to_study"]


def _ticked(value: Any) -> bool:
    return value not in (None, "", "0", "false", "off", False)


class EvaluationForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    goals_met: Choice = ""
    goals_comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)
    social_level: LevelChoice = ""
    social_comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)
    environmental_level: LevelChoice = ""
    environmental_comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)
    economic_level: LevelChoice = ""
    economic_comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)
    lessons: str = Field(default="", max_length=TEXT_MAX_LENGTH)
    generalise: GeneraliseChoice = ""
    generalise_comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)
    step: Literal["draft", "final"] = "draft"

    def to_input(self) -> EvaluationInput:
        return EvaluationInput(**self.model_dump(exclude={"step"}))


class SurveyForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    satisfaction: int = Field(ge=1, le=5)
    would_again: Literal["yes", "no"]
    first_time: Literal["yes", "no"]
    comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)
    named: bool = False

    @field_validator("named", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> bool:
        return _ticked(value)

    def to_input(self) -> SurveyInput:
        return SurveyInput(
            satisfaction=self.satisfaction,
            would_again=self.would_again == "yes",
            first_time=self.first_time == "yes",
            comment=self.comment,
            named=self.named,
        )


class TraceForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    noted_on: dt.date
    text: str = Field(min_length=1, max_length=TRACE_MAX_LENGTH)
    tags: list[str] = Field(default_factory=list, max_length=20)
    initiative: str = Field(default="", max_length=40)
    neighbourhood: str = Field(default="", max_length=40)
    involves_minor: bool = False
    publishable: bool = False

    @field_validator("involves_minor", "publishable", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> bool:
        return _ticked(value)

    def to_input(self) -> TraceInput:
        return TraceInput(**self.model_dump())


class TraceQuery(BaseModel):
    """The log's filters from the query string (unknown values are ignored)."""

    tag: str = Field(default="", max_length=32)
    neighbourhood: str = Field(default="", max_length=40)
    year: int | None = Field(default=None, ge=1990, le=2100)

    @field_validator("year", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value

    def filters(self) -> TraceFilters:
        return TraceFilters(tag=self.tag, neighbourhood=self.neighbourhood, year=self.year)


class UpkeepForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["maintained", "needs_help", "gone"]
    comment: str = Field(default="", max_length=UPKEEP_COMMENT_MAX_LENGTH)

    def to_input(self) -> UpkeepInput:
        return UpkeepInput(status=self.status, comment=self.comment)
