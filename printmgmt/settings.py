"""Django settings: everything comes from the environment, validated by printmgmt.config.

With no variables set this is the embedded default: SQLite and a file-system Celery broker under
the `var/` data directory, so one command starts a working system. Production sets DATABASE_URL
(PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from apps.core.buffered_body import FORM_BODY_LIMIT_BYTES
from printmgmt.config import (
    ConfigError,
    Env,
    amount,
    currency_decimals,
    data_dir,
    dnssd_config,
    secret_key,
    web_workers,
)
from printmgmt.postgres import RePreparingCursor

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = Env(os.environ)

DATA_DIR = data_dir(ENV, BASE_DIR)
DEBUG = ENV.flag("DEBUG", default=False)
SECRET_KEY = secret_key(ENV, DATA_DIR, DEBUG)
ALLOWED_HOSTS = ENV.word_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = ENV.origin_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "apps.core",
    "apps.accounts",
    "apps.printers",
    "apps.rules",
    "apps.jobs",
    "apps.ippserver",
    "apps.reports",
    "apps.portal",
]

MIDDLEWARE = [
    "apps.core.forwarded.first_forwarded_host_only",  # before anything asks for the host
    "apps.core.forwarded.valid_forwarded_port_only",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.portal.middleware.method_not_allowed_page",
]

ROOT_URLCONF = "printmgmt.urls"
ASGI_APPLICATION = "printmgmt.asgi.application"
WSGI_APPLICATION = "printmgmt.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = ENV.database_url("DATABASE_URL", f"sqlite:///{DATA_DIR / 'printmgmt.sqlite3'}")
# Web requests and Celery tasks alike keep connections (SQLite's for a minute, PostgreSQL's in
# the pool below); a kept one is checked before its first use, so a restarted database costs a
# reconnect, not an error.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI each request runs in a thread of its own and Django's connections belong to a
    # thread, so without a pool every web request opened a new PostgreSQL connection. The pool
    # (one per process) keeps them; CONN_MAX_AGE must then be 0 (a connection goes back to the
    # pool at the end of each request or task) and, with CONN_HEALTH_CHECKS, Django has the pool
    # check a kept connection before handing it out.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": ENV.integer("DATABASE_POOL_SIZE", 10, minimum=1),
        "timeout": 20,
    }
    # Statements a connection runs again and again (the session's user on every page, the
    # inbox, a release) are prepared once per connection (psycopg prepares a statement on its
    # fifth run), so PostgreSQL stops parsing and planning them each time: about 0.25 ms of
    # database CPU per logged-in page. Django leaves this off for connection poolers that
    # cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
    # A migration that changes a prepared statement's result type costs at most the transaction
    # running it then (printmgmt/postgres.py).
    if ENV.flag("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["cursor_factory"] = RePreparingCursor
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# ModelBackend reading a user's permissions in one query (every portal request checks one).
AUTHENTICATION_BACKENDS = ["apps.accounts.auth_backend.OneQueryModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The languages the portal has catalogs for (locale/); LocaleMiddleware picks one from the
# browser's Accept-Language or the footer's language switch.
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# The default language (commands, and a browser that asks for none we have): one of them.
LANGUAGE_CODE = ENV.language("LANGUAGE_CODE", "en-us", [code for code, _name in LANGUAGES])
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = ENV.time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
# Found in the source folders too, so the product serves its CSS before `collectstatic` ran.
WHITENOISE_USE_FINDERS = True

# Money: one currency per site; amounts are Decimal with this many digits after the point.
CURRENCY = ENV.currency("CURRENCY", "EUR")
CURRENCY_DECIMALS = currency_decimals(ENV, CURRENCY)
INITIAL_CREDIT = amount(ENV, "INITIAL_CREDIT", "0", CURRENCY, CURRENCY_DECIMALS)

# Uploaded and IPP-received documents live here, outside any web root, under generated names.
SPOOL_DIR = Path(ENV.text("SPOOL_DIR", str(DATA_DIR / "spool"))).resolve()
HELD_JOB_EXPIRY_HOURS = ENV.integer("HELD_JOB_EXPIRY_HOURS", 72, minimum=1)
MAX_DOCUMENT_MB = ENV.integer("MAX_DOCUMENT_MB", 100, minimum=1)
# Form fields may fill the body the server takes for a form (10 MB, FORM_BODY_LIMIT_BYTES in
# apps/core/buffered_body.py): Django's 2.5 MB default turned a large paste into the rule
# editor into a bare "400 Bad Request" and lost the text, instead of the parser's size message.
DATA_UPLOAD_MAX_MEMORY_SIZE = FORM_BODY_LIMIT_BYTES
# A document with more pages is refused (a few kilobytes can describe a million pages).
MAX_DOCUMENT_PAGES = ENV.integer("MAX_DOCUMENT_PAGES", 2000, minimum=1)
# Inbox pages each web process keeps for reloads (apps/portal/page_cache.py); 0 turns it off.
INBOX_PAGE_CACHE_MB = ENV.integer("INBOX_PAGE_CACHE_MB", 16, minimum=0)
# DNS-SD (Bonjour) advertising of our IPP printer, done by `manage.py dnssd`.
DNSSD = dnssd_config(ENV)

# Finance reports: environmental factors per printed sheet, and where exports wait.
REPORT_SHEET_GRAMS = ENV.decimal("REPORT_SHEET_GRAMS", "5")
REPORT_SHEETS_PER_TREE = ENV.decimal("REPORT_SHEETS_PER_TREE", "8333")
REPORT_CO2_GRAMS_PER_SHEET = ENV.decimal("REPORT_CO2_GRAMS_PER_SHEET", "4.6")
REPORT_ENERGY_WH_PER_SHEET = ENV.decimal("REPORT_ENERGY_WH_PER_SHEET", "12.5")
REPORT_EXPORT_DIR = Path(ENV.text("REPORT_EXPORT_DIR", str(DATA_DIR / "exports"))).resolve()
REPORT_EXPORT_RETENTION_HOURS = ENV.integer("REPORT_EXPORT_RETENTION_HOURS", 72, minimum=1)

# E-mail (scheduled reports) through Django's SMTP backend.
EMAIL_HOST = ENV.text("EMAIL_HOST", "localhost")
EMAIL_PORT = ENV.integer("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = ENV.text("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = ENV.text("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = ENV.flag("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = ENV.flag("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = ENV.integer("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = ENV.text("DEFAULT_FROM_EMAIL", "printmgmt@localhost")
REPORT_EMAIL_FROM = ENV.text("REPORT_EMAIL_FROM", DEFAULT_FROM_EMAIL)

# The print pipeline: transient failures (printer busy or unreachable) are retried with
# exponential backoff and jitter, at most this many send attempts, then the job fails.
PRINT_MAX_ATTEMPTS = ENV.integer("PRINT_MAX_ATTEMPTS", 12, minimum=1)
PRINT_RETRY_BASE_SECONDS = ENV.integer("PRINT_RETRY_BASE_SECONDS", 2, minimum=1)
PRINT_RETRY_MAX_SECONDS = ENV.integer("PRINT_RETRY_MAX_SECONDS", 300, minimum=1)
# How long a job that may be at its printer, which cannot be asked, is looked for there after
# its last attempt: as long as following.py's silence about an accepted job.
PRINT_SEARCH_MAX_SECONDS = ENV.integer("PRINT_SEARCH_MAX_SECONDS", 24 * 3600, minimum=1)
FOLLOW_INTERVAL_SECONDS = ENV.integer("FOLLOW_INTERVAL_SECONDS", 2, minimum=1)
FOLLOW_MAX_INTERVAL_SECONDS = ENV.integer("FOLLOW_MAX_INTERVAL_SECONDS", 60, minimum=1)
# Every IPP request has a timeout; sending a document may take longer than asking a question.
IPP_TIMEOUT_SECONDS = ENV.integer("IPP_TIMEOUT_SECONDS", 15, minimum=1)
IPP_SEND_TIMEOUT_SECONDS = ENV.integer("IPP_SEND_TIMEOUT_SECONDS", 120, minimum=1)
# A send task renews its claim on the job this often while it sends; a claim not renewed for
# the second figure (a few missed renewals: its worker died, on whatever machine) may be taken
# over by any task.
SEND_CLAIM_RENEW_SECONDS = ENV.integer("SEND_CLAIM_RENEW_SECONDS", 10, minimum=1)
SEND_CLAIM_STALE_SECONDS = ENV.integer(
    "SEND_CLAIM_STALE_SECONDS", 45, minimum=3 * SEND_CLAIM_RENEW_SECONDS
)
# How often the beat queues the jobs whose claim has just gone unrenewed, so that they are
# taken over while the printer still remembers an earlier send (many forget finished jobs
# after a minute).
SEND_CLAIM_SWEEP_SECONDS = 15.0

# Celery: the embedded default is a file-system broker that needs no server; a real worker
# process still runs every task (never eager mode). Production uses Redis.
CELERY_BROKER_URL = ENV.broker_url("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's file-system transport, but a worker never reads a message half written (the
    # transport named here wins over the URL's scheme).
    CELERY_BROKER_TRANSPORT = "printmgmt.filesystem_broker:Transport"
    BROKER_DIR = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "unreadable_folder": str(BROKER_DIR / "unreadable"),
        "store_processed": False,
        # An idle worker looks for messages this often (kombu's default, 1 s, let a released
        # job wait up to a second): about 0.3 % of a core, bench/RESULTS.md.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "worker-heartbeat": {"task": "apps.core.tasks.worker_heartbeat", "schedule": 60.0},
    "reconcile-jobs": {"task": "apps.jobs.tasks.reconcile_jobs", "schedule": 120.0},
    "resume-lapsed-sends": {
        "task": "apps.jobs.tasks.resume_lapsed_sends",
        "schedule": SEND_CLAIM_SWEEP_SECONDS,
    },
    "expire-held-jobs": {"task": "apps.jobs.tasks.expire_held_jobs", "schedule": 600.0},
    # IPP jobs whose next document did not come within the time-out (a minute) are held.
    "ipp-hold-timed-out-jobs": {
        "task": "apps.ippserver.tasks.hold_timed_out_jobs",
        "schedule": 60.0,
    },
    "refresh-printers": {"task": "apps.printers.tasks.refresh_printers", "schedule": 300.0},
    "accounts-allowances": {"task": "apps.accounts.tasks.allowances_apply_due", "schedule": 3600.0},
    "accounts-ledger-audit": {"task": "apps.accounts.tasks.ledger_audit", "schedule": 3600.0},
    "send-scheduled-reports": {
        "task": "apps.reports.tasks.scheduled_reports_send",
        "schedule": 3600.0,
    },
    # Every 10 minutes: an export whose task was lost waits its bound and at most this more.
    "clean-report-exports": {"task": "apps.reports.tasks.report_exports_clean", "schedule": 600.0},
    "usage-records-catch-up": {
        "task": "apps.reports.tasks.usage_records_catch_up",
        "schedule": 3600.0,
    },
    "prune-thumbnails": {"task": "apps.portal.tasks.prune_thumbnails", "schedule": 3600.0},
}

# The cache counts log-in failures: several web processes must share it (Redis in production).
CACHE_URL = ENV.text("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ConfigError(f"CACHE_URL={CACHE_URL!r} is not a Redis URL: use redis://HOST:PORT/DB.")
CACHES = {
    "default": (
        {"BACKEND": "apps.core.cache.ProcessPoolRedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        # Without Redis, a folder under the data dir: `make run` serves with several processes.
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    )
}
# Every logged-in request reads its session: from Redis when there is one (the database only
# on a miss and on writes), which is cheaper than a database query; else from the database.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if CACHE_URL else "db")
# uvicorn processes `make run` starts (scripts/run.sh); read here so a bad value stops start-up.
WEB_WORKERS = web_workers(ENV)
# Threads per web process that run the portal's (synchronous) Django requests; more let slow
# requests (a printer probe, a large export) wait without holding up the rest, at some CPU.
WEB_THREADS = ENV.integer("WEB_THREADS", 6, minimum=1)
# Log-in is refused for a while after this many failures for one username from one address.
LOGIN_FAILURES_ALLOWED = ENV.integer("LOGIN_FAILURES_ALLOWED", 5, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = ENV.integer("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=60)

# Sessions and cookies: secure cookies whenever the site is served over HTTPS.
SECURE_COOKIES = ENV.flag("SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = ENV.integer("SESSION_COOKIE_AGE", 12 * 3600, minimum=60)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_COOKIES else None
# Behind a proxy that does not pass the Host header on but sets X-Forwarded-Host: the portal
# and our IPP printer name the host the client asked for, not the proxy's upstream address.
USE_X_FORWARDED_HOST = ENV.flag("USE_X_FORWARDED_HOST", default=False)
# Behind a proxy that passes a Host without its port but says the port in X-Forwarded-Port.
USE_X_FORWARDED_PORT = ENV.flag("USE_X_FORWARDED_PORT", default=False)
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "client_errors_without_traceback": {
            "()": "printmgmt.logfilters.ClientErrorsWithoutTraceback"
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": ENV.choice(
            "LOG_LEVEL", "INFO", frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
        ),
    },
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"filters": ["client_errors_without_traceback"]},
        # pikepdf announces its C++ log bridge at INFO on import: noise on every command.
        "pikepdf": {"level": "WARNING"},
    },
}
