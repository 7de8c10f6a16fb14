"""The Excel export is exactly the filtered, sorted list, with real dates and numbers."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from gaoxin.core.models import AuditEntry
from gaoxin.registry.models import Enterprise
from gaoxin.registry.tests.factories import EnterpriseFactory, QualificationFactory
from gaoxin.registry.tests.test_selectors import make_reference_data


@pytest.fixture
def ref(db):
    return make_reference_data()


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    content = b"".join(response.streaming_content)
    return openpyxl.load_workbook(io.BytesIO(content)).active


def table(sheet) -> list[dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_export_matches_the_filtered_sorted_list(client_for, leader, ref):
    today = timezone.localdate()
    big = EnterpriseFactory(
        name="柳州导出大公司",
        chain=ref["chains"]["auto"],
        industry=ref["industries"]["3670"],
        founded_on=dt.date(2008, 5, 20),
        registered_capital=Decimal("12345.6789"),
        former_names="旧名甲;旧名乙",
    )
    EnterpriseFactory(
        name="柳州导出小公司", chain=ref["chains"]["auto"], registered_capital=Decimal("10")
    )
    EnterpriseFactory(name="柳州导出无资本公司", chain=ref["chains"]["auto"], founded_on=None)
    EnterpriseFactory(name="链外公司", registered_capital=Decimal("99999"))
    QualificationFactory(
        enterprise=big,
        recognised_on=today - dt.timedelta(days=5),
        valid_until=today + dt.timedelta(days=5),
    )
    client = client_for(leader)
    params = {"chain": "test-auto", "sort": "-registered_capital"}
    page_names = [e.name for e in client.get("/registry/", params).context["page"]]
    rows = table(workbook(client.get("/registry/export.xlsx", params)))
    assert (
        [r["企业名称"] for r in rows]
        == page_names
        == [
            "柳州导出大公司",
            "柳州导出小公司",
            "柳州导出无资本公司",
        ]
    )
    first = rows[0]
    assert first["统一社会信用代码"] == big.uscc
    assert first["成立日期"] == dt.datetime(2008, 5, 20)  # a real date cell, not text
    assert first["注册资本(万元)"] == pytest.approx(12345.6789)  # a number, in 万元
    assert first["行业代码"] == "3670" and first["行业名称"] == "汽车零部件及配件制造"
    assert first["产业链"] == "测试·汽车产业链" and first["曾用名"] == "旧名甲;旧名乙"
    held = f"{today.year}年{today.month}月{today.day}日有效资质"
    assert first[held] == "高新技术企业" and first["企业状态"] == "存续"
    assert rows[2]["注册资本(万元)"] is None and rows[2]["成立日期"] is None


def test_export_leaves_an_audit_row(client_for, leader, ref):
    EnterpriseFactory(name="甲", size=Enterprise.Size.SMALL)
    EnterpriseFactory(name="乙", size=Enterprise.Size.SMALL)
    EnterpriseFactory(name="丙", size=Enterprise.Size.LARGE)
    client_for(leader).get(
        "/registry/export.xlsx", {"size": "small", "page": "3", "q": ""}, REMOTE_ADDR="10.9.8.7"
    )
    row = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (row.model, row.object_id, row.actor, row.ip) == (
        "registry.enterprise",
        "list",
        leader,
        "10.9.8.7",
    )
    assert row.changes == {"filters": {"size": "small"}, "rows": 2}


def test_export_of_an_empty_list_has_headers_only(client_for, leader, ref):
    sheet = workbook(client_for(leader).get("/registry/export.xlsx", {"q": "没有这家"}))
    assert sheet.max_row == 1 and sheet.cell(1, 1).value == "统一社会信用代码"


def test_export_is_for_staff_only(client_for, ent_user):
    assert client_for(ent_user).get("/registry/export.xlsx").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


def test_export_and_list_show_qualifications_held_on_the_date_asked(client_for, leader, ref):
    """Filtering on 2019-12-31 lists a certificate that has since expired, with its name."""
    e = EnterpriseFactory(name="柳州过期高企公司", chain=ref["chains"]["auto"])
    QualificationFactory(
        enterprise=e, recognised_on=dt.date(2019, 11, 1), valid_until=dt.date(2022, 10, 31)
    )
    client = client_for(leader)
    params = {"qualification": "high_tech", "on": "2019-12-31", "chain": "test-auto"}
    page = client.get("/registry/", params)
    assert [x.name for x in page.context["page"]] == ["柳州过期高企公司"]
    assert "高新技术企业" in page.content.decode().split("柳州过期高企公司")[1].split("</tr>")[0]
    rows = table(workbook(client.get("/registry/export.xlsx", params)))
    assert rows[0]["2019年12月31日有效资质"] == "高新技术企业"
