from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class UsedFormNonce(CreatedAtMixin, Base):
    """A form's one-time nonce, recorded on first use with where that use led, so that a
    double submit replays the first result instead of acting twice."""

    __tablename__ = "used_form_nonce"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    result_location: Mapped[str] = mapped_column(String(500), default="")


class IdempotencyRecord(IdMixin, CreatedAtMixin, Base):
    """The first response to an API request carrying an ``Idempotency-Key``."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("api_token_id", "key"),)

    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    api_token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
