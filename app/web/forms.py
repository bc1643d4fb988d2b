"""HTML forms: Pydantic validation with translated field errors, and one-time nonces.

Every form carries a signed nonce (``csrf_fields()`` in templates). Showing a form writes
nothing; the first POST that uses a nonce records it in the same transaction as its effect,
with where it led, so a double submit replays that result instead of acting twice.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.core.models import UsedFormNonce
from app.core.tokens import new_token
from app.web.i18n import _

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

NONCE_MAX_AGE = 24 * 60 * 60
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


def clean_text(value: str) -> str:
    """NFC-normalised, zero-width characters removed, surrounding spaces stripped."""
    return unicodedata.normalize("NFC", value).translate(ZERO_WIDTH).strip()


def _nonce_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="form-nonce")


def new_form_nonce(request: Request) -> str:
    return _nonce_serializer(request).dumps(new_token(16))


@dataclass
class FormResult(Generic[T]):
    data: T | None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors


def _message(error: Any) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in ("missing", "string_too_short") and ctx.get("min_length", 1) <= 1:
        return _("Ce champ est obligatoire.")
    if kind == "string_too_short":
        return _("Saisissez au moins %(n)s caractères.") % {"n": ctx.get("min_length")}
    if kind == "string_too_long":
        return _("Saisissez au plus %(n)s caractères.") % {"n": ctx.get("max_length")}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Saisissez un nombre entier.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("La valeur est trop petite.")
    if kind in ("less_than_equal", "less_than"):
        return _("La valeur est trop grande.")
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return _("Saisissez une date valide (jj/mm/aaaa).")
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return _("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.")
    if kind in ("enum", "literal_error"):
        return _("Choisissez une des valeurs proposées.")
    if kind == "string_pattern_mismatch":
        return _("Le format n'est pas valide.")
    if kind == "value_error":
        # Our own validators raise ValueError with an already translated message.
        msg = str(ctx.get("error") or error.get("msg", ""))
        return msg.removeprefix("Value error, ")
    if kind == "bool_parsing":
        return _("Choisissez oui ou non.")
    return _("Valeur non valide.")


def validate_form(model: type[M], form: FormData | dict[str, Any], *, multi: tuple[str, ...] = ()) -> FormResult[M]:
    """Validates form values; on failure returns per-field translated errors and the raw values."""
    values: dict[str, Any] = {}
    items = form.multi_items() if isinstance(form, FormData) else list(form.items())
    for key, value in items:
        if key in ("csrf_token", "form_nonce"):
            continue
        if key in multi:
            values.setdefault(key, []).append(value)
        elif key not in values:  # first value wins on duplicated keys (documented rule)
            values[key] = clean_text(value) if isinstance(value, str) else value
    for key, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            return FormResult(None, {key: _("Ce texte contient un caractère interdit.")}, values)
    try:
        data = model.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            loc = err.get("loc") or ("__all__",)
            key = str(loc[0]) if loc else "__all__"
            errors.setdefault(key, _message(err))
        return FormResult(None, errors, values)
    return FormResult(data, {}, values)


class DuplicateSubmission(Exception):
    """The form was already submitted; ``location`` is where its first submission led."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def claim_form_nonce(request: Request, db: Session, form: FormData, territory_id: int) -> UsedFormNonce | None:
    """Records the form's nonce in the current transaction, or raises ``DuplicateSubmission``.

    Returns None when the form carries no valid nonce (old page): the action then runs once,
    as an ordinary request would.
    """
    raw = form.get("form_nonce")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        nonce = _nonce_serializer(request).loads(raw, max_age=NONCE_MAX_AGE)
    except BadSignature:
        return None
    existing = db.get(UsedFormNonce, nonce)
    if existing is not None:
        raise DuplicateSubmission(existing.result_location)
    record = UsedFormNonce(nonce=nonce, territory_id=territory_id)
    try:
        with db.begin_nested():
            db.add(record)
            db.flush()
    except IntegrityError:
        # A parallel submit of the same form committed first: replay its result.
        location = db.scalar(select(UsedFormNonce.result_location).where(UsedFormNonce.nonce == nonce)) or ""
        raise DuplicateSubmission(location) from None
    request.state.form_nonce_record = record
    return record


def remember_result(request: Request, location: str) -> None:
    record: UsedFormNonce | None = getattr(request.state, "form_nonce_record", None)
    if record is not None:
        record.result_location = location[:500]
