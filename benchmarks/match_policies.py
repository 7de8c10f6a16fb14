#!/usr/bin/env python
"""Benchmark: proactive matching (免申即享) of every enterprise against every shipped measure,
from data already in the database: the facts for a year assembled from the records
(`policies.facts.enterprise_facts`), then each measure's rule evaluated over all of them at once
(`Rule.decide_all`). Then the same decisions one enterprise at a time for a sample, which must
agree. Then the recorded run as staff start it (`services.match_run`: the facts, a Parquet
snapshot with its hash, every published measure's stored rule version, and every match written
with the facts it used), and its verification from the snapshot.

    .venv/bin/python benchmarks/match_policies.py                        # 1,000,000 enterprises
    .venv/bin/python benchmarks/match_policies.py --keep /tmp/bm          # keep and reuse the db
    .venv/bin/python benchmarks/match_policies.py --size 20000 --smoke    # CI

The SQLite database is written directly: N enterprises (a third in industrial sections, half
in a zone chain), official above-scale lists for 2020 and 2021 (a tenth, overlapping), high-tech
recognitions (a twentieth, some for the first time), annual science reports for 2020 and 2021 (a
fifth) and registered loans with interest paid in 2021 (a tenth).
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
from benchmarks._common import migrated_sqlite  # noqa: E402

YEAR = 2021


def build(db_path: Path, data_dir: Path, n: int, seed: int = 3) -> float:
    db = migrated_sqlite(db_path, data_dir)
    started = time.perf_counter()
    rng = random.Random(seed)
    manufacturing = db.execute(
        "SELECT id FROM registry_industrycategory WHERE code='3670'"
    ).fetchone()[0]
    software = db.execute("SELECT id FROM registry_industrycategory WHERE code='6511'").fetchone()[
        0
    ]
    chains = [r[0] for r in db.execute("SELECT id FROM registry_industrychain")]
    now = "2026-01-01 00:00:00"
    db.executemany(
        "INSERT INTO registry_enterprise (id, uscc, name, former_names, name_initials,"
        " legal_representative, address, industry_id, chain_id, sei_status, chain_position,"
        " status, size, is_non_public, contact_name, contact_phone, description, created_at,"
        " updated_at) VALUES (?, ?, ?, '', '', '', '', ?, ?, '', '', 'operating', '', 1, '', '',"
        " '', ?, ?)",
        (
            (
                i,
                f"BENCH{i:013d}",
                f"基准企业{i}",
                manufacturing if i % 3 == 0 else software,
                rng.choice(chains) if i % 2 == 0 else None,
                now,
                now,
            )
            for i in range(1, n + 1)
        ),
    )
    qualifications = []
    for i in range(1, n + 1):
        if i % 10 == 0:
            for year in (YEAR - 1, YEAR) if i % 20 == 0 else (YEAR,):
                qualifications.append((i, "above_scale", f"{year}-01-01", f"{year}-12-31"))
        if i % 20 == 0:
            qualifications.append((i, "high_tech", f"{YEAR}-10-01", f"{YEAR + 3}-09-30"))
            if i % 40 == 0:
                qualifications.append((i, "high_tech", f"{YEAR - 3}-10-01", f"{YEAR}-09-30"))
    db.executemany(
        "INSERT INTO registry_qualification (enterprise_id, kind, subtype, level,"
        " certificate_no, recognised_on, valid_until, notes) VALUES (?, ?, '', '', '', ?, ?, '')",
        qualifications,
    )
    form_id = db.execute("SELECT id FROM reports_reportform WHERE code='sci_annual'").fetchone()[0]
    report_id = 0
    for year in (YEAR - 1, YEAR):
        period = db.execute(
            "INSERT INTO reports_reportperiod (form_code, year, month, due_on)"
            " VALUES ('sci_annual', ?, NULL, '2030-01-01')",
            (year,),
        ).lastrowid
        reports, facts = [], []
        for i in range(5, n + 1, 5):
            report_id += 1
            revenue = (i % 97 + 1) * 1_000_000
            rd = revenue * rng.uniform(0.01, 0.06) * (1.1 if year == YEAR else 1.0)
            reports.append((report_id, i, period, form_id, now))
            facts.append((report_id, i, year, round(rd, 2), revenue, revenue))
        db.executemany(
            "INSERT INTO reports_report (id, enterprise_id, period_id, form_id, status,"
            ' "values", findings, explanation, return_reason, correction_reason, revision,'
            " updated_at) VALUES (?, ?, ?, ?, 'accepted', '{}', '[]', '', '', '', 1, ?)",
            reports,
        )
        db.executemany(
            "INSERT INTO reports_reportfact (report_id, enterprise_id, form_code, year, month,"
            " basis, revision, rd_spend, revenue, main_revenue)"
            " VALUES (?, ?, 'sci_annual', ?, NULL, 'revised', 1, ?, ?, ?)",
            facts,
        )
    loans, payments = [], []
    for loan_id, i in enumerate(range(10, n + 1, 10), start=1):
        loans.append((loan_id, i, "柳州银行", f"LZ-{i}", 10_000_000_00, 435, now))
        for month in (6, 12):
            payments.append((loan_id, f"{YEAR}-{month:02d}-20", rng.randrange(1, 50) * 1_000_000))
    db.executemany(
        "INSERT INTO policies_loan (id, enterprise_id, bank, contract_no, principal_fen,"
        " annual_rate_bp, start_on, end_on, notes, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, '2020-01-01', '2023-01-01', '', ?)",
        loans,
    )
    db.executemany(
        "INSERT INTO policies_interestpayment (loan_id, paid_on, amount_fen) VALUES (?, ?, ?)",
        payments,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


def child(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db import connection

    from gaoxin.policies.facts import enterprise_facts
    from gaoxin.policies.measures import SHIPPED

    with connection.cursor() as cur:  # opening the file is not the matching's cost
        cur.execute("SELECT 1")
    started = time.perf_counter()
    frame = enterprise_facts(YEAR)
    facts_seconds = time.perf_counter() - started
    matches, total = 0, 0
    decided = {}
    for code, spec in SHIPPED.items():
        result = spec.rule.decide_all(frame, spec.defaults).filter("eligible")
        decided[code] = result
        matches += result.height
        total += int(result["amount_fen"].sum() or 0)
    seconds = time.perf_counter() - started
    # The one-enterprise path on a sample: the same answers.
    sample = frame.sample(n=min(200, frame.height), seed=1).to_dicts()
    disagreements = 0
    for code, spec in SHIPPED.items():
        eligible = dict(decided[code].select("enterprise_id", "amount_fen").iter_rows())
        for row in sample:
            one = spec.rule.decide(row, spec.defaults)
            if (one.eligible, one.amount_fen) != (
                row["enterprise_id"] in eligible,
                eligible.get(row["enterprise_id"], 0),
            ):
                disagreements += 1
    recorded, verified, stored = _recorded_run()
    print(
        json.dumps(
            {
                "recorded": recorded,
                "verify": verified,
                "stored": stored,
                "measures": len(SHIPPED),
                "seconds": seconds,
                "facts": facts_seconds,
                "enterprises": frame.height,
                "matches": matches,
                "total_fen": total,
                "disagreements": disagreements,
            }
        )
    )


def _recorded_run() -> tuple[float, float, int]:
    """A published policy with every shipped measure (once per database), then one recorded
    run, timed, and its verification."""
    import datetime as dt

    from gaoxin.policies import services
    from gaoxin.policies.measures import SHIPPED
    from gaoxin.policies.models import Policy

    if not Policy.objects.filter(doc_number="BENCH-1").exists():
        policy = services.policy_create(
            data={
                "title": "benchmark",
                "issuer": "benchmark",
                "doc_number": "BENCH-1",
                "effective_from": dt.date(2020, 1, 1),
            },
            acting_user=None,
        )
        for code in SHIPPED:
            services.measure_add(policy=policy, code=code, acting_user=None)
        services.policy_set_status(policy=policy, status="published", acting_user=None)
    started = time.perf_counter()
    run = services.match_run(year=YEAR, acting_user=None)
    recorded = time.perf_counter() - started
    started = time.perf_counter()
    check = services.match_run_verify(run)
    verified = time.perf_counter() - started
    assert check.same, check
    return recorded, verified, run.results.count()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the built database here and reuse it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    runs = 1 if args.smoke else args.runs
    work = args.keep or Path(tempfile.mkdtemp(prefix="gaoxin-bench-match-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"match{args.size}.sqlite3"
    data_dir = work / f"data{args.size}"
    data_dir.mkdir(exist_ok=True)
    built = 0.0
    if not (args.keep and db.exists()):
        db.unlink(missing_ok=True)
        built = build(db, data_dir, args.size)
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
    last = results[-1]
    print(
        f"recorded run (facts, snapshot, {last['stored']:,} matches written): "
        f"{statistics.median(r['recorded'] for r in results):.2f}s; "
        f"verified from the snapshot in {statistics.median(r['verify'] for r in results):.2f}s"
    )
    print(
        f"sqlite {last['enterprises']:,} enterprises x {last['measures']} measures "
        f"(built in {built:.0f}s): "
        f"matching {statistics.median(r['seconds'] for r in results):.2f}s "
        f"(facts {statistics.median(r['facts'] for r in results):.2f}s), "
        f"matches={last['matches']:,} total_fen={last['total_fen']:,}, "
        f"one-by-one disagreements={last['disagreements']} (median of {runs})"
    )
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    if not args.keep:
        db.unlink()
    return 1 if last["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main())
