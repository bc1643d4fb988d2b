"""Locale handling: French at plain URLs, English under ``/en/``.

The locale lives in a context variable set per request by the locale middleware; gettext
callables installed in Jinja and used in Python code read it at call time.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT_LOCALE)


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> contextvars.Token[str]:
    return _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = set_locale(locale)
    try:
        yield
    finally:
        _current_locale.reset(token)


@lru_cache
def _translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        # Source strings are French.
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(message: str) -> str:
    return _translations(get_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(get_locale()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(_translations(get_locale()).pgettext(context, message))


_ = gettext


def N_(message: str) -> str:  # noqa: N802 (gettext convention)
    """Marks a string for extraction where it is defined; translate it with ``_()`` when shown."""
    return message


def negotiate(accept_language: str | None) -> str:
    if not accept_language:
        return DEFAULT_LOCALE
    preferred = []
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip()
        if tag and tag != "*":
            preferred.append(tag.replace("-", "_"))
    return negotiate_locale(preferred, list(LOCALES), sep="_") or DEFAULT_LOCALE


def babel_locale(locale: str | None = None) -> Locale:
    return Locale.parse(BABEL_LOCALES[locale or get_locale()])


def money(cents: int | None, locale: str | None = None) -> str:
    """Integer cents as euros in the locale's format ("1 234,50 €")."""
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, "EUR", locale=babel_locale(locale))


def number(value: int | float | Decimal, locale: str | None = None) -> str:
    return format_decimal(value, locale=babel_locale(locale))


def date(value: dt.date | dt.datetime | None, fmt: str = "long", tz: str = "Europe/Paris") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return format_date(value, format=fmt, locale=babel_locale())


def datetime(value: dt.datetime | None, fmt: str = "medium", tz: str = "Europe/Paris") -> str:
    if value is None:
        return ""
    return format_datetime(value, format=fmt, tzinfo=ZoneInfo(tz), locale=babel_locale())
