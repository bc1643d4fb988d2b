"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.accounts.models import Account, ApiToken, EmailToken, Person, RoleGrant, UserSession
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.core.models import IdempotencyRecord, UsedFormNonce
from app.db.base import Base
from app.funds.models import Fund, FundEnvelope, Rate
from app.initiatives.models import Beneficiary, Decision, Initiative, InitiativeMember, ThreadMessage
from app.jobs.models import Job
from app.ledger.models import CommitmentLine
from app.mail.models import OutboxEmail
from app.notifications.models import Notification, NotificationPreference
from app.review.models import FundChecklistItem, InterestDeclaration, ReviewItem
from app.territories.models import CouncilSitting, Neighbourhood, Territory, TerritoryHost, Theme

__all__ = [
    "Account",
    "AgentTask",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Beneficiary",
    "CommitmentLine",
    "CouncilSitting",
    "Decision",
    "EmailToken",
    "Fund",
    "FundChecklistItem",
    "FundEnvelope",
    "IdempotencyRecord",
    "Initiative",
    "InitiativeMember",
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
    "Territory",
    "TerritoryHost",
    "Theme",
    "ThreadMessage",
    "UsedFormNonce",
    "UserSession",
]
