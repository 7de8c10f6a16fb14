"""Gaoxin settings, read from environment variables (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("GAOXIN_DATA_DIR", str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("GAOXIN_DEBUG", False)
SECRET_KEY = env_str("GAOXIN_SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    # A laptop run gets a random key kept in the data folder, so sessions survive restarts.
    _key_file = DATA_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("GAOXIN_SECRET_KEY must be set when GAOXIN_DEBUG is false")
ALLOWED_HOSTS = env_list("GAOXIN_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("GAOXIN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves Swagger UI from its own static files (no CDN: zones run offline)
    "gaoxin.core",
    "gaoxin.accounts",
    "gaoxin.registry",
    "gaoxin.reports",
    "gaoxin.indicators",
    "gaoxin.policies",
    "gaoxin.party",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gaoxin.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gaoxin.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "gaoxin.accounts.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'gaoxin.sqlite3'}"),
        conn_max_age=env_int("GAOXIN_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while an import writes; IMMEDIATE avoids lock upgrades mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static", BASE_DIR / "static_vendor"]
(BASE_DIR / "static_vendor").mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("GAOXIN_MANIFEST_STATIC", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

# Uploads: imports stream to disk; anything larger than this is refused before it is read.
IMPORT_MAX_UPLOAD_BYTES = env_int("GAOXIN_IMPORT_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("GAOXIN_IMPORT_MAX_ROWS", 1_000_000)
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("GAOXIN_IMPORT_MAX_UNCOMPRESSED_BYTES", 512 * 1024 * 1024)
IMPORT_MAX_LINE_BYTES = env_int("GAOXIN_IMPORT_MAX_LINE_BYTES", 2 * 1024 * 1024)
IMPORT_MAX_CELL_BYTES = env_int("GAOXIN_IMPORT_MAX_CELL_BYTES", 256 * 1024)
IMPORT_MAX_COLUMNS = env_int("GAOXIN_IMPORT_MAX_COLUMNS", 256)
# Rows x columns of a sheet's used range: a sparse sheet with one far-away cell is refused
# before the reader allocates its grid.
IMPORT_MAX_CELLS = env_int("GAOXIN_IMPORT_MAX_CELLS", 20_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("GAOXIN_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("GAOXIN_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("GAOXIN_HSTS_SECONDS", 0)
# Separate opt-ins: a zone often sits on a shared government domain whose other hosts are not ours.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("GAOXIN_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("GAOXIN_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("GAOXIN_BEHIND_PROXY", False) else None
)
# Only trust X-Forwarded-For for the audit trail when a proxy we run sets it.
GAOXIN_TRUST_X_FORWARDED_FOR = env_bool("GAOXIN_BEHIND_PROXY", False)
X_FRAME_OPTIONS = "DENY"

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("REDIS_URL", ""),
        }
        if env_str("REDIS_URL", "")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GAOXIN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50
