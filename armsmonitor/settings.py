"""ArmsMonitor settings, read from the environment (and from a `.env` file if present).

Every setting has a safe default: DEBUG is off, cookies are secure and HSTS is on unless
DEBUG is set. `make run` writes a local `.env` with DEBUG=true and a random SECRET_KEY.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ARMSMONITOR_ENV_FILE names another file to read (or /dev/null for none).
environ.Env.read_env(env.str("ARMSMONITOR_ENV_FILE", default=str(BASE_DIR / ".env")))

DEBUG = env.bool("DEBUG", default=False)

_INSECURE_DEV_KEY = "django-insecure-dev-only-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_DEV_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# Custody events carry an HMAC-SHA256 whose key lives here, never in the database
# (README, "Custody integrity"): CUSTODY_HMAC_KEYS is "id:secret,id:secret" (old keys stay
# listed so their events still verify), CUSTODY_HMAC_KEY_ID the one new events use.
_DEV_CUSTODY_HMAC_KEYS = "dev:django-insecure-custody-key-for-development-only"


def _custody_hmac_keys(text: str) -> dict[str, str]:
    keys = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, secret = entry.partition(":")
        if not key_id.isidentifier() or len(key_id) > 20 or len(secret) < 32:
            raise ImproperlyConfigured(
                "CUSTODY_HMAC_KEYS: each entry is id:secret, the id a short word, the secret "
                "at least 32 characters."
            )
        keys[key_id] = secret
    return keys


CUSTODY_HMAC_KEYS = _custody_hmac_keys(
    env.str("CUSTODY_HMAC_KEYS", default=_DEV_CUSTODY_HMAC_KEYS if DEBUG else "")
)
if not CUSTODY_HMAC_KEYS:
    raise ImproperlyConfigured("CUSTODY_HMAC_KEYS must be set when DEBUG is off.")
CUSTODY_HMAC_KEY_ID = env.str("CUSTODY_HMAC_KEY_ID", default=next(iter(CUSTODY_HMAC_KEYS)))
if CUSTODY_HMAC_KEY_ID not in CUSTODY_HMAC_KEYS:
    raise ImproperlyConfigured("CUSTODY_HMAC_KEY_ID must name a key of CUSTODY_HMAC_KEYS.")
# The chain heads are published daily as a digest signed with Ed25519 (the private key in
# a PEM file, outside the database; in DEBUG a development key stands in), kept in a
# folder beside the backups and served to agencies by the API.
CUSTODY_SIGNING_KEY_FILE = env.str("CUSTODY_SIGNING_KEY_FILE", default="")
CUSTODY_DEVELOPMENT_SIGNING_KEY = DEBUG and not CUSTODY_SIGNING_KEY_FILE
CUSTODY_DIGEST_DIR = env.path("CUSTODY_DIGEST_DIR", default=BASE_DIR / ".data" / "custody-digests")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "leaflet",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    # For its management commands (backup, restore); it has no models.
    "armsmonitor",
    "organisations",
    "geo",
    "incidents",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (the policy is below, under Security).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "organisations.middleware.UserLanguageMiddleware",
    "armsmonitor.middleware.NoStoreForRecordsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Records who made each change in the history tables.
    "simple_history.middleware.HistoryRequestMiddleware",
    # A 404 on a read of one record (hidden or missing id) leaves an audit row.
    "organisations.middleware.RefusedReadsAuditMiddleware",
    # A request that sends work while the broker is down answers 503 with a message.
    "armsmonitor.middleware.BrokerUnavailableMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "armsmonitor.urls"
WSGI_APPLICATION = "armsmonitor.wsgi.application"

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
                "incidents.context_processors.waiting",
            ],
        },
    },
]

# --- Database: PostgreSQL + PostGIS through psycopg2 ---------------------------------
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default="postgres://postgres@127.0.0.1:5432/armsmonitor",
        engine="django.contrib.gis.db.backends.postgis",
    )
}
# A restarted PostgreSQL costs at most one failed request, not a stream of them.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A client that dies mid-query (a worker killed with SIGKILL) leaves its backend running the
# query, holding its locks, until it next writes to the socket; PostgreSQL (14+) checks the
# socket every few seconds instead, and ends such a backend.
# Exports write timestamps from their text in PostgreSQL, which DateStyle decides: ISO.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    "-c client_connection_check_interval=5000 -c datestyle=ISO,YMD"
)

# An optional hot standby of the same database (docs/operators/replica.md): the analyst map's
# data and the analyses read their incidents from it, with the lag shown to the reader;
# everything else, and every write, stays on DATABASE_URL (armsmonitor/replica.py).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url(
        "DATABASE_REPLICA_URL", engine="django.contrib.gis.db.backends.postgis"
    )
    DATABASES["replica"].update(
        CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"],
        CONN_HEALTH_CHECKS=True,
        # Tests read the test database through it: no database of its own to create.
        TEST={"MIRROR": "default"},
    )
    # A replica that does not answer is given up in seconds, and its readers read the primary.
    DATABASES["replica"].setdefault("OPTIONS", {}).update(
        options=DATABASES["default"]["OPTIONS"]["options"],
        connect_timeout=env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=3),
    )
# How long an analysis waits for the replica to replay what was written before it was
# requested; past that it reads the primary (seconds).
REPLICA_CATCH_UP_SECONDS = env.float("REPLICA_CATCH_UP_SECONDS", default=30.0)

# Two roles (README, "Database roles"): the application connects as DATABASE_URL, a role that
# is neither superuser nor owner, and may only add to the audit trail and the custody
# chains; `manage.py migrate` connects as DATABASE_OWNER_URL, the owner of the schema, and
# then grants the application role its rights (armsmonitor/database_roles.py). Without
# DATABASE_OWNER_URL one role does both (a developer's database).
DATABASE_OWNER = (
    env.db_url("DATABASE_OWNER_URL", engine="django.contrib.gis.db.backends.postgis")
    if env.str("DATABASE_OWNER_URL", default="")
    else None
)
# The role granted the application's rights after each migration: DATABASE_URL's when an
# owner is set apart; named outright where the migrating process is itself the owner (the
# test suite, whose workers connect as this role).
DATABASE_APP_ROLE = env.str(
    "DATABASE_APP_ROLE", default=DATABASES["default"]["USER"] if DATABASE_OWNER else ""
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "armsmonitor",
    }
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
# The queue tasks go to and workers read; the test suite uses a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# Reports can have workers of their own (they draw maps and print PDFs): their queue.
REPORTS_QUEUE = env.str("REPORTS_QUEUE", default=CELERY_TASK_DEFAULT_QUEUE)
# SDG 16.4.2: a country-year with fewer recovered arms than this is flagged "low n" (its
# proportion says little); reports/documents/sdg_16_4_2.py.
SDG_LOW_N = env.int("SDG_LOW_N", default=10)
if SDG_LOW_N < 1:
    raise ImproperlyConfigured("SDG_LOW_N must be 1 or more.")
# The job watchdog's own queue: behind a backlog of long jobs in the default queue it would
# wait for them, and lost jobs would wait with it. Every worker reads it besides the
# default queue; a small worker of its own (docker-compose `control`, make run) reads only
# it, so that it runs on time whatever the other workers are doing.
CONTROL_QUEUE = env.str("CONTROL_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}.control")
# Each queue on an exchange and a routing key of its own: left to Celery's defaults, the
# control queue would be bound with the default queue's key and get a copy of every task.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, CONTROL_QUEUE)
]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A killed worker means a retry, never a lost task: acknowledge after the task ran, and
# hand the task back when the worker child dies. Long tasks, so take one at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=50 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
# Redis redelivers an unacknowledged task after the visibility timeout: keep it above the
# hard time limit, or a long task would run twice.
# CELERY_VISIBILITY_TIMEOUT may set it (the fault tests use seconds), never at or below the
# hard limit.
# Each job kind's own limits (seconds); by default the general ones (reports: 20/25 min).
# The soft limit raises SoftTimeLimitExceeded in the task, which fails the job with a
# message; the hard one kills the worker child, and the watchdog fails the job.
ANALYSIS_SOFT_TIME_LIMIT = env.int("ANALYSIS_SOFT_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT)
ANALYSIS_TIME_LIMIT = env.int("ANALYSIS_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT)
IMPORT_SOFT_TIME_LIMIT = env.int("IMPORT_SOFT_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT)
IMPORT_TIME_LIMIT = env.int("IMPORT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT)
REPORT_SOFT_TIME_LIMIT = env.int(
    "REPORT_SOFT_TIME_LIMIT", default=min(20 * 60, CELERY_TASK_SOFT_TIME_LIMIT)
)
REPORT_TIME_LIMIT = env.int("REPORT_TIME_LIMIT", default=min(25 * 60, CELERY_TASK_TIME_LIMIT))
# Reports, the dashboard and the trends analysis print a count of people below this (and
# above 0) as "< N" (incidents/suppression.py).
SMALL_CELL_THRESHOLD = env.int("SMALL_CELL_THRESHOLD", default=5)
if not 1 <= SMALL_CELL_THRESHOLD <= 100:
    raise ImproperlyConfigured("SMALL_CELL_THRESHOLD must be a whole number from 1 to 100.")
LONGEST_TIME_LIMIT = max(
    CELERY_TASK_TIME_LIMIT, ANALYSIS_TIME_LIMIT, IMPORT_TIME_LIMIT, REPORT_TIME_LIMIT
)
CELERY_VISIBILITY_TIMEOUT = env.int(
    "CELERY_VISIBILITY_TIMEOUT", default=LONGEST_TIME_LIMIT + 15 * 60
)
if CELERY_VISIBILITY_TIMEOUT <= LONGEST_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must be above CELERY_TASK_TIME_LIMIT and every job "
        f"kind's hard limit (the longest: {LONGEST_TIME_LIMIT} s; ANALYSIS_TIME_LIMIT, "
        "IMPORT_TIME_LIMIT, REPORT_TIME_LIMIT), or a long task would be delivered again "
        "while it still runs."
    )
for _soft, _hard in (
    ("ANALYSIS_SOFT_TIME_LIMIT", "ANALYSIS_TIME_LIMIT"),
    ("IMPORT_SOFT_TIME_LIMIT", "IMPORT_TIME_LIMIT"),
    ("REPORT_SOFT_TIME_LIMIT", "REPORT_TIME_LIMIT"),
):
    if globals()[_soft] >= globals()[_hard]:
        raise ImproperlyConfigured(f"{_soft} must be below {_hard}.")
# Job leases (armsmonitor/jobs.py): a running job whose heartbeat is older than the lease
# lost its worker; a queued one not started after JOB_QUEUED_SECONDS lost its task. The
# watchdog looks every JOB_WATCHDOG_INTERVAL seconds, sends such jobs again, and fails
# them with a reason after JOB_MAX_ATTEMPTS attempts. /healthz answers 503 when more than
# STUCK_JOBS_HEALTH_THRESHOLD jobs are stuck.
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=120)
JOB_QUEUED_SECONDS = env.int("JOB_QUEUED_SECONDS", default=900)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_WATCHDOG_INTERVAL = env.float("JOB_WATCHDOG_INTERVAL", default=60.0)
# Seconds between two merges of the map's logged changes into its kept counts
# (incidents/derived/merging.py): the map is right meanwhile, only slower to read.
MAP_MERGE_INTERVAL = env.float("MAP_MERGE_INTERVAL", default=10.0)
STUCK_JOBS_HEALTH_THRESHOLD = env.int("STUCK_JOBS_HEALTH_THRESHOLD", default=0)
if (
    JOB_LEASE_SECONDS < 2
    or JOB_MAX_ATTEMPTS < 1
    or JOB_WATCHDOG_INTERVAL <= 0
    or MAP_MERGE_INTERVAL <= 0
):
    raise ImproperlyConfigured(
        "JOB_LEASE_SECONDS must be at least 2, JOB_MAX_ATTEMPTS at least 1, and "
        "JOB_WATCHDOG_INTERVAL and MAP_MERGE_INTERVAL above 0."
    )
# Workers sweep for abandoned tasks every 10 s (kombu's default sweeps only every tenth
# time, 100 s): one small sorted-set read on Redis, and a dead worker's task comes back
# within seconds of its visibility timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {
    # Jobs whose task was lost or whose worker died are sent again, or failed with a reason.
    "jobs-watchdog": {
        "task": "armsmonitor.jobs_watchdog",
        "schedule": JOB_WATCHDOG_INTERVAL,
        "options": {"expires": JOB_WATCHDOG_INTERVAL, "queue": CONTROL_QUEUE},
    },
    # Each mission's standard analyses, fresh every morning (unchanged data is not redone).
    "refresh-standard-analyses": {
        "task": "geo.tasks.refresh_standard_analyses",
        "schedule": crontab(hour=2, minute=0),
    },
    # Each mission's monthly arms-monitoring report of the month before, on the 1st, after
    # the night's analyses (its hot-spot maps reuse them); an unchanged month is not redone.
    "monthly-mission-reports": {
        "task": "reports.tasks.request_monthly_reports",
        "schedule": crontab(day_of_month=1, hour=4, minute=0),
    },
    # Weapons and registry entries written by a path that did not ask for the hit check
    # (admin, raw SQL; or a broker down at the commit): checked within the minute.
    "check-registry-hits": {
        "task": "incidents.tasks.check_registry_hits",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Idempotency keys of API writes are kept 24 hours; older ones go every hour.
    "purge-expired-idempotency-keys": {
        "task": "incidents.tasks.purge_expired_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    # Files of refused import jobs, past their retention (incidents/imports/retention.py).
    "purge-refused-import-files": {
        "task": "incidents.tasks.purge_refused_import_files",
        "schedule": crontab(hour=3, minute=10),
    },
    # The map's logged changes folded into its kept counts (incidents/derived/merging.py).
    "merge-map-changes": {
        "task": "incidents.tasks.merge_map_changes",
        "schedule": MAP_MERGE_INTERVAL,
        "options": {"expires": MAP_MERGE_INTERVAL},
    },
    # The signed digest of every chain of custody's head, daily (README, "Custody integrity").
    "publish-custody-digest": {
        "task": "incidents.tasks.publish_custody_digest",
        "schedule": crontab(hour=1, minute=30),
    },
    # Webhook deliveries whose task was lost (the broker down at the commit, a retry's
    # message gone) are sent again once overdue (organisations/webhooks.py).
    "webhook-deliveries-resend-overdue": {
        "task": "organisations.tasks.resend_overdue_webhook_deliveries",
        "schedule": 300,
        "options": {"expires": 300},
    },
}

# --- Internationalisation: English and French, times in UTC ---------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".data" / "static")
# Front-end libraries come from the npm registry (package.json, installed by the set-up) and
# are served from node_modules under a vendor/ prefix; none is copied into the repository.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/leaflet.heat", BASE_DIR / "node_modules" / "leaflet.heat" / "dist"),
    # The offline entry form: Workbox in its service worker, idb for the device's outbox.
    *(
        (f"vendor/{package}", BASE_DIR / "node_modules" / package / "build")
        for package in ("workbox-core", "workbox-routing", "workbox-strategies", "idb")
    ),
]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security: strict unless DEBUG ----------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# A web session ends after SESSION_IDLE_HOURS without a request (8: a working day, not
# Django's two weeks): each request saves the session, which moves its expiry on.
SESSION_IDLE_HOURS = env.float("SESSION_IDLE_HOURS", default=8)
if not 0 < SESSION_IDLE_HOURS <= 24 * 14:
    raise ImproperlyConfigured("SESSION_IDLE_HOURS must be more than 0 and at most 336 (14 days).")
SESSION_COOKIE_AGE = round(SESSION_IDLE_HOURS * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy (docker-compose, nginx) the proxy says the request was https.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is polled over plain http by load balancers and container health checks.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]


# Content-Security-Policy (django-csp 4): no inline script anywhere (page scripts live in
# static/js; django-leaflet's admin widget carries the per-request nonce), nothing loaded
# from elsewhere but the base-map tiles, no framing. Inline style attributes stay allowed:
# Leaflet and Chart.js position their elements with them.
def _tile_origin(template: str) -> str:
    """https://{s}.tile.example.org/{z}/{x}/{y}.png -> https://*.tile.example.org"""
    from urllib.parse import urlsplit

    parts = urlsplit(template.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.netloc.replace("tiles-subdomain", "*")
    return f"{parts.scheme}://{host}"


def _csp_directives(tile_urls: list[str]) -> dict:
    from csp.constants import NONCE, NONE, SELF

    tiles = sorted({origin for origin in map(_tile_origin, tile_urls) if origin})
    return {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:", *tiles],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        # ReDoc parses the schema in a web worker started from a blob.
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }


# --- Failed sign-ins: django-axes locks a username on one address after repeated failures,
# and an address after more failures whatever the usernames (password spraying), each with
# its own limit (organisations/lockout.py).
AXES_HANDLER = "organisations.lockout.NameAndAddressLockoutHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
if not AXES_FAILURE_LIMIT <= AXES_ADDRESS_FAILURE_LIMIT:
    raise ImproperlyConfigured(
        "AXES_ADDRESS_FAILURE_LIMIT (one address, any usernames) must be at least "
        "AXES_FAILURE_LIMIT (one username from one address)."
    )
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# How many proxies stand in front of Django; a wrong count lets a spoofed X-Forwarded-For
# buy unlimited tries.
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organisations.api.authentication.AgencyAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "armsmonitor.pagination.LimitOffsetPages",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per API key and per signed-in user; over the rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "armsmonitor.throttling.AgencyKeyRateThrottle",
        "armsmonitor.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "agency": env.str("API_RATE_AGENCY", default="1000/hour"),
        "user": env.str("API_RATE_USER", default="2000/hour"),
    },
}

