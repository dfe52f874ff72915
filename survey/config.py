"""Configuration from the environment, as docs/configuration.md lists it.

Nothing secret lives in the code: the secret key comes from `BAROMETRE_SECRET_KEY` or is
generated once into the instance folder with mode 0600.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from survey.distribution.sms_window import (
    DEFAULT_SMS_WINDOW,
    SmsWindow,
    SmsWindowError,
    parse_days,
    parse_holidays,
    parse_hours,
)


class ConfigurationError(RuntimeError):
    """The environment or the instance folder does not allow barometre to start."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None


def _timezone(env: Mapping[str, str]) -> str:
    """The IANA time zone of the centre (SMS window, fieldwork dates), checked at start: a
    misspelt zone would otherwise fail at the first page or message that needs it."""
    raw = env.get("BAROMETRE_TIMEZONE")
    if raw is None or raw.strip() == "":
        return "Europe/Paris"
    name = raw.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"BAROMETRE_TIMEZONE is wrong: {raw!r} is not a time zone of the IANA database "
            "(for example Europe/Paris, America/Martinique, Indian/Reunion)"
        ) from None
    return name


def _trusted_proxies(env: Mapping[str, str]) -> int:
    hops = _integer(env, "BAROMETRE_TRUSTED_PROXIES", 0)
    if not 0 <= hops <= 10:
        raise ConfigurationError(
            f"BAROMETRE_TRUSTED_PROXIES must be the number of proxies in front of barometre "
            f"(0 to 10), not {hops}"
        )
    return hops


def sms_window_from_environment(env: Mapping[str, str]) -> SmsWindow:
    """The SMS sending window; an unset or blank variable keeps the French default's part."""

    def read(name: str, parse: Callable[[str], Any], default: Any) -> Any:
        raw = env.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return parse(raw)
        except SmsWindowError as exc:
            raise ConfigurationError(f"{name} is wrong: {exc}") from None

    default = DEFAULT_SMS_WINDOW
    opens, closes = read("BAROMETRE_SMS_HOURS", parse_hours, (default.opens, default.closes))
    days = read("BAROMETRE_SMS_DAYS", parse_days, default.days)
    country, subdivision = read("BAROMETRE_SMS_HOLIDAYS", parse_holidays,
                                (default.holiday_country, default.holiday_subdivision))
    return SmsWindow(opens=opens, closes=closes, days=days, holiday_country=country,
                     holiday_subdivision=subdivision)


def prepare_instance_folder(path: Path) -> Path:
    """Create the instance folder if missing and check that barometre can write into it."""
    path = path.expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"instance folder {path} exists but is not a folder")
    try:
        if not path.is_dir():
            # For the service user only: it holds the database, the key, messages, reports.
            path.mkdir(parents=True, mode=0o700)
            os.chmod(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigurationError(
            f"instance folder {path} cannot be created ({exc.strerror}); "
            "set BAROMETRE_INSTANCE_PATH to a writable folder"
        ) from exc
    probe = path / f".write-test-{secrets.token_hex(4)}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigurationError(
            f"instance folder {path} is not writable ({exc.strerror}); "
            "set BAROMETRE_INSTANCE_PATH to a writable folder"
        ) from exc
    return path


def load_secret_key(instance: Path, environ: Mapping[str, str]) -> str:
    """The secret key from the environment, or the one kept in the instance folder."""
    if environ.get("BAROMETRE_SECRET_KEY"):
        return environ["BAROMETRE_SECRET_KEY"]
    key_file = instance / "secret_key"
    if key_file.exists():
        key = key_file.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise ConfigurationError(f"{key_file} holds a key shorter than 32 characters")
        return key
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together must not overwrite each other's key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_secret_key(instance, environ)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def load_audit_key(instance: Path, environ: Mapping[str, str]) -> str:
    """The key of the audit trail's chain: `BAROMETRE_AUDIT_KEY`, or one generated once into
    the instance folder (mode 0600). Either way it lives outside the database, so that whoever
    can write to the database cannot recompute the chain."""
    if environ.get("BAROMETRE_AUDIT_KEY"):
        key = environ["BAROMETRE_AUDIT_KEY"]
        if len(key) < 32:
            raise ConfigurationError("BAROMETRE_AUDIT_KEY is wrong: it must hold at least 32 "
                                     "characters (generate it once, keep it in the backups)")
        return key
    key_file = instance / "audit_key"
    if key_file.exists():
        return key_file.read_text(encoding="ascii").strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_audit_key(instance, environ)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


def config_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flask configuration built from the `BAROMETRE_*` (and provider) environment variables."""
    env = os.environ if environ is None else environ
    instance = prepare_instance_folder(Path(env.get("BAROMETRE_INSTANCE_PATH", "instance")))
    database_url = env.get("BAROMETRE_DATABASE_URL") or f"sqlite:///{instance / 'barometre.db'}"
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": load_secret_key(instance, env),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BASE_URL": env.get("BAROMETRE_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "EMAIL_BACKEND": env.get("BAROMETRE_EMAIL_BACKEND", "outbox"),
        "MAIL_FROM": env.get("BAROMETRE_MAIL_FROM", "barometre@localhost"),
        "SMS_BACKEND": env.get("BAROMETRE_SMS_BACKEND", "outbox"),
        "SENDGRID_API_KEY": env.get("SENDGRID_API_KEY"),
        "SENDGRID_HOST": env.get("BAROMETRE_SENDGRID_HOST", "https://api.sendgrid.com"),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": env.get("SENDGRID_WEBHOOK_PUBLIC_KEY"),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM": env.get("TWILIO_FROM"),
        "TWILIO_BASE_URL": env.get("BAROMETRE_TWILIO_BASE_URL"),
        "SMTP_HOST": env.get("BAROMETRE_SMTP_HOST"),
        "SMTP_PORT": _integer(env, "BAROMETRE_SMTP_PORT", 25),
        "SMTP_USER": env.get("BAROMETRE_SMTP_USER"),
        "SMTP_PASSWORD": env.get("BAROMETRE_SMTP_PASSWORD"),
        "SMTP_TLS": _flag(env.get("BAROMETRE_SMTP_TLS")),
        "TIMEZONE": _timezone(env),
        "SMS_WINDOW": sms_window_from_environment(env),
        "RETENTION_DAYS": _integer(env, "BAROMETRE_RETENTION_DAYS", 90),
        "AUDIT_KEY": load_audit_key(instance, env),
        "AUDIT_SEAL_EVERY": _seconds(env, "BAROMETRE_AUDIT_SEAL_EVERY", 10.0),
        "TRUSTED_PROXIES": _trusted_proxies(env),
        "REDIS_URL": (env.get("BAROMETRE_REDIS_URL") or "").strip() or None,
        "JOBS_STALE_AFTER_SECONDS": _integer(env, "BAROMETRE_JOB_STALE_AFTER", 120),
    }
