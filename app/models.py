"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.accounts.models import Account, ApiToken, EmailToken, Person, RoleGrant, UserSession
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.core.models import IdempotencyRecord, UsedFormNonce
from app.db.base import Base
from app.jobs.models import Job
from app.mail.models import OutboxEmail
from app.notifications.models import Notification, NotificationPreference
from app.territories.models import CouncilSitting, Neighbourhood, Territory, TerritoryHost, Theme

__all__ = [
    "Account",
    "AgentTask",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CouncilSitting",
    "EmailToken",
    "IdempotencyRecord",
    "Job",
    "Neighbourhood",
    "Notification",
    "NotificationPreference",
    "OutboxEmail",
    "Person",
    "RoleGrant",
    "Territory",
    "TerritoryHost",
    "Theme",
    "UsedFormNonce",
    "UserSession",
]
