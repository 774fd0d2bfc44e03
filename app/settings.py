"""The one place that reads the environment.

Every other module receives a `Settings` instance; nothing reads `os.environ`
on its own, so tests and the worker can build the app with explicit values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """A setting has a wrong value; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HINDSIGHT_", extra="ignore")

    database_url: str = "sqlite:///hindsight.db"
    redis_url: str | None = None
    config_dir: Path = Path("config")
    api_tokens: str = Field(
        default="",
        description="Bootstrap tokens for automation: 'name:scope:secret', comma separated.",
    )
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    metrics_token: str | None = Field(default=None, min_length=16)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    jira_url: str | None = None
    jira_user: str | None = None
    jira_token: str | None = None
    jira_project: str | None = None
    jira_webhook_secret: str | None = None
    jira_timeout_seconds: float = Field(default=10.0, gt=0)
    jira_auth: Literal["basic", "bearer"] = Field(
        default="basic",
        description="basic: user + API token (Cloud) or password; bearer: a Data Center PAT.",
    )
    report_max_age_seconds: int = Field(
        default=3600,
        gt=0,
        description="A cached report older than this is answered and recomputed in a job.",
    )
    sync_lease_seconds: float = Field(
        default=60.0, gt=0, description="How long a crashed pusher blocks the outbox."
    )
    sync_sweep_seconds: int = Field(
        default=30, gt=0, description="How often the worker re-enqueues stranded sync work."
    )
    sync_reconcile_seconds: int = Field(
        default=300, gt=0, description="How often the worker runs the JQL reconcile."
    )
    sync_reconcile_margin_seconds: int = Field(
        default=300, ge=0, description="Overlap before the reconcile watermark (clock skew)."
    )
    sync_inline_retry_seconds: float = Field(
        default=5.0, ge=0, description="Back-offs up to this long are slept inside the job."
    )
    sync_create_settle_seconds: float = Field(
        default=15.0,
        ge=0,
        description="After a create whose outcome is unknown (timeout, 5xx), wait this long "
        "before searching for it: the request may still land, and Cloud search lags.",
    )
    sync_backoff_base_seconds: float = Field(default=1.0, gt=0)
    sync_backoff_cap_seconds: float = Field(default=300.0, gt=0)
    sync_max_attempts: int = Field(
        default=25, gt=0, description="Transient failures before a row goes to the dead letter."
    )

    pagerduty_webhook_secret: str | None = None
    opsgenie_webhook_token: str | None = None
    alertmanager_webhook_token: str | None = None
    generic_webhook_secret: str | None = None

    export_signing_key: str | None = Field(
        default=None, description="HMAC key that signs compliance archive manifests"
    )

    notify_webhook_url: str | None = None
    smtp_url: str | None = None
    outbound_timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url", "jira_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def jira_enabled(self) -> bool:
        return bool(self.jira_url and self.jira_project)

    @property
    def sqlalchemy_url(self) -> str:
        """psycopg 3 is the driver we ship; accept the plain scheme users paste."""
        url = self.database_url
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url[len("postgresql://") :]
        return url


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's error into one naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            problems.append(f"HINDSIGHT_{field.upper()}: {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
