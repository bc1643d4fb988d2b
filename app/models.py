"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.accounts.models import Account, ApiToken, EmailToken, Person, RoleGrant, UserSession
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.conventions.models import Convention, ConventionAmendment, ConventionSignature, ConventionTemplate
from app.core.models import IdempotencyRecord, UsedFormNonce
from app.db.base import Base
from app.equipment.models import Equipment, EquipmentBooking
from app.evaluation.models import (
    Evaluation,
    FineTrace,
    FineTraceTag,
    SurveyAnswer,
    SurveyInvitation,
    UpkeepCheck,
)
from app.follows.models import InitiativeFollow
from app.followup.models import Attachment, CommitmentOverdueFlag, DeliveryReport, Milestone
from app.funds.models import Fund, FundEnvelope, Rate
from app.history.models import HistoricalImport, HistoricalRecord
from app.initiatives.models import Beneficiary, Decision, Initiative, InitiativeMember, ThreadMessage
from app.jobs.models import Job
from app.ledger.models import CommitmentLine, RealisationLine
from app.library.models import LibraryEntry
from app.mail.models import OutboxEmail
from app.media.models import InitiativePhoto, StoredFile
from app.moderation.models import ContentReport, HiddenContent
from app.notifications.models import Notification, NotificationPreference
from app.petitions.models import (
    LegalQuarterSignature,
    PaperBatch,
    Petition,
    PetitionAnswer,
    PetitionCount,
    PetitionSignature,
)
from app.review.models import CouncilAgendaItem, FundChecklistItem, InterestDeclaration, ReviewItem
from app.territories.models import CouncilSitting, Neighbourhood, Territory, TerritoryHost, Theme
from app.updates.models import ProgressUpdate, ProgressUpdatePhoto
from app.workdays.models import WorkDay, WorkDayParticipant

__all__ = [
    "Account",
    "AgentTask",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "Beneficiary",
    "CommitmentLine",
    "CommitmentOverdueFlag",
    "ContentReport",
    "Convention",
    "ConventionAmendment",
    "ConventionSignature",
    "ConventionTemplate",
    "CouncilAgendaItem",
    "CouncilSitting",
    "Decision",
    "DeliveryReport",
    "EmailToken",
    "Equipment",
    "EquipmentBooking",
    "Evaluation",
    "FineTrace",
    "FineTraceTag",
    "Fund",
    "FundChecklistItem",
    "FundEnvelope",
    "HiddenContent",
    "HistoricalImport",
    "HistoricalRecord",
    "IdempotencyRecord",
    "Initiative",
    "InitiativeFollow",
    "InitiativeMember",
    "InitiativePhoto",
    "InterestDeclaration",
    "Job",
    "LegalQuarterSignature",
    "LibraryEntry",
    "Milestone",
    "Neighbourhood",
    "Notification",
    "NotificationPreference",
    "OutboxEmail",
    "PaperBatch",
    "Person",
    "Petition",
    "PetitionAnswer",
    "PetitionCount",
    "PetitionSignature",
    "ProgressUpdate",
    "ProgressUpdatePhoto",
    "Rate",
    "RealisationLine",
    "ReviewItem",
    "RoleGrant",
    "StoredFile",
    "SurveyAnswer",
    "SurveyInvitation",
    "Territory",
    "TerritoryHost",
    "Theme",
    "ThreadMessage",
    "UpkeepCheck",
    "UsedFormNonce",
    "UserSession",
    "WorkDay",
    "WorkDayParticipant",
]
