from __future__ import annotations

from pathlib import Path

import pytest

from app.config import DEFAULT_DATABASE_URL, ProductionSettingsError, Settings


def production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "production",
        "secret_key": "s" * 40,
        "database_url": "postgresql+psycopg://cailloux@db/cailloux",
        "mail_backend": "smtp",
        "smtp_host": "smtp.example.org",
        "default_territory": "",
        "base_scheme": "https",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_valid_production_settings_start() -> None:
    assert production().is_production


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"secret_key": None}, "CAILLOUX_SECRET_KEY"),
        ({"secret_key": "short"}, "CAILLOUX_SECRET_KEY"),
        ({"database_url": DEFAULT_DATABASE_URL}, "CAILLOUX_DATABASE_URL"),
        ({"mail_backend": "file"}, "CAILLOUX_MAIL_BACKEND"),
        ({"default_territory": "loos-en-gohelle"}, "CAILLOUX_DEFAULT_TERRITORY"),
        ({"base_scheme": "http"}, "CAILLOUX_BASE_SCHEME"),
    ],
)
def test_production_refuses_development_defaults(override: dict[str, object], message: str) -> None:
    with pytest.raises(ProductionSettingsError, match=message):
        production(**override)


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(environment="development", var_dir=tmp_path)
    first = settings.get_secret_key()
    assert len(first) >= 40
    assert (tmp_path / "secret_key").read_text() == first
    assert Settings(environment="development", var_dir=tmp_path).get_secret_key() == first


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAILLOUX_DEFAULT_LOCALE", "en")
    monkeypatch.setenv("CAILLOUX_DATABASE_URL", "sqlite:////tmp/x.db")
    settings = Settings()
    assert settings.default_locale == "en"
    assert settings.database_url == "sqlite:////tmp/x.db"
