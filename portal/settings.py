"""Settings for the Partner Sales Portal: one module, read from the environment.

With no environment at all the portal runs on embedded defaults (SQLite, Celery's filesystem
broker, the sandbox carrier on 127.0.0.1:SANDBOX_PORT, 8100). `.env.example` documents every
variable; `bin/run` (make run) sets the ones its processes need, DEBUG off.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from portal.observability.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Local state of the embedded defaults: SQLite file, filesystem broker, beat schedule.
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _secret(name: str, dev_default: str) -> str:
    """A secret has a default only in DEBUG; production must set it, or <name>_FILE to a file
    holding it (bin/run keeps the secret key in var/secret-key, out of every process's env)."""
    path = env.str(f"{name}_FILE", default="")
    if path and name not in env:
        return Path(path).read_text().strip()
    if DEBUG:
        return env.str(name, default=dev_default)
    return env.str(name)


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
# Encrypts voicemail PINs at rest; defaults to a key derived from SECRET_KEY.
# Voicemail PINs at rest: every key in use, newest first (the first encrypts, any decrypts).
# FIELD_ENCRYPTION_KEY, a single key, is still read; with neither, one derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=[env.str("FIELD_ENCRYPTION_KEY", default="")]
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "portal",
    "portal.audit",
    "portal.submissions",
    "portal.observability",
    "accounts",
    "orders",
    "reports",
    "notifications",
    "directory",
]

MIDDLEWARE = [
    # First: every answer, even a redirect or a 413, has a request id and is timed.
    "portal.observability.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the logged-in user from the shared cache when there is one.
    "portal.cache.CachedUserMiddleware",
    # Needs the login; refuses an oversized body before the CSRF check above parses it.
    "portal.middleware.RequestBodyLimitMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.IdleSessionMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: 5 failures for a username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# SQLite in WAL mode with immediate transactions: readers never block the writer, and
# concurrent writers queue on the lock instead of failing with "database is locked".
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory: the test run's Celery worker and sandbox processes share it.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("DATABASE_TEST_NAME", default=str(VAR_DIR / "test-portal.sqlite3"))
    }
# A connection kept per thread: opening one (and SQLite's PRAGMAs) cost a lookup more CPU
# than its queries. The health check finds one the database dropped before a request uses it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Times shown by default (the admin's lists, {{ a_datetime }}) carry their zone.
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env.str("PORTAL_TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security: strict CSP (scripts only from us, with the request's nonce), safe cookies.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Sessions end after this much inactivity (IdleSessionMiddleware slides the expiry).
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
# Production serves HTTPS; only bin/run's plain HTTP on 127.0.0.1 turns these off.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Celery: the database is the source of truth, the broker only a doorbell.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = Path(env.str("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        # The filesystem transport polls; the default second would add up to 1 s per message.
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.05),
        "store_processed": False,
    }
else:
    # Longer than any retry delay, so a delayed message is never redelivered early.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# With Redis there, one cache every process shares (a Redis database of its own, or CACHE_URL):
# the logged-in user with its roles is read from it (dropped on any change, portal/cache.py).
# Without, each process's own memory, which cannot: a role taken away would go unseen.
# Short socket timeouts: a Redis gone quiet costs a request a quarter second, not its thread.
LOCMEM_CACHE = "django.core.cache.backends.locmem.LocMemCache"
_redis = urlsplit(CELERY_BROKER_URL) if CELERY_BROKER_URL.startswith("redis") else None
CACHE_URL = env.str("CACHE_URL", default=_redis._replace(path="/1").geturl() if _redis else "")
SHARED_CACHE = CACHE_URL.startswith("redis")
CACHES = {
    "default": {
        "BACKEND": "portal.cache.TolerantRedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "portal",
        "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    }
    if SHARED_CACHE
    else {"BACKEND": LOCMEM_CACHE},
    # Rendered lookup matches (templates/accounts/_match.html): this process's memory, so that
    # a deploy's new template is never served from the old one's cache.
    "fragments": {"BACKEND": LOCMEM_CACHE, "LOCATION": "fragments"},
}

WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=15)
# Bearer token that shows /health/'s details to monitoring; empty (the default) = ops only.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
# Observability (portal/observability): /metrics for ops or this bearer token (empty = ops only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Each web and worker process counts into its own file here; /metrics sums them (bin/run
# empties it on start). prometheus-client reads the variable when it is first imported, which
# is after settings: so settings set it, for every process alike.
METRICS_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "metrics")))
METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
# "plain" (today's lines) or "json": one JSON object a line, with request and task ids.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f'LOG_FORMAT must be "plain" or "json", not {LOG_FORMAT!r}')
# `make run` creates the demo users (known passwords: for a portal on this machine's loopback).
DEMO_USERS = env.bool("PORTAL_DEMO_USERS", default=False)

