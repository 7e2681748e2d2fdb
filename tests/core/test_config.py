"""Settings from the environment: every malformed value is refused with its variable named."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps.accounts import money
from printmgmt.config import (
    ConfigError,
    Env,
    amount,
    currency_decimals,
    data_dir,
    secret_key,
    web_workers,
)

ROOT = Path(__file__).resolve().parents[2]


def env(**values: str) -> Env:
    return Env(values)


@pytest.mark.parametrize(
    ("raw", "expected"), [("", True), ("yes", True), ("0", False), ("Off", False), ("TRUE", True)]
)
def test_flag_reads_common_words(raw: str, expected: bool) -> None:
    assert env(DEBUG=raw).flag("DEBUG", default=True) is expected


def test_flag_refuses_other_words_and_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^DEBUG='maybe' is not a boolean"):
        env(DEBUG="maybe").flag("DEBUG", default=False)


def test_integer_refuses_words_and_values_below_minimum() -> None:
    assert env(N="7").integer("N", 1) == 7
    assert env().integer("N", 3) == 3
    with pytest.raises(ConfigError, match="N='seven' is not a whole number"):
        env(N="seven").integer("N", 1)
    with pytest.raises(ConfigError, match="N=0 is too small: it must be at least 1"):
        env(N="0").integer("N", 5, minimum=1)


def test_word_list_splits_on_commas() -> None:
    assert env(HOSTS=" a.example, b.example ,,").word_list("HOSTS", []) == [
        "a.example",
        "b.example",
    ]
    assert env().word_list("HOSTS", ["x"]) == ["x"]


def test_origins_are_a_scheme_and_a_host() -> None:
    given = "https://print.example.edu, http://127.0.0.1:8000,https://*.example.edu"
    assert env(CSRF_TRUSTED_ORIGINS=given).origin_list("CSRF_TRUSTED_ORIGINS") == [
        "https://print.example.edu",
        "http://127.0.0.1:8000",
        "https://*.example.edu",
    ]
    assert env().origin_list("CSRF_TRUSTED_ORIGINS") == []
    for bad, message in (
        (
            "https://a.example,print.example.edu",
            "'print.example.edu', which has no scheme: an origin starts with one, as in "
            "https://print.example.edu.",
        ),
        ("ftp://print.example.edu", "'ftp://print.example.edu', which is not an origin"),
        ("https://", "'https://', which is not an origin"),
        (
            "https://print.example.edu/",
            "'https://print.example.edu/', which has a path: an origin is a scheme and a host "
            "only, as in https://print.example.edu.",
        ),
    ):
        with pytest.raises(ConfigError) as refused:
            env(CSRF_TRUSTED_ORIGINS=bad).origin_list("CSRF_TRUSTED_ORIGINS")
        assert str(refused.value).startswith(f"CSRF_TRUSTED_ORIGINS has {message}")


def test_choice_lists_what_is_allowed() -> None:
    allowed = frozenset({"INFO", "DEBUG"})
    assert env(LOG_LEVEL="DEBUG").choice("LOG_LEVEL", "INFO", allowed) == "DEBUG"
    with pytest.raises(ConfigError, match="LOG_LEVEL='LOUD' is not one of: DEBUG, INFO"):
        env(LOG_LEVEL="LOUD").choice("LOG_LEVEL", "INFO", allowed)


def test_language_is_one_the_product_has_alone_or_with_a_region() -> None:
    available = ["en", "de"]
    assert env().language("LANGUAGE_CODE", "en-us", available) == "en-us"
    for given, expected in (("de", "de"), ("de-AT", "de-at"), ("EN-GB", "en-gb")):
        assert env(LANGUAGE_CODE=given).language("LANGUAGE_CODE", "en", available) == expected
    for bad in ("xx", "fr", "fr-fr", "en_US", "english", "de-", "-de"):
        with pytest.raises(
            ConfigError,
            match=rf"^LANGUAGE_CODE='{bad}' is not a language the product has \(en, de\): ",
        ):
            env(LANGUAGE_CODE=bad).language("LANGUAGE_CODE", "en", available)


def test_time_zone_must_be_known() -> None:
    assert env(TIME_ZONE="Europe/Amsterdam").time_zone("TIME_ZONE", "UTC") == "Europe/Amsterdam"
    with pytest.raises(ConfigError, match="TIME_ZONE='Mars/Base' is not a known time zone"):
        env(TIME_ZONE="Mars/Base").time_zone("TIME_ZONE", "UTC")


def test_currency_and_its_decimals() -> None:
    assert env(CURRENCY="usd").currency("CURRENCY", "EUR") == "USD"
    with pytest.raises(ConfigError, match="CURRENCY='EURO' is not an ISO 4217 code"):
        env(CURRENCY="euro").currency("CURRENCY", "EUR")
    assert currency_decimals(env(), "JPY") == 0
    assert currency_decimals(env(), "KWD") == 3
    assert currency_decimals(env(CURRENCY_DECIMALS="1"), "EUR") == 1
    assert currency_decimals(env(CURRENCY_DECIMALS="2"), "XTS") == 2
    with pytest.raises(ConfigError, match="CURRENCY='XTS' has no known number of decimals"):
        currency_decimals(env(), "XTS")
    with pytest.raises(ConfigError, match="CURRENCY_DECIMALS=5 is too large"):
        currency_decimals(env(CURRENCY_DECIMALS="5"), "EUR")


def test_decimals_are_finite_and_never_negative() -> None:
    assert env(INITIAL_CREDIT="2.50").decimal("INITIAL_CREDIT", "0") == Decimal("2.50")
    assert env().decimal("REPORT_SHEET_GRAMS", "5") == Decimal(5)
    with pytest.raises(ConfigError, match="INITIAL_CREDIT='two' is not a decimal number"):
        env(INITIAL_CREDIT="two").decimal("INITIAL_CREDIT", "0")
    for bad in ("-1", "NaN", "Infinity"):
        with pytest.raises(ConfigError, match="must be a finite number of zero or more"):
            env(INITIAL_CREDIT=bad).decimal("INITIAL_CREDIT", "0")


def test_an_amount_has_no_more_decimals_than_the_currency() -> None:
    assert amount(env(INITIAL_CREDIT="2.50"), "INITIAL_CREDIT", "0", "EUR", 2) == Decimal("2.50")
    assert amount(env(INITIAL_CREDIT="1.230"), "INITIAL_CREDIT", "0", "EUR", 2) == Decimal("1.23")
    assert amount(env(), "INITIAL_CREDIT", "0", "JPY", 0) == 0
    with pytest.raises(
        ConfigError,
        match=r"^INITIAL_CREDIT='1.234' has 3 digits after the point, and EUR has 2: write it "
        r"with at most 2, such as 1.23\.$",
    ):
        amount(env(INITIAL_CREDIT="1.234"), "INITIAL_CREDIT", "0", "EUR", 2)
    with pytest.raises(ConfigError, match=r"^INITIAL_CREDIT='1.5' has 1 digit after the point, "):
        amount(env(INITIAL_CREDIT="1.5"), "INITIAL_CREDIT", "0", "JPY", 0)
    with pytest.raises(ConfigError, match="INITIAL_CREDIT='two' is not a decimal number"):
        amount(env(INITIAL_CREDIT="two"), "INITIAL_CREDIT", "0", "EUR", 2)


@pytest.mark.parametrize(("currency", "decimals"), [("JPY", 0), ("EUR", 2), ("XTS", 4)])
def test_an_amount_is_no_larger_than_the_accounts_keep(
    currency: str, decimals: int, settings: Any
) -> None:
    settings.CURRENCY, settings.CURRENCY_DECIMALS = currency, decimals
    largest = str(money.largest_amount())
    assert amount(env(INITIAL_CREDIT=largest), "INITIAL_CREDIT", "0", currency, decimals)
    one_more = str(money.largest_amount() + money.quantum())
    with pytest.raises(ConfigError, match=rf"INITIAL_CREDIT='{one_more}' is too large: at most"):
        amount(env(INITIAL_CREDIT=one_more), "INITIAL_CREDIT", "0", currency, decimals)


def test_database_url_schemes() -> None:
    default = "sqlite:////tmp/x.sqlite3"
    assert env().database_url("DATABASE_URL", default) == default
    good = "postgresql://u:p@db:5432/printmgmt"
    assert env(DATABASE_URL=good).database_url("DATABASE_URL", default) == good
    with pytest.raises(ConfigError, match="is not a supported database URL"):
        env(DATABASE_URL="mysql://db/x").database_url("DATABASE_URL", default)
    with pytest.raises(ConfigError, match="names no database"):
        env(DATABASE_URL="postgresql://db:5432").database_url("DATABASE_URL", default)


def test_broker_url_schemes() -> None:
    assert env().broker_url("CELERY_BROKER_URL", "filesystem://") == "filesystem://"
    good = "redis://127.0.0.1:6379/0"
    assert env(CELERY_BROKER_URL=good).broker_url("CELERY_BROKER_URL", "filesystem://") == good
    with pytest.raises(ConfigError, match="is not a supported broker"):
        env(CELERY_BROKER_URL="amqp://x").broker_url("CELERY_BROKER_URL", "filesystem://")
    with pytest.raises(ConfigError, match="names no host"):
        env(CELERY_BROKER_URL="redis:///0").broker_url("CELERY_BROKER_URL", "filesystem://")


def test_data_dir_defaults_under_the_code(tmp_path: Path) -> None:
    assert data_dir(env(), tmp_path) == (tmp_path / "var").resolve()
    assert data_dir(env(PRINTMGMT_DATA_DIR=str(tmp_path / "d")), tmp_path) == tmp_path / "d"


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = secret_key(env(), tmp_path, debug=False)
    assert len(first) >= 50
    assert secret_key(env(), tmp_path, debug=False) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_data_dir_that_is_a_file_or_cannot_keep_the_secret_key_is_named(tmp_path: Path) -> None:
    """Both ended start-up with a FileExistsError or NotADirectoryError traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(
        ConfigError, match=rf"^PRINTMGMT_DATA_DIR='{blocker}' is a file, not a folder: "
    ):
        data_dir(env(PRINTMGMT_DATA_DIR=str(blocker)), tmp_path)
    with pytest.raises(
        ConfigError,
        match=rf"^PRINTMGMT_DATA_DIR: the generated secret key cannot be kept in {blocker}/d/"
        r"secret_key \(Not a directory\): make it a folder this user can write in, or set "
        r"SECRET_KEY\.$",
    ):
        secret_key(env(), blocker / "d", debug=False)
    (tmp_path / "keys" / "secret_key").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"secret_key \(Is a directory\)"):
        secret_key(env(), tmp_path / "keys", debug=False)


