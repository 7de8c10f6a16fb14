"""Report values, checks and the status workflow, through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from gaoxin.core.models import AuditEntry
from gaoxin.reports import services
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY, SCI_ANNUAL
from gaoxin.reports.models import ReportForm, ReportPeriod, ReportStatus

GOOD = {
    "gross_output": "1,234.5",
    "revenue": "1200",
    "profit": "-15.5",
    "tax": "30",
    "employees": "120",
}


def period(year: int, month: int | None, code: str = INDUSTRY_MONTHLY) -> ReportPeriod:
    due = dt.date(year + (month or 12) // 12, (month or 12) % 12 + 1, 10)
    return ReportPeriod.objects.get_or_create(
        form_code=code, year=year, month=month, defaults={"due_on": due}
    )[0]


def accepted(enterprise, user, reviewer, year, month, values, code=INDUSTRY_MONTHLY):
    report = services.report_open(
        enterprise=enterprise, period=period(year, month, code), acting_user=user
    )
    services.report_submit(report=report, acting_user=user, entered=values, explanation="历史数据")
    services.report_accept(report=report, acting_user=reviewer)
    return report


def test_shipped_forms_carry_units_and_labels_users_import_by(db):
    monthly = ReportForm.objects.get(code=INDUSTRY_MONTHLY, version=1)
    labels = [f.label for f in monthly.fields.all()]
    assert labels[0] == "工业总产值(当年价格)(万元)"
    assert "从业人员期末人数(人)" in labels
    annual = ReportForm.objects.get(code=SCI_ANNUAL)
    assert annual.fields.get(key="rd_spend").label == "研发经费内部支出(千元)"


def test_values_are_stored_in_yuan_whatever_unit_the_form_shows(enterprise, ent_user):
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 3), acting_user=ent_user
    )
    services.report_save(report=report, entered={**GOOD, "tax": "３０．５"}, acting_user=ent_user)
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert report.values["gross_output"] == "12345000"  # 1,234.5 万元
    assert report.values["profit"] == "-155000"
    assert report.values["tax"] == "305000"  # full-width digits
    assert report.values["employees"] == "120"
    assert AuditEntry.objects.filter(model="reports.report", object_id=str(report.pk)).count() == 2


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"revenue": ""}, "“主营业务收入(万元)”必须填写"),
        ({"gross_output": "-1"}, "“工业总产值(当年价格)(万元)”不能为负数"),
        ({"tax": "约三十"}, "“应交税金(万元)”应填数值,“约三十”不是数值"),
        ({"employees": "12.5"}, "“从业人员期末人数(人)”应为整数"),
        ({"new_product_output": "2000"}, "“新产品产值(万元)”不能大于“工业总产值(当年价格)(万元)”"),
    ],
)
def test_hard_checks_block_submission_and_are_stored(enterprise, ent_user, change, fragment):
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 3), acting_user=ent_user
    )
    with pytest.raises(ValidationError) as caught:
        services.report_submit(
            report=report,
            acting_user=ent_user,
            entered={**GOOD, **change},
            explanation="说明也不能放行硬性错误",
        )
    assert any(fragment in m for m in caught.value.messages), caught.value.messages
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert any(f["level"] == "hard" for f in report.findings)


def test_rd_spending_above_revenue_is_a_hard_error(enterprise, ent_user):
    report = services.report_open(
        enterprise=enterprise, period=period(2019, None, SCI_ANNUAL), acting_user=ent_user
    )
    values = {
        "revenue": "1000",
        "main_revenue": "900",
        "rd_spend": "1200",
        "rd_personnel": "5",
        "has_rd_institution": "是",
        "patents_applied": "1",
        "patents_granted": "0",
        "employees": "50",
    }
    with pytest.raises(ValidationError) as caught:
        services.report_submit(report=report, acting_user=ent_user, entered=values)
    assert "“研发经费内部支出(千元)”不能大于“营业收入(千元)”" in caught.value.messages


def test_large_change_against_last_year_needs_an_explanation(enterprise, ent_user, dept_reviewer):
    accepted(enterprise, ent_user, dept_reviewer, 2018, 3, GOOD)
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 3), acting_user=ent_user
    )
    doubled = {**GOOD, "gross_output": "2600"}  # +110.6 % on March 2018
    with pytest.raises(ValidationError) as caught:
        services.report_submit(report=report, acting_user=ent_user, entered=doubled)
    assert any("比上年同期变化 +110.6%" in m and "1,234.5万元" in m for m in caught.value.messages)
    services.report_submit(
        report=report, acting_user=ent_user, entered=doubled, explanation="新生产线三月投产"
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert report.explanation == "新生产线三月投产"
    assert [f["code"] for f in report.findings] == ["year_on_year"]


def test_employees_swing_and_broken_year_to_date_are_soft(enterprise, ent_user, dept_reviewer):
    accepted(enterprise, ent_user, dept_reviewer, 2019, 1, {**GOOD, "gross_output_ytd": "1234.5"})
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 2), acting_user=ent_user
    )
    values = {**GOOD, "employees": "200", "gross_output_ytd": "2000"}  # should be ~2,469
    with pytest.raises(ValidationError):
        services.report_submit(report=report, acting_user=ent_user, entered=values)
    report.refresh_from_db()
    assert sorted(f["code"] for f in report.findings) == ["employees_change", "ytd_mismatch"]


def test_return_accept_and_correct_keep_every_revision(enterprise, ent_user, dept_reviewer):
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 4), acting_user=ent_user
    )
    services.report_submit(report=report, acting_user=ent_user, entered=GOOD)
    with pytest.raises(ValidationError):
        services.report_return(report=report, acting_user=dept_reviewer, reason=" ")
    services.report_return(report=report, acting_user=dept_reviewer, reason="利润与税金不匹配")
    assert report.status == ReportStatus.RETURNED
    services.report_submit(report=report, acting_user=ent_user, entered={**GOOD, "tax": "25"})
    first = services.report_accept(report=report, acting_user=dept_reviewer)
    assert (first.number, first.values["tax"]) == (1, "250000")
    with pytest.raises(ValidationError):  # a second acceptance of the same submission
        services.report_accept(report=report, acting_user=dept_reviewer)

    services.report_correct(report=report, acting_user=ent_user, reason="税金口径更正")
    services.report_submit(report=report, acting_user=ent_user, entered={**GOOD, "tax": "28"})
    second = services.report_accept(report=report, acting_user=dept_reviewer)
    first.refresh_from_db()
    assert (second.number, second.values["tax"], second.correction_reason) == (
        2,
        "280000",
        "税金口径更正",
    )
    assert first.values["tax"] == "250000"  # as first reported, still readable
    report.refresh_from_db()
    assert (report.status, report.revision) == (ReportStatus.ACCEPTED, 2)
    actions = AuditEntry.objects.filter(model="reports.report", object_id=str(report.pk))
    assert actions.count() == 8  # open, submit, return, submit, accept, correct, submit, accept


def test_a_draft_cannot_be_accepted(enterprise, ent_user, dept_reviewer):
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 5), acting_user=ent_user
    )
    with pytest.raises(ValidationError, match="草稿"):
        services.report_accept(report=report, acting_user=dept_reviewer)
    assert report.revisions.count() == 0
    assert Decimal(0) == Decimal(report.revision)


def test_absurdly_large_values_are_refused_not_a_server_error(enterprise, ent_user):
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 6), acting_user=ent_user
    )
    for value in ("1e999999", "1e25"):
        with pytest.raises(ValidationError) as caught:
            services.report_submit(
                report=report, acting_user=ent_user, entered={**GOOD, "gross_output": value}
            )
        assert any("数值过大" in m for m in caught.value.messages)
