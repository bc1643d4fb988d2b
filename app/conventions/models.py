"""Convention templates (per fund, versioned), conventions, their signatures and their amendments."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class ConventionTemplate(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """One version of a fund's convention template; editing writes a new version, old ones stay as signed."""

    __tablename__ = "convention_template"
    __table_args__ = (UniqueConstraint("fund_id", "version"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    # Clause texts in Markdown with a closed list of {placeholders}: never a template language.
    preamble: Mapped[str] = mapped_column(Text, default="")
    upkeep_clause: Mapped[str] = mapped_column(Text, default="")
    insurance_clause: Mapped[str] = mapped_column(Text, default="")
    general_clauses: Mapped[str] = mapped_column(Text, default="")
    # The public rules page of the fund (who may apply, what is matched, how it is decided).
    rules_page: Mapped[str] = mapped_column(Text, default="")
    default_upkeep_months: Mapped[int] = mapped_column(Integer, default=36)
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class ConventionKind(enum.StrEnum):
    CONVENTION = "convention"
    # The lighter track of a small project: a simple commitment signed by the promoters.
    COMMITMENT = "commitment"


class Convention(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """The text both sides sign, frozen when proposed; regenerated (signatures voided) only before signature."""

    __tablename__ = "convention"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("convention_template.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16), default=ConventionKind.CONVENTION)
    number: Mapped[str] = mapped_column(String(32))  # e.g. "2026-004", per territory and year
    # Regenerating before signature bumps the revision; signatures name the text they signed by hash.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)  # the full Markdown text, as generated
    text_sha256: Mapped[str] = mapped_column(String(64))
    # Totals, ratios, rates and lines as they stood when the text was generated.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    upkeep_by: Mapped[str] = mapped_column(String(300), default="")
    upkeep_months: Mapped[int] = mapped_column(Integer, default=0)
    proposed_at: Mapped[dt.datetime]
    proposed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    signed_at: Mapped[dt.datetime | None]  # when the last required signature came in: immutable from then on
    # Set when the release job reminded the promoters that the convention is still unsigned.
    reminded_at: Mapped[dt.datetime | None]


class SignatureParty(enum.StrEnum):
    PROMOTERS = "promoters"  # a promoter, co-promoter or the guardian of a minor-led initiative
    TOWN = "town"  # the executive (mayor or a delegate)


class SignatureMethod(enum.StrEnum):
    ONLINE = "online"  # in the app, password asked again
    PAPER = "paper"  # signed on paper, scan uploaded by an agent


class ConventionAmendment(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A change to a signed convention ("avenant"): its own text, signed like the convention."""

    __tablename__ = "convention_amendment"
    __table_args__ = (UniqueConstraint("convention_id", "number"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    changes: Mapped[str] = mapped_column(Text)  # what the amendment changes, in Markdown
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[dt.datetime]
    proposed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    signed_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]


class ConventionSignature(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """Who signed which exact text (by hash), when, how; a paper signature keeps its scan."""

    __tablename__ = "convention_signature"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("convention_amendment.id", ondelete="CASCADE"), index=True
    )
    party: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    signatory_name: Mapped[str] = mapped_column(String(200))  # as it reads under the signature
    signatory_capacity: Mapped[str] = mapped_column(String(200), default="")  # "Maire", "Présidente de…"
    signed_on: Mapped[dt.date | None] = mapped_column(Date)  # the date written on paper
    signed_at: Mapped[dt.datetime]  # when recorded
    text_sha256: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    scan_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    recorded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Signatures on an earlier revision of an unsigned convention are voided, never deleted.
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
