"""SupportOps settings: one module, every value from the environment (see README)."""

from __future__ import annotations

import sys
from pathlib import Path

import limits
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from supportops.lib import embedded
from supportops.lib.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
    redis_urls,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]

# DEBUG has no default: a deployment that forgot it must not come up in development mode
# (debug pages, a public secret key). `make run`, `manage.py runstack` and the test setup
# set it to true; docker-compose.yml sets it to false.
if env_str("DEBUG").strip() == "":
    raise ImproperlyConfigured(
        "DEBUG is not set: set DEBUG=false in production (with SECRET_KEY and ALLOWED_HOSTS), "
        "or DEBUG=true on a development machine (make run does this for you)"
    )
DEBUG = env_bool("DEBUG", False)
# Only a development machine (DEBUG on) may run on this well-known key.
_INSECURE_KEY = "django-insecure-supportops-local-development-only"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

if not DEBUG:
    if not SECRET_KEY or SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DEBUG is off: set SECRET_KEY to a random string of at least 50 characters"
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS (comma-separated host names)")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "ninja",  # serves the widget API's docs page from local files, not a CDN
    "supportops.accounts",
    "supportops.integrations",
    "supportops.knowledge",
    "supportops.conversations",
    "supportops.widget",
    "supportops.bot",
    "supportops.rollout",
    "supportops.inbox",
    "supportops.analytics",
    "supportops.exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "supportops.accounts.errors.ErrorPageMiddleware",
    # Last, so its process_exception sees a view's database outage first: a 503, not a 500.
    "supportops.lib.outage.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "supportops.urls"
WSGI_APPLICATION = "supportops.wsgi.application"
ASGI_APPLICATION = "supportops.asgi.application"

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
                "supportops.accounts.context_processors.workspace",
                "csp.context_processors.nonce",
            ],
        },
    }
]

