"""The registry JSON API: same scope, validation and audit as the pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from gaoxin.accounts.services import token_create
from gaoxin.core.models import AuditEntry
from gaoxin.core.validators import uscc_error
from gaoxin.registry.models import Enterprise, IndustryChain, Qualification
from gaoxin.registry.tests.factories import EnterpriseFactory, QualificationFactory, make_uscc
from gaoxin.registry.tests.test_selectors import make_reference_data

BASE = "/api/registry"


@pytest.fixture
def ref(db):
    return make_reference_data()


class Api:
    """A JSON client authenticated with a bearer token, as an integration would be."""

    def __init__(self, user):
        _token, secret = token_create(user=user, name="测试对接")
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def get(self, path, params=None):
        return self.client.get(BASE + path, params or {})

    def _send(self, method, path, payload, **extra):
        return getattr(self.client, method)(
            BASE + path, data=json.dumps(payload), content_type="application/json", **extra
        )

    def post(self, path, payload, **extra):
        return self._send("post", path, payload, **extra)

    def patch(self, path, payload, **extra):
        return self._send("patch", path, payload, **extra)

    def delete(self, path):
        return self.client.delete(BASE + path)


@pytest.fixture
def api():
    return Api


def errors_of(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    data = response.json()
    assert data["detail"]
    out: dict[str, list[str]] = {}
    for item in data["errors"]:
        out.setdefault(item["field"], []).append(item["message"])
    return out


# --- auth and documentation -------------------------------------------------------------------


def test_token_and_session_auth(leader, client_for, ref):
    EnterpriseFactory()
    assert Client().get(f"{BASE}/enterprises").status_code == 401
    bad = Client(HTTP_AUTHORIZATION="Bearer gx_not-a-token").get(f"{BASE}/enterprises")
    assert bad.status_code == 401
    assert Api(leader).get("/enterprises").json()["count"] == 1
    assert client_for(leader).get(f"{BASE}/enterprises").json()["count"] == 1


def test_openapi_documents_the_registry(db):
    paths = Client().get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/registry/enterprises",
        "/api/registry/enterprises/{enterprise_id}",
        "/api/registry/enterprises/{enterprise_id}/qualifications",
        "/api/registry/enterprises/{enterprise_id}/timeline",
        "/api/registry/qualifications/{qualification_id}",
        "/api/registry/industries",
        "/api/registry/chains",
        "/api/registry/chains/{chain_id}",
        "/api/registry/emerging-categories",
    ):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/registry/enterprises"]["get"]["parameters"]}
    assert {"q", "industry", "sei", "chain", "qualification", "on", "sort", "page"} <= params


# --- list -------------------------------------------------------------------------------------


def test_list_paginates_and_filters_like_the_page(
    leader, client_for, ref, django_assert_max_num_queries
):
    for n in range(60):
        EnterpriseFactory(
            name=f"柳州接口{n:02d}公司",
            chain=ref["chains"]["auto"] if n % 2 else None,
            industry=ref["industries"]["3670"],
        )
    client = Api(leader)
    with django_assert_max_num_queries(6):
        first = client.get("/enterprises").json()
    assert first["count"] == 60 and len(first["items"]) == 50
    assert first["items"][0]["industry"] == {
        "code": "3670",
        "name": "汽车零部件及配件制造",
        "section": "C",
    }
    second = client.get("/enterprises", {"page": 2}).json()
    assert len(second["items"]) == 10
    params = {"chain": "test-auto", "sort": "-name", "page_size": 100}
    api_names = [e["name"] for e in client.get("/enterprises", params).json()["items"]]
    page_names = [e.name for e in client_for(leader).get("/registry/", params).context["page"]]
    assert api_names == page_names and len(api_names) == 30
    assert api_names[0] == "柳州接口59公司"


def test_list_rejects_an_unknown_sort_with_a_field_error(leader, ref):
    response = Api(leader).get("/enterprises", {"sort": "password"})
    assert "sort" in errors_of(response)


def test_enterprise_user_lists_and_reads_only_their_own(ent_user, enterprise, other_enterprise):
    client = Api(ent_user)
    listing = client.get("/enterprises").json()
    assert [e["id"] for e in listing["items"]] == [enterprise.pk]
    assert client.get(f"/enterprises/{enterprise.pk}").status_code == 200
    for path in (
        f"/enterprises/{other_enterprise.pk}",
        f"/enterprises/{other_enterprise.pk}/qualifications",
        f"/enterprises/{other_enterprise.pk}/timeline",
        "/enterprises/999999",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.patch(f"/enterprises/{other_enterprise.pk}", {"contact_name": "x"}).status_code
        == 404
    )
    assert client.delete(f"/enterprises/{enterprise.pk}").status_code == 404
    q = QualificationFactory(enterprise=other_enterprise)
    assert client.patch(f"/qualifications/{q.pk}", {"notes": "x"}).status_code == 404
    assert client.delete(f"/qualifications/{q.pk}").status_code == 404
    own_q = QualificationFactory(enterprise=enterprise)
    assert client.delete(f"/qualifications/{own_q.pk}").status_code == 404
    assert client.post(f"/enterprises/{enterprise.pk}/qualifications", {}).status_code == 404


def test_branch_secretary_has_no_registry(branch_secretary, enterprise):
    client = Api(branch_secretary)
    assert client.get("/enterprises").status_code == 404
    assert client.get(f"/enterprises/{enterprise.pk}").status_code == 404


# --- writes -----------------------------------------------------------------------------------


def test_create_enterprise(dept_staff, ref):
    response = Api(dept_staff).post(
        "/enterprises",
        {
            "uscc": make_uscc(8080),
            "name": "柳州接口新建有限公司",
            "former_names": ["旧名"],
            "industry": "C3670",
            "chain": "test-auto",
            "sei_category": "5",
            "founded_on": "2018-03-04",
            "registered_capital": "2500.50",
        },
        REMOTE_ADDR="10.0.0.8",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["industry"]["code"] == "3670" and data["chain"]["code"] == "test-auto"
    assert data["former_names"] == ["旧名"] and data["registered_capital"] == "2500.5000"
    assert data["sei_status"] == "declared"  # dept_staff may not review categories
    row = AuditEntry.objects.get(action="create", model="registry.enterprise")
    assert (row.actor, row.ip, row.channel) == (dept_staff, "10.0.0.8", "api")


def test_create_reports_field_level_errors_in_chinese(dept_staff, ref):
    bad = make_uscc(8080)[:17] + ("0" if make_uscc(8080)[17] != "0" else "1")
    response = Api(dept_staff).post(
        "/enterprises",
        {"uscc": bad, "name": "X", "industry": "9999", "founded_on": "2999-01-01"},
    )
    errors = errors_of(response)
    assert errors["uscc"] == [uscc_error(bad)] and "校验位错误" in errors["uscc"][0]
    assert errors["industry"] == ["行业代码“9999”不在《国民经济行业分类》(GB/T 4754-2017)中"]
    assert errors["founded_on"] == ["成立日期2999-01-01晚于今天,请核对"]
    schema = Api(dept_staff).post("/enterprises", {"name": "缺代码"})
    assert "uscc" in errors_of(schema)
    assert not Enterprise.objects.exists()


def test_create_needs_edit_rights(leader, ent_user, ref):
    payload = {"uscc": make_uscc(1), "name": "X"}
    assert Api(leader).post("/enterprises", payload).status_code == 404
    assert Api(ent_user).post("/enterprises", payload).status_code == 404


def test_patch_changes_only_the_fields_sent(dept_staff, ref):
    e = EnterpriseFactory(
        name="原名公司", contact_name="王五", chain=ref["chains"]["auto"], size="small"
    )
    response = Api(dept_staff).patch(f"/enterprises/{e.pk}", {"name": "新名公司", "chain": None})
    assert response.status_code == 200, response.content
    e.refresh_from_db()
    assert e.name == "新名公司" and e.chain_id is None
    assert e.contact_name == "王五" and e.size == "small"
    row = AuditEntry.objects.get(action="update")
    assert set(row.changes) == {"name", "name_initials", "chain"}


def test_enterprise_user_patches_only_allowed_fields(ent_user, enterprise, ref):
    client = Api(ent_user)
    refused = client.patch(
        f"/enterprises/{enterprise.pk}", {"name": "改名", "status": "revoked", "address": "新址"}
    )
    assert errors_of(refused) == {
        "name": ["企业用户不能修改此项"],
        "status": ["企业用户不能修改此项"],
    }
    ok = client.patch(f"/enterprises/{enterprise.pk}", {"address": "新址", "sei_category": "1"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["sei_status"] == "declared" and ok.json()["address"] == "新址"
    unknown = client.patch(f"/enterprises/{enterprise.pk}", {"sei_category": "99"})
    assert "sei_category" in errors_of(unknown)


def test_delete_enterprise(dept_staff, ent_user, enterprise, ref):
    free = EnterpriseFactory()
    client = Api(dept_staff)
    assert client.delete(f"/enterprises/{free.pk}").status_code == 204
    assert not Enterprise.objects.filter(pk=free.pk).exists()
    refused = client.delete(f"/enterprises/{enterprise.pk}")
    assert "1 个用户" in errors_of(refused)["__all__"][0]


def test_qualifications_crud(dept_staff, leader, ref):
    e = EnterpriseFactory()
    client = Api(dept_staff)
    created = client.post(
        f"/enterprises/{e.pk}/qualifications",
        {"kind": "high_tech", "recognised_on": "2019-11-01", "certificate_no": "GR2019"},
    )
    assert created.status_code == 201, created.content
    q = created.json()
    assert q["valid_until"] == "2022-10-31" and q["kind_label"] == "高新技术企业"
    assert q["valid_today"] is False
    bad = client.post(
        f"/enterprises/{e.pk}/qualifications",
        {"kind": "rd_institution", "recognised_on": "2019-11-01"},
    )
    assert set(errors_of(bad)) == {"subtype", "level"}
    bad_date = client.post(
        f"/enterprises/{e.pk}/qualifications", {"kind": "high_tech", "recognised_on": "2019-13-01"}
    )
    assert "recognised_on" in errors_of(bad_date)
    patched = client.patch(f"/qualifications/{q['id']}", {"valid_until": "2021-12-31"})
    assert patched.status_code == 200 and patched.json()["valid_until"] == "2021-12-31"
    inconsistent = client.patch(f"/qualifications/{q['id']}", {"valid_until": "2018-01-01"})
    assert errors_of(inconsistent) == {"valid_until": ["有效期至2018-01-01早于认定日期2019-11-01"]}
    listing = Api(leader).get(f"/enterprises/{e.pk}/qualifications").json()
    assert [x["certificate_no"] for x in listing] == ["GR2019"]
    assert Api(leader).patch(f"/qualifications/{q['id']}", {"notes": "x"}).status_code == 404
    assert client.delete(f"/qualifications/{q['id']}").status_code == 204
    assert not Qualification.objects.exists()
    actions = list(
        AuditEntry.objects.filter(model="registry.qualification")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


def test_timeline_lists_changes_with_labels(dept_staff, leader, ref):
    e = EnterpriseFactory(name="时间线公司")
    client = Api(dept_staff)
    client.patch(f"/enterprises/{e.pk}", {"chain": "test-soft"})
    client.post(
        f"/enterprises/{e.pk}/qualifications", {"kind": "tech_sme", "recognised_on": "2023-02-01"}
    )
    timeline = Api(leader).get(f"/enterprises/{e.pk}/timeline").json()
    assert timeline["count"] == 2
    newest, older = timeline["items"]
    assert newest["model"] == "registry.qualification" and newest["action"] == "create"
    chain_line = next(c for c in older["change_lines"] if c["field"] == "chain")
    assert (chain_line["label"], chain_line["old"], chain_line["new"]) == (
        "产业链",
        "—",
        "测试·软件产业链",
    )


def test_sei_review_via_api(dept_reviewer, dept_staff, ref):
    e = EnterpriseFactory(sei_category=ref["sei"]["2"], sei_status=Enterprise.SeiStatus.DECLARED)
    assert (
        Api(dept_staff)
        .post(f"/enterprises/{e.pk}/sei-review", {"decision": "confirmed"})
        .status_code
        == 404
    )
    no_reason = Api(dept_reviewer).post(f"/enterprises/{e.pk}/sei-review", {"decision": "rejected"})
    assert errors_of(no_reason) == {"reason": ["退回时请填写原因"]}
    ok = Api(dept_reviewer).post(f"/enterprises/{e.pk}/sei-review", {"decision": "confirmed"})
    assert ok.status_code == 200 and ok.json()["sei_status"] == "confirmed"


# --- reference data ---------------------------------------------------------------------------


def test_industries_search_and_level(leader, ref):
    client = Api(leader)
    by_code = client.get("/industries", {"q": "367"}).json()
    assert [i["code"] for i in by_code["items"]] == ["367", "3670"]
    assert by_code["items"][1]["parent"] == "367" and by_code["items"][1]["level"] == 4
    by_name = client.get("/industries", {"q": "软件开发", "level": 3}).json()
    assert [i["code"] for i in by_name["items"]] == ["651"]
    children = client.get("/industries", {"parent": "c"}).json()
    assert {"34", "36"} <= {i["code"] for i in children["items"]}


def test_emerging_categories_and_chains(leader, ref):
    client = Api(leader)
    codes = [c["code"] for c in client.get("/emerging-categories").json()]
    assert {"1", "2", "5"} <= set(codes)
    EnterpriseFactory(chain=ref["chains"]["auto"])
    chains = {c["code"]: c for c in client.get("/chains").json()}
    assert chains["test-auto"]["enterprise_count"] == 1 and chains["test-auto"]["group"] == "pillar"


def test_chain_configuration_needs_the_capability(zone_admin, dept_staff, ref):
    payload = {"code": "test-api", "name": "测试·接口链", "group": "service"}
    assert Api(dept_staff).post("/chains", payload).status_code == 404
    created = Api(zone_admin).post("/chains", payload)
    assert created.status_code == 201, created.content
    chain_id = created.json()["id"]
    duplicate = Api(zone_admin).post("/chains", {**payload, "name": "别名"})
    assert errors_of(duplicate) == {"code": ["已有代码为“test-api”的产业链"]}
    assert Api(dept_staff).patch(f"/chains/{chain_id}", {"is_active": False}).status_code == 404
    patched = Api(zone_admin).patch(f"/chains/{chain_id}", {"is_active": False})
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert IndustryChain.objects.get(pk=chain_id).is_active is False
    assert AuditEntry.objects.filter(model="registry.industrychain").count() == 2


def test_dates_in_the_api_are_iso(leader, ref):
    e = EnterpriseFactory(founded_on=dt.date(2019, 12, 31))
    assert Api(leader).get(f"/enterprises/{e.pk}").json()["founded_on"] == "2019-12-31"


def test_a_service_refusal_is_a_field_level_422_and_writes_nothing(api, zone_admin, ent_user):
    before = AuditEntry.objects.count()
    response = api(zone_admin).delete(f"/enterprises/{ent_user.enterprise_id}")
    errors = errors_of(response)
    assert any("用户" in m for messages in errors.values() for m in messages)
    assert Enterprise.objects.filter(pk=ent_user.enterprise_id).exists()
    assert AuditEntry.objects.count() == before + 1  # only the token's creation


def test_chain_counts_are_for_staff_only(api, ent_user, leader, ref):
    staff = api(leader).get("/chains").json()
    assert all(c["enterprise_count"] is not None for c in staff)
    own = api(ent_user).get("/chains").json()
    assert own and all(c["enterprise_count"] is None for c in own)
