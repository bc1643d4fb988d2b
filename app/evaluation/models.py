"""What follows the delivery of an initiative: the town's evaluation, the volunteers' short survey,
the "fines traces" log (small signs of empowerment) and the yearly upkeep checks."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, PublicIdMixin


class GoalsMet(enum.StrEnum):
    MET = "met"
    PARTLY = "partly"
    NOT_MET = "not_met"


class Level(enum.StrEnum):
    """How strong an effect was on one of the three axes."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Generalise(enum.StrEnum):
    YES = "yes"
    NO = "no"
    TO_STUDY = "to_study"


class Evaluation(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """The town's evaluation of a delivered initiative: a draft an agent saves as often as needed,
    then finalised once (the initiative becomes « évaluée » and the text is frozen)."""

    __tablename__ = "evaluation"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), unique=True)
    goals_met: Mapped[str | None] = mapped_column(String(12))
    goals_comment: Mapped[str] = mapped_column(Text, default="")
    social_level: Mapped[str | None] = mapped_column(String(12))
    social_comment: Mapped[str] = mapped_column(Text, default="")
    environmental_level: Mapped[str | None] = mapped_column(String(12))
    environmental_comment: Mapped[str] = mapped_column(Text, default="")
    economic_level: Mapped[str | None] = mapped_column(String(12))
    economic_comment: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    generalise: Mapped[str | None] = mapped_column(String(12))
    generalise_comment: Mapped[str] = mapped_column(Text, default="")
    written_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime | None]
    finalised_at: Mapped[dt.datetime | None]
    finalised_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class SurveyInvitation(IdMixin, CreatedAtMixin, Base):
    """A person told about the volunteers' survey of an initiative: once per person (unique), so
    the recurring job that sends the invitations may run any number of times."""

    __tablename__ = "survey_invitation"
    __table_args__ = (UniqueConstraint("initiative_id", "person_id"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)


class SurveyAnswer(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """One volunteer's answer to the 2-minute survey: one per person and initiative (unique),
    editable until the evaluation is final. Staff see it by name only if ``named`` is ticked."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        UniqueConstraint("initiative_id", "person_id"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_1_to_5"),
    )

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    satisfaction: Mapped[int] = mapped_column(Integer)
    would_again: Mapped[bool] = mapped_column(Boolean)
    first_time: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")  # what they learned, or anything else
    named: Mapped[bool] = mapped_column(Boolean, default=False)  # agreed that staff see who answered
    updated_at: Mapped[dt.datetime | None]


class TraceTag(enum.StrEnum):
    SPEAKING_UP = "speaking_up"
    FIRST_TIME = "first_time"
    NEW_SKILL = "new_skill"
    NEIGHBOURS = "neighbours"
    TAKING_CHARGE = "taking_charge"
    PASSING_ON = "passing_on"


class FineTrace(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A "fine trace": a small, dated, qualitative sign of empowerment noted by the town's staff
    (a first-time participant who took the floor, neighbours who now garden together...)."""

    __tablename__ = "fine_trace"
    __table_args__ = (Index("ix_fine_trace_territory_noted", "territory_id", "noted_on"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiative.id", ondelete="SET NULL"), index=True)
    neighbourhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood.id", ondelete="SET NULL"))
    noted_on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    # A trace about a minor is never shown publicly, whatever ``publishable`` says.
    involves_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    publishable: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime | None]


class FineTraceTag(IdMixin, Base):
    """One tag of a fine trace (a row per tag, so that the log filters on it with an index)."""

    __tablename__ = "fine_trace_tag"
    __table_args__ = (UniqueConstraint("trace_id", "tag"), Index("ix_fine_trace_tag_tag", "tag"))

    trace_id: Mapped[int] = mapped_column(ForeignKey("fine_trace.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(32))


class UpkeepStatus(enum.StrEnum):
    MAINTAINED = "maintained"
    NEEDS_HELP = "needs_help"
    GONE = "gone"


class UpkeepCheck(IdMixin, PublicIdMixin, CreatedAtMixin, Base):
    """A yearly check that the result is still alive, due on an anniversary of the convention's
    signature until the end of its upkeep period; answered once by a promoter or an agent."""

    __tablename__ = "upkeep_check"
    __table_args__ = (UniqueConstraint("initiative_id", "due_on"), Index("ix_upkeep_check_open", "answered_at"))

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    due_on: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the first year, 2 for the second...
    # Set when the promoters and the agent were told (once), then again 30 days past due (once).
    reminded_at: Mapped[dt.datetime | None]
    overdue_reminded_at: Mapped[dt.datetime | None]
    status: Mapped[str | None] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    answered_at: Mapped[dt.datetime | None]
    answered_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The agents' task opened when the answer was "needs help".
    task_id: Mapped[int | None] = mapped_column(ForeignKey("agent_task.id", ondelete="SET NULL"))