# The OpenAPI schema (/api/v1/schema) and its docs pages, served from the sidecar's own
# static files: the platform works offline.
SPECTACULAR_SETTINGS = {
    "TITLE": "ArmsMonitor API",
    "DESCRIPTION": (
        "Geo-referenced records of seized small arms and light weapons, and analyses of "
        "them. Agencies authenticate with `Authorization: Api-Key <key>`; signed-in users "
        "with their browser session. Every answer holds only what the caller may see."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "armsmonitor.openapi.document_retry_after",
        "armsmonitor.openapi.document_empty_filters",
        "armsmonitor.openapi.document_unknown_cursors",
        "armsmonitor.openapi.document_analysis_filter",
    ],
    # Several vocabularies have fields named `kind` and `state`: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "IncidentKindEnum": "incidents.choices.IncidentKind",
        "WorkflowStateEnum": "incidents.choices.WorkflowState",
        "AnalysisKindEnum": "geo.models.AnalysisKind",
        "AnalysisStateEnum": "geo.models.AnalysisRun.State",
        "ReportStateEnum": "reports.models.Report.State",
        "OriginKindEnum": "incidents.choices.OriginKind",
        "WeaponCategoryEnum": "incidents.choices.WeaponCategory",
        "AmmunitionCategoryEnum": "incidents.choices.AmmunitionCategory",
        "AmmunitionStateEnum": "incidents.choices.AmmunitionState",
        "OriginMethodEnum": "incidents.choices.OriginMethod",
    },
}

