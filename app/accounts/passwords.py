"""Password hashing (Argon2id via pwdlib) and the password policy (ASVS: length, not composition)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.web.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 256
_hasher = PasswordHash.recommended()
# French favourites that the (English-centred) list misses.
FRENCH_COMMON = ("azerty", "azertyuiop", "motdepasse", "soleil", "doudou", "loulou", "marseille", "chouchou")


@lru_cache
def common_passwords() -> frozenset[str]:
    """The 3,000 most common passwords (ASVS 6.2.4), plus common French ones."""
    return frozenset(FREQUENCY_LISTS["passwords"][:3000]) | frozenset(FRENCH_COMMON)


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """A translated reason why this password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return _("Le mot de passe doit compter au moins %(n)s caractères (15 ou plus conseillés).") % {"n": MIN_LENGTH}
    if len(password) > MAX_LENGTH:
        return _("Le mot de passe doit compter au plus %(n)s caractères.") % {"n": MAX_LENGTH}
    lowered = password.lower()
    if (
        lowered in common_passwords()
        or (email and lowered == email.lower())
        or (display_name and lowered == display_name.lower())
    ):
        return _(
            "Ce mot de passe est trop courant ou trop facile à deviner. Choisissez-en un autre, par exemple une phrase."
        )
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Checks a password; returns (valid, new hash when the stored one uses old parameters)."""
    try:
        return _hasher.verify_and_update(password, password_hash)
    except Exception:  # malformed or unknown hash: deny
        return False, None


# A hash of a random password, verified on unknown e-mails so that timing does not reveal accounts.
DUMMY_HASH = _hasher.hash("cailloux-timing-equaliser-not-a-real-password")
