"""Line values in exact integer arithmetic, and the hours and euros typed in the form."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger.forms import parse_hours, parse_quantity
from app.ledger.models import Unit
from app.ledger.valuation import MAX_QUANTITY, MAX_VALUE_CENTS, line_value

quantities = st.integers(min_value=1, max_value=1_000_000)
unit_values = st.integers(min_value=0, max_value=1_000_000)


def half_up(x: Fraction) -> int:
    floor = x.numerator // x.denominator
    return floor + 1 if x - floor >= Fraction(1, 2) else floor


@given(quantities, unit_values)
def test_a_timed_line_is_minutes_times_rate_over_sixty_rounded_half_up(minutes: int, cents: int) -> None:
    assert line_value(minutes, Unit.MINUTES, cents) == half_up(Fraction(minutes * cents, 60))


@given(quantities, unit_values)
def test_days_and_units_are_exact_products(quantity: int, cents: int) -> None:
    assert line_value(quantity, Unit.DAYS, cents) == quantity * cents
    assert line_value(quantity, Unit.UNITS, cents) == quantity * cents


@given(st.integers(min_value=1, max_value=10_000), unit_values)
def test_the_value_grows_with_the_time(minutes: int, cents: int) -> None:
    assert line_value(minutes + 1, Unit.MINUTES, cents) >= line_value(minutes, Unit.MINUTES, cents) >= 0


def test_known_values() -> None:
    assert line_value(90, Unit.MINUTES, 1188) == 1782  # 1 h 30 at 11,88 €
    assert line_value(1, Unit.MINUTES, 30) == 1  # 0,5 cent rounds half-up
    assert line_value(1, Unit.MINUTES, 29) == 0  # 0,483 cent rounds down
    assert line_value(1, Unit.MINUTES, 90) == 2  # 1,5 cents rounds up


@pytest.mark.parametrize(
    ("quantity", "cents"),
    [(0, 100), (-5, 100), (10, -1), (MAX_QUANTITY + 1, 1), (MAX_QUANTITY, MAX_VALUE_CENTS), (10**6, 10**8)],
)
def test_bad_lines_are_refused_with_a_message(quantity: int, cents: int) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        line_value(quantity, Unit.UNITS, cents)


def test_booleans_are_not_quantities() -> None:
    with pytest.raises(ValueError):
        line_value(True, Unit.UNITS, 100)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("3:30", 210), ("3h30", 210), ("3 h 30", 210), ("3h", 180), ("3", 180), ("3,5", 210), ("0,25", 15), ("1.75", 105)],
)
def test_hours_are_typed_as_clock_or_decimal(text: str, minutes: int) -> None:
    assert parse_hours(text) == minutes


@pytest.mark.parametrize("text", ["3:75", "trois", "-2", "3,555", "", "1e3"])
def test_bad_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text, Unit.MINUTES)


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=59))
def test_clock_hours_round_trip(hours: int, minutes: int) -> None:
    assert parse_hours(f"{hours}:{minutes:02d}") == hours * 60 + minutes


def test_days_and_units_are_whole_numbers() -> None:
    assert parse_quantity("4", Unit.DAYS) == 4
    with pytest.raises(ValueError):
        parse_quantity("1,5", Unit.DAYS)
    with pytest.raises(ValueError):
        parse_quantity("0", Unit.UNITS)
