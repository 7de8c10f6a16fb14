"""The policy pages: a manager creates a policy, adds measures, changes a parameter, sets a
budget and runs the what-if; others read; amounts are typed and shown in 元."""

from __future__ import annotations

import pytest

from gaoxin.core.models import AuditEntry
from gaoxin.policies.models import Measure, Policy
from gaoxin.policies.tests.test_facts import WAN

pytestmark = pytest.mark.django_db


def test_a_manager_builds_a_policy_and_runs_the_what_if(policy_zone, zone_admin, client_for):
    client = client_for(zone_admin)
    bad = client.post(
        "/policies/new/", {"title": "", "issuer": "管委会", "effective_from": "2019/1/1"}
    )
    assert "请填写政策名称" in bad.content.decode() and "日期格式应为" in bad.content.decode()
    assert not Policy.objects.exists()
    created = client.post(
        "/policies/new/",
        {"title": "科技创新扶持", "issuer": "柳州高新区管委会", "effective_from": "2019-01-01"},
    )
    policy = Policy.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/policies/{policy.pk}/"
    for code, cap in (("hte_recognition", ""), ("rd_subsidy", "1,500,000")):
        client.post(f"/policies/{policy.pk}/measures/", {"code": code, "cap": cap})
    rd = Measure.objects.get(code="rd_subsidy")
    assert rd.cap_fen == 150 * WAN
    hte = Measure.objects.get(code="hte_recognition")
    # Money parameters are typed in 元; a bad value is refused with its reason.
    refused = client.post(
        f"/policies/{policy.pk}/measures/{hte.pk}/params/",
        {"first_fen": "二十万", "again_fen": "100000"},
        follow=True,
    )
    assert "不是金额" in refused.content.decode()
    client.post(
        f"/policies/{policy.pk}/measures/{hte.pk}/params/",
        {"first_fen": "250,000.00", "again_fen": "100000"},
    )
    assert hte.current().params["first_fen"] == 25 * WAN and hte.current().number == 2
    client.post(
        f"/policies/{policy.pk}/measures/{hte.pk}/budget/", {"year": "2019", "amount": "300000"}
    )
    page = client.get(f"/policies/{policy.pk}/?year=2019&whatif=1").content.decode()
    # E first time (25万) + A again (10万) = 35万 against a budget of 30万.
    assert "35.00" in page and "超出预算" in page
    assert "250,000.00" in page  # the parameter as typed, in 元
    assert AuditEntry.objects.filter(model__startswith="policies.").count() >= 5


def test_readers_see_policies_but_cannot_change_them(leader, zone_admin, client_for):
    policy = Policy.objects.create(
        title="科技创新扶持", issuer="管委会", effective_from="2019-01-01"
    )
    page = client_for(leader).get(f"/policies/{policy.pk}/").content.decode()
    assert "科技创新扶持" in page and "添加条款" not in page
    assert (
        client_for(leader).post(f"/policies/{policy.pk}/measures/", {"code": "gazelle"}).status_code
        == 404
    )
    assert "政策资金" in client_for(leader).get("/").content.decode()  # in the menu


def test_the_api_gives_policies_and_the_what_if(policy_zone, zone_admin, leader, client_for):
    from gaoxin.policies import services

    policy = services.policy_create(
        data={"title": "科技创新扶持", "issuer": "管委会", "effective_from": "2019-01-01"},
        acting_user=zone_admin,
    )
    measure = services.measure_add(policy=policy, code="loan_interest", acting_user=zone_admin)
    services.budget_set(measure=measure, year=2019, amount_fen=100 * WAN, acting_user=zone_admin)
    listed = client_for(leader).get("/api/policies").json()
    assert listed[0]["measures"][0]["params"] == {"share_pct": 50, "cap_fen": 50 * WAN}
    assert listed[0]["measures"][0]["budgets"] == [{"year": 2019, "amount_fen": 100 * WAN}]
    rows = client_for(leader).get(f"/api/policies/{policy.pk}/what-if?year=2019").json()
    assert rows == [
        {
            "measure_id": measure.pk,
            "code": "loan_interest",
            "name": "贷款贴息",
            "version": 1,
            "beneficiaries": 1,
            "total_fen": 20 * WAN,
            "budget_fen": 100 * WAN,
            "remaining_fen": 80 * WAN,
            "over_budget": False,
            "amount_set_by_reviewer": False,
        }
    ]


def test_an_enterprise_sees_what_it_would_get_and_why(policy_zone, zone_admin, client_for):
    from gaoxin.accounts.models import User
    from gaoxin.accounts.roles import Role
    from gaoxin.policies import services

    policy = services.policy_create(
        data={"title": "科技创新扶持", "issuer": "管委会", "effective_from": "2019-01-01"},
        acting_user=zone_admin,
    )
    services.measure_add(policy=policy, code="loan_interest", acting_user=zone_admin)
    services.measure_add(policy=policy, code="rd_subsidy", acting_user=zone_admin)
    a = policy_zone["A"]
    clerk = User.objects.create_user(
        username="qiye_a", password="x", role=Role.ENTERPRISE, enterprise=a
    )
    client = client_for(clerk)
    assert "目前没有已发布的政策" in client.get("/policies/mine/?year=2019").content.decode()
    services.policy_set_status(policy=policy, status="published", acting_user=zone_admin)
    page = client.get("/policies/mine/?year=2019").content.decode()
    # A pays 40万 interest in a zone chain: 20万; no R&D report for 2018, so no increase yet.
    assert "200,000.00" in page and "暂不符合" in page
    assert "当年实际支付贷款利息(元):400,000.00" in page
    assert '上年研发经费内部支出(元):<span class="muted">无数据' in page
    assert "可享政策" in page  # in the menu
    api = client.get("/api/policies/preview?year=2019").json()
    by_code = {r["code"]: r for r in api}
    assert by_code["loan_interest"]["amount_fen"] == 20 * WAN
    assert by_code["loan_interest"]["inputs"] == {"in_chain": True, "interest_paid": 40 * WAN}
    assert by_code["rd_subsidy"]["eligible"] is False
    assert client_for(zone_admin).get("/api/policies/preview?year=2019").status_code == 404
