"""Runtime settings, read from RELAYDESK_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAYDESK_", env_file=None, extra="ignore")

    # Embedded default: a SQLite file in the working directory's var/ folder.
    database_url: str = "sqlite:///var/relaydesk.db"
    bus_url: str = "inproc://"
    # The JetStream stream (scale-out mode); its name in lower case prefixes the subjects
    # (RELAYDESK -> relaydesk.>), so installations with different streams share one NATS server.
    bus_stream: str = "RELAYDESK"
    # Key for encrypting channel credentials at rest. Development mode derives a stable
    # per-installation key file; production mode refuses to start without one.
    secret_key: str | None = None
    mode: str = Field(default="development", pattern="^(development|production)$")
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1024 * 1024
    # The address the networks reach RelayDesk at (https://care.example.com), for the webhook
    # addresses the account pages show; unset: the address the page itself was opened at.
    public_url: str | None = None
    # A reply with its files (three of at most 5 MB each, and the form around them).
    max_upload_bytes: int = 16 * 1024 * 1024
    # Where the triage backend lives; "lexicon" needs no model files.
    triage_backend: str = "auto"
    # How often a worker refits the sentiment head on agents' corrections (kept only when it
    # scores better on held-back corrections; triage/learning_service.py); 0 turns it off.
    learn_every_hours: float = Field(default=24.0, ge=0)
    session_days: int = 14
    # Threads draining the pipeline's work queue in this process; default: 2 in the embedded mode
    # (`serve`), none in a scale-out API process (its `relaydesk worker` processes drain it).
    worker_threads: int | None = Field(default=None, ge=0, le=64)
    # Embedded `serve`: those threads run in a worker process beside the web server, so neither
    # waits for the other's Python (false: in the server's own process, as before 2026-12).
    worker_process: bool = True
    # How long a worker holds work it took; a worker that dies loses it to another after this.
    work_lease_seconds: float = Field(default=120.0, gt=0)
    # Whether /docs, /redoc and /openapi.json are open to anyone; unset: yes in development, no in
    # production (then only logged-in users and API tokens get them; others get 404).
    public_docs: bool | None = None
    # Whether /metrics (Prometheus) is open to anyone; unset: yes in development, no in production
    # (then only an owner's or admin's API token or login reads it; others get 401/403). The
    # numbers are installation-wide: a scraper on a private network is the usual reader.
    metrics_public: bool | None = None
    # Sent as Strict-Transport-Security in production mode (the server sits behind HTTPS there).
    hsts_max_age: int = Field(default=31_536_000, ge=0)
    # API tokens expire after this many days unless their creator chose another lifetime.
    token_days: int = Field(default=90, ge=1, le=3650)
    # Failed logins allowed per account (email) and per client address within the window before
    # further attempts are refused with 429; the counts live in the database, shared by every
    # API process.
    login_window_minutes: int = Field(default=15, ge=1)
    login_failures_per_account: int = Field(default=10, ge=1)
    login_failures_per_address: int = Field(default=50, ge=1)
    # Background loops of the embedded server (SLA timers, snooze wake-up, outbox); tests turn them off.
    background_tasks: bool = True

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def docs_public(self) -> bool:
        return self.public_docs if self.public_docs is not None else not self.production

    @property
    def metrics_open(self) -> bool:
        return self.metrics_public if self.metrics_public is not None else not self.production

    def resolved_worker_threads(self) -> int:
        if self.worker_threads is not None:
            return self.worker_threads
        return 2 if self.bus_url.startswith("inproc") else 0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