# --- Database: DATABASE_URL, or the bundled PostgreSQL with pgvector under VAR_DIR.
# The contract commands bring the bundled database's schema up to date themselves; a
# database of one's own is never migrated behind the operator's back.
DATABASE_EMBEDDED = not env_str("DATABASE_URL")
DATABASE_URL = env_str("DATABASE_URL") or embedded.postgres_url(VAR_DIR)
DATABASES = {"default": database_from_url(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Lets two test runs on one machine use separate test databases.
if env_str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: REDIS_URL (redis://, rediss:// or unix://), or the bundled Redis on a unix
# socket under VAR_DIR. Tests use Redis database 1, so their tasks never reach a dev worker.
REDIS_URL = (
    env_str("REDIS_URL") or f"unix://{embedded.redis_socket(VAR_DIR)}?db={1 if TESTING else 0}"
)
CELERY_BROKER_URL, CACHE_URL = redis_urls(REDIS_URL)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "supportops",
    }
}

CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
# Tasks outside the apps' tasks modules: the flows that cross apps (supportops/flows.py).
CELERY_IMPORTS = ("supportops.flows",)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A customer waiting for the bot comes first. Redis keeps one list per priority step (0, 3, 6,
# 9; 0 is taken first): bot turns are sent at 0, what a person is waiting for (handoff
# packets, emails to customers, the sweeper that re-queues lost turns) at 3, and everything
# else (the ledger's refreshes, analysis, cost lines, embeddings, reports) at 6. Set by route,
# not by a default priority: a task's default would override its route.
CELERY_TASK_ROUTES = {
    "supportops.flows.bot_turn": {"priority": 0},
    "supportops.inbox.tasks.handoff_packet_enrich": {"priority": 3},
    "supportops.inbox.tasks.followup_email_send": {"priority": 3},
    "supportops.flows.sweep": {"priority": 3},
    "*": {"priority": 6},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker keeps reconnecting while Redis restarts, however long it takes.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A delivery not acknowledged within this many seconds (its worker was SIGKILLed, so nobody
# rejected it) goes back to the queue. Longer than any retry countdown (backoff caps at 300 s),
# or a task waiting for its retry would be delivered twice; the sweeper re-queues a customer's
# lost turn much sooner than this anyway.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 900, minimum=60)
}
# When the broker connection drops, tasks still running will be delivered again (acks late):
# cancel them instead of letting them finish into an acknowledgement that cannot be sent.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Test runs that share the bundled Redis (TEST_DATABASE_NAME set) get a queue of their own,
# so one run's worker never takes another run's tasks.
CELERY_TASK_DEFAULT_QUEUE = (
    f"supportops-{env_str('TEST_DATABASE_NAME')}"
    if TESTING and env_str("TEST_DATABASE_NAME")
    else "supportops"
)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Guardrails of live rollout phases: pause a phase that crosses a limit with confidence.
    "rollout-guardrails": {
        "task": "supportops.analytics.tasks.guardrails_check_live",
        "schedule": 3600.0,
    },
    "knowledge-reindex-sweeper": {
        "task": "supportops.knowledge.tasks.chunks_embed_sweep",
        "schedule": 60.0,
    },
    # Work whose task was lost (a worker killed mid-task, the broker down while queueing) is
    # queued again: see supportops.flows.sweep. Expires so runs never pile up in the queue.
    "flows-sweep": {
        "task": "supportops.flows.sweep",
        "schedule": env_float("SWEEPER_EVERY_S", 10.0),
        "options": {"expires": env_float("SWEEPER_EVERY_S", 10.0)},
    },
    # Outcomes whose repeat-contact window has passed become final; anything the on-commit
    # refreshes missed is recomputed.
    "analytics-outcomes-sweep": {
        "task": "supportops.analytics.tasks.outcomes_sweep",
        "schedule": env_float("OUTCOMES_SWEEP_EVERY_S", 300.0),
    },
    # Post-interaction analysis of conversations that went quiet (the resolved ones are
    # queued when their outcome is refreshed), and nightly over 30 days for anything missed.
    "analytics-analyses-quiet": {
        "task": "supportops.analytics.tasks.analyses_sweep",
        "schedule": env_float("ANALYSES_SWEEP_EVERY_S", 600.0),
        "kwargs": {"lookback_hours": 48},
    },
    # Prepared export files older than EXPORT_KEEP_DAYS are deleted.
    "exports-expire": {
        "task": "supportops.exports.tasks.exports_expire",
        "schedule": 3600.0,
    },
    # Daily rollups the dashboards read: missing past days and days whose outcomes, costs
    # or ratings changed since the last build (analytics.rollups); nightly also the last
    # week and any day whose counts drifted.
    "analytics-rollups": {
        "task": "supportops.analytics.tasks.rollups_refresh",
        "schedule": env_float("ROLLUPS_EVERY_S", 120.0),
        "options": {"expires": env_float("ROLLUPS_EVERY_S", 120.0)},
    },
    "analytics-rollups-nightly": {
        "task": "supportops.analytics.tasks.rollups_refresh",
        "schedule": crontab(hour=2, minute=40),
        "kwargs": {"verify": True},
    },
    "analytics-analyses-nightly": {
        "task": "supportops.analytics.tasks.analyses_sweep",
        "schedule": crontab(hour=3, minute=15),
        "kwargs": {"lookback_hours": 30 * 24},
    },
}

# --- Accounts (django-allauth): email + password, optional TOTP, closed signup.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "supportops.accounts.adapter.AccountAdapter"
ACCOUNT_ALLOW_SIGNUP = env_bool("ACCOUNT_ALLOW_SIGNUP", False)
# Brute-force protection, set explicitly rather than left to allauth's defaults: failed
# logins per client IP and per account, then login and password-reset requests per IP.
# Counted in the shared Redis cache, so every web process sees the same counts.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
# Proxies in front of the app that append to X-Forwarded-For (the README's TLS proxy is one).
# The client's address is the entry that many places from the right; 0 means REMOTE_ADDR.
# Without it every user behind the proxy shares one login-throttle bucket.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("ALLAUTH_TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT, minimum=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SupportOps"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email: console locally; SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SupportOps <support@localhost>")

# --- Static files
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# plotly's JS comes from the installed plotly package (the version that renders the figures),
# served as vendor/plotly/plotly.min.js, never from a CDN.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "supportops.lib.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Exports: a per-conversation CSV above this many rows is prepared by a Celery task (with a
# progress bar) into MEDIA_ROOT/exports/ and kept for EXPORT_KEEP_DAYS; smaller ones stream.
EXPORT_STREAM_MAX_ROWS = env_int("EXPORT_STREAM_MAX_ROWS", 50_000, minimum=0)
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7, minimum=1)
# Files the app writes (prepared exports under exports/; imports are read in memory);
# `manage.py backup` archives this folder.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
# Where `manage.py backup` writes and PostgreSQL client programs for backup and restore.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups"))).resolve()
PG_BIN_DIR = env_str("PG_BIN_DIR")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
KB_IMPORT_MAX_BYTES = env_int("KB_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# A zip of Markdown files: at most this many entries, and this much unpacked in all (each
# entry is read in pieces up to the limit; the sizes an archive declares are not trusted).
KB_IMPORT_ZIP_MAX_ENTRIES = env_int("KB_IMPORT_ZIP_MAX_ENTRIES", 2000, minimum=1)
KB_IMPORT_ZIP_MAX_UNPACKED_BYTES = env_int(
    "KB_IMPORT_ZIP_MAX_UNPACKED_BYTES", 50 * 1024 * 1024, minimum=1024
)
# Imports with more articles than this run in Celery with a progress bar.
KB_IMPORT_ASYNC_THRESHOLD = env_int("KB_IMPORT_ASYNC_THRESHOLD", 20, minimum=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Embeddings and search
EMBEDDING_PROVIDER = env_choice("EMBEDDING_PROVIDER", "local", ("local", "openai"))
EMBEDDING_BASE_URL = env_str("EMBEDDING_BASE_URL", "https://api.openai.com/v1").rstrip("/")
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", "")
EMBEDDING_API_KEY = env_str("EMBEDDING_API_KEY")
EMBEDDING_DIMENSIONS = 384  # the Chunk.embedding column; an OpenAI-compatible model must match
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 16, minimum=1)
# Word pieces the local model reads per passage; 128 (its training length) embeds about
# twice as fast but cut recall@1 on the FAQ set from 0.965 to 0.958 (docs/benchmarks.md).
EMBEDDING_MAX_TOKENS = env_int("EMBEDDING_MAX_TOKENS", 256, minimum=16)
EMBEDDING_PRECISION = env_choice("EMBEDDING_PRECISION", "auto", ("auto", "float32", "bfloat16"))
EMBEDDING_TIMEOUT_S = env_float("EMBEDDING_TIMEOUT_S", 30.0)
# Answer generation: `extractive` composes replies from retrieved passages; `openai` asks any
# OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama, llama.cpp server).
LLM_PROVIDER = env_choice("LLM_PROVIDER", "extractive", ("extractive", "openai"))
LLM_BASE_URL = env_str("LLM_BASE_URL", "https://api.openai.com/v1").rstrip("/")
LLM_MODEL = env_str("LLM_MODEL", "")
LLM_API_KEY = env_str("LLM_API_KEY")
LLM_TIMEOUT_S = env_float("LLM_TIMEOUT_S", 20.0)
# US dollars per million tokens, recorded as the cost of every call; 0 for self-hosted models.
LLM_PRICE_INPUT_PER_MTOK = env_float("LLM_PRICE_INPUT_PER_MTOK", 0.0)
LLM_PRICE_OUTPUT_PER_MTOK = env_float("LLM_PRICE_OUTPUT_PER_MTOK", 0.0)
SEARCH_HNSW_EF_SEARCH = env_int("SEARCH_HNSW_EF_SEARCH", 100, minimum=10)

# --- The sweeper: a customer message with no bot turn this many seconds after it was stored
# (or whose worker died: a stale claim) is queued again; a handoff packet the chat model has
# not enriched, or an agent reply not emailed, after the slower delay (those tasks retry on
# their own first). Nothing older than the horizon is swept (the chat has long ended).
SWEEPER_DELAY_S = env_int("SWEEPER_DELAY_S", 20, minimum=1)
SWEEPER_SLOW_DELAY_S = env_int("SWEEPER_SLOW_DELAY_S", 300, minimum=1)
SWEEPER_HORIZON_HOURS = env_int("SWEEPER_HORIZON_HOURS", 24, minimum=1)

# --- Chat widget rate limits (per minute, counted in Redis). A chat open in a browser polls
# about once a second, so the per-visitor request limit leaves room for that; the workspace
# limit counts writes only (conversation starts, messages, actions), not polls.
WIDGET_RATE_PER_VISITOR_PER_MIN = env_int("WIDGET_RATE_PER_VISITOR_PER_MIN", 120, minimum=1)
WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN = env_int(
    "WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN", 20, minimum=1
)
WIDGET_RATE_PER_WORKSPACE_PER_MIN = env_int("WIDGET_RATE_PER_WORKSPACE_PER_MIN", 600, minimum=1)
# Per client IP (the address behind TRUSTED_PROXY_COUNT proxies; an IPv6 client's /64), in
# the `limits` library's notation: new chats, and writes of any kind (starts, messages,
# actions). An office behind one address still has room; one script does not.
WIDGET_RATE_STARTS_PER_IP = env_str("WIDGET_RATE_STARTS_PER_IP") or "20/minute;200/hour"
WIDGET_RATE_WRITES_PER_IP = env_str("WIDGET_RATE_WRITES_PER_IP") or "240/minute"
for _name in ("WIDGET_RATE_STARTS_PER_IP", "WIDGET_RATE_WRITES_PER_IP"):
    try:
        _ok = bool(limits.parse_many(globals()[_name]))
    except ValueError:
        _ok = False
    if not _ok:
        raise ImproperlyConfigured(
            f"{_name} must be limits like '20/minute' or '20/minute;200/hour', "
            f"got {globals()[_name]!r}"
        )
# --- Chat widget identity and tokens. A host site's customer signature carries its own expiry;
# one further in the future than this is refused, so a leaked signature is never a permanent
# password. After a key rotation the previous secret keeps working for the overlap window.
WIDGET_SIGNATURE_MAX_AGE_HOURS = env_int("WIDGET_SIGNATURE_MAX_AGE_HOURS", 24, minimum=1)
WIDGET_SECRET_OVERLAP_HOURS = env_int("WIDGET_SECRET_OVERLAP_HOURS", 72, minimum=1)
# A conversation token opens its chat for this long after the chat started; once the chat has
# ended it still reads the chat and takes a rating (or a message that reopens it) for the
# grace minutes, then nothing.
WIDGET_TOKEN_TTL_HOURS = env_int("WIDGET_TOKEN_TTL_HOURS", 24, minimum=1)
WIDGET_TOKEN_ENDED_GRACE_MINUTES = env_int("WIDGET_TOKEN_ENDED_GRACE_MINUTES", 30, minimum=0)
# Starting a chat stores nothing: the browser holds a signed "pending chat" token until its
# first message (or "Talk to a person") creates the conversation. After this long the widget
# starts a new chat instead.
WIDGET_PENDING_CHAT_TTL_MINUTES = env_int("WIDGET_PENDING_CHAT_TTL_MINUTES", 120, minimum=1)

# --- Email channel: the rating links in the resolve email stop working after this many days;
# inbound webhook bodies larger than this are refused.
CSAT_LINK_MAX_AGE_DAYS = env_int("CSAT_LINK_MAX_AGE_DAYS", 30, minimum=1)
EMAIL_INBOUND_MAX_BYTES = env_int("EMAIL_INBOUND_MAX_BYTES", 1024 * 1024, minimum=1024)

# --- Production hardening (DEBUG off); `manage.py check --deploy` passes with these.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) on every page: scripts and styles from the app
# itself only (a per-request nonce for the few inline <style> blocks), no plugins, no
# framing, no remote images (article images come from the app's own origin). The widget
# API and widget.js are served to other websites; their host-page rules are in the README.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Powerful browser features the app never uses are switched off for every page.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
}
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors": {"()": "supportops.lib.logfilters.ClientErrorsWithoutTraceback"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": sys.stderr}},
    "root": {"handlers": ["stderr"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # A 403 or 404 is a normal answer, logged in one line; tracebacks are for 5xx.
        "django.request": {"filters": ["client_errors"]},
        "django.security": {"filters": ["client_errors"]},
    },
}
