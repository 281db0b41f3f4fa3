"""Gateway configuration: a TOML file (optional) overlaid by MAILROUTER_* environment variables.

With no file at all, `mailrouter serve` runs on the embedded defaults of DESIGN §3: listen on
127.0.0.1:2525, the bundled routing_rules/, and a SQLite journal, spool and Maildirs under
./var/. Nested keys take a double underscore in the environment: MAILROUTER_SMTP__PORT=2526.
Rules (routes, courts, senders) are not configuration: they live in routing_rules/.
"""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mailrouter.paths import default_rules_dir


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SmtpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    hostname: str = Field(default_factory=socket.getfqdn, description="name in banner/Received")
    max_message_size: int = Field(default=25 * 1024 * 1024, ge=1024)
    max_sessions: int = Field(default=200, ge=1, description="concurrent SMTP sessions")
    max_sessions_per_client: int = Field(
        default=20, ge=1, description="concurrent sessions from one address (relays: no cap)"
    )
    relay_reserve: int = Field(
        default=20, ge=0, description="of max_sessions, kept for the trusted relays"
    )
    timeout: float = Field(default=300.0, gt=0, description="seconds for each command (RFC 5321)")
    stress_timeout: float = Field(
        default=10.0, gt=0, description="seconds for each command when most sessions are in use"
    )
    command_call_limit: int = Field(default=50, ge=1, description="same command, per session")
    tls_cert: Path | None = None
    tls_key: Path | None = None
    require_tls_from_remote: bool = Field(
        default=False, description="refuse MAIL before STARTTLS from non-loopback peers"
    )
    max_received_headers: int = Field(default=50, ge=1, description="loop protection")
    large_messages_at_once: int = Field(
        default=2, ge=1, description="messages over 1 MiB loaded and decided at one time"
    )
    inline_decide_bytes: int = Field(
        default=64 * 1024, ge=0, description="larger messages are decided off the event loop"
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="acceptor processes sharing the port (SO_REUSEPORT)"
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> SmtpSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.require_tls_from_remote and self.tls_cert is None:
            raise ValueError("require_tls_from_remote needs tls_cert and tls_key")
        return self


class MaildirSettings(Section):
    root: Path | None = Field(default=None, description="default: <var>/mail; one Maildir a route")


class SmtpHostSettings(Section):
    """A mail server we send through (a smart host)."""

    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    starttls: Literal["required", "opportunistic", "off"] = "required"
    ca_file: Path | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = Field(default=60.0, gt=0)


class SmtpRelaySettings(SmtpHostSettings):
    mail_from: str = Field(default="", description="envelope sender; empty: the original sender")


class ImapServerSettings(Section):
    """An IMAP server over implicit TLS (aioimaplib has no STARTTLS)."""

    host: str = "127.0.0.1"
    port: int = Field(default=993, ge=1, le=65535)
    username: str = ""
    password: str = ""
    ca_file: Path | None = None
    verify_hostname: bool = True
    timeout: float = Field(default=30.0, gt=0, description="bound on every IMAP command")


class ImapSettings(ImapServerSettings):
    folder_template: str = Field(default="{route}", description="{route} is replaced")


class RouteDelivery(Section):
    transport: Literal["maildir", "smtp", "imap"]


class NoticeSettings(Section):
    """Mail the gateway itself sends: bounce notices (pull mode), DSNs, acknowledgements."""

    enabled: bool = Field(default=True, description="off: notices are journalled, not sent")
    from_address: str = Field(default="", description="empty: the rules' front-door address")
    from_name: str = "CPS defence mail gateway"
    acknowledge: bool = Field(
        default=False, description="tell verified CJSM senders where their message went"
    )
    per_sender_per_hour: int = Field(default=10, ge=1, description="auto-replies to one address")
    give_up_hours: float = Field(default=48.0, gt=0)
    smtp: SmtpHostSettings = SmtpHostSettings()


class PullSettings(ImapServerSettings):
    """IMAP pull mode: watch a shared mailbox instead of (or as well as) listening on SMTP."""

    enabled: bool = Field(default=False, description="`serve` pulls as well as listening")
    folder: str = "INBOX"
    routed_folder: str = "Routed"
    bounced_folder: str = "Bounced"
    rejected_folder: str = "Rejected"
    held_folder: str = "Held"
    failed_folder: str = Field(
        default="Failed", description="messages the gateway could not handle"
    )
    idle_seconds: float = Field(
        default=1500.0, gt=0, le=1740, description="re-issue IDLE this often (RFC 2177: < 29 min)"
    )
    poll_seconds: float = Field(default=60.0, gt=0, description="when the server lacks IDLE")
    recheck_seconds: float = Field(
        default=2.0, gt=0, description="how often to look for finished deliveries to file away"
    )
    batch: int = Field(default=100, ge=1, description="messages taken per sweep")
    peer_ip: str = Field(
        default="",
        description="the mailbox server's address as the sender check sees it; list it in "
        "senders.yaml trusted_relays only if that server authenticates CJSM senders",
    )
    recipient: str = Field(default="", description="empty: the rules' front-door address")


class DeliverySettings(Section):
    transport: Literal["maildir", "smtp", "imap"] = "maildir"
    routes: dict[str, RouteDelivery] = Field(default={}, description="per-route overrides")
    workers: int = Field(default=4, ge=1, le=256)
    separate_process: bool = Field(
        default=True, description="deliver from a child process, leaving SMTP its own CPU"
    )
    nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="the delivery process's niceness: when CPU is short, answering senders "
        "comes first and deliveries catch up after (they are on disk already)",
    )
    retry_initial_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=1800.0, gt=0)
    park_after_hours: float = Field(default=72.0, gt=0)
    scan_seconds: float = Field(default=5.0, gt=0, description="how often due retries are sought")
    lease_seconds: float = Field(
        default=600.0,
        gt=0,
        description="a delivery claimed by a worker or node that stops answering is taken over "
        "after this long; longer than any one attempt may take",
    )
    maildir: MaildirSettings = MaildirSettings()
    smtp: SmtpRelaySettings = SmtpRelaySettings()
    imap: ImapSettings = ImapSettings()

    def transport_for(self, route: str) -> str:
        override = self.routes.get(route)
        return override.transport if override else self.transport


