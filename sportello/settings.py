"""One settings object, read from the environment and `.env`, shared by every process."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, by the names of DESIGN.md."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    staff_chat_id: int | None = None

    database_url: str = "sqlite+aiosqlite:///var/sportello.db"
    backoffice_url: str = "http://127.0.0.1:8090"
    backoffice_api_key: SecretStr = SecretStr("dev-backoffice-key")
    backoffice_host: str = "127.0.0.1"
    backoffice_port: int = 8090
    seed_demo_data: bool = True
    # The staff page's password (any user name); unset, it is the API key.
    backoffice_staff_password: SecretStr | None = None
    # Signs the short-lived download links of certificates; unset, derived from the API key.
    backoffice_file_secret: SecretStr | None = None

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 20.0
    action_server_url: str = "http://127.0.0.1:5055/webhook"

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    bot_state_dir: str = "var"
    # Where the bot keeps handoff tickets; default a SQLite file in bot_state_dir.
    handoff_database_url: str | None = None
    # Days a closed handoff's transcript is kept (the comune's retention rule).
    handoff_retention_days: int = 30
    # Minutes after which a citizen nobody has answered is told so, once.
    handoff_unclaimed_minutes: float = 10.0
    comune_name: str = "Cerveteri"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings once per process."""
    return Settings()
