"""The signed-in person as seen by routes, services and templates (no ORM object leaks)."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.models import Role
from app.core.actor import Actor


@dataclass(frozen=True)
class Viewer(Actor):
    session_id: int | None = None
    api_token_id: int | None = None
    display_name: str = ""
    email: str = ""
    email_verified: bool = False
    locale: str = "fr"
    age_bracket: str = "adult"
    person_public_id: str = ""

    @property
    def is_staff(self) -> bool:
        return self.has_any_role(Role.AGENT, Role.EXECUTIVE, Role.ADMIN)

    @property
    def is_agent(self) -> bool:
        return self.has_role(Role.AGENT)

    @property
    def is_executive(self) -> bool:
        return self.has_role(Role.EXECUTIVE)

    @property
    def is_council_member(self) -> bool:
        return self.has_role(Role.COUNCIL_MEMBER)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)
