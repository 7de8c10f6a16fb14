"""Reads for statistical reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gaoxin.reports.models import Report, ReportRevision


@dataclass
class History:
    """Accepted values (latest revision) to compare a report with."""

    last_period: dict[str, Any] = field(default_factory=dict)
    last_year: dict[str, Any] = field(default_factory=dict)
    # The previous period falls in the same year (year-to-date values continue from it).
    last_period_same_year: bool = False


def _accepted_values(
    enterprise_id: int, form_code: str, year: int, month: int | None
) -> dict[str, Any]:
    revision = (
        ReportRevision.objects.filter(
            report__enterprise_id=enterprise_id,
            report__period__form_code=form_code,
            report__period__year=year,
            report__period__month=month,
        )
        .order_by("-number")
        .only("values")
        .first()
    )
    return dict(revision.values) if revision else {}


def history_for(report: Report) -> History:
    period = report.period
    code = period.form_code
    if period.month:
        prev_year, prev_month = (
            (period.year, period.month - 1) if period.month > 1 else (period.year - 1, 12)
        )
        return History(
            last_period=_accepted_values(report.enterprise_id, code, prev_year, prev_month),
            last_year=_accepted_values(report.enterprise_id, code, period.year - 1, period.month),
            last_period_same_year=period.month > 1,
        )
    previous = _accepted_values(report.enterprise_id, code, period.year - 1, None)
    return History(last_period=previous, last_year=previous)
