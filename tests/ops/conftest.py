from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.mail import backends


@pytest.fixture(autouse=True)
def _empty_memory_mailbox() -> Iterator[None]:
    backends.sent_messages.clear()
    yield
    backends.sent_messages.clear()
