"""Settings: defaults < TOML config file < ``OZG_GATEWAY_*`` environment < explicit overrides.

The config file is named by ``--config`` or ``OZG_GATEWAY_CONFIG``. Relative paths inside it
resolve against the file's folder, so ``examples/maintal/config.toml`` works from anywhere.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tomllib
from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import limits
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ozg_gateway.errors import ConfigurationError

ENV_PREFIX = "OZG_GATEWAY_"
CONFIG_ENV = "OZG_GATEWAY_CONFIG"

# Fixed demo secrets: accepted only in demo mode, rejected at start-up otherwise.
DEMO_ENCRYPTION_KEY_ID = "demo"
DEMO_ENCRYPTION_KEY = base64.b64encode(b"ozg-gateway-demo-key-not-secret!").decode()
DEMO_ADMIN_KEY = "demo-admin-key"
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "example", "xxx", "todo")

_PATH_KEYS = ("data_dir", "catalog_file", "specs_dir")
_file_values: ContextVar[dict[str, Any] | None] = ContextVar("_file_values", default=None)

DEFAULT_ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


def default_specs_dir() -> Path | None:
    """``OZG_GATEWAY_SPECS_DIR`` if set, else ``../shared/specs`` next to the working directory
    or the source checkout; None where that folder does not exist."""
    named = os.environ.get(f"{ENV_PREFIX}SPECS_DIR")
    if named:
        return Path(named) if Path(named).is_dir() else None
    candidates = [
        Path.cwd().parent / "shared" / "specs",
        Path(__file__).resolve().parents[3] / "shared" / "specs",
    ]
    return next((c for c in candidates if c.is_dir()), None)


class DeliverySettings(BaseModel):
    """Outbox worker, retry policy, circuit breaker and health checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=10, ge=1)
    max_bug_attempts: int = Field(
        default=3, ge=1, description="Attempts after a connector bug before the dead letter."
    )
    max_age_hours: float = Field(default=72, gt=0)
    backoff_base_seconds: float = Field(default=2, gt=0)
    backoff_max_seconds: float = Field(default=900, gt=0)
    max_retry_after_seconds: float = Field(default=3600, gt=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=30, gt=0)
    batch_size: int = Field(default=32, ge=1, le=1000)
    concurrency: int = Field(default=16, ge=1, le=256)
    lanes: int = Field(default=2, ge=1, le=8, description="Batches in flight per worker.")
    poll_interval_seconds: float = Field(default=0.5, gt=0)
    claim_lease_seconds: float = Field(default=120, gt=0)
    health_interval_seconds: float = Field(default=30, gt=0)
    health_timeout_seconds: float = Field(default=5, gt=0)
    report_interval_seconds: float = Field(
        default=30, gt=0, description="First check of a transport report, and the round pace."
    )
    report_max_interval_seconds: float = Field(
        default=3600, gt=0, description="Longest wait between two checks of one report."
    )
    report_max_age_hours: float = Field(
        default=72, gt=0, description="A report still open this long after delivery: unknown."
    )
    payment_check_seconds: float = Field(
        default=30, gt=0, description="First background check of an open payment."
    )
    payment_check_max_seconds: float = Field(
        default=1800, gt=0, description="Longest wait between two checks of one payment."
    )
    payment_poll_seconds: float = Field(default=5, gt=0, description="Pace of payment rounds.")
    status_poll_seconds: float = Field(
        default=60, gt=0, description="Pace of asking back offices (Open311) for status."
    )
    pull_lease_seconds: int = Field(default=300, ge=10)


