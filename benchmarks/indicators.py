#!/usr/bin/env python
"""Benchmark: every shipped indicator for one year with all its breakdowns, cold (nothing
cached), over N enterprises x 36 months of accepted monthly reports; then warm; then the
dashboard data. Three sizes show how the cost grows.

    .venv/bin/python benchmarks/indicators.py                       # 2k, 20k, 200k enterprises
    .venv/bin/python benchmarks/indicators.py --sizes 2000 --smoke  # CI

Data are written straight into a fresh SQLite database (enterprises, official above-scale lists
for a quarter of them, three years of monthly facts and annual science facts), then the engine
runs in a child process. Medians of --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import bench_env as _env  # noqa: E402
from benchmarks._common import migrate, migrated_sqlite  # noqa: E402

YEARS = (2019, 2020, 2021)


def build(db_path: Path, data_dir: Path, n: int, seed: int = 5) -> float:
    db = migrated_sqlite(db_path, data_dir)
    started = time.perf_counter()
    rng = random.Random(seed)
    industry = db.execute("SELECT id FROM registry_industrycategory WHERE code='3670'").fetchone()[
        0
    ]
    chains = [r[0] for r in db.execute("SELECT id FROM registry_industrychain")]
    seis = [r[0] for r in db.execute("SELECT id FROM registry_emergingcategory")]
    now = "2026-01-01 00:00:00"
    db.executemany(
        "INSERT INTO registry_enterprise (id, uscc, name, former_names, name_initials,"
        " legal_representative, address, industry_id, chain_id, sei_category_id, sei_status,"
        " chain_position, status, size, is_non_public, contact_name, contact_phone, description,"
        " created_at, updated_at) VALUES (?, ?, ?, '', '', '', '', ?, ?, ?, ?, '', 'operating',"
        " '', 1, '', '', '', ?, ?)",
        [
            (
                i,
                f"BENCH{i:013d}",
                f"基准企业{i}",
                industry,
                rng.choice(chains) if rng.random() < 0.7 else None,
                rng.choice(seis) if rng.random() < 0.4 else None,
                "confirmed",
                now,
                now,
            )
            for i in range(1, n + 1)
        ],
    )
    listed = [i for i in range(1, n + 1) if i % 4 == 0]
    db.executemany(
        "INSERT INTO registry_qualification (enterprise_id, kind, subtype, level, certificate_no,"
        " recognised_on, valid_until, notes) VALUES (?, 'above_scale', '', '', '', ?, ?, '')",
        [(i, f"{y}-01-01", f"{y}-12-31") for y in YEARS for i in listed],
    )
    db.executemany(
        "INSERT INTO registry_qualification (enterprise_id, kind, subtype, level, certificate_no,"
        " recognised_on, valid_until, notes)"
        " VALUES (?, 'high_tech', '', '', '', '2019-06-01', '2022-05-31', '')",
        [(i,) for i in listed[::3]],
    )
    # Reports are not needed by the engine (it reads facts); one report row per fact row is.
    form_id = db.execute(
        "SELECT id FROM reports_reportform WHERE code='industry_monthly'"
    ).fetchone()[0]
    annual_id = db.execute("SELECT id FROM reports_reportform WHERE code='sci_annual'").fetchone()[
        0
    ]
    period_ids = {}
    for y in YEARS:
        for m in range(1, 13):
            cur = db.execute(
                "INSERT INTO reports_reportperiod (form_code, year, month, due_on)"
                " VALUES ('industry_monthly', ?, ?, '2030-01-01')",
                (y, m),
            )
            period_ids[(y, m)] = cur.lastrowid
        cur = db.execute(
            "INSERT INTO reports_reportperiod (form_code, year, month, due_on)"
            " VALUES ('sci_annual', ?, NULL, '2030-01-01')",
            (y,),
        )
        period_ids[(y, None)] = cur.lastrowid
    report_id = 0
    for y in YEARS:
        for m in list(range(1, 13)) + [None]:
            reports = []
            facts = []
            for i in range(1, n + 1):
                report_id += 1
                base = (i % 97 + 1) * 1e5
                out = base * rng.uniform(0.8, 1.3)
                reports.append(
                    (report_id, i, period_ids[(y, m)], annual_id if m is None else form_id, now)
                )
                if m is None:
                    facts.append(
                        (
                            report_id,
                            i,
                            "sci_annual",
                            y,
                            None,
                            "revised",
                            1,
                            None,
                            None,
                            round(out * 12, 2),
                            round(out * 11, 2),
                            round(out * 0.3, 2),
                            None,
                            None,
                            None,
                            1 if i % 5 == 0 else 0,
                        )
                    )
                else:
                    facts.append(
                        (
                            report_id,
                            i,
                            "industry_monthly",
                            y,
                            m,
                            "revised",
                            1,
                            round(out, 2),
                            None,
                            round(out * 0.95, 2),
                            None,
                            None,
                            100,
                            None,
                            None,
                            None,
                        )
                    )
            db.executemany(
                "INSERT INTO reports_report (id, enterprise_id, period_id, form_id, status,"
                ' "values", findings, explanation, return_reason, correction_reason, revision,'
                " updated_at)"
                " VALUES (?, ?, ?, ?, 'accepted', '{}', '[]', '', '', '', 1, ?)",
                reports,
            )
            db.executemany(
                "INSERT INTO reports_reportfact (report_id, enterprise_id, form_code, year, month,"
                " basis, revision, gross_output, gross_output_ytd, revenue, main_revenue,"
                " rd_spend, employees, profit, tax, has_rd_institution)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                facts,
            )
    # The yearly roll-up the platform keeps with the facts (gaoxin.reports.rollups).
    db.execute(
        "INSERT INTO reports_reportfactyear (enterprise_id, form_code, year, basis, months,"
        " gross_output, revenue) SELECT enterprise_id, form_code, year, basis, COUNT(*),"
        " SUM(gross_output), SUM(revenue) FROM reports_reportfact WHERE month IS NOT NULL"
        " GROUP BY enterprise_id, form_code, year, basis"
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


CLONED = (
    "registry_enterprise",
    "registry_qualification",
    "reports_reportperiod",
    "reports_report",
    "reports_reportfact",
    "reports_reportfactyear",
)


def clone_to_postgresql(db_path: Path, data_dir: Path, url: str) -> float:
    """The same zone in a fresh PostgreSQL database: migrated by the platform, then the rows of
    the benchmark's tables copied over with COPY (reference tables come from the migrations in
    both, with the same ids)."""
    import psycopg

    migrate(_env(data_dir, url))
    started = time.perf_counter()
    source = sqlite3.connect(db_path)
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        # The rows come from a consistent database: foreign keys are not re-checked row by row
        # at commit (Django makes them deferred), which takes longer than the copy.
        conn.execute("SET session_replication_role = replica")
        for table in CLONED:
            columns = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
            names = ", ".join(f'"{c}"' for c in columns)
            select = f"SELECT {names} FROM {table}"  # noqa: S608 - our own table names
            statement = f"COPY {table} ({names}) FROM STDIN" + (
                " (FORMAT csv)" if shutil.which("sqlite3") else ""
            )
            with conn.cursor().copy(statement) as copy:
                if shutil.which("sqlite3"):  # the CLI writes CSV at C speed
                    with subprocess.Popen(
                        ["sqlite3", "-csv", str(db_path), select], stdout=subprocess.PIPE
                    ) as dump:
                        assert dump.stdout is not None
                        while chunk := dump.stdout.read(1 << 20):
                            copy.write(chunk)
                else:
                    for row in source.execute(select):
                        copy.write_row(row)
            reset = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: E501, S608 - our own table names
            conn.execute(reset)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _pg_database(url: str, name: str, *, drop: bool = False, keep: bool = False) -> str:
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if keep and exists and not drop:
            return f"{base}/{name}"
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def child(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection

    from gaoxin.indicators.engine import Scope, all_indicators, summary
    from gaoxin.indicators.selectors import dashboard

    def every_indicator() -> float:
        started = time.perf_counter()
        for ind in all_indicators():
            summary(ind.code, Scope(2021))
        return time.perf_counter() - started

    all_indicators()
    with connection.cursor() as cur:  # the first query opens the file; not the engine's cost
        cur.execute("SELECT 1")
    cache.clear()
    cold = every_indicator()
    warm = every_indicator()
    cache.clear()
    started = time.perf_counter()
    dashboard(2021)
    dash_cold = time.perf_counter() - started
    started = time.perf_counter()
    dashboard(2021)
    dash_warm = time.perf_counter() - started
    print(json.dumps({"cold": cold, "warm": warm, "dash_cold": dash_cold, "dash_warm": dash_warm}))


def _has_data(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
            row = conn.execute("SELECT COUNT(*) FROM reports_reportfactyear").fetchone()
            return bool(row and row[0])
    except psycopg.Error:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000, 200_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--keep", type=Path, help="keep the built databases in this folder and reuse them"
    )
    parser.add_argument("--database-url", help="also run on this PostgreSQL server")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    runs = 1 if args.smoke else args.runs
    work = args.keep or Path(tempfile.mkdtemp(prefix="gaoxin-bench-ind-"))
    work.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        db = work / f"ind{n}.sqlite3"
        data_dir = work / f"data{n}"
        data_dir.mkdir(exist_ok=True)
        built = 0.0
        if not (args.keep and db.exists()):
            db.unlink(missing_ok=True)
            built = build(db, data_dir, n)
        targets = [("sqlite", f"sqlite:///{db}", built)]
        if args.database_url:
            name = f"gaoxin_bench_ind_{n}"
            pg_url = _pg_database(args.database_url, name, keep=bool(args.keep))
            cloned = 0.0
            if not args.keep or not _has_data(pg_url):
                pg_url = _pg_database(args.database_url, name)
                cloned = clone_to_postgresql(db, data_dir, pg_url)
            targets.append(("postgresql", pg_url, cloned))
        for engine, url, prepared in targets:
            results = []
            for _run in range(runs):
                out = subprocess.run(
                    [sys.executable, __file__, "--child"],
                    env=_env(data_dir, url),
                    check=True,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                )
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            print(
                f"{engine} {n:,} enterprises x 36 months ({n * 36:,} monthly rows; prepared in "
                f"{prepared:.0f}s): all indicators, all breakdowns cold {med['cold']:.2f}s, warm "
                f"{med['warm'] * 1000:.0f} ms; dashboard data cold {med['dash_cold']:.2f}s, warm "
                f"{med['dash_warm'] * 1000:.1f} ms (median of {runs})"
            )
            if engine == "postgresql" and not args.keep:
                _pg_database(args.database_url, f"gaoxin_bench_ind_{n}", drop=True)
        if not args.keep:
            db.unlink()
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
