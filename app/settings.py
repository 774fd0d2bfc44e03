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
        default=90.0,
        ge=0,
        description="After a create whose outcome is unknown (timeout, 5xx), keep searching "
        "for its label this long before creating again: the request may still land, and "
        "Jira's search index lags behind creates (Cloud: seconds, sometimes a minute).",
    )
    sync_backoff_base_seconds: float = Field(default=1.0, gt=0)
    sync_backoff_cap_seconds: float = Field(default=300.0, gt=0)
    # Outage handling (issue 12): see README "Riding out a Jira outage".
    sync_dead_letter_horizon_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="A row failing transiently this long since its first failure goes to the "
        "dead letter; permanent 4xx go at once. Attempts are not counted.",
    )
    sync_breaker_failures: int = Field(
        default=5,
        gt=0,
        description="Consecutive connection failures, timeouts or 5xx that open the breaker.",
    )
    sync_breaker_cooldown_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long an open breaker keeps pushes away from Jira before one probe.",
    )

    pagerduty_webhook_secret: str | None = None
    opsgenie_webhook_token: str | None = None
    alertmanager_webhook_token: str | None = None
    generic_webhook_secret: str | None = None

    data_dir: Path = Field(
        default=Path("data"),
        description="Files Hindsight keeps outside the database: the signing key (unless "
        "signing_key_file says elsewhere), signed audit checkpoints, uploaded evidence.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="PEM Ed25519 private key that signs archive manifests and audit "
        "checkpoints; unset: <data_dir>/signing-key.pem, generated on first use.",
    )
    checkpoint_dir: Path | None = Field(
        default=None,
        description="Where signed audit checkpoints go; unset: <data_dir>/checkpoints.",
    )
    evidence_max_bytes: int = Field(
        default=25 * 1024 * 1024, gt=0, description="Largest evidence file an upload may carry."
    )

    notify_webhook_url: str | None = Field(
        default=None, description="Slack-compatible incoming webhook for teams without their own."
    )
    smtp_url: str | None = Field(
        default=None, description="smtp://[user:password@]host[:port] (smtps:// for TLS)."
    )
    outbound_timeout_seconds: float = Field(default=10.0, gt=0)
    # Follow-through (issue 8): notifications, the schedule, links in messages.
    notify_from: str = "hindsight@localhost"
    notify_max_attempts: int = Field(
        default=12, gt=0, description="Failed deliveries before a notification is dead-lettered."
    )
    notify_backoff_base_seconds: float = Field(default=30.0, gt=0)
    notify_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    public_url: str | None = Field(
        default=None, description="Base URL people open Hindsight at, for links in messages."
    )
    schedule_enabled: bool = Field(
        default=True, description="false: this process never starts scheduled jobs (another does)."
    )

    # Web UI (app/web): session cookies and the optional SSO trusted-header mode.
    web_cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Secure flag on the session cookie; auto: when the request came over HTTPS "
        "(X-Forwarded-Proto is believed only from a trusted proxy).",
    )
    web_trusted_header: str | None = Field(
        default=None,
        description="Header an SSO proxy sets to the signed-in username, e.g. X-Forwarded-User; "
        "off when unset. Believed only from HINDSIGHT_WEB_TRUSTED_PROXIES.",
    )
    web_trusted_proxies: str = Field(
        default="", description="Comma-separated addresses the trusted header may come from."
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator(
        "redis_url",
        "jira_url",
        "smtp_url",
        "notify_webhook_url",
        "web_trusted_header",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key_file or self.data_dir / "signing-key.pem"

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_dir or self.data_dir / "checkpoints"

    @property
    def evidence_path(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def jira_enabled(self) -> bool:
        return bool(self.jira_url and self.jira_project)

    @property
    def link_base(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

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
