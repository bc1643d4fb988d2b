"""Petitions: civic petitions and legal requests (art. L1112-16 CGCT), their signatures (append-only
records, one per signer), paper batches, the worker's count, thresholds and the official answer.

Two counts never mix: the signatures are the facts (each row says when it became counted and, if
so, when it stopped counting); ``PetitionCount`` is what the worker computed from them, and the
threshold stamps on ``Petition`` are written once by the same job and never move.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class PetitionKind(enum.StrEnum):
    CIVIC = "civic"  # any resident signs, minors and foreigners included
    LEGAL = "legal"  # art. L1112-16 CGCT: registered electors only


class LegalPurpose(enum.StrEnum):
    CONSULTATION = "consultation"  # ask the council to organise a local consultation (L1112-16 I)
    POSITION = "position"  # ask the council to take a position on a matter within its powers (II)


class PetitionState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the town's check against its charter
    REJECTED = "rejected"  # with a reason from the charter
    OPEN = "open"  # published, collecting signatures
    CLOSED = "closed"  # the open period ended (or the request was handed to the mayor)
    WITHDRAWN = "withdrawn"  # by its author, before the town published it


class LegalStage(enum.StrEnum):
    """A legal request's steps after it opened (the law's own sequence)."""

    COLLECTING = "collecting"
    SUBMITTED_TO_MAYOR = "submitted_to_mayor"  # acknowledged by the town hall
    VERIFIED = "verified"  # every signature checked against the electoral roll
    COUNCIL_INFORMED = "council_informed"  # at the first sitting after receipt
    DECIDED = "decided"  # the council's decision recorded


class SignerRelation(enum.StrEnum):
    LIVES = "lives"
    WORKS = "works"
    USES = "uses"  # uses the town's services (school, sports...)
    NONE = "none"  # signs from elsewhere: counted in the total only


class SignatureMethod(enum.StrEnum):
    ACCOUNT = "account"  # signed in, one click
    GUEST = "guest"  # name, e-mail and postcode, confirmed from the e-mail's link
    PAPER = "paper"  # entered by an agent from a paper sheet


class RollStatus(enum.StrEnum):
    PENDING = "pending"
    VALID = "valid"
    INVALID = "invalid"


class AnswerOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    PARTLY = "partly"
    REFUSED = "refused"
    CONVERTED = "converted"  # turned into a fifty-fifty initiative
    CONSULTATION = "consultation"  # a consultation is organised
    TRANSMITTED = "transmitted"  # sent to the competent authority (agglomeration, département...)


class Petition(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    __tablename__ = "petition"
    __table_args__ = (
        Index("ix_petition_list", "territory_id", "state", "opened_at"),
        CheckConstraint("kind IN ('civic', 'legal')", name="kind_known"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default=PetitionKind.CIVIC)
    legal_purpose: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    # What is asked of the town, in one or two sentences (shown first), then the reasons (Markdown).
    request: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    neighbourhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood.id", ondelete="SET NULL"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=PetitionState.DRAFT)
    submitted_at: Mapped[dt.datetime | None]
    rejected_at: Mapped[dt.datetime | None]
    rejection_reason: Mapped[str] = mapped_column(String(32), default="")  # a key of the published charter
    rejection_comment: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[dt.datetime | None]
    closes_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None]
    # Thresholds as they stood when the petition opened (a later change of settings moves nothing).
    answer_threshold: Mapped[int] = mapped_column(Integer, default=0)
    council_threshold: Mapped[int] = mapped_column(Integer, default=0)
    threshold_basis: Mapped[str] = mapped_column(String(8), default="town")
    # Stamped once by the counting job with the moment the Nth counted signature became counted.
    answer_threshold_reached_at: Mapped[dt.datetime | None]
    council_threshold_reached_at: Mapped[dt.datetime | None]
    answer_due_on: Mapped[dt.date | None] = mapped_column(Date)
    # What the counting job already told, as bits (app.petitions.counting.Told): opted-in signers at
    # 33, 66 and 100 % of each threshold, agents when the answer fell due and when it became overdue.
    milestones_told: Mapped[int] = mapped_column(Integer, default=0)
    # Legal requests: the stage, and the electors' number frozen when it opened.
    legal_stage: Mapped[str | None] = mapped_column(String(24))
    electors_frozen: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime | None]
    council_sitting_id: Mapped[int | None] = mapped_column(ForeignKey("council_sitting.id", ondelete="SET NULL"))
    council_decision: Mapped[str] = mapped_column(Text, default="")
    # Links with the fifty-fifty scheme, both ways.
    from_initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiative.id", ondelete="SET NULL"))
    converted_initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiative.id", ondelete="SET NULL"))


class PetitionSignature(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """One signer of one petition: never deleted while the petition's data is kept; withdrawing,
    invalidating or flagging are stamps, so the count at any moment can be recomputed.

    Uniqueness is the database's: one row per account, and for guests one per canonical e-mail and
    slot (two named people may share an address: a couple) and per canonical e-mail and name."""

    __tablename__ = "petition_signature"
    __table_args__ = (
        UniqueConstraint("petition_id", "person_id", name="uq_petition_signature_person"),
        UniqueConstraint("petition_id", "email_key", "email_slot", name="uq_petition_signature_email_slot"),
        UniqueConstraint("petition_id", "email_key", "name_key", name="uq_petition_signature_email_name"),
        CheckConstraint("email_slot IS NULL OR email_slot IN (1, 2)", name="email_slot_1_or_2"),
        Index("ix_petition_signature_counted", "petition_id", "counted_at"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(8))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    name_key: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254))
    email_slot: Mapped[int | None] = mapped_column(Integer)
    postcode: Mapped[str] = mapped_column(String(10), default="")
    relation: Mapped[str] = mapped_column(String(8), default=SignerRelation.LIVES)
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)  # opt-in: the name on the public page
    notify: Mapped[bool] = mapped_column(Boolean, default=False)  # opt-in: thresholds, answer, conversion
    invite_if_project: Mapped[bool] = mapped_column(Boolean, default=False)
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # E-mails about this row after the first (confirmation sent again, "someone tried to sign
    # again with your address"): counted and dated so that a stranger cannot spam the address.
    notices_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_notice_at: Mapped[dt.datetime | None]
    confirmed_at: Mapped[dt.datetime | None]
    counted_at: Mapped[dt.datetime | None]
    withdrawn_at: Mapped[dt.datetime | None]
    invalidated_at: Mapped[dt.datetime | None]
    invalid_reason: Mapped[str] = mapped_column(Text, default="")
    # A burst from one address: kept aside (not counted) until an agent releases it.
    flagged_at: Mapped[dt.datetime | None]
    released_at: Mapped[dt.datetime | None]
    source_hash: Mapped[str] = mapped_column(String(64), default="")  # keyed hash of the client address
    paper_sheet: Mapped[str] = mapped_column(String(60), default="")
    entered_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Legal requests: what the electoral roll check needs, used only for that check.
    surname: Mapped[str] = mapped_column(String(120), default="")
    first_names: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    roll_status: Mapped[str | None] = mapped_column(String(8))
    roll_reason: Mapped[str] = mapped_column(Text, default="")
    roll_checked_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    roll_checked_at: Mapped[dt.datetime | None]
    # Personal data erased by the retention rule (the row and its stamps stay for the counts).
    erased_at: Mapped[dt.datetime | None]


class LegalQuarterSignature(IdMixin, Base):
    """An elector's one signature of the calendar quarter across the territory's legal requests
    (art. L1112-16: once per quarter): the unique key refuses a second one, whatever the request."""

    __tablename__ = "legal_quarter_signature"
    __table_args__ = (UniqueConstraint("territory_id", "quarter", "elector_key"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))  # "2026-Q4", in the territory's calendar
    elector_key: Mapped[str] = mapped_column(String(200))  # surname, first names, birth date, folded
    signature_id: Mapped[int] = mapped_column(ForeignKey("petition_signature.id", ondelete="CASCADE"), unique=True)


class PaperBatch(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """Civic petitions only: a paper sheet entered by its count (the names stay on paper at the town hall)."""

    __tablename__ = "petition_paper_batch"
    __table_args__ = (CheckConstraint("signatures > 0", name="signatures_positive"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    signatures: Mapped[int] = mapped_column(Integer)
    town_signatures: Mapped[int] = mapped_column(Integer, default=0)  # of which live/work/use services in the town
    sheet: Mapped[str] = mapped_column(String(60), default="")
    entered_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    counted_at: Mapped[dt.datetime]
    invalidated_at: Mapped[dt.datetime | None]
    invalid_reason: Mapped[str] = mapped_column(Text, default="")


class PetitionCount(Base):
    """The public count, as the worker last computed it from the counted rows (one row per petition)."""

    __tablename__ = "petition_count"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    town: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)  # kept aside, waiting for an agent
    computed_at: Mapped[dt.datetime]


class PetitionAnswer(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """The official answer: drafted by agents, published by the executive (then it never changes;
    the reply of an authority it was transmitted to is added when it comes)."""

    __tablename__ = "petition_answer"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    drafted_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    published_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    authority: Mapped[str] = mapped_column(String(200), default="")
    transmitted_on: Mapped[dt.date | None] = mapped_column(Date)
    authority_reply: Mapped[str] = mapped_column(Text, default="")
    authority_reply_on: Mapped[dt.date | None] = mapped_column(Date)
