"""Update tests use the review world (agent, executive, promoter, fund, envelope)."""

from __future__ import annotations

from tests.review.conftest import World, world

__all__ = ["World", "world"]
