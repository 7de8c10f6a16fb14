"""What every benchmark script shares: the environment of the child processes that run the
platform against a benchmark database."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def bench_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        GAOXIN_DATA_DIR=str(data_dir),
        GAOXIN_SECRET_KEY=env.get("GAOXIN_SECRET_KEY")
        or "benchmark-secret-key-not-for-production-0123",
        GAOXIN_LOG_LEVEL="WARNING",
    )
    return env


ROOT = Path(__file__).resolve().parent.parent


def migrate(env: dict[str, str]) -> None:
    """Creates the platform's tables (and its shipped reference rows) in the env's database."""
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT
    )


def migrated_sqlite(db_path: Path, data_dir: Path) -> sqlite3.Connection:
    """A migrated SQLite benchmark database, opened for fast direct writes."""
    migrate(bench_env(data_dir, f"sqlite:///{db_path}"))
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous=OFF")
    return db