class RulesSettings(Section):
    """How the running gateway takes up edited rules (the rules themselves: rules_dir)."""

    watch: bool = Field(default=False, description="reload when a file in rules_dir changes")
    watch_seconds: float = Field(default=2.0, gt=0, description="how often to look")


class RetentionSettings(Section):
    """Raw messages kept under var/retained for `mailrouter replay` (0600 files)."""

    days: int = Field(default=30, ge=0, description="kept this many days; 0 keeps none")


class HttpSettings(Section):
    """The gateway's HTTP listener: /healthz and /readyz. Keep it on loopback (or behind the
    host's firewall): it says how the gateway is, to whoever asks."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9525, ge=0, le=65535)
    min_free_bytes: int = Field(
        default=256 * 1024 * 1024, ge=0, description="spool filesystem room below which not ready"
    )
    route_failing_minutes: float = Field(
        default=30.0, gt=0, description="a route whose deliveries all fail this long: not ready"
    )


class TraceSettings(Section):
    """What `mailrouter trace` can find."""

    keep_addresses: bool = Field(
        default=False, description="journal senders' full addresses, not only their domains"
    )
    refusals_days: int = Field(
        default=30, ge=1, description="refusals before a decision are kept this many days"
    )


class LogSettings(Section):
    format: Literal["json", "console"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MAILROUTER_", env_nested_delimiter="__", extra="forbid"
    )

    var_dir: Path = Path("var")
    rules_dir: Path = Field(default_factory=default_rules_dir)
    node: str = Field(default_factory=socket.gethostname, description="this gateway's name")
    journal_url: str | None = Field(
        default=None,
        description="postgresql://… puts the journal and the spool in PostgreSQL, shared by "
        "several nodes; default: SQLite and spool files under var_dir",
    )
    journal_connections: int = Field(
        default=16, ge=2, le=200, description="PostgreSQL connections of each process's pool"
    )
    smtp: SmtpSettings = SmtpSettings()
    delivery: DeliverySettings = DeliverySettings()
    notices: NoticeSettings = NoticeSettings()
    pull: PullSettings = PullSettings()
    rules: RulesSettings = RulesSettings()
    retention: RetentionSettings = RetentionSettings()
    trace: TraceSettings = TraceSettings()
    http: HttpSettings = HttpSettings()
    log: LogSettings = LogSettings()

    @property
    def spool_dir(self) -> Path:
        return self.var_dir / "spool"

    @property
    def journal_path(self) -> Path:
        return self.var_dir / "journal.sqlite3"

    @property
    def journal_target(self) -> str | Path:
        """Where the journal is: a PostgreSQL URL, or the SQLite file under var_dir."""
        return self.journal_url or self.journal_path

    @field_validator("journal_url")
    @classmethod
    def _postgresql_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (leave it out for SQLite)")
        return value

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def retained_dir(self) -> Path:
        return self.var_dir / "retained"

    @property
    def maildir_root(self) -> Path:
        return self.delivery.maildir.root or self.var_dir / "mail"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file, which is passed in as init values.
        return env_settings, init_settings


class ConfigInvalid(Exception):
    """The configuration cannot be used: `problems` has one line each (file, key, what)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(path: Path | None = None) -> Settings:
    """Settings from `path` (TOML) and the environment; errors name the file and field."""
    values: dict[str, Any] = {}
    where = str(path) if path is not None else None
    if path is not None:
        try:
            with path.open("rb") as handle:
                values = tomllib.load(handle)
        except OSError as exc:
            raise ConfigInvalid([f"{path}: cannot be read: {exc.strerror}"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigInvalid([f"{path}: not valid TOML: {exc}"]) from None
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigInvalid([_problem(where, error) for error in exc.errors()]) from None


def _problem(where: str | None, error: Any) -> str:
    """One line: where the value came from, the key, and what is wrong with it."""
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    env = "MAILROUTER_" + "__".join(str(part) for part in error["loc"]).upper()
    given = error.get("input")
    shown = "" if isinstance(given, dict) or given is None else f" (given: {given!r:.60})"
    place = f"{where}: {key} (or {env})" if where else f"{env} ({key})"
    return f"{place}: {error['msg']}{shown}"
