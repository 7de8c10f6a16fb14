#!/usr/bin/env python
"""Benchmark: import a generated monthly-report .xlsx (one row per enterprise and month, the
seven fields of the monthly industrial form) through the same code path as
`manage.py import_reports` (import_job_create + import_run), then import it again.

    .venv/bin/python benchmarks/import_reports.py                      # 500,000 rows, 3 runs
    .venv/bin/python benchmarks/import_reports.py --rows 5000 --smoke  # CI

Each run is a fresh child process on a fresh copy of a prepared SQLite database holding the
enterprises the rows name. Reported: phases, rows/s end to end, peak RSS; medians.
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

MONTHS = 10
HEADERS = [
    "统一社会信用代码",
    "报告期",
    "工业总产值(当年价格)(万元)",
    "主营业务收入(万元)",
    "利润总额(万元)",
    "应交税金(万元)",
    "从业人员期末人数(人)",
    "出口交货值(万元)",
    "新产品产值(万元)",
]


def usccs(n: int) -> list[str]:
    from stdnum.cn import uscc

    out = []
    for i in range(1, n + 1):
        prefix = f"91450211{i:09d}"
        out.append(prefix + uscc.calc_check_digit(prefix))
    return out


def generate(path: Path, codes: list[str], seed: int = 11) -> float:
    import xlsxwriter

    rng = random.Random(seed)
    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("月报")
    sheet.write_row(0, 0, HEADERS)
    r = 1
    for code in codes:
        base = rng.uniform(50, 5000)
        for month in range(1, MONTHS + 1):
            output = round(base * rng.uniform(0.8, 1.2), 1)
            sheet.write_string(r, 0, code)
            sheet.write_string(r, 1, f"2022-{month:02d}")
            sheet.write_number(r, 2, output)
            sheet.write_number(r, 3, round(output * 0.95, 1))
            sheet.write_number(r, 4, round(output * rng.uniform(-0.02, 0.08), 1))
            sheet.write_number(r, 5, round(output * 0.03, 1))
            sheet.write_number(r, 6, rng.randrange(20, 2000))
            sheet.write_number(r, 7, round(output * 0.1, 1))
            sheet.write_number(r, 8, round(output * 0.2, 1))
            r += 1
    book.close()
    return time.perf_counter() - started


def prepare(template: Path, data_dir: Path, codes: list[str]) -> None:
    env = _env(data_dir, f"sqlite:///{template}")
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT
    )
    db = sqlite3.connect(template)
    now = "2026-01-01 00:00:00"
    db.executemany(
        "INSERT INTO registry_enterprise (uscc, name, former_names, name_initials,"
        " legal_representative, address, sei_status, chain_position, status, size,"
        " is_non_public, contact_name, contact_phone, description, created_at, updated_at)"
        " VALUES (?, ?, '', '', '', '', '', '', 'operating', '', 1, '', '', '', ?, ?)",
        [(c, f"基准企业{i}", now, now) for i, c in enumerate(codes)],
    )
    db.commit()
    db.close()


def child(args: argparse.Namespace) -> None:
    import resource

    import django

    django.setup()
    from gaoxin.core.imports import import_job_create, import_run
    from gaoxin.reports.catalogue import INDUSTRY_MONTHLY
    from gaoxin.reports.importers import current_form, report_importer

    importer = report_importer(current_form(INDUSTRY_MONTHLY))

    def once() -> dict[str, object]:
        started = time.perf_counter()
        job = import_job_create(
            kind=importer.kind, source=Path(args.file), file_name="r.xlsx", acting_user=None
        )
        outcome = import_run(job=job, importer=importer, acting_user=None, dry_run=False)
        return {
            "status": outcome.status,
            "message": outcome.message,
            "counts": [outcome.created, outcome.updated, outcome.unchanged, outcome.rejected],
            "seconds": time.perf_counter() - started,
            "phases": outcome.timings,
        }

    first = once()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    second = once()
    print(json.dumps({"first": first, "second": second, "peak_mib": peak}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    runs = 1 if args.smoke else args.runs
    work = Path(tempfile.mkdtemp(prefix="gaoxin-bench-reports-"))
    try:
        codes = usccs(max(1, args.rows // MONTHS))
        rows = len(codes) * MONTHS
        xlsx = work / "reports.xlsx"
        print(f"generated {rows:,} rows in {generate(xlsx, codes):.1f}s")
        template = work / "template.sqlite3"
        prepare(template, work / "data-template", codes)
        results = []
        failed = False
        for run in range(runs):
            db = work / f"run{run}.sqlite3"
            shutil.copyfile(template, db)
            data_dir = work / f"data{run}"
            data_dir.mkdir()
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--file", str(xlsx)],
                env=_env(data_dir, f"sqlite:///{db}"),
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(result)
            first, phases = result["first"], result["first"]["phases"]
            print(
                f"sqlite run {run + 1}: {first['status']} counts={first['counts']} "
                f"{first['seconds']:.2f}s = {rows / first['seconds']:,.0f} rows/s (read "
                f"{phases.get('read', 0):.2f}s, validate {phases.get('validate', 0):.2f}s, write "
                f"{phases.get('write', 0):.2f}s); re-import {result['second']['seconds']:.2f}s "
                f"counts={result['second']['counts']}; peak RSS {result['peak_mib']:.0f} MiB"
            )
            if first["counts"] != [rows, 0, 0, 0] or result["second"]["counts"] != [0, 0, rows, 0]:
                print(f"unexpected outcome: {first['message']}", file=sys.stderr)
                failed = True
        secs = statistics.median(r["first"]["seconds"] for r in results)
        print(
            f"MEDIAN sqlite rows={rows:,} runs={runs}: {secs:.2f}s = {rows / secs:,.0f} rows/s; "
            f"re-import {statistics.median(r['second']['seconds'] for r in results):.2f}s; "
            f"peak RSS {statistics.median(r['peak_mib'] for r in results):.0f} MiB"
        )
        print(
            f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}"
        )
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
