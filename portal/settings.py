"""One settings module for every environment, driven by environment variables.

Development and production differ only in the values read here, never in code paths.
"""

import json
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {raw!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from exc


def env_json(name: str) -> dict:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}.") from exc
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {raw!r}.")
    return value


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG:
        # No fallback key: a production server must never run with a guessable secret.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DJANGO_DEBUG-is-1"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "installations.apps.PortalAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_fsm",
    "django_filters",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "installations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "installations.middleware.PortalMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "installations.context_processors.portal",
            ],
            # Registered as builtins so that moving to Django 6's own partials is a deletion.
            "builtins": ["template_partials.templatetags.partials"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]
# Django's form renderer, the plain <input> widgets written in Python (installations/widgets.py).
FORM_RENDERER = "installations.widgets.PortalFormRenderer"

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; DATABASE_URL switches to PostgreSQL (or another SQLite file).
# Options are chosen per engine so that nothing meant for one is ever handed to the other.
SQLITE_OPTIONS = {
    # Take the write lock when the transaction starts: concurrent writers queue up behind the
    # busy timeout instead of failing half-way with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=20000;"
    ),
}
POSTGRES_OPTIONS = {
    # On 2-core machines parallel workers cost more than they gain under concurrent load. JIT
    # compiles a query whose estimated cost is high (any query over a big partner's millions of
    # rows, however few it reads): 29 ms of compiling for a 50 ms search page at 10 M rows.
    "options": "-c max_parallel_workers_per_gather=0 -c jit=off",
}

_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "portal.sqlite3",
        }
    }
_engine = DATABASES["default"]["ENGINE"]
if _engine == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
elif _engine == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        **POSTGRES_OPTIONS,
        **DATABASES["default"].get("OPTIONS", {}),
    }
else:
    raise ImproperlyConfigured(f"DATABASE_URL names an unsupported database: {_engine}.")
# Reusing connections saves several milliseconds a request on PostgreSQL; on SQLite it keeps
# each thread's page cache warm and skips the PRAGMAs a new connection runs (docs/decisions.md).
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "installations.auth.PortalBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Login throttling (docs/decisions.md, "Hostile input"): 5 failures lock that name from that
# address; 20 failures from one address, whatever the names, pause that address. Both for 15
# minutes. Refused attempts stop before the password hasher, so a script costs us no CPU.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "installations.auth.PortalAxesHandler"
# axes stores the attempted name in a varchar(255): longer names are cut before it does.
AXES_USERNAME_CALLABLE = "installations.auth.attempted_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False

# How many reverse proxies in front of the portal append to X-Forwarded-For (README,
# Deploying). 0: none, every limit counts REMOTE_ADDR and the header is ignored; N: the client
# is the N-th address from the right of the header. Login throttling, the customer's link and
# password resets all read it through installations.ratelimit.services.client_ip.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 (no proxy) or more.")
AXES_CLIENT_IP_CALLABLE = "installations.ratelimit.services.client_ip"

# The customer's link (docs/decisions.md, "The customer's link is rate-limited"), counted in the
# database per fixed window: links that do not work (forged, expired, replaced) per client
# address; sign/approve POSTs per link; downloads of the customer's record per link per day.
CUSTOMER_LINK_BAD_LIMIT = env_int("CUSTOMER_LINK_BAD_LIMIT", 20)
CUSTOMER_LINK_POST_LIMIT = env_int("CUSTOMER_LINK_POST_LIMIT", 30)
CUSTOMER_LINK_WINDOW_MINUTES = env_int("CUSTOMER_LINK_WINDOW_MINUTES", 15)
CUSTOMER_RECORD_DAILY_LIMIT = env_int("CUSTOMER_RECORD_DAILY_LIMIT", 10)

# "Forgot your password?" (installations/accounts/): the emailed link works for an hour and
# once; requests are limited per client address and per email address in a fixed window.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60)
PASSWORD_RESET_ADDRESS_LIMIT = env_int("PASSWORD_RESET_ADDRESS_LIMIT", 10)
PASSWORD_RESET_EMAIL_LIMIT = env_int("PASSWORD_RESET_EMAIL_LIMIT", 3)
PASSWORD_RESET_WINDOW_MINUTES = env_int("PASSWORD_RESET_WINDOW_MINUTES", 60)
# Changing one's own password (the old one is asked for): attempts per account per window.
PASSWORD_CHANGE_LIMIT = env_int("PASSWORD_CHANGE_LIMIT", 10)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# Uploads go through Django's storage API only, so that several app servers can share an object
# store (README: django-storages with S3). Every upload is served by the media view, which checks
# who asks; a proxy may send the bytes instead (X-Accel-Redirect prefix or X-Sendfile).
STORAGES = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env_json("DJANGO_STORAGE_OPTIONS"),
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Served at the site's root by whitenoise: /favicon.ico, which browsers ask for on every page.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_ACCEL_REDIRECT_PREFIX = os.environ.get("DJANGO_MEDIA_ACCEL_REDIRECT_PREFIX", "").strip()
MEDIA_X_SENDFILE = env_bool("DJANGO_MEDIA_X_SENDFILE")
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Pixels, not bytes, are what a browser must decode: a 17 KB PNG can be 144 megapixels.
MAX_PHOTO_PIXELS = 40_000_000
MAX_SIGNATURE_PIXELS = 4_000_000
# Per job (and so per checklist request): counted as the upload streams in, before any is stored.
MAX_PHOTOS_PER_JOB = 20
MAX_PHOTO_TOTAL_BYTES = 60 * 1024 * 1024

# --- Background tasks and messages ----------------------------------------------------------
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
# `make run` sends the demo's mail and texts to files (the file backends), not the console.
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms.log"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "portal@localhost")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhooks go only to public https addresses; this lets development and tests use
# http://127.0.0.1 (loopback only, never private networks). Off in production.
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", DEBUG)

# SMS: console by default; Twilio when its credentials are set; tests use the in-memory backend.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "").strip()
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "").strip()
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "").strip()
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "installations.sms.TwilioBackend" if TWILIO_ACCOUNT_SID else "installations.sms.ConsoleBackend",
)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("DJANGO_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from us or with this response's nonce, which
# django-htmx's {% htmx_script %} carries; no inline handlers, no eval, no inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# One handler, on the root: Django's own "django" logger gets none of its own (its default console
# handler plus the root's printed every line twice). A 4xx is one access-log line (runserver's
# django.server, or gunicorn's), so django.request reports only 5xx, with their traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint narrates every evidence pack's rendering steps at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}
