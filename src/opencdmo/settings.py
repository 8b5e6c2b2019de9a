"""Django settings, read from the environment so one build serves demo, CI and production.

``DATABASE_URL`` picks the database (SQLite file under ``OPENCDMO_DATA_DIR`` by default,
PostgreSQL in production; the rule is in ``opencdmo.locations``); ``OPENCDMO_IDLE_TIMEOUT_MIN``
sets the idle-session timeout. With debug off and outside the local demo the HTTPS-only
settings below are on, and ``opencdmo serve`` refuses to start without a real secret key and
explicit allowed hosts (``opencdmo.web.management.commands.serve``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from opencdmo import locations

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = locations.data_dir()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("OPENCDMO_DEBUG", "0") == "1"
# The local demo (``opencdmo demo`` sets OPENCDMO_DEMO=1) runs over plain HTTP on this machine
# with the public key; everything else with debug off is production.
LOCAL_DEMO = os.environ.get("OPENCDMO_DEMO", "0") == "1"
PRODUCTION = not DEBUG and not LOCAL_DEMO
PUBLIC_DEMO_SECRET_KEY = "insecure-demo-key-change-me-in-production-0000"
SECRET_KEY = os.environ.get("OPENCDMO_SECRET_KEY", PUBLIC_DEMO_SECRET_KEY)
ALLOWED_HOSTS_SET = bool(os.environ.get("OPENCDMO_ALLOWED_HOSTS", "").strip(", "))
ALLOWED_HOSTS = [
    h for h in os.environ.get("OPENCDMO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "opencdmo.core",
    "opencdmo.accounts",
    "opencdmo.audit",
    "opencdmo.network",
    "opencdmo.projects",
    "opencdmo.scheduling",
    "opencdmo.quality",
    "opencdmo.manufacturing",
    "opencdmo.analytics",
    "opencdmo.notifications",
    "opencdmo.demo",
    "opencdmo.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "opencdmo.web.middleware.ContentSecurityPolicyMiddleware",
    "opencdmo.web.middleware.StaticFilesMiddleware",
    "opencdmo.accounts.middleware.IdleTimeoutSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "opencdmo.web.middleware.RejectNulMiddleware",
    "opencdmo.accounts.middleware.TenantScopeMiddleware",
    "opencdmo.web.middleware.AdminGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "opencdmo.accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "opencdmo.urls"
WSGI_APPLICATION = "opencdmo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opencdmo.accounts.context_processors.caller",
                "opencdmo.notifications.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(locations.database_url())}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("OPENCDMO_CONN_MAX_AGE", "60"))
    # An unreachable server is reported after 10 s instead of the operating system's minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["opencdmo.accounts.backends.LockoutBackend"]
PASSWORD_HASHERS = [
    "opencdmo.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

BEHIND_PROXY = os.environ.get("OPENCDMO_BEHIND_PROXY", "0") == "1"
LOCKOUT_THRESHOLD = int(os.environ.get("OPENCDMO_LOCKOUT_THRESHOLD", "5"))
LOCKOUT_DURATION_MIN = int(os.environ.get("OPENCDMO_LOCKOUT_MIN", "15"))
# One password-reset mail per account in this many minutes; more requests are answered the
# same way but send nothing, so the form cannot flood a mailbox.
RESET_MAIL_INTERVAL_MIN = int(os.environ.get("OPENCDMO_RESET_MAIL_INTERVAL_MIN", "5"))
IDLE_TIMEOUT_MIN = int(os.environ.get("OPENCDMO_IDLE_TIMEOUT_MIN", "15"))
# Django's admin asks for a session that passed two-factor sign-in: on in production, off for
# the local demo and debugging unless asked for.
ADMIN_REQUIRE_2FA = os.environ.get("OPENCDMO_ADMIN_REQUIRE_2FA", "1" if PRODUCTION else "0") == "1"
# Password-reset links and notifications go out by e-mail: SMTP in production, files under
# the data folder for the local demo (one per message, to read what was sent), the console for
# debugging (``console``, ``smtp``, ``locmem``, ``filebased`` or a backend's dotted path).
_EMAIL_BACKEND = os.environ.get(
    "OPENCDMO_EMAIL_BACKEND", "smtp" if PRODUCTION else "filebased" if LOCAL_DEMO else "console"
)
EMAIL_BACKEND = (
    f"django.core.mail.backends.{_EMAIL_BACKEND}.EmailBackend"
    if _EMAIL_BACKEND in ("console", "smtp", "locmem", "filebased")
    else _EMAIL_BACKEND
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
# The site's public address, to make the links in e-mails absolute (paths without it).
SITE_URL = os.environ.get("OPENCDMO_SITE_URL", "")
EMAIL_HOST = os.environ.get("OPENCDMO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("OPENCDMO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("OPENCDMO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("OPENCDMO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("OPENCDMO_EMAIL_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("OPENCDMO_EMAIL_FROM", "opencdmo@localhost")
SESSION_COOKIE_AGE = IDLE_TIMEOUT_MIN * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION
if BEHIND_PROXY:
    # The proxy must overwrite X-Forwarded-Proto on every request; a client-sent value that
    # reached us would let plain HTTP pass as HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("OPENCDMO_HSTS_SECONDS", "31536000")) if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("OPENCDMO_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
SECURE_HSTS_PRELOAD = os.environ.get("OPENCDMO_HSTS_PRELOAD", "0") == "1"
# Asking browsers to preload the domain is the owner's decision to submit it to the preload
# list, so it is off unless asked for and its deploy-check warning is not one to act on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running job whose worker has not been heard from for JOB_LEASE_S seconds is handed to
# another worker, and marked failed once JOB_ATTEMPTS runs have been started.
JOB_LEASE_S = float(os.environ.get("OPENCDMO_JOB_LEASE_S", "60"))
JOB_ATTEMPTS = int(os.environ.get("OPENCDMO_JOB_ATTEMPTS", "2"))
# Batch process data (Parquet): a folder or an S3-compatible URL, read through pyarrow.fs.
PROCESS_DATA_URL = os.environ.get("OPENCDMO_PROCESS_DATA_URL", str(DATA_DIR / "process-data"))
# Wall-clock seconds of each site's capable-to-promise solve; the best checked answer found by
# then is what the sponsor sees, marked "best found" when not proved optimal.
PROMISE_TIME_LIMIT_S = float(os.environ.get("OPENCDMO_PROMISE_TIME_LIMIT_S", "3"))
# Largest file a project document version may be (MiB); larger uploads are refused whole.
DOCUMENT_MAX_BYTES = int(float(os.environ.get("OPENCDMO_DOCUMENT_MAX_MB", "50")) * 2**20)
DOCUMENT_STORE_DIR = Path(os.environ.get("OPENCDMO_DOCUMENT_DIR", str(DATA_DIR / "documents")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden": {"()": "opencdmo.accounts.forbidden_log.ForbiddenInOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["forbidden"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPENCDMO_LOG_LEVEL", "WARNING")},
}
