"""Settings: read once from ``MINORI_*`` environment variables and ``plugins.toml``.

Nothing else in Minori reads the environment; everything gets a :class:`Settings`.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

SECRET_MARKERS = ("secret", "password", "token", "key", "credential")
REDACTED = "***"


UPLOAD_LIMIT = 15 * 1024 * 1024
"""API.md: a photo over 15 MiB answers 413."""


class ConfigError(Exception):
    """Bad configuration: start-up stops with this one-line message."""


class PluginEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One ``[plugins.<name>]`` table of ``plugins.toml``."""

    module: str | None = None
    entry_point: str | None = None
    required: bool = True
    enabled: bool = True
    settings: dict[str, Any] = {}


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite://var/minori.db"
    secret_key: str = ""
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    metrics_token: str | None = None
    mqtt_url: str | None = None
    mqtt_client_id: str | None = None
    """The consumer's MQTT session id; keep it stable per replica (default minori-<hostname>)
    so a restart resumes the session and gets its unacknowledged messages again."""
    mqtt_share_group: str = "minori"
    city_timezone: str = "Asia/Tokyo"
    log_level: str = "INFO"
    log_json: bool = True
    debug: bool = False
    auth_rate_limit: int = 10
    """Attempts per minute on the auth routes, per client address and per username."""
    max_body_bytes: int = 1024 * 1024
    media_dir: str = "var/media"
    """Where uploaded photos are stored, content-addressed (relative to the working directory)."""
    max_upload_bytes: int = UPLOAD_LIMIT
    """The largest photo upload accepted; above it 413. At most 15 MiB, what API.md promises
    and what the upload routes read off the wire; a smaller value narrows it."""
    models_dir: str = "models_ml/artifacts"
    fcm_credentials_file: str | None = None
    """A Firebase service-account JSON file; without it pushes go to the log."""
    """Predictor artifacts, in ``<plugin>/<name>/`` (relative to the working directory)."""
    mobile_min_version: str | None = None
    """The oldest app version ``/mobile/v1`` serves (semantic version); older apps get 426."""
    mobile_store_url: str = ""
    """Where an app too old to be served is updated (the 426 answer names it)."""
    plugins: dict[str, PluginEntry] = {}
    facades: dict[str, str] = {}
    """``[facades]`` of plugins.toml: name -> ``module:attribute`` of a core.plugin.Facade."""
    environ: dict[str, str] = {}
    """The environment as it was at start-up, for ``{"$env": NAME}`` references."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_ENV_FIELDS: dict[str, tuple[str, type]] = {
    "MINORI_DATABASE_URL": ("database_url", str),
    "MINORI_SECRET_KEY": ("secret_key", str),
    "MINORI_ACCESS_TOKEN_TTL_S": ("access_token_ttl_s", int),
    "MINORI_REFRESH_TOKEN_TTL_S": ("refresh_token_ttl_s", int),
    "MINORI_METRICS_TOKEN": ("metrics_token", str),
    "MINORI_MQTT_URL": ("mqtt_url", str),
    "MINORI_MQTT_CLIENT_ID": ("mqtt_client_id", str),
    "MINORI_MQTT_SHARE_GROUP": ("mqtt_share_group", str),
    "MINORI_CITY_TIMEZONE": ("city_timezone", str),
    "MINORI_LOG_LEVEL": ("log_level", str),
    "MINORI_LOG_JSON": ("log_json", bool),
    "MINORI_DEBUG": ("debug", bool),
    "MINORI_AUTH_RATE_LIMIT": ("auth_rate_limit", int),
    "MINORI_MODELS_DIR": ("models_dir", str),
    "MINORI_FCM_CREDENTIALS_FILE": ("fcm_credentials_file", str),
    "MINORI_MEDIA_DIR": ("media_dir", str),
    "MINORI_MAX_UPLOAD_BYTES": ("max_upload_bytes", int),
    "MINORI_MOBILE_MIN_VERSION": ("mobile_min_version", str),
    "MINORI_MOBILE_STORE_URL": ("mobile_store_url", str),
}


def _parse(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}: expected an integer, got {raw!r}") from None
    return raw


def load_plugins_file(path: Path) -> dict[str, PluginEntry]:
    """Read the allow-list of plugins, in file order."""
    if not path.exists():
        raise ConfigError(f"{path}: plugins file not found (set MINORI_PLUGINS_FILE)")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    entries: dict[str, PluginEntry] = {}
    for name, table in document.get("plugins", {}).items():
        try:
            entries[name] = msgspec.convert(table, PluginEntry)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{path}: [plugins.{name}]: {exc}") from None
        entry = entries[name]
        if (entry.module is None) == (entry.entry_point is None):
            raise ConfigError(
                f"{path}: [plugins.{name}]: give exactly one of 'module' or 'entry_point'"
            )
    return entries


def load_facades_file(path: Path) -> dict[str, str]:
    """The ``[facades]`` table of plugins.toml (client-shaped APIs such as the mobile one)."""
    if not path.exists():
        return {}
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    facades = document.get("facades", {})
    if not all(isinstance(v, str) and ":" in v for v in facades.values()):
        raise ConfigError(f'{path}: [facades]: write each as name = "module:attribute"')
    return dict(facades)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from the environment (``os.environ`` by default) and plugins.toml."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for name, (field, kind) in _ENV_FIELDS.items():
        if name in env:
            values[field] = _parse(name, env[name], kind)
    plugins_file = Path(env.get("MINORI_PLUGINS_FILE", "plugins.toml"))
    if "plugins" not in overrides:
        values["plugins"] = load_plugins_file(plugins_file)
    if "facades" not in overrides:
        values["facades"] = load_facades_file(plugins_file)
    values.update(overrides)
    values["environ"] = env
    if not values.get("secret_key"):
        values["secret_key"] = _development_secret()
    settings = Settings(**values)
    try:
        ZoneInfo(settings.city_timezone)
    except (KeyError, ValueError):
        raise ConfigError(
            f"MINORI_CITY_TIMEZONE: not a time zone: {settings.city_timezone!r}"
        ) from None
    if not 0 < settings.max_upload_bytes <= UPLOAD_LIMIT:
        raise ConfigError(
            f"MINORI_MAX_UPLOAD_BYTES: between 1 and {UPLOAD_LIMIT} (15 MiB, the API's limit), "
            f"got {settings.max_upload_bytes}"
        )
    return settings


def _development_secret() -> str:
    """A random signing key kept in ./var so tokens survive restarts of a development server."""
    path = Path("var") / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


def resolve_env_refs(value: Any, environ: Mapping[str, str], where: str = "") -> Any:
    """Replace every ``{"$env": "NAME"}`` with the variable's value."""
    if isinstance(value, dict):
        if set(value) == {"$env"}:
            name = value["$env"]
            if name not in environ:
                raise ConfigError(f"{where}: environment variable {name} is not set")
            return environ[name]
        return {k: resolve_env_refs(v, environ, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env_refs(v, environ, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced by ``***``."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if looks_secret(k) and v is not None else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
