"""Reports of public content by anyone, and the agents' moderation (hide, restore, dismiss)."""
