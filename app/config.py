"""Settings read from the environment (prefix ``CAILLOUX_``) and an optional ``.env`` file."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_VAR_DIR / 'cailloux.db'}"
# IGN's Géoplateforme "Plan IGN" tiles: a public service, open licence, no key and no tracking.
DEFAULT_MAP_TILE_URL = (
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
)
DEFAULT_MAP_ATTRIBUTION = '<a href="https://www.ign.fr/">IGN-F / Géoplateforme</a>'
# The tile host goes into the map page's Content-Security-Policy: nothing that could end a directive.
TILE_HOST_RE = re.compile(r"[A-Za-z0-9.{}*-]+(:[0-9]{1,5})?")


class ProductionSettingsError(RuntimeError):
    """Raised when production would start with development defaults."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CAILLOUX_", env_file=".env", extra="ignore", env_file_encoding="utf-8"
    )

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr | None = None
    var_dir: Path = DEFAULT_VAR_DIR
    upload_dir: Path | None = None
    default_locale: Literal["fr", "en"] = "fr"
    # Host names that are not mapped to a territory fall back to this slug, in development only.
    default_territory: str | None = "loos-en-gohelle"
    base_scheme: Literal["http", "https"] = "http"

    mail_backend: Literal["smtp", "file", "memory"] = "file"
    mail_from: str = "Cailloux <ne-pas-repondre@cailloux.localhost>"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True

    rate_limit_storage: str = "memory://"
    db_pool_size: int = 10
    db_max_overflow: int = 20
    worker_poll_seconds: float = Field(default=2.0, gt=0)

    # The map page's background (Leaflet URL template; empty: markers without a background).
    map_tile_url: str = DEFAULT_MAP_TILE_URL
    # Shown on the map as the tiles' licence requires (trusted HTML: links only).
    map_tile_attribution: str = DEFAULT_MAP_ATTRIBUTION
    map_max_zoom: int = Field(default=18, ge=1, le=22)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def media_dir(self) -> Path:
        return self.upload_dir or (self.var_dir / "uploads")

    @property
    def secure_cookies(self) -> bool:
        return self.is_production

    @field_validator("map_tile_url")
    @classmethod
    def _check_tile_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not TILE_HOST_RE.fullmatch(parts.netloc):
            raise ValueError(
                "CAILLOUX_MAP_TILE_URL must be an http(s) tile URL template, e.g. https://{s}.tile.example.org/{z}/{x}/{y}.png"
            )
        return value

    @property
    def map_tile_origin(self) -> str:
        """The tiles' origin as a CSP source (``{s}`` subdomains become ``*``), or "" without tiles."""
        if not self.map_tile_url:
            return ""
        parts = urlsplit(self.map_tile_url)
        return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Settings:
        if not self.is_production:
            return self
        problems: list[str] = []
        if self.secret_key is None or len(self.secret_key.get_secret_value()) < 32:
            problems.append("CAILLOUX_SECRET_KEY must be set to at least 32 random characters")
        if self.database_url == DEFAULT_DATABASE_URL:
            problems.append("CAILLOUX_DATABASE_URL must point to the production database")
        if self.mail_backend != "smtp" or not self.smtp_host:
            problems.append("CAILLOUX_MAIL_BACKEND=smtp and CAILLOUX_SMTP_HOST are required")
        if self.default_territory:
            problems.append("CAILLOUX_DEFAULT_TERRITORY must be empty: map host names instead")
        if self.base_scheme != "https":
            problems.append("CAILLOUX_BASE_SCHEME must be https")
        if problems:
            raise ProductionSettingsError(
                "Refusing to start in production with development defaults: " + "; ".join(problems)
            )
        return self

    def get_secret_key(self) -> str:
        """The signing key; in development it is generated once and kept under ``var/``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        key_file = self.var_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
