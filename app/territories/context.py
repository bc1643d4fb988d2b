"""Which territory a request is for: resolved from its host name, cached briefly per process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from app.db.session import Database
from app.territories.models import Territory, TerritoryHost
from app.territories.settings_schema import AccessibilityStatement, LegalNotices, TerritorySettings


@dataclass(frozen=True)
class TerritoryContext:
    id: int
    slug: str
    name: str
    insee_code: str
    siret: str | None
    population: int
    registered_electors: int
    timezone: str
    settings: TerritorySettings
    legal: LegalNotices
    accessibility: AccessibilityStatement

    @classmethod
    def from_row(cls, t: Territory) -> TerritoryContext:
        return cls(
            id=t.id,
            slug=t.slug,
            name=t.name,
            insee_code=t.insee_code,
            siret=t.siret,
            population=t.population,
            registered_electors=t.registered_electors,
            timezone=t.timezone,
            settings=t.settings,
            legal=t.legal,
            accessibility=t.accessibility,
        )


def normalise_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.split(":")[0]


class TerritoryResolver:
    """Maps host names to territories. Entries live a few seconds so that admin changes made
    in another worker show up quickly; changes made in this process invalidate at once."""

    ttl_seconds = 5.0

    def __init__(self, database: Database, default_slug: str | None) -> None:
        self.database = database
        self.default_slug = default_slug
        self._cache: dict[str, tuple[float, TerritoryContext | None]] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def resolve(self, host: str) -> TerritoryContext | None:
        host = normalise_host(host)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(host)
        if hit is not None and hit[0] > now:
            return hit[1]
        ctx = self._load(host)
        with self._lock:
            self._cache[host] = (now + self.ttl_seconds, ctx)
        return ctx

    def _load(self, host: str) -> TerritoryContext | None:
        with self.database.read_factory() as db:
            territory = db.scalar(
                select(Territory)
                .join(TerritoryHost, TerritoryHost.territory_id == Territory.id)
                .where(TerritoryHost.host == host)
            )
            if territory is None and self.default_slug:
                territory = db.scalar(select(Territory).where(Territory.slug == self.default_slug))
            return TerritoryContext.from_row(territory) if territory is not None else None