# Days the file of a refused or failed import is kept after the job ended (at least 1).
IMPORT_REFUSED_RETENTION_DAYS = env.int("IMPORT_REFUSED_RETENTION_DAYS", default=30)
if IMPORT_REFUSED_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("IMPORT_REFUSED_RETENTION_DAYS must be 1 or more.")

# --- Notifications and e-mail ---------------------------------------------------------
# Every notification in the application (a record submitted, returned, verified, withdrawn)
# is also sent by e-mail, from a worker, to recipients with an address. The e-mail says
# only that a record needs attention, with a link under SITE_URL: never the record's contents.
NOTIFY_BY_EMAIL = env.bool("NOTIFY_BY_EMAIL", default=False)
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
if NOTIFY_BY_EMAIL and not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("SITE_URL must be the site's address (https://…) for e-mails.")
# Django's own e-mail settings, from the environment (docs/operators/configuration.md).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="armsmonitor@localhost")
if "EMAIL_FILE_PATH" in env:
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")

# --- Webhooks -------------------------------------------------------------------------
# Agencies' endpoints are told of events (a hit in the lost and stolen weapons registry) by
# a signed POST (organisations/webhooks.py, docs/clients/webhooks.md). Each endpoint's
# signing secret is derived from WEBHOOK_SIGNING_KEY and a salt kept in its row, so the
# database alone never holds a usable secret; changing the key changes every secret.
_DEV_WEBHOOK_SIGNING_KEY = "django-insecure-webhook-signing-key-for-development-only"
WEBHOOK_SIGNING_KEY = env.str(
    "WEBHOOK_SIGNING_KEY", default=_DEV_WEBHOOK_SIGNING_KEY if DEBUG else ""
)
if WEBHOOK_SIGNING_KEY and len(WEBHOOK_SIGNING_KEY) < 32:
    raise ImproperlyConfigured("WEBHOOK_SIGNING_KEY must be at least 32 characters.")
