"""The value of a ledger line, in exact integer arithmetic (no database, no floating point).

A timed line is worth minutes x cents per hour / 60, rounded half-up once per line; a line
counted in days or units is worth quantity x unit value.
"""

from __future__ import annotations

from app.ledger.models import Unit
from app.web.i18n import _

# 10^13 cents is 100 billion euros: far beyond any town's budget, so a bigger value is a typing error.
MAX_VALUE_CENTS = 10**13
# One line may not carry more than this many minutes, days or units (about 1 900 years in minutes).
MAX_QUANTITY = 10**9
MAX_UNIT_VALUE_CENTS = 10**11


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def line_value(quantity: int, unit: Unit, unit_value_cents: int) -> int:
    """The value in cents of ``quantity`` (minutes, days or units) at ``unit_value_cents``
    (per hour, per day or per unit); ``ValueError`` with a translated message when out of bounds."""
    if not _is_int(quantity) or quantity <= 0:
        raise ValueError(_("La quantité doit être un nombre positif."))
    if quantity > MAX_QUANTITY:
        raise ValueError(_("La quantité est trop grande."))
    if not _is_int(unit_value_cents) or unit_value_cents < 0:
        raise ValueError(_("La valeur unitaire ne peut pas être négative."))
    if unit_value_cents > MAX_UNIT_VALUE_CENTS:
        raise ValueError(_("La valeur unitaire est trop grande."))
    unit = Unit(unit)
    # Half-up on non-negative integers: floor((2 x q x v + 60) / 120) == round-half-up(q x v / 60).
    timed = unit is Unit.MINUTES
    value = (2 * quantity * unit_value_cents + 60) // 120 if timed else quantity * unit_value_cents
    if value > MAX_VALUE_CENTS:
        raise ValueError(_("Le montant de cette ligne est trop élevé."))
    return value