class RateLimitSettings(BaseModel):
    """Requests allowed to the expensive endpoints (``limits`` notation, e.g. ``"30/minute"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_client: str = "60/minute"
    per_address: str = "120/minute"
    storage_uri: str = Field(
        default="memory://",
        description="limits storage: memory:// per process, redis://… shared by instances.",
    )
    operations: tuple[str, ...] = (
        "startIdentification",
        "identificationRefresh",
        "startPayment",
        "getPayment",
        "paymentReturn",
        "createSubmissionFromPdf",
        "open311CreateRequest",
    )

    @field_validator("per_client", "per_address")
    @classmethod
    def _parsable(cls, value: str) -> str:
        limits.parse(value)
        return value


class LimitSettings(BaseModel):
    """Bounds on size and work, applied before anything expensive happens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    json_body_bytes: int = Field(default=1024 * 1024, gt=0, description="JSON request bodies.")
    public_body_bytes: int = Field(
        default=64 * 1024, gt=0, description="Bodies of endpoints without an API key."
    )
    form_data_bytes: int = Field(
        default=256 * 1024, gt=0, description="Form data of a submission, as compact JSON."
    )
    string_chars: int = Field(default=10_000, gt=0, description="Any one text in form data.")
    parse_seconds: float = Field(
        default=5, gt=0, description="CPU time for parsing one untrusted document (PDF)."
    )
    parse_memory_mb: int = Field(
        default=512, ge=64, description="Address space of the process that parses it."
    )
    rate: RateLimitSettings = RateLimitSettings()


