"""Review test data: initiatives built directly with the models, in any state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import Account
from app.config import Settings
from app.core.actor import Actor
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.funds.models import Enforcement, Fund, FundEnvelope
from app.initiatives.models import (
    Beneficiary,
    BeneficiaryKind,
    Initiative,
    InitiativeMember,
    InitiativeState,
    MemberRole,
)
from app.ledger.models import CommitmentLine, LineKind, Side, Unit
from tests.factories import Factory

YEAR = utcnow().year


def actor(account: Account, *roles: str) -> Actor:
    return Actor(
        person_id=account.person_id,
        account_id=account.id,
        territory_id=account.territory_id,
        label="test",
        roles=frozenset(roles),
    )


@dataclass
class World:
    database: Database
    settings: Settings
    territory_id: int
    agent: Account
    executive: Account
    promoter: Account
    fund_id: int
    envelope_id: int

    @property
    def agent_actor(self) -> Actor:
        return actor(self.agent, "agent")

    @property
    def executive_actor(self) -> Actor:
        return actor(self.executive, "executive")

    @property
    def promoter_actor(self) -> Actor:
        return actor(self.promoter)

    def initiative(
        self,
        state: InitiativeState = InitiativeState.SUBMITTED,
        *,
        title: str = "Jardin partagé rue Lavoisier",
        promoter: Account | None = None,
        submitted_days_ago: int = 3,
        due_in_days: int = 27,
        neighbourhood_id: int | None = None,
        theme_id: int | None = None,
        fund_id: int | None = -1,
        town_cash_cents: int = 50_000,
        residents_cents: int = 100_000,
        subsidy: bool = False,
        territory_id: int | None = None,
    ) -> Initiative:
        """An initiative with its promoter and ledger lines (residents' hours, the town's purchase)."""
        promoter = promoter or self.promoter
        tid = territory_id or self.territory_id
        now = utcnow()
        with unit_of_work(self.database) as db:
            beneficiary_id = None
            if subsidy:
                beneficiary = Beneficiary(
                    territory_id=tid, kind=BeneficiaryKind.ASSOCIATION, name="Les Jardins de Loos", rna="W623000001"
                )
                db.add(beneficiary)
                db.flush()
                beneficiary_id = beneficiary.id
            initiative = Initiative(
                territory_id=tid,
                fund_id=self.fund_id if fund_id == -1 else fund_id,
                beneficiary_id=beneficiary_id,
                state=state,
                title=title,
                description="Des bacs de culture pour le quartier.",
                neighbourhood_id=neighbourhood_id,
                theme_id=theme_id,
                created_by_person_id=promoter.person_id,
                submitted_at=None if state == InitiativeState.DRAFT else now - dt.timedelta(days=submitted_days_ago),
                decision_due_on=None
                if state == InitiativeState.DRAFT
                else (now + dt.timedelta(days=due_in_days)).date(),
                fiscal_year=YEAR,
            )
            db.add(initiative)
            db.flush()
            db.add(
                InitiativeMember(
                    territory_id=tid,
                    initiative_id=initiative.id,
                    person_id=promoter.person_id,
                    role=MemberRole.PROMOTER,
                    accepted_at=now,
                )
            )
            line: dict[str, Any] = {"territory_id": tid, "initiative_id": initiative.id}
            db.add(
                CommitmentLine(
                    **line, side=Side.RESIDENTS, kind=LineKind.VOLUNTEER_HOURS, label="Heures de bénévolat",
                    quantity=6000, unit=Unit.MINUTES, unit_value_cents=residents_cents * 60 // 6000,
                    value_cents=residents_cents,
                )
            )  # fmt: skip
            if town_cash_cents:
                kind = LineKind.SUBSIDY if subsidy else LineKind.PURCHASE
                db.add(
                    CommitmentLine(
                        **line, side=Side.TOWN, kind=kind, label="Bacs et terreau", quantity=1, unit=Unit.UNITS,
                        unit_value_cents=town_cash_cents, value_cents=town_cash_cents, is_town_cash=True,
                    )
                )  # fmt: skip
            db.flush()
            db.expunge(initiative)
            return initiative

    def reload(self, initiative_id: int) -> Initiative:
        with unit_of_work(self.database) as db:
            row = db.get_one(Initiative, initiative_id)
            db.expunge(row)
            return row

    def envelope(self) -> FundEnvelope:
        with unit_of_work(self.database) as db:
            row = db.get_one(FundEnvelope, self.envelope_id)
            db.expunge(row)
            return row

    def set_fund(self, **values: Any) -> None:
        with unit_of_work(self.database) as db:
            fund = db.get_one(Fund, self.fund_id)
            for key, value in values.items():
                setattr(fund, key, value)

    def set_envelope(self, amount_cents: int) -> None:
        with unit_of_work(self.database) as db:
            db.get_one(FundEnvelope, self.envelope_id).amount_cents = amount_cents


@pytest.fixture
def world(client: TestClient, factory: Factory, settings: Settings) -> World:
    tid = factory.territory()
    agent = factory.account("agent@example.org", roles=("agent",), display_name="Annie Agent")
    executive = factory.account("maire@example.org", roles=("executive",), display_name="Marc Maire")
    promoter = factory.account("porteuse@example.org", display_name="Paula Porteuse")
    with unit_of_work(factory.database) as db:
        fund = Fund(
            territory_id=tid, name="Fonds des quartiers", enforcement=Enforcement.WARN, cap_town_cash_cents=300_000
        )
        db.add(fund)
        db.flush()
        envelope = FundEnvelope(territory_id=tid, fund_id=fund.id, fiscal_year=YEAR, amount_cents=1_000_000)
        db.add(envelope)
        db.flush()
        fund_id, envelope_id = fund.id, envelope.id
    return World(factory.database, settings, tid, agent, executive, promoter, fund_id, envelope_id)


def state_of(database: Database, initiative_id: int) -> str:
    with unit_of_work(database) as db:
        return db.scalar(select(Initiative.state).where(Initiative.id == initiative_id)) or ""
