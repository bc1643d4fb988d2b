"""The catalogue's filters, read from the query string.

A link may be old or hand-edited: a value that makes no sense is ignored (that filter only),
never an error page; the page then shows the filters it actually applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.catalogue.service import STATE_GROUPS, CatalogueFilters
from app.initiatives.models import ProjectType
from app.web.forms import clean_text

MAX_PAGE = 10_000
PUBLIC_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
YEARS = (1990, 2200)


class CatalogueQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str = Field(default="", max_length=200)
    state: str = ""
    neighbourhood: str = Field(default="", max_length=40)
    theme: str = Field(default="", max_length=40)
    year: int | None = None
    type: str = ""
    page: int = 1

    @field_validator("q", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # NUL would be refused by PostgreSQL as a bound parameter: plain text only.
        return clean_text(value.replace("\x00", ""))[:200] if isinstance(value, str) else ""

    @field_validator("neighbourhood", "theme", mode="before")
    @classmethod
    def _public_id(cls, value: Any) -> Any:
        return value if isinstance(value, str) and PUBLIC_ID_RE.fullmatch(value) else ""

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        return value if value in STATE_GROUPS else ""

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return value if value in {t.value for t in ProjectType} else ""

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit() and YEARS[0] <= int(value) <= YEARS[1]:
            return int(value)
        return None

    @field_validator("page", mode="before")
    @classmethod
    def _page(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit() and 1 <= int(value) <= MAX_PAGE:
            return int(value)
        return 1


def filters_from(params: Mapping[str, str]) -> CatalogueFilters:
    """The filters of a query string (a repeated key counts once: its last value)."""
    query = CatalogueQuery.model_validate({k: params[k] for k in CatalogueQuery.model_fields if k in params})
    return CatalogueFilters(
        q=query.q,
        state=query.state,
        neighbourhood=query.neighbourhood,
        theme=query.theme,
        year=query.year,
        project_type=query.type,
        page=query.page,
    )