# Upstream writes (portal.submissions): attempts, backoff, the in-flight lease, the sweeper.
# A write is retried until this long after it was queued (or re-queued), not a number of times.
SUBMISSION_RETRY_DEADLINE_SECONDS = env.float("SUBMISSION_RETRY_DEADLINE_SECONDS", default=86400.0)
SUBMISSION_BACKOFF_BASE_SECONDS = env.float("SUBMISSION_BACKOFF_BASE_SECONDS", default=2.0)
SUBMISSION_BACKOFF_CAP_SECONDS = env.float("SUBMISSION_BACKOFF_CAP_SECONDS", default=300.0)
# Longer than connect + read timeout: a live attempt is never taken back.
SUBMISSION_LEASE_SECONDS = env.float("SUBMISSION_LEASE_SECONDS", default=120.0)
SUBMISSION_SWEEP_SECONDS = env.float("SUBMISSION_SWEEP_SECONDS", default=15.0)
SUBMISSION_SWEEP_GRACE_SECONDS = env.float("SUBMISSION_SWEEP_GRACE_SECONDS", default=30.0)

# The carrier. Each API's path is appended to its base URL exactly as the contract writes it.
# SANDBOX_PORT alone moves the sandbox (bin/run starts it there) and every default URL below.
SANDBOX_URL = env.str(
    "SANDBOX_URL", default=f"http://127.0.0.1:{env.int('SANDBOX_PORT', default=8100)}"
)
CARRIER_ACCOUNTS_URL = env.str("CARRIER_ACCOUNTS_URL", default=SANDBOX_URL)
CARRIER_ACCOUNTS_CLIENT_ID = _secret("CARRIER_ACCOUNTS_CLIENT_ID", "sandbox-client")
CARRIER_ACCOUNTS_CLIENT_SECRET = _secret("CARRIER_ACCOUNTS_CLIENT_SECRET", "sandbox-secret")
CARRIER_ACCOUNTS_SOURCE = env.str("CARRIER_ACCOUNTS_SOURCE", default="PARTNER-PORTAL")
CARRIER_SEARCH_URL = env.str("CARRIER_SEARCH_URL", default=SANDBOX_URL)
CARRIER_BULK_URL = env.str("CARRIER_BULK_URL", default=SANDBOX_URL)
CARRIER_ORDERS_URL = env.str("CARRIER_ORDERS_URL", default=SANDBOX_URL)
CARRIER_ORDERS_CLIENT_ID = _secret("CARRIER_ORDERS_CLIENT_ID", "sandbox-orders")
# Empty = no bearer token (the sandbox's default); production sets the carrier's token.
CARRIER_ORDERS_TOKEN = env.str("CARRIER_ORDERS_TOKEN", default="")
# Shared secret of the carrier's milestone pushes (HMAC-SHA256 signature).
CARRIER_NOTIFY_SECRET = _secret("CARRIER_NOTIFY_SECRET", "sandbox-notify-secret")
CARRIER_NOTIFY_TOLERANCE_SECONDS = env.int("CARRIER_NOTIFY_TOLERANCE_SECONDS", default=300)
# Pushes with a bad or no signature past this many a minute are answered 429 (all are counted).
CARRIER_NOTIFY_REFUSED_PER_MINUTE = env.int("CARRIER_NOTIFY_REFUSED_PER_MINUTE", default=60)
# Orders that heard nothing for this long are asked about by a status query.
# Assumptions the carrier's pages do not confirm (README, "Running against the real carrier"):
# the status query's path, asked only for orders whose 202 gave an id ({orderId} is replaced).
CARRIER_ORDER_STATUS_PATH = env.str(
    "CARRIER_ORDER_STATUS_PATH", default="/api/orderingMobility/v1/careOrder/{orderId}"
)
ORDER_POLL_AFTER_SECONDS = env.int("ORDER_POLL_AFTER_SECONDS", default=120)
ORDER_POLL_EVERY_SECONDS = env.float("ORDER_POLL_EVERY_SECONDS", default=60.0)
# Care order drafts untouched for this many days are removed (orders.remove_old_drafts, daily).
ORDER_DRAFT_MAX_AGE_DAYS = env.int("ORDER_DRAFT_MAX_AGE_DAYS", default=30)

