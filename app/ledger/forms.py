"""The "add a line" form: hours as "h:mm" or decimal hours with a comma, euros with a comma."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.admin.forms import empty_to_none, parse_euros
from app.core.errors import Invalid
from app.ledger.models import LineKind, Side, Unit
from app.ledger.service import LineInput, unit_of
from app.ledger.valuation import MAX_QUANTITY
from app.web.i18n import _

SPACES = dict.fromkeys(map(ord, " \u00a0\u202f"), None)
CLOCK_RE = re.compile(r"^(\d{1,7})(?::|h)(\d{1,2})?$")
DECIMAL_RE = re.compile(r"^(\d{1,7})(?:[.,](\d{1,2}))?h?$")
INTEGER_RE = re.compile(r"^\d{1,10}$")


def parse_hours(text: str) -> int:
    """ "3:30", "3h30", "3 h", "3,5" or "3.25" hours -> minutes (decimal hours rounded half-up to the minute)."""
    value = text.translate(SPACES).lower()
    clock = CLOCK_RE.match(value)
    if clock:
        hours, minutes = int(clock.group(1)), int(clock.group(2) or 0)
        if minutes >= 60:
            raise ValueError(_("Les minutes vont de 00 à 59, par exemple 3:45."))
        return hours * 60 + minutes
    if DECIMAL_RE.match(value):
        try:
            hours_decimal = Decimal(value.removesuffix("h").replace(",", "."))
        except InvalidOperation:
            raise ValueError(_("Saisissez une durée, par exemple 3:30 ou 3,5.")) from None
        return int((hours_decimal * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    raise ValueError(_("Saisissez une durée, par exemple 3:30 ou 3,5."))


def parse_count(text: str) -> int:
    value = text.translate(SPACES)
    if not INTEGER_RE.match(value):
        raise ValueError(_("Saisissez un nombre entier."))
    return int(value)


def parse_quantity(text: str, unit: Unit) -> int:
    """Minutes, days or units from what was typed; ``ValueError`` with a translated message."""
    if not text:
        raise ValueError(_("Ce champ est obligatoire."))
    quantity = parse_hours(text) if unit is Unit.MINUTES else parse_count(text)
    if quantity <= 0:
        raise ValueError(_("La quantité doit être un nombre positif."))
    if quantity > MAX_QUANTITY:
        raise ValueError(_("La quantité est trop grande."))
    return quantity


class LineForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: LineKind
    side: Side | None = None
    label: str = Field(default="", max_length=300)
    quantity: str = Field(default="1", max_length=20)
    unit_value: str = Field(default="", max_length=20)
    equipment: str = Field(default="", max_length=200)
    due_on: dt.date | None = None
    supplier: str = Field(default="", max_length=200)
    invoice_reference: str = Field(default="", max_length=100)
    commitment_number: str = Field(default="", max_length=100)
    instalments: int = Field(default=1, ge=1, le=24)
    partner_name: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=2000)

    @field_validator("side", "due_on", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return empty_to_none(value)

    @field_validator("instalments", mode="before")
    @classmethod
    def _instalments(cls, value: Any) -> Any:
        return 1 if value in (None, "") else value

    def to_input(self) -> LineInput:
        """The parsed line, or ``Invalid`` naming the field at fault."""
        unit = unit_of(self.kind)
        try:
            quantity = parse_quantity(self.quantity or "1", unit)
        except ValueError as exc:
            raise Invalid(str(exc), field="quantity") from None
        unit_value: int | None = None
        if self.unit_value:
            try:
                unit_value = parse_euros(self.unit_value)
            except ValueError as exc:
                raise Invalid(str(exc), field="unit_value") from None
        return LineInput(
            kind=self.kind,
            side=self.side,
            label=self.label,
            quantity=quantity,
            unit_value_cents=unit_value,
            equipment=self.equipment,
            due_on=self.due_on,
            supplier=self.supplier,
            invoice_reference=self.invoice_reference,
            commitment_number=self.commitment_number,
            instalments=self.instalments,
            partner_name=self.partner_name,
            notes=self.notes,
        )
