"""The report pages as people use them: fill in and submit, follow up, review, set up periods."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.test import Client

from gaoxin.core.models import AuditEntry
from gaoxin.registry.models import Enterprise
from gaoxin.registry.tests.factories import EnterpriseFactory
from gaoxin.reports import services
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY, SCI_ANNUAL
from gaoxin.reports.models import Report, ReportPeriod, ReportStatus
from gaoxin.reports.tests.test_workflow import GOOD, accepted, period


def body(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page's visible text, tags stripped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body(response)))


def posted(values: dict[str, str], **extra: str) -> dict[str, str]:
    return {**{f"f_{k}": v for k, v in values.items()}, **extra}


def fill_url(p: ReportPeriod) -> str:
    return f"/reports/mine/{p.pk}/"


def submitted(enterprise, user, p, values=GOOD, explanation="") -> Report:
    report = services.report_open(enterprise=enterprise, period=p, acting_user=user)
    services.report_submit(report=report, acting_user=user, entered=values, explanation=explanation)
    return report


# --- Filling in ---------------------------------------------------------------------------------


def test_fill_page_shows_last_period_and_same_month_last_year(
    client_for, enterprise, ent_user, dept_reviewer
):
    accepted(enterprise, ent_user, dept_reviewer, 2018, 3, GOOD)
    accepted(enterprise, ent_user, dept_reviewer, 2019, 2, {**GOOD, "gross_output": "1000"})
    march = period(2019, 3)
    audit_before = AuditEntry.objects.count()

    page = client_for(ent_user).get(fill_url(march))

    assert page.status_code == 200
    shown = text(page)
    assert "工业总产值(当年价格)(万元)" in shown
    assert "上期 1,000 · 上年同期 1,234.5" in shown
    assert "按当年价格计算的本月工业总产值" in shown  # the field's help text
    assert "保存草稿" in shown and "报送" in shown
    # Opening the page writes nothing: the draft is created on the first save.
    assert not Report.objects.filter(period=march).exists()
    assert AuditEntry.objects.count() == audit_before


def test_submitting_with_a_hard_error_shows_the_message_and_keeps_what_was_typed(
    client_for, enterprise, ent_user
):
    march = period(2019, 3)
    typed = {**GOOD, "gross_output": "1,234.5", "tax": "约三十"}

    page = client_for(ent_user).post(fill_url(march), posted(typed, action="submit"))

    assert page.status_code == 200
    assert "“应交税金(万元)”应填数值,“约三十”不是数值" in text(page)
    assert 'value="约三十"' in body(page) and 'value="1,234.5"' in body(page)
    report = Report.objects.get(enterprise=enterprise, period=march)
    assert report.status == ReportStatus.DRAFT  # kept as a draft, nothing lost
    assert report.values["gross_output"] == "12345000"
    assert [f["code"] for f in report.findings] == ["not_a_number"]


def test_a_large_swing_needs_an_explanation_before_submission(
    client_for, enterprise, ent_user, dept_reviewer
):
    accepted(enterprise, ent_user, dept_reviewer, 2018, 3, GOOD)
    march = period(2019, 3)
    client = client_for(ent_user)
    doubled = {**GOOD, "gross_output": "2600"}

    first = client.post(fill_url(march), posted(doubled, action="submit", explanation=""))

    assert first.status_code == 200
    page = body(first)
    assert "请填写情况说明后再报送" in text(first)
    assert "比上年同期变化 +110.6%" in text(first)
    assert re.search(r'id="explanation-box"[^>]*>', page)
    assert not re.search(r'id="explanation-box"[^>]*hidden', page)  # the box is now shown
    assert Report.objects.get(period=march).status == ReportStatus.DRAFT

    second = client.post(
        fill_url(march), posted(doubled, action="submit", explanation="新生产线三月投产")
    )
    assert second.status_code == 302 and second["Location"] == "/reports/mine/"
    report = Report.objects.get(period=march)
    assert (report.status, report.explanation) == (ReportStatus.SUBMITTED, "新生产线三月投产")
    mine = client.get("/reports/mine/")
    assert "已报送待审核" in text(mine)


def test_explanation_box_is_hidden_while_nothing_needs_explaining(client_for, ent_user):
    page = client_for(ent_user).get(fill_url(period(2019, 3)))
    assert re.search(r'id="explanation-box"[^>]*hidden', body(page))


def test_checking_as_you_type_returns_findings_without_saving(
    client_for, enterprise, ent_user, dept_reviewer
):
    accepted(enterprise, ent_user, dept_reviewer, 2018, 3, GOOD)
    march = period(2019, 3)
    audit_before = AuditEntry.objects.count()
    client = client_for(ent_user)
    values = posted({**GOOD, "gross_output": "2600", "employees": "12.5"})

    fragment = client.post(f"/reports/mine/{march.pk}/check/", values, HTTP_HX_REQUEST="true")

    assert fragment.status_code == 200
    html = body(fragment)
    assert "<html" not in html
    assert 'id="findings-employees" class="field-findings" hx-swap-oob="true"' in html
    assert "“从业人员期末人数(人)”应为整数" in html
    assert "比上年同期变化 +110.6%" in html
    assert 'id="explanation-box"' in html and "hx-swap-oob" in html
    # Without JavaScript the same URL answers with the whole page.
    full = client.post(f"/reports/mine/{march.pk}/check/", values)
    assert "<html" in body(full) and "“从业人员期末人数(人)”应为整数" in text(full)
    assert not Report.objects.filter(period=march).exists()
    assert AuditEntry.objects.count() == audit_before


def test_inputs_ask_htmx_to_check_as_the_user_types(client_for, ent_user):
    march = period(2019, 3)
    page = body(client_for(ent_user).get(fill_url(march)))
    assert f'hx-post="/reports/mine/{march.pk}/check/"' in page
    assert 'inputmode="decimal"' in page


def test_a_saved_draft_shows_hard_errors_next_to_their_fields(client_for, enterprise, ent_user):
    march = period(2019, 3)
    client = client_for(ent_user)
    saved = client.post(fill_url(march), posted({**GOOD, "gross_output": "-1"}, action="save"))
    assert saved.status_code == 302
    page = client.get(fill_url(march))
    html = body(page)
    field_findings = re.search(r'id="findings-gross_output".*?</div>\s*</div>', html, re.S)
    assert field_findings and "不能为负数" in field_findings.group(0)
    assert 'class="errors small"' in field_findings.group(0)  # hard: red
    assert "草稿已保存" in text(page) and 'value="-1"' in html


def test_a_returned_report_shows_the_reason_and_can_be_fixed(
    client_for, enterprise, ent_user, dept_reviewer
):
    march = period(2019, 3)
    report = submitted(enterprise, ent_user, march)
    services.report_return(report=report, acting_user=dept_reviewer, reason="税金与利润不匹配")
    client = client_for(ent_user)
    page = client.get(fill_url(march))
    assert "审核退回,原因:税金与利润不匹配" in text(page)
    assert "已退回" in text(client.get("/reports/mine/"))
    resent = client.post(fill_url(march), posted({**GOOD, "tax": "25"}, action="submit"))
    assert resent.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.values["tax"]) == (ReportStatus.SUBMITTED, "250000")


def test_an_accepted_report_is_read_only_but_a_correction_can_be_asked_for(
    client_for, enterprise, ent_user, dept_reviewer
):
    report = accepted(enterprise, ent_user, dept_reviewer, 2019, 3, GOOD)
    client = client_for(ent_user)
    page = client.get(fill_url(report.period))
    assert "保存草稿" not in text(page) and "申请更正" in text(page)
    assert "1,234.5" in text(page)

    refused = client.post(fill_url(report.period), posted({**GOOD, "tax": "1"}, action="save"))
    assert refused.status_code == 302
    report.refresh_from_db()
    assert report.values["tax"] == "300000"

    no_reason = client.post(f"/reports/{report.pk}/correct/", {"reason": ""}, follow=True)
    assert "请填写“更正原因”" in text(no_reason)
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED

    client.post(f"/reports/{report.pk}/correct/", {"reason": "税金口径有误"})
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    page = client.get(fill_url(report.period))
    assert "正在更正,更正原因:税金口径有误" in text(page) and "保存草稿" in text(page)


def test_my_reports_lists_each_forms_periods_with_status_and_late_marker(
    client_for, enterprise, ent_user
):
    late = period(2019, 3)
    ReportPeriod.objects.create(
        form_code=INDUSTRY_MONTHLY, year=2099, month=1, due_on=dt.date(2099, 2, 10)
    )
    period(2018, None, SCI_ANNUAL)
    submitted(enterprise, ent_user, late)
    page = client_for(ent_user).get("/reports/mine/")
    shown = text(page)
    assert "工业企业主要经济指标月报" in shown and "企业科技活动年报(火炬统计调查)" in shown
    assert "2099年1月" in shown and "未填报" in shown
    assert "2019年3月" in shown and "已报送待审核" in shown
    assert "1 期逾期未报" in shown  # the annual 2018 report, past its due date
    assert f'href="/reports/mine/{late.pk}/"' in body(page)


def test_navigation_offers_reports_to_enterprise_users_and_staff(
    client_for, ent_user, leader, branch_secretary
):
    assert 'href="/reports/mine/"' in body(client_for(ent_user).get("/reports/mine/"))
    assert 'href="/reports/worklist/"' in body(client_for(leader).get("/"))
    assert "统计报表" not in body(client_for(branch_secretary).get("/accounts/tokens/"))


def test_another_enterprise_user_cannot_open_or_correct_someone_elses_report(
    client_for, enterprise, ent_user, other_ent_user, dept_reviewer
):
    report = accepted(enterprise, ent_user, dept_reviewer, 2019, 3, GOOD)
    client = client_for(other_ent_user)
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.post(f"/reports/{report.pk}/correct/", {"reason": "x"}).status_code == 404
    # Their own page for the same period is their own, empty report.
    own = client.get(fill_url(report.period))
    assert own.status_code == 200 and enterprise.name not in body(own)
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED


# --- Review -------------------------------------------------------------------------------------


def test_reviewer_sees_values_in_form_units_and_accepts(
    client_for, enterprise, ent_user, dept_reviewer
):
    accepted(enterprise, ent_user, dept_reviewer, 2018, 3, GOOD)
    march = period(2019, 3)
    report = submitted(enterprise, ent_user, march, {**GOOD, "gross_output": "2600"}, "新产线")
    client = client_for(dept_reviewer)

    page = client.get(f"/reports/{report.pk}/")
    shown = text(page)
    assert "2,600" in shown and "1,234.5" in shown  # this March and last March, in 万元
    assert "新产线" in shown and "比上年同期变化 +110.6%" in shown
    assert "退回修改" in shown and f'action="/reports/{report.pk}/accept/"' in body(page)

    done = client.post(f"/reports/{report.pk}/accept/")
    assert done.status_code == 302 and "/reports/worklist/" in done["Location"]
    report.refresh_from_db()
    assert (report.status, report.revision) == (ReportStatus.ACCEPTED, 1)
    after = text(client.get(f"/reports/{report.pk}/"))
    assert "第 1 版" in after and "首次报送" in after and "退回修改" not in after


def test_reviewer_returns_with_a_reason(client_for, enterprise, ent_user, dept_staff):
    report = submitted(enterprise, ent_user, period(2019, 3))
    client = client_for(dept_staff)  # 经济发展局 staff review reports
    empty = client.post(f"/reports/{report.pk}/return/", {"reason": "  "})
    assert empty.status_code == 200 and "请填写“退回原因”" in text(empty)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED

    client.post(f"/reports/{report.pk}/return/", {"reason": "利润总额请核对"})
    report.refresh_from_db()
    assert (report.status, report.return_reason) == (ReportStatus.RETURNED, "利润总额请核对")


def test_leader_reads_a_report_but_cannot_review_it(client_for, enterprise, ent_user, leader):
    report = submitted(enterprise, ent_user, period(2019, 3))
    client = client_for(leader)
    page = client.get(f"/reports/{report.pk}/")
    assert page.status_code == 200 and "退回修改" not in text(page)
    assert f'action="/reports/{report.pk}/accept/"' not in body(page)
    assert client.post(f"/reports/{report.pk}/accept/").status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_corrections_keep_every_revision_readable(client_for, enterprise, ent_user, dept_reviewer):
    report = accepted(enterprise, ent_user, dept_reviewer, 2019, 3, GOOD)
    services.report_correct(report=report, acting_user=ent_user, reason="税金口径更正")
    services.report_submit(report=report, acting_user=ent_user, entered={**GOOD, "tax": "28"})
    services.report_accept(report=report, acting_user=dept_reviewer)
    page = text(client_for(dept_reviewer).get(f"/reports/{report.pk}/"))
    assert "第 2 版" in page and "第 1 版" in page and "更正原因:税金口径更正" in page
    assert "28" in page and "30" in page


# --- Worklist -----------------------------------------------------------------------------------


@pytest.fixture
def worklist_world(db, enterprise, ent_user, dept_reviewer):
    """March 2019 (past due): one firm has not reported, one submitted; others do not count."""
    february, march = period(2019, 2), period(2019, 3)
    accepted(enterprise, ent_user, dept_reviewer, 2019, 2, GOOD)  # reports, but not for March
    busy = EnterpriseFactory(name="柳州已报送机械有限公司")
    submitted(busy, ent_user, march)
    EnterpriseFactory(name="柳州从未填报有限公司")  # never reported this form: not on the list
    gone = EnterpriseFactory(name="柳州已迁出有限公司", status=Enterprise.Status.MOVED_OUT)
    accepted(gone, ent_user, dept_reviewer, 2019, 1, GOOD)
    moved = EnterpriseFactory(name="柳州本期已报迁出公司", status=Enterprise.Status.MOVED_OUT)
    submitted(moved, ent_user, march)
    return {"february": february, "march": march, "busy": busy}


def worklist_names(response) -> list[str]:
    return [e.name for e in response.context["page"]]


def test_worklist_shows_who_has_not_reported_and_who_is_late(
    client_for, leader, enterprise, worklist_world
):
    march = worklist_world["march"]
    client = client_for(leader)
    page = client.get("/reports/worklist/", {"form": INDUSTRY_MONTHLY, "period": march.pk})
    assert page.status_code == 200
    assert worklist_names(page) == [
        enterprise.name,
        "柳州已报送机械有限公司",
        "柳州本期已报迁出公司",
    ]
    row = re.search(rf"{enterprise.name}.*?</tr>", body(page), re.S).group(0)
    assert "未填报" in row and "逾期" in row

    pending = client.get(
        "/reports/worklist/",
        {"form": INDUSTRY_MONTHLY, "period": march.pk, "status": "not_submitted"},
    )
    assert worklist_names(pending) == [enterprise.name]
    late = client.get(
        "/reports/worklist/", {"form": INDUSTRY_MONTHLY, "period": march.pk, "status": "late"}
    )
    assert worklist_names(late) == [enterprise.name]
    assert "已报送待审核 2" in text(page) and "未填报 1" in text(page)


def test_worklist_exports_the_filtered_list_as_xlsx(client_for, leader, enterprise, worklist_world):
    march = worklist_world["march"]
    response = client_for(leader).get(
        "/reports/worklist/export.xlsx",
        {"form": INDUSTRY_MONTHLY, "period": march.pk, "status": "not_submitted"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(values_only=False)]
    assert "2019年3月" in rows[0][0]
    assert rows[1][:4] == ["统一社会信用代码", "企业名称", "报送状态", "是否逾期"]
    assert [r[1:4] for r in rows[2:]] == [[enterprise.name, "未填报", "逾期"]]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT, model="reports.reportperiod")
    assert entry.changes["rows"] == 1


def test_worklist_query_count_does_not_grow_with_the_list(
    client_for, leader, ent_user, django_assert_max_num_queries
):
    march = period(2019, 3)
    client = client_for(leader)
    for n in range(30):
        firm = EnterpriseFactory(name=f"柳州批量{n:02d}有限公司")
        report = services.report_open(enterprise=firm, period=march, acting_user=ent_user)
        if n % 2:
            services.report_submit(report=report, acting_user=ent_user, entered=GOOD)
    params = {"form": INDUSTRY_MONTHLY, "period": march.pk}
    with django_assert_max_num_queries(8):
        page = client.get("/reports/worklist/", params)
    assert len(worklist_names(page)) == 30
    with django_assert_max_num_queries(8):
        client.get("/reports/worklist/", {**params, "status": "submitted"})


def test_worklist_defaults_to_the_period_falling_due_next(client_for, leader):
    period(2019, 3)
    upcoming = ReportPeriod.objects.create(
        form_code=INDUSTRY_MONTHLY, year=2099, month=1, due_on=dt.date(2099, 2, 10)
    )
    page = client_for(leader).get("/reports/worklist/")
    assert page.context["choice"].period == upcoming
    # The status tabs keep the chosen form and period.
    tab = f"?form={INDUSTRY_MONTHLY}&amp;period={upcoming.pk}&amp;status=not_submitted"
    assert f'href="{tab}"' in body(page)


# --- Periods ------------------------------------------------------------------------------------


def test_periods_are_created_once_with_an_audit_row(client_for, dept_staff):
    client = client_for(dept_staff)
    data = {"form_code": INDUSTRY_MONTHLY, "year": "2024", "month": "5", "due_on": "2024-06-10"}
    created = client.post("/reports/periods/", data)
    assert created.status_code == 302
    new = ReportPeriod.objects.get(form_code=INDUSTRY_MONTHLY, year=2024, month=5)
    assert AuditEntry.objects.filter(
        model="reports.reportperiod", object_id=str(new.pk), action="create"
    ).exists()
    assert "2024年5月" in text(client.get("/reports/periods/"))

    again = client.post("/reports/periods/", data)
    assert again.status_code == 200 and "的报告期已经存在" in text(again)
    no_month = client.post("/reports/periods/", {**data, "month": ""})
    assert "月报必须选择月份" in text(no_month)
    annual = client.post(
        "/reports/periods/",
        {"form_code": SCI_ANNUAL, "year": "2024", "month": "3", "due_on": "2025-03-31"},
    )
    assert "年报按年报送,不选月份" in text(annual)
    assert ReportPeriod.objects.count() == 1


def test_periods_page_is_for_configurers_only(client_for, dept_reviewer, leader):
    assert client_for(dept_reviewer).get("/reports/periods/").status_code == 404
    assert client_for(leader).get("/reports/periods/").status_code == 404
    assert Client().get("/reports/periods/").status_code == 302