# Bulk customer import: the largest file accepted.
BULK_IMPORT_MAX_BYTES = env.int("BULK_IMPORT_MAX_BYTES", default=60 * 1024 * 1024)
# Uploads (portal/uploads.py): a body over BULK_IMPORT_MAX_BYTES + 1 MB, or over
# DATA_UPLOAD_MAX_MEMORY_SIZE without a login, gets 413 unread; no file of a request without a
# login is stored. A file over 2.5 MB is spooled to the system's temporary directory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.UploadGate",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Files up to this size are checked while the upload waits; larger ones by a worker, with the
# page following the check live.
BULK_CHECK_INLINE_BYTES = env.int("BULK_CHECK_INLINE_BYTES", default=2 * 1024 * 1024)

# Audit retention: records older than this are exported (gzip JSON Lines), then removed.
# How often beat counts new audit records into the daily rollup the reports sum.
AUDIT_ROLLUP_SECONDS = env.float("AUDIT_ROLLUP_SECONDS", default=60.0)
# The sealer chains new audit records this often, once they are this old (an append a moment
# older may still be committing), and signs a checkpoint into AUDIT_SEAL_LOG with a key the
# database does not hold (by default derived from SECRET_KEY).
AUDIT_SEAL_SECONDS = env.float("AUDIT_SEAL_SECONDS", default=5.0)
AUDIT_SEAL_SETTLE_SECONDS = env.float("AUDIT_SEAL_SETTLE_SECONDS", default=2.0)
AUDIT_SEAL_LOG = Path(env.str("AUDIT_SEAL_LOG", default=str(VAR_DIR / "audit-seals.jsonl")))
AUDIT_SEAL_KEY = env.str("AUDIT_SEAL_KEY", default=SECRET_KEY)
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=400)
AUDIT_EXPORT_DIR = Path(env.str("AUDIT_EXPORT_DIR", default=str(VAR_DIR / "audit-exports")))

# Email (notifications/): order outcomes and the managers' weekly digest, for those who opt in.
# Read from the usual EMAIL_* variables into Django 6.1's MAILERS (the EMAIL_* settings are
# deprecated). Sending is a worker's task, retried EMAIL_RETRY_SECONDS apart (doubling), then
# given up: a portal without a mail server loses only those emails, never an order.
_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_email_backend = env.str("EMAIL_BACKEND", default=_SMTP_BACKEND)
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": {
            "host": env.str("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=25),
            "username": env.str("EMAIL_HOST_USER", default=""),
            "password": env.str("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=False),
            "timeout": env.float("EMAIL_TIMEOUT", default=10.0),
        }
        if _email_backend == _SMTP_BACKEND
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
EMAIL_RETRY_SECONDS = env.float("EMAIL_RETRY_SECONDS", default=30.0)
# Emails link to portal pages: this URL before their paths (empty: the paths alone).
SITE_URL = env.str("SITE_URL", default="")
# Beat's crontab entries run in the portal's time zone: the digest goes Mondays at 07:00 there.
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "weekly digest": {
        "task": "notifications.send_weekly_digests",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
}

# The customer directory's walk through Customer Search: pages per beat run, how often, and
# how it waits: a Retry-After up to DIRECTORY_WALK_MAX_WAIT_SECONDS is waited in the run.
DIRECTORY_WALK_EVERY_SECONDS = env.float("DIRECTORY_WALK_EVERY_SECONDS", default=300.0)
DIRECTORY_WALK_PAGES_PER_RUN = env.int("DIRECTORY_WALK_PAGES_PER_RUN", default=10)
DIRECTORY_WALK_PAGE_SIZE = env.int("DIRECTORY_WALK_PAGE_SIZE", default=50)
DIRECTORY_WALK_MAX_WAIT_SECONDS = env.float("DIRECTORY_WALK_MAX_WAIT_SECONDS", default=30.0)
DIRECTORY_WALK_BACKOFF_BASE_SECONDS = env.float("DIRECTORY_WALK_BACKOFF_BASE_SECONDS", default=5.0)
DIRECTORY_WALK_BACKOFF_CAP_SECONDS = env.float("DIRECTORY_WALK_BACKOFF_CAP_SECONDS", default=900.0)

# Timeouts in seconds: reads run inside a web request, so they are short.
UPSTREAM_CONNECT_TIMEOUT = env.float("UPSTREAM_CONNECT_TIMEOUT", default=3.05)
UPSTREAM_READ_TIMEOUT = env.float("UPSTREAM_READ_TIMEOUT", default=10.0)
UPSTREAM_LOOKUP_READ_TIMEOUT = env.float("UPSTREAM_LOOKUP_READ_TIMEOUT", default=8.0)
UPSTREAM_POOL_SIZE = env.int("UPSTREAM_POOL_SIZE", default=32)

LOGGING = logging_config(LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
