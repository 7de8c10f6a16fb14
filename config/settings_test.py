"""Test overrides: fast hashing, in-memory cache, no manifest for static files."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("GAOXIN_DEBUG", "false")
os.environ.setdefault("GAOXIN_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")

from config.settings import *  # noqa: E402,F403
from config.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_CODE = "zh-hans"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not SQLite's shared in-memory database: the concurrency tests run eight threads
    # on eight connections, which only a file (WAL, IMMEDIATE transactions) serialises the way
    # production does. Shared-cache memory databases fail them with "table is locked".
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"gaoxin-test-{os.getpid()}.sqlite3")
    }

# Uploaded attachments and matching snapshots written by tests go to a throwaway directory.
MEDIA_ROOT = Path(tempfile.gettempdir()) / f"gaoxin-test-media-{os.getpid()}"
