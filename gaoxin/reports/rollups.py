"""Keeps ReportFactYear (yearly sums of monthly facts) in step with ReportFact. Called in the
same transaction as the fact writes: the service on acceptance, the bulk import, the demo."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from gaoxin.reports.models import YEAR_MEASURES, ReportFact, ReportFactYear

CHUNK = 500  # enterprise ids per statement; more than this and the whole year is rewritten


def refresh(form_code: str, year: int, enterprise_ids: Iterable[int] | None = None) -> None:
    """Rewrites the yearly rows of `year` for these enterprises (all when None)."""
    ids = sorted(set(enterprise_ids)) if enterprise_ids is not None else None
    if ids is not None and len(ids) > CHUNK * 20:
        ids = None
    qn = connection.ops.quote_name
    facts, years = qn(ReportFact._meta.db_table), qn(ReportFactYear._meta.db_table)
    sums = ", ".join(f"SUM({qn(c)})" for c in YEAR_MEASURES)
    cols = ", ".join(qn(c) for c in YEAR_MEASURES)
    chunks: list[list[int] | None] = (
        [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)] if ids is not None else [None]
    )
    with connection.cursor() as cur:
        for part in chunks:
            where = "form_code = %s AND year = %s"
            params: list[int | str] = [form_code, year]
            if part is not None:
                if not part:
                    continue
                where += f" AND enterprise_id IN ({', '.join(['%s'] * len(part))})"
                params += part
            cur.execute(f"DELETE FROM {years} WHERE {where}", params)  # noqa: S608
            cur.execute(
                f"INSERT INTO {years} (enterprise_id, form_code, year, basis, months, {cols})"  # noqa: S608
                f" SELECT enterprise_id, form_code, year, basis, COUNT(*), {sums} FROM {facts}"
                f" WHERE month IS NOT NULL AND {where}"
                " GROUP BY enterprise_id, form_code, year, basis",
                params,
            )
