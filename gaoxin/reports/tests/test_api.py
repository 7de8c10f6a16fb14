"""The reports JSON API as an enterprise's system and the zone's staff use it."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from gaoxin.accounts.services import token_create
from gaoxin.core.models import AuditEntry
from gaoxin.registry.tests.factories import EnterpriseFactory
from gaoxin.reports import services
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY, SCI_ANNUAL
from gaoxin.reports.models import Report, ReportPeriod, ReportStatus
from gaoxin.reports.tests.test_workflow import GOOD, accepted, period

BASE = "/api/reports"


class Api:
    """A JSON client authenticated with a bearer token, as an integration would be."""

    def __init__(self, user):
        _token, secret = token_create(user=user, name="报表对接")
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def get(self, path, params=None):
        return self.client.get(BASE + path, params or {})

    def send(self, method, path, payload=None):
        return getattr(self.client, method)(
            BASE + path, data=json.dumps(payload or {}), content_type="application/json"
        )

    def post(self, path, payload=None):
        return self.send("post", path, payload)

    def put(self, path, payload=None):
        return self.send("put", path, payload)


def errors_of(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    data = response.json()
    assert data["detail"]
    out: dict[str, list[str]] = {}
    for e in data["errors"]:
        out.setdefault(e["field"], []).append(e["message"])
    return out


def test_forms_list_their_fields_with_units(ent_user):
    forms = Api(ent_user).get("/forms").json()
    monthly = next(f for f in forms if f["code"] == INDUSTRY_MONTHLY)
    first = monthly["fields"][0]
    assert (first["key"], first["label"], first["unit"], first["kind"], first["required"]) == (
        "gross_output",
        "工业总产值(当年价格)(万元)",
        "wyuan",
        "decimal",
        True,
    )
    annual = next(f for f in forms if f["code"] == SCI_ANNUAL)
    assert annual["frequency"] == "annual"


def test_an_enterprise_system_fills_in_and_submits_its_report(enterprise, ent_user, dept_reviewer):
    accepted(enterprise, ent_user, dept_reviewer, 2018, 3, GOOD)
    march = period(2019, 3)
    api = Api(ent_user)

    mine = api.get("/mine").json()
    row = next(r for r in mine if r["period"]["id"] == march.pk)
    assert (row["status"], row["status_label"], row["report_id"]) == (
        "not_submitted",
        "未填报",
        None,
    )

    opened = api.post("/mine", {"period_id": march.pk})
    assert opened.status_code == 201
    report_id = opened.json()["id"]
    assert api.post("/mine", {"period_id": march.pk}).status_code == 200  # the same draft

    draft = api.put(f"/{report_id}/draft", {"values": {**GOOD, "tax": "约三十"}})
    assert draft.status_code == 200
    assert draft.json()["values"]["gross_output"] == "1234.5"  # in 万元, as the form shows it
    assert draft.json()["findings"][0]["code"] == "not_a_number"

    checked = api.post(f"/{report_id}/check", {"values": {**GOOD, "gross_output": "2600"}})
    assert checked.json()["can_submit"] is True and checked.json()["needs_explanation"] is True

    hard = api.post(f"/{report_id}/submit", {"values": {**GOOD, "tax": "-3"}})
    assert errors_of(hard) == {"values.tax": ["“应交税金(万元)”不能为负数"]}

    soft = api.post(f"/{report_id}/submit", {"values": {**GOOD, "gross_output": 2600}})
    errors = errors_of(soft)
    assert any("比上年同期变化 +110.6%" in m for m in errors["values.gross_output"])
    assert errors["explanation"] == ["数据波动较大,请填写情况说明后再报送"]
    assert Report.objects.get(pk=report_id).status == ReportStatus.DRAFT

    done = api.post(
        f"/{report_id}/submit",
        {"values": {**GOOD, "gross_output": "2600"}, "explanation": "新生产线三月投产"},
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["status"], body["status_label"]) == ("submitted", "已报送待审核")
    assert body["values"]["gross_output"] == "2600" and body["explanation"] == "新生产线三月投产"
    again = api.put(f"/{report_id}/draft", {"values": GOOD})
    assert "不能执行此操作" in errors_of(again)["__all__"][0]


def test_submit_refuses_fields_the_form_does_not_have(enterprise, ent_user):
    api = Api(ent_user)
    report_id = api.post("/mine", {"period_id": period(2019, 3).pk}).json()["id"]
    response = api.post(f"/{report_id}/submit", {"values": {**GOOD, "gross_ouput": "1"}})
    assert errors_of(response) == {
        "values.gross_ouput": ["报表“工业企业主要经济指标月报”没有此字段"]
    }


def test_staff_list_a_periods_worklist_and_review(enterprise, ent_user, dept_reviewer):
    march = period(2019, 3)
    accepted(enterprise, ent_user, dept_reviewer, 2019, 2, GOOD)  # has not reported March
    other = EnterpriseFactory(name="柳州已报送机械有限公司")
    report = services.report_open(enterprise=other, period=march, acting_user=ent_user)
    services.report_submit(report=report, acting_user=ent_user, entered=GOOD)
    api = Api(dept_reviewer)

    listed = api.get(f"/periods/{march.pk}/reports").json()
    assert listed["count"] == 2
    by_name = {r["enterprise"]["name"]: r for r in listed["items"]}
    assert (by_name[enterprise.name]["status"], by_name[enterprise.name]["late"]) == (
        "not_submitted",
        True,
    )
    assert by_name[other.name]["report_id"] == report.pk
    pending = api.get(f"/periods/{march.pk}/reports", {"status": "not_submitted"}).json()
    assert [r["enterprise"]["name"] for r in pending["items"]] == [enterprise.name]

    assert errors_of(api.post(f"/{report.pk}/return", {"reason": " "})) == {
        "reason": ["退回时必须填写原因"]
    }
    accepted_now = api.post(f"/{report.pk}/accept")
    assert accepted_now.status_code == 200
    body = accepted_now.json()
    assert body["status"] == "accepted" and body["revisions"][0]["number"] == 1
    assert body["revisions"][0]["values"]["tax"] == "30"
    assert errors_of(api.post(f"/{report.pk}/accept")) == {
        "__all__": ["报表当前状态为“已审核通过”,不能执行此操作"]
    }


def test_return_then_correct_through_the_api(enterprise, ent_user, dept_staff, dept_reviewer):
    report = accepted(enterprise, ent_user, dept_reviewer, 2019, 3, GOOD)
    api = Api(ent_user)
    assert errors_of(api.post(f"/{report.pk}/correct", {})) == {"reason": ["请填写此项"]}
    reopened = api.post(f"/{report.pk}/correct", {"reason": "税金口径更正"})
    assert reopened.json()["status"] == "draft"
    api.post(f"/{report.pk}/submit", {"values": {**GOOD, "tax": "28"}})
    returned = Api(dept_staff).post(f"/{report.pk}/return", {"reason": "请附说明"})
    assert (returned.json()["status"], returned.json()["return_reason"]) == ("returned", "请附说明")
    assert api.get(f"/{report.pk}").json()["revisions"][0]["values"]["tax"] == "30"


def test_another_enterprise_gets_404_for_someone_elses_report(
    enterprise, ent_user, other_ent_user, dept_reviewer
):
    report = accepted(enterprise, ent_user, dept_reviewer, 2019, 3, GOOD)
    api = Api(other_ent_user)
    audit_before = AuditEntry.objects.count()
    assert api.get(f"/{report.pk}").status_code == 404
    assert api.put(f"/{report.pk}/draft", {"values": GOOD}).status_code == 404
    assert api.post(f"/{report.pk}/correct", {"reason": "x"}).status_code == 404
    assert api.get(f"/periods/{report.period_id}/reports").status_code == 404
    assert enterprise.name not in api.get("/mine").content.decode()
    assert AuditEntry.objects.count() == audit_before


def test_read_only_staff_cannot_review_and_enterprises_cannot_accept(enterprise, ent_user, leader):
    report = services.report_open(
        enterprise=enterprise, period=period(2019, 3), acting_user=ent_user
    )
    services.report_submit(report=report, acting_user=ent_user, entered=GOOD)
    assert Api(leader).get(f"/{report.pk}").status_code == 200
    assert Api(leader).post(f"/{report.pk}/accept").status_code == 404
    assert Api(ent_user).post(f"/{report.pk}/accept").status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"month": None}, "month", "月报必须选择月份"),
        ({"month": 13}, "month", "月份应在1至12之间"),
        ({"due_on": "2023-01-01"}, "due_on", "报送截止日不能早于报告期开始日"),
        ({"form_code": "nope"}, "form_code", "没有表号为“nope”的报表"),
    ],
)
def test_period_creation_explains_what_is_wrong(dept_staff, payload, field, message):
    data = {"form_code": INDUSTRY_MONTHLY, "year": 2024, "month": 5, "due_on": "2024-06-10"}
    response = Api(dept_staff).post("/periods", {**data, **payload})
    assert errors_of(response) == {field: [message]}


def test_periods_are_created_by_configurers_once(dept_staff, leader, ent_user):
    data = {"form_code": INDUSTRY_MONTHLY, "year": 2024, "month": 5, "due_on": "2024-06-10"}
    assert Api(leader).post("/periods", data).status_code == 404
    created = Api(dept_staff).post("/periods", data)
    assert created.status_code == 201 and created.json()["label"] == "2024年5月"
    duplicate = errors_of(Api(dept_staff).post("/periods", data))
    assert duplicate == {"__all__": ["“工业企业主要经济指标月报”2024年5月的报告期已经存在"]}
    listed = Api(ent_user).get("/periods", {"form_code": INDUSTRY_MONTHLY}).json()
    assert [p["label"] for p in listed] == ["2024年5月"]
    assert ReportPeriod.objects.count() == 1