class ConsoleSettings(BaseModel):
    """The admin console in the browser (``/admin/``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    idle_minutes: float = Field(default=30, gt=0, description="A session ends when idle this long.")
    absolute_hours: float = Field(default=8, gt=0, description="... and after this lifetime.")
    refresh_seconds: float = Field(
        default=10, ge=0, description="Pages reload their content this often (0 = never)."
    )
    alert_queue_age_seconds: float = Field(
        default=900, gt=0, description="Oldest waiting delivery older than this is a problem."
    )


class Settings(BaseSettings):
    """Gateway settings; see the README's configuration reference for every key."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    mode: Literal["demo", "production"] = "production"
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in data_dir."
    )
    catalog_file: Path | None = None
    specs_dir: Path | None = Field(default_factory=default_specs_dir)
    public_base_url: str = "http://127.0.0.1:8000"

    encryption_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="Key id -> base64 AES-256 key."
    )
    active_key_id: str | None = None
    admin_key: SecretStr | None = None

    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a verified API key is trusted without a lookup."
    )
    new_window_days: int = Field(default=90, ge=0)
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_attachments_per_submission: int = Field(default=20, gt=0)
    attachment_types: tuple[str, ...] = DEFAULT_ATTACHMENT_TYPES
    case_number_prefix: str = Field(default="OZG", pattern=r"^[A-Z]{2,6}$")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    delivery: DeliverySettings = DeliverySettings()
    limits: LimitSettings = LimitSettings()
    console: ConsoleSettings = ConsoleSettings()
    status_notifier: str | None = Field(
        default=None,
        description="Connector instance (type status-webhook) that tells portals of status "
        "changes at their status_url.",
    )
    mail_notifier: str | None = Field(
        default=None,
        description="Connector instance (type smtp) that e-mails applicants of offers with "
        "notify_applicant when the office reports a status.",
    )
    open311_jurisdiction_id: str | None = Field(
        default=None, description="Open311 server: the jurisdiction_id apps must send, if any."
    )
    payment_provider: str | None = Field(
        default=None, description="Connector (type xbezahldienste) that collects fees."
    )
    payment_expiry_minutes: int = Field(default=60, ge=5)
    eid_server: str | None = Field(
        default=None, description="Connector (type eid) to identify with."
    )
    bundid: str | None = Field(
        default=None, description="Connector (type bundid): identification through BundID."
    )
    eid_session_minutes: int = Field(
        default=15, ge=1, description="How long an identification may take."
    )
    eid_code_seconds: int = Field(default=120, ge=10, description="Lifetime of the one-time code.")
    request_deadline_seconds: float = Field(
        default=5, gt=0, le=30, description="Longest an API request waits on a payment provider."
    )
    eid_result_wait_seconds: float = Field(
        default=3.0, gt=0, le=10, description="How long a refresh waits for the eID result."
    )
    eid_result_pause_seconds: float = Field(
        default=0.3, gt=0, le=2, description="Pause between two eID result requests."
    )
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Connector instances by name (see connectors/)."
    )

    @field_validator("attachment_types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - set(DEFAULT_ATTACHMENT_TYPES)
        if unknown:
            raise ValueError(f"unsupported attachment types: {sorted(unknown)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_source = InitSettingsSource(settings_cls, init_kwargs=_file_values.get() or {})
        return (init_settings, env_settings, file_source)

    @property
    def effective_database_url(self) -> str:
        """Database URL, defaulting to a SQLite file inside the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'ozg-gateway.db'}"

    def secret_problems(self) -> list[str]:
        """Explain every missing or placeholder secret (empty in demo mode)."""
        if self.mode == "demo":
            return []
        problems: list[str] = []
        if not self.encryption_keys:
            problems.append(
                "encryption_keys: missing (generate one with `ozg-gateway keys generate`)"
            )
        if self.active_key_id not in self.encryption_keys:
            problems.append("active_key_id: must name one of encryption_keys")
        for key_id, secret in self.encryption_keys.items():
            raw = secret.get_secret_value()
            if raw == DEMO_ENCRYPTION_KEY or _looks_placeholder(raw):
                problems.append(f"encryption_keys.{key_id}: placeholder or demo key")
            elif not _is_aes256_key(raw):
                problems.append(f"encryption_keys.{key_id}: not a base64 32-byte key")
        admin = self.admin_key.get_secret_value() if self.admin_key else ""
        if not admin:
            problems.append("admin_key: missing")
        elif admin == DEMO_ADMIN_KEY or _looks_placeholder(admin) or len(admin) < 24:
            problems.append("admin_key: placeholder, demo or shorter than 24 characters")
        return problems

    def identification_methods(self, offered: Iterable[str]) -> list[str]:
        """Which of an offer's identification methods this installation has configured."""
        configured = {"eid-server": self.eid_server, "bundid": self.bundid}
        return [m for m in offered if configured.get(m)]

    def specs_features(self) -> dict[str, bool]:
        """Which spec-dependent features can work with the configured specs directory."""
        base = self.specs_dir
        need = {
            "xfall_validation": "xfall/x_fall-2.0.xsd",
            "fit_connect_metadata": "fit-connect/metadata.schema.v1.0.0.json",
            "xta_simulator": "xta/XTA-Webservice-Globale-Elemente.xsd",  # the client needs none
            "eid": "eid/TR-03130eID-Server20.wsdl",
            "open311_validation": "open311/schema-validation/georeport-v2/request.json",
        }
        return {name: bool(base and (base / rel).is_file()) for name, rel in need.items()}


def _looks_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


def _is_aes256_key(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML config file and resolve its relative paths against its folder."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    base = path.resolve().parent
    for key in _PATH_KEYS:
        if isinstance(data.get(key), str) and not Path(data[key]).is_absolute():
            data[key] = str(base / data[key])
    resolved = _from_environment(data, where=path.name)
    assert isinstance(resolved, dict)
    return resolved


_ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def _from_environment(value: Any, *, where: str) -> Any:
    """Replace every string ``"${NAME}"`` by the environment variable NAME.

    Secrets stay out of the file: ``password = "${EPAY_PASSWORD}"``. Works for any setting,
    including those of connectors whose names (``aem-system``) cannot be environment names.
    """
    if isinstance(value, dict):
        return {k: _from_environment(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_from_environment(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and (match := _ENV_REFERENCE.match(value)):
        name = match.group(1)
        if name not in os.environ:
            raise ConfigurationError(f"{where}: environment variable {name} is not set")
        return os.environ[name]
    return value


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the config file (argument or ``OZG_GATEWAY_CONFIG``) and env."""
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    values = read_config_file(path) if path else {}
    given, listed = overrides.get("connectors"), values.get("connectors")
    if isinstance(given, dict) and isinstance(listed, dict):
        # A connector passed explicitly replaces the file's entry whole: keys depend on its type.
        values = {**values, "connectors": {k: v for k, v in listed.items() if k not in given}}
    token = _file_values.set(values)
    try:
        return Settings(**overrides)
    finally:
        _file_values.reset(token)


def demo_overrides(data_dir: Path) -> dict[str, Any]:
    """Settings that make a throw-away demo installation."""
    return {
        "mode": "demo",
        "data_dir": data_dir,
        "database_url": None,
        "encryption_keys": {DEMO_ENCRYPTION_KEY_ID: DEMO_ENCRYPTION_KEY},
        "active_key_id": DEMO_ENCRYPTION_KEY_ID,
        "admin_key": DEMO_ADMIN_KEY,
    }
