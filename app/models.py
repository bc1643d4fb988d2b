"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.accounts.models import Account, ApiToken, EmailToken, Person, RoleGrant, UserSession
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.conventions.models import Convention, ConventionAmendment, ConventionSignature, ConventionTemplate
from app.core.models import IdempotencyRecord, UsedFormNonce
from app.db.base import Base
from app.funds.models import Fund, FundEnvelope, Rate
from app.initiatives.models import Beneficiary, Decision, Initiative, InitiativeMember, ThreadMessage
from app.jobs.models import Job
from app.ledger.models import CommitmentLine
from app.mail.models import OutboxEmail
from app.media.models import InitiativePhoto, StoredFile
from app.notifications.models import Notification, NotificationPreference
from app.review.models import CouncilAgendaItem, FundChecklistItem, InterestDeclaration, ReviewItem
from app.territories.models import CouncilSitting, Neighbourhood, Territory, TerritoryHost, Theme

__all__ = [
    "Account",
    "AgentTask",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Beneficiary",
    "CommitmentLine",
    "Convention",
    "ConventionAmendment",
    "ConventionSignature",
    "ConventionTemplate",
    "CouncilAgendaItem",
    "CouncilSitting",
    "Decision",
    "EmailToken",
    "Fund",
    "FundChecklistItem",
    "FundEnvelope",
    "IdempotencyRecord",
    "Initiative",
    "InitiativeMember",
    "InitiativePhoto",
    "InterestDeclaration",
    "Job",
    "Neighbourhood",
    "Notification",
    "NotificationPreference",
    "OutboxEmail",
    "Person",
    "Rate",
    "ReviewItem",
    "RoleGrant",
    "StoredFile",
    "Territory",
    "TerritoryHost",
    "Theme",
    "ThreadMessage",
    "UsedFormNonce",
    "UserSession",
]
