"""What every benchmark script shares: the environment of the child processes that run the
platform against a benchmark database."""

from __future__ import annotations

import os
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
