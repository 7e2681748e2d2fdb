"""Settings read from the environment, validated before Django starts.

Every reader names the variable it reads in its error, so a malformed value stops start-up with
one line that says what is wrong and how to fix it. No Django import: the settings module and the
start-up scripts both use this.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

#: A language tag as Django takes it: a language, then region or script parts ("en-us").
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

# ISO 4217 minor units for the currencies sites ask for; others are given with CURRENCY_DECIMALS.
CURRENCY_MINOR_UNITS = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2,
    "CAD": 2, "AUD": 2, "NZD": 2, "ZAR": 2, "INR": 2, "BRL": 2, "MXN": 2, "CNY": 2, "HUF": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class Env:
    """Typed readers over an environment mapping (os.environ by default)."""

    values: Mapping[str, str]

    def text(self, name: str, default: str) -> str:
        value = self.values.get(name, "").strip()
        return value or default

    def flag(self, name: str, default: bool) -> bool:
        raw = self.values.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in TRUE_WORDS:
            return True
        if raw in FALSE_WORDS:
            return False
        raise ConfigError(f"{name}={raw!r} is not a boolean: use one of true/false, 1/0, yes/no.")

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.values.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a whole number.") from None
        if value < minimum:
            raise ConfigError(f"{name}={value} is too small: it must be at least {minimum}.")
        return value

    def word_list(self, name: str, default: list[str]) -> list[str]:
        raw = self.values.get(name, "").strip()
        if not raw:
            return default
        return [word.strip() for word in raw.split(",") if word.strip()]

    def origin_list(self, name: str) -> list[str]:
        """Comma-separated web origins, each a scheme and a host (CSRF_TRUSTED_ORIGINS):
        Django refused one without a scheme only after the settings were loaded, in a
        system-check block, and would never match one with a path."""
        origins = self.word_list(name, [])
        for origin in origins:
            if "://" not in origin:
                raise ConfigError(
                    f"{name} has {origin!r}, which has no scheme: an origin starts with one, "
                    f"as in https://{origin}."
                )
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ConfigError(
                    f"{name} has {origin!r}, which is not an origin: use https://HOST (or "
                    "http://HOST), such as https://print.example.edu."
                )
            if parts.path or parts.query or parts.fragment:
                raise ConfigError(
                    f"{name} has {origin!r}, which has a path: an origin is a scheme and a host "
                    f"only, as in {parts.scheme}://{parts.netloc}."
                )
        return origins

    def choice(self, name: str, default: str, allowed: frozenset[str]) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise ConfigError(f"{name}={value!r} is not one of: {', '.join(sorted(allowed))}.")
        return value

    def language(self, name: str, default: str, available: Sequence[str]) -> str:
        """A language tag (lower case) whose language is one of `available`, bare or with a
        region ("de", "de-at"): Django refused others only after settings were loaded, with
        a traceback (no catalog) or a system-check block (not in LANGUAGES)."""
        raw = self.text(name, default)
        value = raw.lower()
        if not _LANGUAGE_TAG.fullmatch(value) or value.split("-")[0] not in available:
            languages = ", ".join(available)
            raise ConfigError(
                f"{name}={raw!r} is not a language the product has ({languages}): use one of "
                "them, alone or with a region after a hyphen (such as en-us or de-at)."
            )
        return value

    def time_zone(self, name: str, default: str) -> str:
        value = self.text(name, default)
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{name}={value!r} is not a known time zone: use an IANA name such as "
                "'Europe/Amsterdam' or 'UTC'."
            ) from None
        return value

    def currency(self, name: str, default: str) -> str:
        value = self.text(name, default).upper()
        if len(value) != 3 or not value.isalpha():
            raise ConfigError(f"{name}={value!r} is not an ISO 4217 code such as EUR or USD.")
        return value

    def decimal(self, name: str, default: str) -> Decimal:
        """A finite decimal number of zero or more (an amount, a factor)."""
        raw = self.text(name, default)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ConfigError(f"{name}={raw!r} is not a decimal number such as 10.00.") from None
        if not value.is_finite() or value < 0:
            raise ConfigError(f"{name}={raw!r} must be a finite number of zero or more.")
        return value

    def database_url(self, name: str, default: str) -> str:
        value = self.text(name, default)
        scheme = urlsplit(value).scheme
        if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
            raise ConfigError(
                f"{name}={value!r} is not a supported database URL: use "
                "postgresql://USER:PASSWORD@HOST:PORT/NAME or sqlite:////absolute/path.sqlite3."
            )
        if scheme != "sqlite" and not urlsplit(value).path.strip("/"):
            raise ConfigError(f"{name}={value!r} names no database: add /NAME at the end.")
        return value

    def broker_url(self, name: str, default: str) -> str:
        value = self.text(name, default)
        scheme = urlsplit(value).scheme
        if scheme not in {"redis", "rediss", "filesystem"}:
            raise ConfigError(
                f"{name}={value!r} is not a supported broker: use redis://HOST:PORT/DB, or "
                "leave it unset for the embedded local broker."
            )
        if scheme.startswith("redis") and not urlsplit(value).hostname:
            raise ConfigError(f"{name}={value!r} names no host: use redis://HOST:PORT/DB.")
        return value


def currency_decimals(env: Env, currency: str) -> int:
    """Minor-unit digits of the currency: the ISO table, or CURRENCY_DECIMALS for others."""
    known = CURRENCY_MINOR_UNITS.get(currency)
    if known is not None and not env.values.get("CURRENCY_DECIMALS", "").strip():
        return known
    if known is None and not env.values.get("CURRENCY_DECIMALS", "").strip():
        raise ConfigError(
            f"CURRENCY={currency!r} has no known number of decimals: set CURRENCY_DECIMALS."
        )
    decimals = env.integer("CURRENCY_DECIMALS", 2)
    if decimals > 4:
        raise ConfigError(f"CURRENCY_DECIMALS={decimals} is too large: at most 4.")
    return decimals


#: Digits an amount may have before the point, as apps/accounts/money.py's max_whole_digits()
#: says for a currency of no decimals (the database keeps 18 digits, 4 after the point, and
#: SQLite 15 exactly); each decimal of the currency takes one of the 15.
_AMOUNT_WHOLE_DIGITS = 14
_AMOUNT_EXACT_DIGITS = 15


def amount(env: Env, name: str, default: str, currency: str, decimals: int) -> Decimal:
    """An amount of the site's currency (INITIAL_CREDIT): zero or more, with no more decimals
    than the currency has and no more digits than the database keeps exactly. The system
    check (accounts.E001) said so only after the settings were loaded, in a block."""
    raw = env.text(name, default)
    value = env.decimal(name, default)
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > decimals:
        digits = "1 digit" if places == 1 else f"{places} digits"
        rounded = value.quantize(Decimal(1).scaleb(-decimals))
        fix = (
            f"{currency} has none: write a whole amount"
            if decimals == 0
            else f"{currency} has {decimals}: write it with at most {decimals}"
        )
        raise ConfigError(
            f"{name}={raw!r} has {digits} after the point, and {fix}, such as {rounded}."
        )
    whole_digits = min(_AMOUNT_WHOLE_DIGITS, _AMOUNT_EXACT_DIGITS - decimals)
    if value != 0 and value.adjusted() >= whole_digits:
        raise ConfigError(
            f"{name}={raw!r} is too large: at most {whole_digits} digits before the point."
        )
    return value


def data_dir(env: Env, base_dir: Path) -> Path:
    """The directory holding the embedded database, secret key, spool and broker files."""
    path = Path(env.text("PRINTMGMT_DATA_DIR", str(base_dir / "var"))).resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"PRINTMGMT_DATA_DIR={str(path)!r} is a file, not a folder: name a folder (it is "
            "made if missing)."
        )
    return path


# More web processes than this only add memory and database connections.
MAX_WEB_WORKERS = 64


def web_workers(env: Env) -> int:
    """WEB_WORKERS: how many uvicorn processes serve the web (default: one per CPU). One
    process runs Python on one core at a time, so a busy site needs one per core."""
    if "WEB_WORKERS" not in env.values:
        return min(os.cpu_count() or 1, MAX_WEB_WORKERS)
    workers = env.integer("WEB_WORKERS", 1, minimum=1)
    if workers > MAX_WEB_WORKERS:
        raise ConfigError(f"WEB_WORKERS={workers} is too large: at most {MAX_WEB_WORKERS}.")
    return workers


def secret_key(env: Env, data_directory: Path, debug: bool) -> str:
    """SECRET_KEY from the environment, or one generated once and kept under the data dir.

    Production (DEBUG off with a non-embedded database) must give one explicitly: a key that
    lives next to the code is only safe on the single machine of the embedded default.
    """
    given = env.values.get("SECRET_KEY", "").strip()
    if given:
        if len(given) < 32:
            raise ConfigError("SECRET_KEY is too short: use at least 32 random characters.")
        return given
    if not debug and env.values.get("DATABASE_URL", "").strip():
        raise ConfigError(
            "SECRET_KEY is required when DEBUG is off: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    key_file = data_directory / "secret_key"
    try:
        if key_file.exists():
            return key_file.read_text().strip()
        data_directory.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        # Written with owner-only rights: it signs sessions.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
    except OSError as error:
        raise ConfigError(
            f"PRINTMGMT_DATA_DIR: the generated secret key cannot be kept in {key_file} "
            f"({error.strerror}): make it a folder this user can write in, or set SECRET_KEY."
        ) from None
    return key


@dataclass(frozen=True)
class DnsSdConfig:
    """How our IPP printer is advertised over DNS-SD (Bonjour); see `manage.py dnssd`."""

    enabled: bool
    name: str
    port: int
    addresses: tuple[str, ...]
    tls: bool


# A DNS-SD instance name is one DNS label: at most 63 bytes of UTF-8.
_DNSSD_NAME_BYTES = 63


def dnssd_config(env: Env) -> DnsSdConfig:
    """DNSSD_* settings: the advertised name, port (PORT by default), addresses and TLS."""
    name = env.text("DNSSD_NAME", "printmgmt hold queue")
    if len(name.encode()) > _DNSSD_NAME_BYTES:
        raise ConfigError(
            f"DNSSD_NAME={name!r} is too long: a DNS-SD name has at most 63 bytes (UTF-8)."
        )
    if any(ord(character) < 0x20 or character == "." for character in name):
        raise ConfigError(
            f"DNSSD_NAME={name!r} contains a dot or a control character: use plain words."
        )
    port = env.integer("DNSSD_PORT", env.integer("PORT", 8000, minimum=1), minimum=1)
    if port > 65535:
        raise ConfigError(f"DNSSD_PORT={port} is not a TCP port: use 1 to 65535.")
    addresses = env.word_list("DNSSD_ADDRESSES", [])
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ConfigError(
                f"DNSSD_ADDRESSES has {address!r}, which is not an IP address: give the "
                "comma-separated addresses phones reach the server on, or leave it unset for "
                "every address of this host."
            ) from None
    return DnsSdConfig(
        enabled=env.flag("DNSSD_ENABLED", default=False),
        name=name,
        port=port,
        addresses=tuple(addresses),
        tls=env.flag("DNSSD_TLS", default=False),
    )
