"""The initiative page's box for the scheme's memory: the historical mark and the peer library."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core.actor import Actor
from app.history import service as history
from app.initiatives import permissions as perm
from app.initiatives.models import Initiative
from app.library import service as library


@dataclass(frozen=True)
class MemoryPanel:
    historical: history.HistoricalMarker | None
    library: library.LibraryStatus | None


def memory_panel(db: Session, viewer: Actor | None, initiative: Initiative) -> MemoryPanel | None:
    """None when there is nothing to show (neither imported nor, for the staff, evaluated)."""
    marker = history.marker(db, initiative, staff=perm.is_staff(viewer, initiative.territory_id))
    status = library.status_for(db, viewer, initiative)
    if marker is None and status is None:
        return None
    return MemoryPanel(historical=marker, library=status)
