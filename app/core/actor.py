"""Who is acting: a signed-in person, the operator at the command line, or the system."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    person_id: int | None
    account_id: int | None
    territory_id: int | None
    label: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


OPERATOR = Actor(person_id=None, account_id=None, territory_id=None, label="operator (CLI)")
SYSTEM = Actor(person_id=None, account_id=None, territory_id=None, label="system")
