"""The pure maths of the balance: match, cap, envelope and leverage (property-based)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.funds.models import Enforcement
from app.ledger.models import CommitmentLine, LineState, Side
from app.ledger.service import Rules, Totals, evaluate, totals_of

cents = st.integers(min_value=0, max_value=10**10)


@st.composite
def lines(draw: st.DrawFn) -> list[CommitmentLine]:
    result = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        side = draw(st.sampled_from(list(Side)))
        result.append(
            CommitmentLine(
                side=side.value,
                value_cents=draw(cents),
                is_town_cash=side is Side.TOWN and draw(st.booleans()),
                state=draw(st.sampled_from(list(LineState))).value,
            )
        )
    return result


rules = st.builds(
    Rules,
    k_percent=st.integers(min_value=0, max_value=1000),
    partners_count=st.booleans(),
    cap_cents=st.none() | cents,
    enforcement=st.sampled_from([e.value for e in Enforcement]),
    envelope_left_cents=st.none() | cents,
    already_committed_cents=st.integers(min_value=0, max_value=10**6),
    small_project_threshold_cents=cents,
)


@given(lines(), rules)
def test_totals_equal_the_sum_of_the_lines_that_are_not_cancelled(items: list[CommitmentLine], r: Rules) -> None:
    live = [line for line in items if line.state != LineState.CANCELLED]
    b = evaluate(totals_of(items), r)
    assert b.residents_value_cents == sum(line.value_cents for line in live if line.side == Side.RESIDENTS)
    assert b.town_value_cents == sum(line.value_cents for line in live if line.side == Side.TOWN)
    assert b.partners_value_cents == sum(line.value_cents for line in live if line.side == Side.PARTNERS)
    assert b.town_cash_cents == sum(line.value_cents for line in live if line.is_town_cash)
    assert 0 <= b.town_cash_cents <= b.town_value_cents


@given(cents, cents, cents, rules)
def test_match_ok_iff_residents_reach_k_times_town(residents: int, town: int, partners: int, r: Rules) -> None:
    b = evaluate(Totals(residents, town, 0, partners), r)
    counted = residents + (partners if r.partners_count else 0)
    required = -(-r.k_percent * town // 100)
    assert b.required_residents_cents == required
    assert required * 100 >= r.k_percent * town > (required - 1) * 100 or town == 0 or r.k_percent == 0
    assert b.match_ok == (counted >= required)
    assert min(b.required_residents_cents, b.counted_residents_cents, b.town_value_cents) >= 0


@given(cents, cents, rules)
def test_cap_and_envelope(town_cash: int, extra: int, r: Rules) -> None:
    b = evaluate(Totals(0, town_cash + extra, town_cash, 0), r)
    assert b.cap_ok == (r.cap_cents is None or town_cash <= r.cap_cents)
    needed = max(0, town_cash - r.already_committed_cents)
    if needed and r.envelope_left_cents is None:
        assert not b.envelope_ok
    elif r.envelope_left_cents is not None:
        assert b.envelope_ok == (needed <= r.envelope_left_cents)
    if not b.envelope_ok:
        assert b.warnings  # the envelope is hard: always said, whatever the enforcement mode


@given(cents, cents)
def test_leverage_both_ways(residents: int, town: int) -> None:
    b = evaluate(Totals(residents, town, 0, 0), Rules())
    if town == 0:
        assert b.leverage_residents_per_town is None
    else:
        assert abs(b.leverage_residents_per_town - Decimal(residents) / Decimal(town)) <= Decimal("0.005")  # type: ignore[operator]
    if residents == 0:
        assert b.leverage_town_per_residents is None


def test_off_mode_says_nothing_about_the_match_but_still_about_the_envelope() -> None:
    b = evaluate(Totals(0, 10_000, 10_000, 0), Rules(enforcement=Enforcement.OFF, envelope_left_cents=5_000))
    assert not b.match_ok
    assert len(b.warnings) == 1
    assert "enveloppe" in b.warnings[0]