# Plain http and private, loopback or link-local addresses: only for development and the
# tests (a receiver on 127.0.0.1); off, an endpoint must be https on a public address.
WEBHOOK_ALLOW_LOCAL = env.bool("WEBHOOK_ALLOW_LOCAL", default=False)
# Attempts of one delivery before it is given up; pauses between them double from the base
# (with jitter) up to the maximum.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
if not 1 <= WEBHOOK_MAX_ATTEMPTS <= 50:
    raise ImproperlyConfigured("WEBHOOK_MAX_ATTEMPTS must be a whole number from 1 to 50.")
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=60.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600.0)
if not 0 < WEBHOOK_RETRY_BASE_SECONDS <= WEBHOOK_RETRY_MAX_SECONDS:
    raise ImproperlyConfigured(
        "WEBHOOK_RETRY_BASE_SECONDS must be more than 0 and at most WEBHOOK_RETRY_MAX_SECONDS."
    )
# Seconds to connect and to wait for the answer, each.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
if not 0 < WEBHOOK_TIMEOUT_SECONDS <= 60:
    raise ImproperlyConfigured("WEBHOOK_TIMEOUT_SECONDS must be more than 0 and at most 60.")

# --- Places ---------------------------------------------------------------------------
# Within this distance of a boundary, a point takes the mission's host country when that is
# one of the countries in reach, and is flagged near a border (geo/core/borders.py).
BORDER_TOLERANCE_M = env.float("BORDER_TOLERANCE_M", default=5000.0)
if not 0 <= BORDER_TOLERANCE_M <= 50_000:
    raise ImproperlyConfigured("BORDER_TOLERANCE_M must be between 0 and 50000 (metres).")

# --- Map ------------------------------------------------------------------------------
# The tile URL is configurable; with no tile server reachable the map still draws the
# platform's own boundaries.
LEAFLET_CONFIG = {
    "TILES": env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
    "ATTRIBUTION_PREFIX": "ArmsMonitor",
    "DEFAULT_CENTER": (6.6, 20.9),
    "DEFAULT_ZOOM": 6,
    "RESET_VIEW": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Debian 12 ships GDAL 3.6, which cannot block file and network access from spatial
# references (GDAL >= 3.9 can). GDAL only reads files that the upload checks accepted, and
# the machines have no outbound network; revisit when the base image moves to GDAL 3.9.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]


# The Content-Security-Policy, built last so that it sees the map's tile servers whichever
# setting names them (MAP_TILE_URL, or django-leaflet's TILES: one URL or a list of layers).
def _tile_templates() -> list[str]:
    tiles = LEAFLET_CONFIG.get("TILES") or []
    layers = [tiles] if isinstance(tiles, str) else [layer[1] for layer in tiles]
    return [str(url) for url in [globals().get("MAP_TILE_URL"), *layers] if url]


CONTENT_SECURITY_POLICY = {"DIRECTIVES": _csp_directives(_tile_templates())}
