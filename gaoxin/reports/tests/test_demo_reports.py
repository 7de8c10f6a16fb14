"""The demo zone's reports: plausible, checked like real submissions, idempotent to load."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from gaoxin.core.models import AuditEntry
from gaoxin.reports.models import Report, ReportFact, ReportPeriod, ReportRevision, ReportStatus


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", "--quiet", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_demo_reports_load_once_with_a_current_period_still_being_collected():
    first = load()
    reports = Report.objects.count()
    assert f"reports +{reports} =0" in first
    assert reports > 8000
    december = Report.objects.filter(period__year=2021, period__month=12)
    statuses = set(december.values_list("status", flat=True))
    assert statuses == {
        ReportStatus.ACCEPTED,
        ReportStatus.DRAFT,
        ReportStatus.SUBMITTED,
        ReportStatus.RETURNED,
    }
    returned = december.get(status=ReportStatus.RETURNED)
    assert "请核实" in returned.return_reason
    # Five enterprises above scale in 2021 have not reported December at all: late.
    november = Report.objects.filter(period__year=2021, period__month=11).count()
    assert november - december.count() == 5
    assert ReportPeriod.objects.get(form_code="industry_monthly", year=2021, month=12)
    # Every accepted report has its revision and both fact rows; every report an audit row.
    accepted = Report.objects.filter(status=ReportStatus.ACCEPTED).count()
    assert ReportRevision.objects.count() == accepted
    assert ReportFact.objects.count() == 2 * accepted
    assert AuditEntry.objects.filter(model="reports.report").count() == reports
    # February 2020 collapsed and says why, as a real submission would have to.
    covid = Report.objects.filter(period__year=2020, period__month=2).exclude(explanation="")
    assert covid.exists()
    assert all("year_on_year" in {f["code"] for f in r.findings} for r in covid)

    again = load()
    assert f"reports +0 ={reports}" in again
    assert "(nothing changed)" in again
    assert Report.objects.count() == reports
