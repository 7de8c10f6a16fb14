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

YEARS = (2019, 2020, 2021)


def build(db_path: Path, data_dir: Path, n: int, seed: int = 5) -> float:
    env = _env(data_dir, f"sqlite:///{db_path}")
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT
    )
    started = time.perf_counter()
    rng = random.Random(seed)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous=OFF")
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000, 200_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    runs = 1 if args.smoke else args.runs
    work = Path(tempfile.mkdtemp(prefix="gaoxin-bench-ind-"))
    for n in args.sizes:
        db = work / f"ind{n}.sqlite3"
        data_dir = work / f"data{n}"
        data_dir.mkdir()
        built = build(db, data_dir, n)
        results = []
        for _run in range(runs):
            out = subprocess.run(
                [sys.executable, __file__, "--child"],
                env=_env(data_dir, f"sqlite:///{db}"),
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(
            f"sqlite {n:,} enterprises x 36 months ({n * 36:,} monthly rows; built in "
            f"{built:.0f}s): all indicators, all breakdowns cold {med['cold']:.2f}s, warm "
            f"{med['warm'] * 1000:.0f} ms; dashboard data cold {med['dash_cold']:.2f}s, warm "
            f"{med['dash_warm'] * 1000:.1f} ms (median of {runs})"
        )
        db.unlink()
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
