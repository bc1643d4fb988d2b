"""``Idempotency-Key`` for API writes: a repeated request returns the first result and changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Invalid
from app.core.models import IdempotencyRecord
from app.web.i18n import _

MAX_KEY_LENGTH = 200


def fingerprint(method: str, path: str, body: Any) -> str:
    payload = json.dumps([method, path, body], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def run_once(
    db: Session,
    *,
    territory_id: int,
    api_token_id: int,
    key: str | None,
    request_fingerprint: str,
    action: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """Runs ``action`` unless this token already sent this key; returns (status, body)."""
    if key is None:
        return action()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(_("L'en-tête Idempotency-Key doit compter de 1 à 200 caractères."), field="Idempotency-Key")
    existing = _find(db, api_token_id, key)
    if existing is not None:
        return _replay(existing, request_fingerprint)
    record = IdempotencyRecord(
        territory_id=territory_id, api_token_id=api_token_id, key=key, request_fingerprint=request_fingerprint,
        status_code=0, response_body={},
    )  # fmt: skip
    try:
        with db.begin_nested():
            db.add(record)
            db.flush()
    except IntegrityError:
        # The same key arrived in parallel and committed first: answer as it did.
        found = _find(db, api_token_id, key)
        if found is None:
            raise
        return _replay(found, request_fingerprint)
    status, body = action()
    record.status_code = status
    record.response_body = body
    db.flush()
    return status, body


def _find(db: Session, api_token_id: int, key: str) -> IdempotencyRecord | None:
    return db.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.api_token_id == api_token_id, IdempotencyRecord.key == key)
    )


def _replay(record: IdempotencyRecord, request_fingerprint: str) -> tuple[int, dict[str, Any]]:
    if record.request_fingerprint != request_fingerprint:
        raise Invalid(_("Cette clé Idempotency-Key a déjà servi pour une autre requête."), field="Idempotency-Key")
    return record.status_code, record.response_body
