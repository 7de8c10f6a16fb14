#!/usr/bin/env python
"""Benchmark: import a generated N-row enterprise .xlsx through the same code path as the web
page and `manage.py import_enterprises` (import_job_create + import_run, validate + upsert).

    .venv/bin/python benchmarks/import_enterprises.py                 # 200,000 rows, 3 runs
    .venv/bin/python benchmarks/import_enterprises.py --rows 5000 --smoke
    .venv/bin/python benchmarks/import_enterprises.py --database-url postgres://postgres@127.0.0.1:5432/postgres

Each run happens in a fresh child process against a fresh database (a copy of a migrated SQLite
file, or a new PostgreSQL database), so its peak RSS is the import's own. Reported: the read,
validate and write phases, end-to-end rows/s (file stored, hashed, read, validated, written with
audit rows, job recorded) and peak RSS; the median of the runs. A re-import of the same file
(everything unchanged) is timed too. --smoke checks the counts, not the speed.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "曾用名",
    "成立日期",
    "注册资本(万元)",
    "行业代码",
    "战略性新兴产业类别",
    "产业链",
    "所在网格",
    "企业状态",
    "企业规模",
    "法定代表人",
    "注册地址",
    "联系人",
    "联系电话",
]
GRIDS = [(f"bench-{i:02d}", f"基准网格{i}") for i in range(1, 11)]
STATUSES = ["存续"] * 8 + ["迁出", "停业"]
SIZES = ["大型", "中型", "小型", "微型", "小型", "微型"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
WORDS = ["华创", "东城", "五菱", "柳工", "高新", "新能", "智造", "精工", "恒通", "宏达", "远景"]
TRADES = ["汽车零部件", "机械", "电子科技", "新材料", "软件", "物流", "检测", "生物科技"]
CLASS_CODES = ["3670", "3660", "3620", "3612", "3411", "3511", "3720", "3981", "6511", "7320"]


def generate(path: Path, rows: int, seed: int = 7) -> float:
    """An .xlsx like a real registry export: valid USCCs, dates as date cells, mixed values."""
    import xlsxwriter
    from stdnum.cn import uscc

    rng = random.Random(seed)
    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("企业")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADERS)
    epoch = dt.datetime(1990, 1, 1)
    for i in range(1, rows + 1):
        prefix = f"91450211{i:09d}"
        name = f"柳州{rng.choice(WORDS)}{rng.choice(TRADES)}{i}号有限公司"
        sheet.write_string(i, 0, name)
        sheet.write_string(i, 1, prefix + uscc.calc_check_digit(prefix))
        if i % 10 == 0:
            sheet.write_string(i, 2, f"柳州{rng.choice(WORDS)}{i}厂；柳州旧名{i}")
        sheet.write_datetime(i, 3, epoch + dt.timedelta(days=rng.randrange(12_000)), date_format)
        sheet.write_number(i, 4, rng.randrange(10, 500_000) / 10)
        sheet.write_string(i, 5, rng.choice(CLASS_CODES))
        if i % 3 == 0:
            sheet.write_string(i, 6, str(rng.randrange(1, 10)))
        if i % 4 == 0:
            sheet.write_string(i, 7, rng.choice(["汽车零部件", "机械装备", "新能源汽车"]))
        sheet.write_string(i, 8, rng.choice(GRIDS)[1])
        sheet.write_string(i, 9, rng.choice(STATUSES))
        sheet.write_string(i, 10, rng.choice(SIZES))
        sheet.write_string(i, 11, rng.choice(SURNAMES) + rng.choice("伟芳娜敏静丽强磊军洋"))
        sheet.write_string(i, 12, f"柳州市柳东新区{rng.choice(WORDS)}路{rng.randrange(1, 999)}号")
        sheet.write_string(i, 13, rng.choice(SURNAMES) + "经理")
        sheet.write_string(i, 14, f"1{rng.randrange(3, 9)}{rng.randrange(10**8, 10**9)}")
    book.close()
    return time.perf_counter() - started


def prepare_sqlite(template: Path, data_dir: Path) -> None:
    """Migrate once into a template file; each run copies it."""
    env = _env(data_dir, f"sqlite:///{template}")
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT
    )
    _seed_reference(env)


def _seed_reference(env: dict[str, str]) -> None:
    code = (
        "import django; django.setup()\n"
        "from gaoxin.registry.models import Grid\n"
        f"for code, name in {GRIDS!r}:\n"
        "    Grid.objects.get_or_create(code=code, defaults={'name': name, 'street': '柳东'})\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)


def child(args: argparse.Namespace) -> None:
    """One measured run (inside a fresh process): import, then re-import the same file."""
    import resource

    import django

    django.setup()
    from gaoxin.core.imports import import_job_create, import_run
    from gaoxin.registry.importers import ENTERPRISE_IMPORTER

    def once() -> dict[str, object]:
        started = time.perf_counter()
        job = import_job_create(
            kind=ENTERPRISE_IMPORTER.kind,
            source=Path(args.file),
            file_name="bench.xlsx",
            acting_user=None,
        )
        outcome = import_run(job=job, importer=ENTERPRISE_IMPORTER, acting_user=None, dry_run=False)
        total = time.perf_counter() - started
        return {
            "status": outcome.status,
            "message": outcome.message,
            "counts": [outcome.created, outcome.updated, outcome.unchanged, outcome.rejected],
            "seconds": total,
            "phases": outcome.timings,
        }

    first = once()
    first_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    second = once()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"first": first, "second": second, "peak_mib": first_peak, "peak_both": peak}))


def run_once(file: Path, env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--file", str(file)],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pg_database(url: str, name: str, *, drop: bool = False) -> str:
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="one run, check counts, not speed")
    parser.add_argument("--database-url", help="also run on this PostgreSQL server")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    runs = 1 if args.smoke else args.runs
    work = Path(tempfile.mkdtemp(prefix="gaoxin-bench-"))
    try:
        xlsx = work / "enterprises.xlsx"
        gen_seconds = generate(xlsx, args.rows)
        print(
            f"generated {args.rows:,} rows in {gen_seconds:.1f}s "
            f"({xlsx.stat().st_size / 1e6:.1f} MB)"
        )
        targets = [("sqlite", None)]
        if args.database_url:
            targets.append(("postgresql", args.database_url))
        failed = False
        for engine, url in targets:
            results = []
            for run in range(runs):
                data_dir = work / f"data-{engine}-{run}"
                data_dir.mkdir()
                if engine == "sqlite":
                    template = work / "template.sqlite3"
                    if not template.exists():
                        prepare_sqlite(template, work / "data-template")
                    db = work / f"run{run}.sqlite3"
                    shutil.copyfile(template, db)
                    env = _env(data_dir, f"sqlite:///{db}")
                else:
                    assert url is not None
                    db_url = _pg_database(url, f"gaoxin_bench_{os.getpid()}")
                    env = _env(data_dir, db_url)
                    subprocess.run(
                        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
                        env=env,
                        check=True,
                        cwd=ROOT,
                    )
                    _seed_reference(env)
                result = run_once(xlsx, env)
                if engine == "postgresql":
                    _pg_database(url, f"gaoxin_bench_{os.getpid()}", drop=True)
                results.append(result)
                first = result["first"]
                phases = first["phases"]
                print(
                    f"{engine} run {run + 1}: {first['status']} counts={first['counts']} "
                    f"{first['seconds']:.2f}s = {args.rows / first['seconds']:,.0f} rows/s "
                    f"(read {phases.get('read', 0):.2f}s, "
                    f"validate {phases.get('validate', 0):.2f}s, "
                    f"write {phases.get('write', 0):.2f}s); re-import "
                    f"{result['second']['seconds']:.2f}s counts={result['second']['counts']}; "
                    f"peak RSS {result['peak_mib']:.0f} MiB "
                    f"({result['peak_both']:.0f} MiB including the re-import)"
                )
                if first["counts"] != [args.rows, 0, 0, 0] or result["second"]["counts"] != [
                    0,
                    0,
                    args.rows,
                    0,
                ]:
                    print(f"unexpected outcome: {first['message']}", file=sys.stderr)
                    failed = True
            secs = statistics.median(r["first"]["seconds"] for r in results)
            phase = {
                k: statistics.median(r["first"]["phases"].get(k, 0) for r in results)
                for k in ("read", "validate", "write")
            }
            again = statistics.median(r["second"]["seconds"] for r in results)
            peak = statistics.median(r["peak_mib"] for r in results)
            peak_both = statistics.median(r["peak_both"] for r in results)
            version = sqlite3.sqlite_version if engine == "sqlite" else "server"
            print(
                f"MEDIAN {engine} ({version}) rows={args.rows:,} runs={runs}: "
                f"{secs:.2f}s end to end = {args.rows / secs:,.0f} rows/s; "
                f"read {phase['read']:.2f}s validate {phase['validate']:.2f}s "
                f"write {phase['write']:.2f}s; re-import {again:.2f}s; peak RSS {peak:.0f} MiB "
                f"(import), {peak_both:.0f} MiB (import + re-import in one process)"
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
