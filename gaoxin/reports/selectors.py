"""Reads for statistical reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from gaoxin.registry.models import Enterprise
from gaoxin.reports.models import (
    Report,
    ReportField,
    ReportForm,
    ReportPeriod,
    ReportRevision,
    ReportStatus,
)


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


# --- Pages and API: what each period's report looks like to the enterprise and to staff -------

LATE_STATUSES = frozenset(
    {ReportStatus.NOT_SUBMITTED, ReportStatus.DRAFT, ReportStatus.RETURNED}
)  # not yet in the zone's hands


def is_late(period: ReportPeriod, status: str, revision: int, today: dt.date) -> bool:
    """Past the due date and never handed in. A report reopened for a correction (it has an
    accepted revision) was on time when it counted, so it is not late."""
    return period.due_on < today and status in LATE_STATUSES and not revision


def form_names() -> dict[str, str]:
    """Form code -> the name of its newest version, in code order."""
    names: dict[str, str] = {}
    for code, name in ReportForm.objects.order_by("code", "-version").values_list("code", "name"):
        names.setdefault(code, name)
    return names


def periods_of(form_code: str) -> QuerySet[ReportPeriod]:
    return ReportPeriod.objects.filter(form_code=form_code).order_by(
        "-year", F("month").desc(nulls_last=True)
    )


@dataclass
class PeriodRow:
    """One period of one form as the enterprise sees it; `report` is None until first saved."""

    period: ReportPeriod
    report: Report | None
    status: str
    late: bool

    @property
    def status_label(self) -> str:
        return str(ReportStatus(self.status).label)


def enterprise_periods(enterprise_id: int, today: dt.date) -> dict[str, list[PeriodRow]]:
    """Every period of every form (newest first) with the enterprise's report status. Two
    queries, however many periods."""
    mine = {
        r.period_id: r
        for r in Report.objects.filter(enterprise_id=enterprise_id).only(
            "id", "period_id", "status", "revision", "submitted_at"
        )
    }
    out: dict[str, list[PeriodRow]] = {}
    periods = ReportPeriod.objects.order_by("form_code", "-year", F("month").desc(nulls_last=True))
    for period in periods:
        report = mine.get(period.pk)
        status = report.status if report else ReportStatus.NOT_SUBMITTED
        late = is_late(period, status, report.revision if report else 0, today)
        out.setdefault(period.form_code, []).append(PeriodRow(period, report, status, late))
    return out


def default_period(periods: list[ReportPeriod], today: dt.date) -> ReportPeriod | None:
    """The period staff are chasing: the next one falling due, else the newest."""
    upcoming = [p for p in periods if p.due_on >= today]
    if upcoming:
        return min(upcoming, key=lambda p: p.due_on)
    return periods[0] if periods else None


def worklist(period: ReportPeriod) -> QuerySet[Enterprise]:
    """Enterprises that must report for `period`, each with its report's status for it.

    For now "must report" means: operating enterprises that have reported this form in any
    period, plus whoever has a report for this period. One query with one LEFT JOIN (an
    enterprise has at most one report per period), so the page costs the same at any size."""
    has_form = Report.objects.filter(period__form_code=period.form_code).values("enterprise_id")
    has_period = Report.objects.filter(period=period).values("enterprise_id")
    return (
        Enterprise.objects.filter(
            Q(status=Enterprise.Status.OPERATING, pk__in=has_form) | Q(pk__in=has_period)
        )
        .annotate(this_report=FilteredRelation("reports", condition=Q(reports__period=period)))
        .annotate(
            report_id=F("this_report__id"),
            report_status=Coalesce(
                F("this_report__status"), Value(ReportStatus.NOT_SUBMITTED.value)
            ),
            report_revision=Coalesce(F("this_report__revision"), Value(0)),
            report_submitted_at=F("this_report__submitted_at"),
        )
        .order_by("name", "pk")
    )


def _late_q(period: ReportPeriod, today: dt.date) -> Q:
    if period.due_on >= today:
        return Q(pk__in=[])
    return Q(report_status__in=list(LATE_STATUSES), report_revision=0)


def worklist_filter(
    qs: QuerySet[Enterprise], period: ReportPeriod, status: str, today: dt.date
) -> QuerySet[Enterprise]:
    """`status` is a ReportStatus value, "late", or "" for everyone."""
    if status == "late":
        return qs.filter(_late_q(period, today))
    if status in ReportStatus.values:
        # report_status is annotated by worklist_enterprises; the stubs cannot know it.
        return qs.filter(report_status=status)  # type: ignore[misc]
    return qs


def worklist_counts(
    qs: QuerySet[Enterprise], period: ReportPeriod, today: dt.date
) -> dict[str, int]:
    """How many enterprises are in each status, plus "late" and "total": one aggregate query."""
    aggregates = {s: Count("pk", filter=Q(report_status=s)) for s in ReportStatus.values}
    aggregates["late"] = Count("pk", filter=_late_q(period, today))
    aggregates["total"] = Count("pk")
    return qs.order_by().aggregate(**aggregates)


def in_form_units(fields: Iterable[ReportField], values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values (元 for money) in the units the form shows, keyed by field key, in the
    form's field order; fields without a value are left out. For a report's working copy, a
    revision or last year's figures alike."""
    out: dict[str, Any] = {}
    for f in fields:
        value = values.get(f.key)
        if value is None:
            continue
        if f.is_number and not isinstance(value, bool):
            out[f.key] = (Decimal(str(value)) / f.factor).normalize()
        else:
            out[f.key] = value
    return out


def revisions_of(report: Report) -> QuerySet[ReportRevision]:
    return report.revisions.select_related("accepted_by").order_by("-number")
