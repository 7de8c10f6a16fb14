"""The registry pages as people use them: list, profile, edit forms, chains, SEI review."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from gaoxin.core.models import AuditEntry
from gaoxin.registry.models import Enterprise, IndustryChain, Qualification
from gaoxin.registry.tests.factories import EnterpriseFactory, QualificationFactory, make_uscc
from gaoxin.registry.tests.test_selectors import make_reference_data


@pytest.fixture
def ref(db):
    return make_reference_data()


def body(response) -> str:
    return response.content.decode()


def listed(response) -> list[str]:
    """Enterprise names in the list table, in order."""
    return [e.name for e in response.context["page"]]


# --- list -------------------------------------------------------------------------------------


def test_list_is_for_staff_only(client_for, leader, ent_user, branch_secretary):
    assert client_for(leader).get("/registry/").status_code == 200
    assert client_for(ent_user).get("/registry/").status_code == 404
    assert client_for(branch_secretary).get("/registry/").status_code == 404
    anonymous = Client().get("/registry/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


@pytest.mark.parametrize(
    "term", ["华创", "华创机械厂", "LZHC", "lzhc", "9145021100000424", "91450211 0000 0424"]
)
def test_list_search_by_name_former_name_uscc_prefix_and_initials(client_for, leader, ref, term):
    target = EnterpriseFactory(
        name="柳州华创汽车零部件有限公司",
        former_names="柳州华创机械厂",
        uscc=make_uscc(4242),
    )
    EnterpriseFactory(name="广西东城锅炉有限公司", uscc=make_uscc(1))
    page = client_for(leader).get("/registry/", {"q": term})
    assert listed(page) == [target.name]
    assert "共 1 家企业" in body(page)


def test_list_filters_and_shows_the_qualification_date(client_for, leader, ref):
    auto = EnterpriseFactory(
        name="甲汽车配件公司", industry=ref["industries"]["3670"], chain=ref["chains"]["auto"]
    )
    EnterpriseFactory(name="乙软件公司", industry=ref["industries"]["6511"])
    QualificationFactory(
        enterprise=auto, recognised_on=dt.date(2019, 11, 1), valid_until=dt.date(2022, 10, 31)
    )
    client = client_for(leader)
    assert listed(client.get("/registry/", {"industry": "36"})) == ["甲汽车配件公司"]
    assert listed(client.get("/registry/", {"chain": ref["chains"]["auto"].pk})) == [
        "甲汽车配件公司"
    ]
    held = client.get("/registry/", {"qualification": "high_tech", "on": "2019-12-31"})
    assert listed(held) == ["甲汽车配件公司"]
    assert "资质以2019年12月31日为准" in body(held)
    assert listed(client.get("/registry/", {"qualification": "high_tech"})) == []


def test_list_sorts_by_whitelisted_columns(client_for, leader, ref):
    EnterpriseFactory(name="A公司", registered_capital=Decimal("10"))
    EnterpriseFactory(name="B公司", registered_capital=Decimal("300"))
    EnterpriseFactory(name="C公司", registered_capital=Decimal("20"))
    client = client_for(leader)
    assert listed(client.get("/registry/", {"sort": "-registered_capital"})) == [
        "B公司",
        "C公司",
        "A公司",
    ]
    assert listed(client.get("/registry/", {"sort": "name"})) == ["A公司", "B公司", "C公司"]
    assert listed(client.get("/registry/", {"sort": "-name"})) == ["C公司", "B公司", "A公司"]


def test_list_paginates_by_50_and_keeps_the_filters(client_for, leader, ref):
    for n in range(55):
        EnterpriseFactory(name=f"柳州分页测试{n:02d}有限公司", chain=ref["chains"]["auto"])
    EnterpriseFactory(name="不在链上的公司")
    client = client_for(leader)
    first = client.get("/registry/", {"chain": "test-auto", "sort": "name"})
    assert len(listed(first)) == 50 and "共 55 家企业" in body(first)
    assert "chain=test-auto&sort=name&page=2" in body(first).replace("&amp;", "&")
    second = client.get("/registry/", {"chain": "test-auto", "sort": "name", "page": 2})
    assert listed(second) == [f"柳州分页测试{n:02d}有限公司" for n in range(50, 55)]
    # The export link carries the same filters, without the page number.
    export_link = re.search(r'href="(/registry/export\.xlsx[^"]*)"', body(second)).group(1)
    assert "chain=test-auto" in export_link and "page=" not in export_link


def test_list_page_query_count_does_not_grow_with_rows(
    client_for, leader, ref, django_assert_max_num_queries
):
    for n in range(60):
        e = EnterpriseFactory(
            name=f"柳州查询数{n:02d}公司",
            industry=ref["industries"]["3670"],
            chain=ref["chains"]["auto"],
            grid=ref["grids"]["a"],
        )
        QualificationFactory(
            enterprise=e,
            recognised_on=timezone.localdate() - dt.timedelta(days=10),
            valid_until=timezone.localdate() + dt.timedelta(days=300),
        )
    client = client_for(leader)
    with django_assert_max_num_queries(10):
        page = client.get("/registry/", {"chain": "test-auto"})
    assert len(listed(page)) == 50
    assert body(page).count("高新技术企业</span>") == 50


# --- profile ----------------------------------------------------------------------------------


def test_profile_shows_identity_industry_path_and_qualifications(
    client_for, leader, ref, django_assert_max_num_queries
):
    today = timezone.localdate()
    e = EnterpriseFactory(
        name="柳州华创汽车零部件有限公司",
        former_names="柳州华创机械厂",
        industry=ref["industries"]["3670"],
        sei_category=ref["sei"]["5"],
        sei_status=Enterprise.SeiStatus.CONFIRMED,
        chain=ref["chains"]["auto"],
        chain_position=Enterprise.ChainPosition.UPSTREAM,
        founded_on=dt.date(2019, 12, 31),
        registered_capital=Decimal("1234.5"),
    )
    QualificationFactory(
        enterprise=e,
        certificate_no="GR201945000123",
        recognised_on=dt.date(2019, 11, 1),
        valid_until=dt.date(2022, 10, 31),
    )
    QualificationFactory(
        enterprise=e,
        certificate_no="GR202245000456",
        recognised_on=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=1000),
    )
    client = client_for(leader)
    with django_assert_max_num_queries(10):
        page = client.get(f"/registry/{e.pk}/")
    html = body(page)
    assert "2019年12月31日" in html and "1234.50 万元" in html and "柳州华创机械厂" in html
    path = re.sub(r"<[^>]+>", " ", re.search(r'<ol class="path">(.*?)</ol>', html, re.S).group(1))
    assert path.split() == ["C", "制造业", "36", "汽车制造业", "367", "汽车零部件及配件制造"] + [
        "3670",
        "汽车零部件及配件制造",
    ]
    assert "汽车制造业" in html and "上游" in html and "已审核确认" in html
    assert "GR201945000123" in html and "2019年11月1日 – 2022年10月31日" in html
    assert "已过期" in html and '<span class="badge ok">有效</span>' in html
    assert "当前有效" in html


def test_profile_timeline_shows_an_edit_with_labels(client_for, dept_staff, leader, ref):
    e = EnterpriseFactory(name="柳州时间线测试有限公司", chain=ref["chains"]["auto"])
    client = client_for(dept_staff)
    form = client.get(f"/registry/{e.pk}/edit/").context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"contact_phone": "0772-1234567", "chain": "test-soft", "is_non_public": "on"})
    response = client.post(f"/registry/{e.pk}/edit/", data)
    assert response.status_code == 302
    html = body(client_for(leader).get(f"/registry/{e.pk}/"))
    timeline = html.split('<ol class="timeline">')[1]
    assert "经发局小王" in timeline and "修改" in timeline
    assert "联系电话" in timeline and "0772-1234567" in timeline
    assert "测试·汽车产业链 → 测试·软件产业链" in timeline


def test_profile_links_depend_on_rights(client_for, leader, dept_staff, auditor, ref):
    e = EnterpriseFactory()
    edit, add_q, audit_link = (
        f"/registry/{e.pk}/edit/",
        f"/registry/{e.pk}/qualifications/new/",
        f"/audit/object/registry.enterprise/{e.pk}/",
    )
    staff_html = body(client_for(dept_staff).get(f"/registry/{e.pk}/"))
    assert edit in staff_html and add_q in staff_html and audit_link not in staff_html
    leader_html = body(client_for(leader).get(f"/registry/{e.pk}/"))
    assert edit not in leader_html and add_q not in leader_html
    assert audit_link in body(client_for(auditor).get(f"/registry/{e.pk}/"))
    assert client_for(leader).get(edit).status_code == 404
    assert client_for(leader).get(add_q).status_code == 404


# --- the enterprise user's own profile ---------------------------------------------------------


def test_enterprise_user_sees_and_edits_only_their_own(
    client_for, ent_user, enterprise, other_enterprise, ref
):
    client = client_for(ent_user)
    assert client.get(f"/registry/{enterprise.pk}/").status_code == 200
    for url in (
        f"/registry/{other_enterprise.pk}/",
        f"/registry/{other_enterprise.pk}/edit/",
        f"/registry/{other_enterprise.pk}/delete/",
        f"/registry/{other_enterprise.pk}/qualifications/new/",
        "/registry/new/",
        "/registry/export.xlsx",
    ):
        assert client.get(url).status_code == 404, url
    other_q = QualificationFactory(enterprise=other_enterprise)
    own_q = QualificationFactory(enterprise=enterprise)
    for q in (other_q, own_q):  # qualifications are recorded by staff only
        assert client.get(f"/registry/qualifications/{q.pk}/edit/").status_code == 404
        assert client.post(f"/registry/qualifications/{q.pk}/delete/").status_code == 404


def test_enterprise_user_edits_only_the_allowed_fields(client_for, ent_user, enterprise, ref):
    client = client_for(ent_user)
    industry_before = enterprise.industry_id
    form = client.get(f"/registry/{enterprise.pk}/edit/").context["form"]
    assert set(form.fields) == {
        "contact_name",
        "contact_phone",
        "address",
        "description",
        "sei_category",
    }
    response = client.post(
        f"/registry/{enterprise.pk}/edit/",
        {
            "contact_name": "李四",
            "contact_phone": "13800000000",
            "address": "柳州市高新区1号",
            "description": "汽车零部件",
            "sei_category": "5",
            # Not on the form: ignored even if someone posts them.
            "name": "改名公司",
            "uscc": make_uscc(999),
            "status": "deregistered",
            "industry": "6511",
        },
    )
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.contact_name == "李四" and enterprise.address == "柳州市高新区1号"
    assert enterprise.sei_category.code == "5"
    assert enterprise.sei_status == Enterprise.SeiStatus.DECLARED
    assert enterprise.name == "柳州华创汽车零部件有限公司"
    assert enterprise.status == Enterprise.Status.OPERATING
    assert enterprise.industry_id == industry_before


# --- create / edit / delete -------------------------------------------------------------------


def test_staff_create_enterprise(client_for, dept_staff, ref):
    response = client_for(dept_staff).post(
        "/registry/new/",
        {
            "uscc": make_uscc(777).lower(),
            "name": " 柳州新建测试有限公司 ",
            "former_names": "旧名一\n旧名二",
            "industry": "C3670",
            "status": "operating",
            "founded_on": "2020-01-02",
            "registered_capital": "100.5",
            "chain": "test-auto",
            "chain_position": "leader",
        },
    )
    assert response.status_code == 302
    e = Enterprise.objects.get(uscc=make_uscc(777))
    assert response["Location"] == f"/registry/{e.pk}/"
    assert e.name == "柳州新建测试有限公司" and e.former_name_list == ["旧名一", "旧名二"]
    assert e.industry.code == "3670" and e.chain.code == "test-auto"
    assert e.name_initials == "LZXJCSYXGS"


def test_delete_is_refused_while_users_refer_to_the_enterprise(
    client_for, zone_admin, ent_user, enterprise
):
    client = client_for(zone_admin)
    assert client.get(f"/registry/{enterprise.pk}/delete/").status_code == 200
    unconfirmed = client.post(f"/registry/{enterprise.pk}/delete/")
    assert unconfirmed.status_code == 400 and "确认删除" in body(unconfirmed)
    refused = client.post(f"/registry/{enterprise.pk}/delete/", {"confirm": "yes"})
    assert refused.status_code == 400
    assert "不能删除:仍有1 个用户关联该企业" in body(refused)
    assert Enterprise.objects.filter(pk=enterprise.pk).exists()
    assert not AuditEntry.objects.filter(action="delete").exists()


def test_delete_enterprise_with_its_qualifications(client_for, dept_staff, leader, ref):
    e = EnterpriseFactory(name="待删除公司")
    QualificationFactory(enterprise=e)
    assert (
        client_for(leader).post(f"/registry/{e.pk}/delete/", {"confirm": "yes"}).status_code == 404
    )
    response = client_for(dept_staff).post(f"/registry/{e.pk}/delete/", {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == "/registry/"
    assert not Enterprise.objects.filter(pk=e.pk).exists()
    assert not Qualification.objects.filter(enterprise_id=e.pk).exists()


# --- qualifications ---------------------------------------------------------------------------


def test_add_edit_delete_qualification(client_for, dept_staff, ref):
    e = EnterpriseFactory()
    client = client_for(dept_staff)
    response = client.post(
        f"/registry/{e.pk}/qualifications/new/",
        {"kind": "tech_sme", "recognised_on": "2023-04-10", "certificate_no": "2023450211A0001"},
    )
    assert response.status_code == 302
    q = Qualification.objects.get(enterprise=e)
    assert q.valid_until == dt.date(2023, 12, 31)  # 科技型中小企业: the calendar year
    response = client.post(
        f"/registry/qualifications/{q.pk}/edit/",
        {"kind": "tech_sme", "recognised_on": "2023-04-10", "valid_until": "2023-10-31"},
    )
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.valid_until == dt.date(2023, 10, 31) and q.certificate_no == ""
    assert client.get(f"/registry/qualifications/{q.pk}/delete/").status_code == 200
    response = client.post(f"/registry/qualifications/{q.pk}/delete/", {"confirm": "yes"})
    assert response.status_code == 302 and not Qualification.objects.filter(pk=q.pk).exists()


def test_rd_institution_needs_subtype_and_level(client_for, dept_staff, ref):
    e = EnterpriseFactory()
    page = client_for(dept_staff).post(
        f"/registry/{e.pk}/qualifications/new/",
        {"kind": "rd_institution", "recognised_on": "2021-05-01"},
    )
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert errors["subtype"] == ["研发机构须填写机构类型(如企业技术中心)"]
    assert errors["level"] == ["研发机构须选择级别"]
    ok = client_for(dept_staff).post(
        f"/registry/{e.pk}/qualifications/new/",
        {
            "kind": "rd_institution",
            "recognised_on": "2021-05-01",
            "subtype": "企业技术中心",
            "level": "provincial",
        },
    )
    assert ok.status_code == 302
    html = body(client_for(dept_staff).get(f"/registry/{e.pk}/"))
    assert "研发机构" in html and "自治区级 企业技术中心" in html


# --- industry chains --------------------------------------------------------------------------


def test_chains_page_lists_counts_and_creates_and_edits(client_for, zone_admin, dept_staff, ref):
    EnterpriseFactory(chain=ref["chains"]["auto"])
    EnterpriseFactory(chain=ref["chains"]["auto"])
    client = client_for(zone_admin)
    assert client_for(dept_staff).get("/registry/chains/").status_code == 404
    page = client.get("/registry/chains/")
    rows = {c.code: c.enterprise_count for c in page.context["chains"]}
    assert rows["test-auto"] == 2 and rows["test-soft"] == 0
    response = client.post(
        "/registry/chains/",
        {"code": "test-new", "name": "测试·新材料产业链", "group": "emerging", "sort_order": 9},
    )
    assert response.status_code == 302
    chain = IndustryChain.objects.get(code="test-new")
    assert chain.is_active is False  # an unchecked box means inactive
    response = client.post(
        f"/registry/chains/{chain.pk}/",
        {
            "code": "test-new",
            "name": "测试·新材料产业链",
            "group": "emerging",
            "sort_order": 3,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    chain.refresh_from_db()
    assert chain.is_active and chain.sort_order == 3
    duplicate = client.post(
        "/registry/chains/",
        {"code": "test-auto", "name": "别的名字", "group": "pillar", "sort_order": 0},
    )
    assert duplicate.context["form"].errors["code"] == ["已有代码为“test-auto”的产业链"]


# --- SEI review -------------------------------------------------------------------------------


def test_sei_review_confirm_and_reject(client_for, dept_reviewer, dept_staff, ref):
    a = EnterpriseFactory(
        name="申报甲", sei_category=ref["sei"]["1"], sei_status=Enterprise.SeiStatus.DECLARED
    )
    b = EnterpriseFactory(
        name="申报乙", sei_category=ref["sei"]["2"], sei_status=Enterprise.SeiStatus.DECLARED
    )
    EnterpriseFactory(name="未申报丙")
    client = client_for(dept_reviewer)
    assert client_for(dept_staff).get("/registry/sei-review/").status_code == 404
    page = client.get("/registry/sei-review/")
    assert [e.name for e in page.context["page"]] == ["申报甲", "申报乙"]
    client.post(f"/registry/sei-review/{a.pk}/", {"decision": "confirmed"})
    no_reason = client.post(f"/registry/sei-review/{b.pk}/", {"decision": "rejected"}, follow=True)
    assert "退回时请填写原因" in body(no_reason)
    client.post(f"/registry/sei-review/{b.pk}/", {"decision": "rejected", "reason": "主营不符"})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.sei_status == "confirmed" and b.sei_status == "rejected"
    assert [e.name for e in client.get("/registry/sei-review/").context["page"]] == []
    assert client.get(f"/registry/sei-review/{a.pk}/").status_code == 405


def test_staff_category_is_confirmed_only_by_someone_who_may_review(
    client_for, zone_admin, dept_staff, ref
):
    base = {"status": "operating", "is_non_public": "on", "sei_category": "1"}
    client_for(zone_admin).post("/registry/new/", {**base, "uscc": make_uscc(61), "name": "甲"})
    client_for(dept_staff).post("/registry/new/", {**base, "uscc": make_uscc(62), "name": "乙"})
    assert Enterprise.objects.get(name="甲").sei_status == Enterprise.SeiStatus.CONFIRMED
    assert Enterprise.objects.get(name="乙").sei_status == Enterprise.SeiStatus.DECLARED
    # dept_staff cannot confirm by re-saving: the state only changes with the category.
    e = Enterprise.objects.get(name="乙")
    client = client_for(dept_staff)
    form = client.get(f"/registry/{e.pk}/edit/").context["form"]
    assert "sei_status" not in form.fields
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    client.post(f"/registry/{e.pk}/edit/", {**data, "is_non_public": "on", "contact_name": "x"})
    e.refresh_from_db()
    assert e.sei_status == Enterprise.SeiStatus.DECLARED and e.contact_name == "x"


def test_list_filter_form_keeps_choices_and_explains_a_bad_date(client_for, leader, ref):
    EnterpriseFactory(name="链上公司", chain=ref["chains"]["auto"])
    page = client_for(leader).get("/registry/", {"chain": "test-auto", "on": "2019-02-30"})
    html = body(page)
    assert f'<option value="{ref["chains"]["auto"].pk}" selected>' in html
    assert "日期无效,格式如 2019-12-31;已按今天查询" in html
    assert listed(page) == ["链上公司"]
    assert (
        '<optgroup label="C 制造业">' in html
        and '<option value="36">36 汽车制造业</option>' in html
    )


def test_timeline_of_a_creation_lists_only_the_filled_fields(client_for, dept_staff, leader, ref):
    from gaoxin.registry import services

    e = services.enterprise_create(
        data={
            "uscc": make_uscc(7001),
            "name": "柳州新建档有限公司",
            "contact_phone": "0772-7654321",
        },
        acting_user=dept_staff,
    )
    timeline = body(client_for(leader).get(f"/registry/{e.pk}/")).split('<ol class="timeline">')[1]
    assert "0772-7654321" in timeline and "柳州新建档有限公司" in timeline
    assert "曾用名" not in timeline and "注册地址" not in timeline


@pytest.mark.parametrize(
    "params",
    [{"chain": "²"}, {"grid": "99999999999999999999999"}, {"sei": "٣"}, {"on": "2024-02-30"}],
)
def test_odd_filter_values_never_break_the_list_export_or_api(client_for, leader, params, ref):
    client = client_for(leader)
    assert client.get("/registry/", params).status_code == 200
    assert client.get("/registry/export.xlsx", params).status_code == 200
    assert client.get("/api/registry/enterprises", params).status_code in (200, 422)
