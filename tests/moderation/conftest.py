"""The review tests' world (an agent, an executive, a promoter, a fund) serves the moderation tests too."""

from tests.review.conftest import world  # noqa: F401
