from __future__ import annotations

from app.accounts.display import public_name
from app.accounts.models import AgeBracket, Person
from app.db.base import utcnow
from app.web.i18n import use_locale


def test_minors_are_never_named_publicly() -> None:
    for bracket in (AgeBracket.UNDER_15, AgeBracket.FROM_15_TO_17):
        person = Person(display_name="Léa Martin", age_bracket=bracket)
        assert public_name(person) == "un·e jeune habitant·e"
        with use_locale("en"):
            assert "Léa" not in public_name(person)


def test_adults_by_name_and_erased_persons_anonymously() -> None:
    assert public_name(Person(display_name="Paul Durand", age_bracket=AgeBracket.ADULT)) == "Paul Durand"
    erased = Person(display_name="ancien·ne habitant·e", age_bracket=AgeBracket.ADULT, anonymised_at=utcnow())
    assert public_name(erased) == "ancien·ne habitant·e"
