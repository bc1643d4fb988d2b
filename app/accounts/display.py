"""How a person is named on public pages: minors never by name, erased persons anonymously."""

from __future__ import annotations

from app.accounts.models import AgeBracket, Person
from app.web.i18n import N_, _

MINOR_PUBLIC_NAME = N_("un·e jeune habitant·e")
FORMER_RESIDENT_NAME = N_("ancien·ne habitant·e")


def public_name(person: Person) -> str:
    """The name shown to the public and to other residents (staff pages show the real name)."""
    if person.anonymised_at is not None:
        return _(FORMER_RESIDENT_NAME)
    if person.age_bracket != AgeBracket.ADULT:
        return _(MINOR_PUBLIC_NAME)
    return person.display_name
