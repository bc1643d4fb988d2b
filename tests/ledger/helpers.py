"""Initiatives built directly with the models, agents as plain actors, and the CSRF token of a session."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import select

from app.core.actor import Actor
from app.core.tokens import hmac_hex
from app.db.base import utcnow
from app.db.session import Database, unit_of_work
from app.funds.models import Fund, FundEnvelope
from app.initiatives.models import Beneficiary, Initiative, InitiativeMember, InitiativeState, MemberRole


def agent(territory_id: int, *roles: str) -> Actor:
    return Actor(
        person_id=None,
        account_id=None,
        territory_id=territory_id,
        label="agent de test",
        roles=frozenset(roles or ("agent",)),
    )


def default_fund_id(database: Database, territory_id: int) -> int:
    with unit_of_work(database) as db:
        fund_id = db.scalar(select(Fund.id).where(Fund.territory_id == territory_id, Fund.name == "Fifty-fifty"))
        assert fund_id is not None
        return fund_id


def make_initiative(
    database: Database,
    territory_id: int,
    *,
    state: str = InitiativeState.DRAFT,
    promoter_person_id: int | None = None,
    fund_id: int | None = None,
    start_on: dt.date | None = None,
    fiscal_year: int | None = None,
    project_type: str = "physical",
    neighbourhood_id: int | None = None,
    beneficiary_kind: str | None = None,
    title: str = "Haie du Cité 5",
) -> str:
    """An initiative (and its accepted promoter), returning its public id."""
    fund_id = fund_id if fund_id is not None else default_fund_id(database, territory_id)
    with unit_of_work(database) as db:
        beneficiary_id = None
        if beneficiary_kind is not None:
            beneficiary = Beneficiary(territory_id=territory_id, kind=beneficiary_kind, name="Les Jardiniers")
            db.add(beneficiary)
            db.flush()
            beneficiary_id = beneficiary.id
        initiative = Initiative(
            territory_id=territory_id,
            fund_id=fund_id,
            beneficiary_id=beneficiary_id,
            state=state,
            title=title,
            project_type=project_type,
            neighbourhood_id=neighbourhood_id,
            start_on=start_on,
            fiscal_year=fiscal_year,
            created_by_person_id=promoter_person_id,
        )
        db.add(initiative)
        db.flush()
        if promoter_person_id is not None:
            db.add(
                InitiativeMember(
                    territory_id=territory_id,
                    initiative_id=initiative.id,
                    person_id=promoter_person_id,
                    role=MemberRole.PROMOTER,
                    accepted_at=utcnow(),
                )
            )
        return initiative.public_id


def set_state(database: Database, public_id: str, state: str) -> None:
    with unit_of_work(database) as db:
        initiative = db.scalar(select(Initiative).where(Initiative.public_id == public_id))
        assert initiative is not None
        initiative.state = state


def envelope_of(database: Database, fund_id: int) -> FundEnvelope:
    with unit_of_work(database) as db:
        envelope = db.scalar(
            select(FundEnvelope).where(FundEnvelope.fund_id == fund_id, FundEnvelope.neighbourhood_id.is_(None))
        )
        assert envelope is not None
        db.expunge(envelope)
        return envelope


def csrf_for(app: FastAPI, session_token: str) -> str:
    """The CSRF token a signed-in page would carry (what ``csrf_fields()`` renders)."""
    return hmac_hex(app.state.secret_key, "csrf:session:" + session_token)
