"""Fifty-fifty initiatives, their beneficiary (who carries them), their promoters and their thread."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class InitiativeState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    ON_HOLD = "on_hold"
    APPROVED = "approved"
    AWAITING_ENVELOPE = "awaiting_envelope"  # approved, on the waiting list of its envelope
    DECLINED = "declined"
    CONVENTION_PROPOSED = "convention_proposed"
    CONVENTION_SIGNED = "convention_signed"
    IN_PROGRESS = "in_progress"  # the work has started (work days, deliveries)
    DELIVERED = "delivered"  # the promoters reported the project done
    EVALUATED = "evaluated"  # evaluated by the town; upkeep checks follow until the upkeep period ends
    WITHDRAWN = "withdrawn"
    ABANDONED = "abandoned"


class ProjectType(enum.StrEnum):
    PHYSICAL = "physical"  # works: k = 1 by default
    ACTIVITY = "activity"  # non-physical activity: k = 0.5 by default


class BeneficiaryKind(enum.StrEnum):
    PERSON = "person"
    INFORMAL_GROUP = "informal_group"
    ASSOCIATION = "association"
    SCHOOL = "school"


LEGAL_PERSON_KINDS = frozenset({BeneficiaryKind.ASSOCIATION, BeneficiaryKind.SCHOOL})


class Beneficiary(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """Who carries an initiative and receives the town's aid; feeds the open-data exports."""

    __tablename__ = "beneficiary"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str | None] = mapped_column(String(14))
    rna: Mapped[str | None] = mapped_column(String(10))
    legal_representative: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)


class Initiative(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    __tablename__ = "initiative"
    __table_args__ = (
        Index("ix_initiative_queue", "territory_id", "state", "submitted_at"),
        Index("ix_initiative_territory_created", "territory_id", "created_at"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"), index=True)
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(24), default=InitiativeState.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # what and why (Markdown)
    general_interest: Mapped[str] = mapped_column(Text, default="")
    residents_offer: Mapped[str] = mapped_column(Text, default="")  # what the residents will bring
    town_request: Mapped[str] = mapped_column(Text, default="")  # optional: what they ask the town
    project_type: Mapped[str] = mapped_column(String(16), default=ProjectType.PHYSICAL)
    neighbourhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood.id", ondelete="SET NULL"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    start_on: Mapped[dt.date | None] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Entered by an agent from a paper form brought by a contact.
    from_paper_form: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_agent_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime | None]
    state_changed_at: Mapped[dt.datetime | None]
    # The decision deadline pauses while changes are requested or the initiative is on hold.
    decision_due_on: Mapped[dt.date | None] = mapped_column(Date)
    paused_since: Mapped[dt.datetime | None]
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    resume_on: Mapped[dt.date | None] = mapped_column(Date)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None]
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    # Town cash committed against the envelope at the decision (released on decline/withdrawal).
    committed_envelope_id: Mapped[int | None] = mapped_column(ForeignKey("fund_envelope.id", ondelete="RESTRICT"))
    committed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Declined and withdrawn initiatives stay private unless the promoters opt in.
    public_despite_outcome: Mapped[bool] = mapped_column(Boolean, default=False)


class MemberRole(enum.StrEnum):
    PROMOTER = "promoter"
    CO_PROMOTER = "co_promoter"
    GUARDIAN = "guardian"  # the adult who signs for a minor-led initiative


class InitiativeMember(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A promoter, co-promoter or guardian; invited by e-mail (pending until accepted) or added as a contact."""

    __tablename__ = "initiative_member"
    __table_args__ = (UniqueConstraint("initiative_id", "person_id"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    invited_email: Mapped[str | None] = mapped_column(String(254))
    invitation_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    accepted_at: Mapped[dt.datetime | None]


class ThreadMessage(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """The conversation shared by promoters and agents; staff notes are visible to staff only
    (and may be disclosed on request under the French access-to-documents law)."""

    __tablename__ = "thread_message"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), index=True)
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)


class DecisionAct(enum.StrEnum):
    DECISION = "decision"  # a decision of the executive (mayor or delegate)
    DELIBERATION = "deliberation"  # a council deliberation (required for a subsidy to a legal person)


class Decision(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """The executive's decision on an initiative, with the rules in force copied as they were."""

    __tablename__ = "decision"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(24))  # approved / awaiting_envelope / declined
    act_kind: Mapped[str] = mapped_column(String(16), default=DecisionAct.DECISION)
    act_reference: Mapped[str] = mapped_column(String(100), default="")
    sitting_id: Mapped[int | None] = mapped_column(ForeignKey("council_sitting.id", ondelete="SET NULL"))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decided_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # A rule broken in "block" mode needs the executive's written reason (audited).
    override_reason: Mapped[str] = mapped_column(Text, default="")
    # Totals, ratios, cap and rates as they stood when deciding: a later change never rewrites them.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
