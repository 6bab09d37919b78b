"""One settings object, read from the environment and `.env`, shared by every process."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable: each field is the environment variable of the same name, upper-case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # development: zero-config `make run` on a laptop (documented secrets, demo data);
    # production: every process refuses to start on a missing, default, short or reused
    # secret (sportello/security.py) and seeds nothing.
    sportello_env: Literal["development", "production"] = "development"

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    staff_chat_id: int | None = None

    database_url: str = "sqlite+aiosqlite:///var/sportello.db"
    backoffice_url: str = "http://127.0.0.1:8090"
    # Secrets: each has its own purpose; the development defaults are documented in
    # SECURITY.md and refused in production.
    backoffice_api_key: SecretStr = SecretStr("dev-backoffice-key")
    # Signs the short-lived links of certificates, receipts, checkouts and tickets.
    backoffice_file_secret: SecretStr = SecretStr("dev-file-link-secret")
    # Rasa sends it to the action server (endpoints.yml), which refuses calls without it.
    action_server_token: SecretStr = SecretStr("dev-action-server-token")

    # The API (/v1) and the staff page listen here: loopback unless a proxy needs otherwise.
    backoffice_host: str = "127.0.0.1"
    backoffice_port: int = 8090
    # The public pages only (checkout, receipts, files, verification pages) also listen here,
    # the one address of the back office a reverse proxy exposes; 0 turns that listener off.
    backoffice_public_host: str = "127.0.0.1"
    backoffice_public_port: int = Field(default=8091, ge=0, le=65535)
    # Demo citizens, pratiche and taxes on first start; unset: only in development.
    seed_demo_data: bool | None = None

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 20.0
    action_server_host: str = "127.0.0.1"
    action_server_port: int = 5055
    # Where Rasa calls the actions; unset, the action server's own host and port.
    action_server_url: str = ""

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    bot_state_dir: str = "var"
    # Messages a second this bot process may send: Telegram allows the bot 30 in all, so each
    # of N replicas keeps 30 // N (the production topology sets it).
    telegram_messages_per_second: int = Field(default=30, ge=1, le=30)
    # Updates handled at the same time, all chats together; a chat takes a slot only when its
    # turn comes, so one chat's flood never holds the others' slots.
    bot_max_concurrent_updates: int = Field(default=64, ge=1)
    # Updates one chat may have waiting behind the one being handled; more are dropped and the
    # chat is told once per burst. The staff group is never capped.
    bot_chat_queue_limit: int = Field(default=20, ge=1)
    # Inline keyboards whose buttons the bot still understands (PTB keeps each button's meaning
    # and sends Telegram only a key); past it the oldest keyboard's buttons get a fresh menu.
    bot_button_store_size: int = Field(default=10_000, ge=1)
    # The bot's /health, /ready and /metrics (for a supervisor, a balancer, Prometheus); 0: none.
    bot_health_host: str = "127.0.0.1"
    bot_health_port: int = Field(default=0, ge=0, le=65535)
    # Where the bot keeps handoff tickets; default a SQLite file in bot_state_dir.
    handoff_database_url: str | None = None
    # Days a closed handoff's transcript is kept (the comune's retention rule).
    handoff_retention_days: int = 30
    # How often the running bot deletes those transcripts; 0: only when it starts.
    handoff_purge_interval_seconds: float = Field(default=3600.0, ge=0)
    # Minutes after which a citizen nobody has answered is told so, once.
    handoff_unclaimed_minutes: float = 10.0
    comune_name: str = "Cerveteri"
    # The comune's switchboard, told when no person can be reached in the chat (no staff group,
    # or its topic could not be opened).
    comune_switchboard: str = "06 896301"
    comune_switchboard_hours: str = "lunedì–venerdì 9–12:30"

    # pagoPA: the payee of the comune's notices. TO BE CONFIRMED: a placeholder with a valid
    # check digit, not the Comune di Cerveteri's real codice fiscale (not found; set
    # COMUNE_FISCAL_CODE from the comune's IPA record before going live).
    comune_fiscal_code: str = Field(default="01234560587", pattern=r"^\d{11}$")
    # The comune's segregation code (codice segregazione) for aux digit 3; the demo
    # notices in seed.py use 01.
    pagopa_segregation_code: str = Field(default="01", pattern=r"^\d{2}$")
    # A citizen who wants reminders is told once, this many days before a due date.
    payment_reminder_days: int = Field(default=5, ge=0)
    # How often the back office queues those reminders; 0 turns it off (cron or tests call
    # POST /v1/jobs/payment-reminders instead).
    payment_reminder_interval_seconds: float = Field(default=3600.0, ge=0)
    # Where citizens' browsers reach the back office's public pages (the checkout);
    # unset, the back office URL.
    public_base_url: str | None = None
    # Hours a checkout link works; asking again for the notice in the chat renews it.
    checkout_link_hours: int = Field(default=24, ge=1, le=24 * 30)

    # Counter appointments. The comune's own closing days besides the national holidays,
    # "MM-DD" (every year) or "YYYY-MM-DD" (once) -> the reason citizens are told; a plain
    # list of days is accepted too. 8 May: San Michele Arcangelo, Cerveteri's patron.
    comune_closing_days: dict[str, str] = {
        "05-08": "Festa di San Michele Arcangelo, patrono"
    }
    # How many days ahead a counter slot can be booked.
    appointment_horizon_days: int = Field(default=60, ge=1, le=366)
    # No slot starting sooner than this is offered: the citizen has to get there.
    appointment_min_notice_minutes: int = Field(default=30, ge=0)
    # How often the back office reminds citizens of tomorrow's appointments; 0 turns it off.
    appointment_reminder_interval_seconds: float = Field(default=3600.0, ge=0)
    # Avvisi: how often the back office checks for the evening waste reminder (it goes out
    # from 19:00 Rome time, once per zone and day, whichever replica runs it); 0 turns it off
    # (POST /v1/jobs/waste-reminders instead).
    waste_reminder_interval_seconds: float = Field(default=300.0, ge=0)
    # Telegram user ids of the staff who may publish avvisi with /avviso in the staff group.
    # STAFF_PUBLISHER_IDS="111,222" (or a JSON list); until per-person logins exist.
    staff_publisher_ids: Annotated[list[int], NoDecode] = []
    # How often the back office deletes what it keeps only for a while (the answers to
    # Idempotency-Key retries after 24 hours, files never part of a pratica after a day);
    # 0 turns it off (POST /v1/jobs/housekeeping).
    housekeeping_interval_seconds: float = Field(default=3600.0, ge=0)
    # What one citizen may upload from the chat in 24 hours: megabytes and files.
    upload_quota_mb: int = Field(default=50, ge=1)
    upload_quota_files: int = Field(default=30, ge=1)

    # --- Conversations and the citizen's own data (GDPR self-service) --------------------
    # Rasa's SQL tracker store (an async SQLAlchemy URL). Rasa writes it (run_rasa hands it
    # to endpoints.yml's tracker_store); the bot reads and deletes a citizen's conversation
    # there ("i miei dati") and runs the retention job, so the bot must reach the same
    # database: the same file on one machine, or a PostgreSQL both reach. Never DATABASE_URL.
    tracker_store_url: str = "sqlite+aiosqlite:///var/rasa-tracker.db"
    # Redis for Rasa's lock store (redis://[:password@]host:port/db): with several Rasa
    # replicas one conversation's turns are taken one at a time by whichever replica gets
    # them. Unset: Rasa's in-memory locks, right for one Rasa process.
    redis_url: str | None = None
    # Days a conversation is kept; the bot deletes older messages.
    conversation_retention_days: int = Field(default=90, ge=1)
    # How often the bot deletes them; 0 turns the job off.
    conversation_retention_interval_seconds: float = Field(default=3600.0, ge=0)

    @model_validator(mode="after")
    def _tracker_store_apart(self) -> Settings:
        # Rasa's table is called "events", like the back office's event feed.
        if self.tracker_store_url == self.database_url:
            raise ValueError("TRACKER_STORE_URL must not be DATABASE_URL: Rasa's store needs its own database")
        return self

    @field_validator("staff_publisher_ids", mode="before")
    @classmethod
    def _publisher_ids(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("comune_closing_days", mode="before")
    @classmethod
    def _closing_days(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            value = {str(day): "Chiusura degli uffici comunali" for day in value}
        if isinstance(value, dict):
            for day in value:
                if not re.fullmatch(r"(\d{4}-)?\d{2}-\d{2}", str(day)):
                    raise ValueError(f"closing day {day!r} is not MM-DD or YYYY-MM-DD")
        return value


    @model_validator(mode="after")
    def _derived_urls(self) -> Settings:
        if not self.action_server_url:
            self.action_server_url = f"http://{self.action_server_host}:{self.action_server_port}/webhook"
        return self

    @property
    def production(self) -> bool:
        return self.sportello_env == "production"

    @property
    def seeds_demo_data(self) -> bool:
        """Whether the back office seeds the demo data: never by default in production."""
        return self.seed_demo_data if self.seed_demo_data is not None else not self.production


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings once per process."""
    return Settings()