def test_secret_key_rules_for_production(tmp_path: Path) -> None:
    given = "k" * 40
    assert secret_key(env(SECRET_KEY=given), tmp_path, debug=False) == given
    with pytest.raises(ConfigError, match="SECRET_KEY is too short"):
        secret_key(env(SECRET_KEY="short"), tmp_path, debug=False)
    production = env(DATABASE_URL="postgresql://db/x")
    with pytest.raises(ConfigError, match="SECRET_KEY is required when DEBUG is off"):
        secret_key(production, tmp_path, debug=False)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TIME_ZONE", "Nowhere/Land", "TIME_ZONE='Nowhere/Land' is not a known time zone"),
        ("DATABASE_URL", "oracle://db/x", "DATABASE_URL='oracle://db/x' is not a supported"),
        ("DEBUG", "perhaps", "DEBUG='perhaps' is not a boolean"),
        ("CELERY_BROKER_URL", "amqp://mq", "CELERY_BROKER_URL='amqp://mq' is not a supported"),
        ("WEB_THREADS", "0", "WEB_THREADS=0 is too small: it must be at least 1"),
        # Django said these with a traceback (no catalog) or a system-check block.
        ("LANGUAGE_CODE", "xx", "LANGUAGE_CODE='xx' is not a language the product has (en, de)"),
        ("LANGUAGE_CODE", "fr", "LANGUAGE_CODE='fr' is not a language the product has (en, de)"),
        ("LANGUAGE_CODE", "en_US", "LANGUAGE_CODE='en_US' is not a language the product has"),
        ("INITIAL_CREDIT", "1.234", "INITIAL_CREDIT='1.234' has 3 digits after the point"),
        ("PRINTMGMT_DATA_DIR", "/dev/null", "PRINTMGMT_DATA_DIR='/dev/null' is a file, not a"),
        (
            "CSRF_TRUSTED_ORIGINS",
            "print.example.edu",
            "CSRF_TRUSTED_ORIGINS has 'print.example.edu', which has no scheme",
        ),
    ],
)
def test_start_up_with_a_bad_setting_prints_one_line_and_exits(
    variable: str, value: str, message: str, tmp_path: Path
) -> None:
    environment = {**os.environ, "PRINTMGMT_DATA_DIR": str(tmp_path), variable: value}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"printmgmt: {message}")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_at_start_is_one_line(tmp_path: Path) -> None:
    environment = dict(
        os.environ,
        PRINTMGMT_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgresql://nobody@127.0.0.1:9/printmgmt",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "the database cannot be reached" in result.stderr
    assert "check DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_web_workers_default_to_one_per_cpu_and_refuse_bad_counts() -> None:
    assert web_workers(env()) == (os.cpu_count() or 1)
    assert web_workers(env(WEB_WORKERS="3")) == 3
    with pytest.raises(ConfigError, match="WEB_WORKERS='many' is not a whole number"):
        web_workers(env(WEB_WORKERS="many"))
    with pytest.raises(ConfigError, match="WEB_WORKERS=0 is too small: it must be at least 1"):
        web_workers(env(WEB_WORKERS="0"))
    with pytest.raises(ConfigError, match="WEB_WORKERS=65 is too large: at most 64"):
        web_workers(env(WEB_WORKERS="65"))
