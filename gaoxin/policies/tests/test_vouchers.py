"""Innovation vouchers (创新券) end to end: who qualifies, issuing against the budget, redeeming
exactly once within balance and validity, settling with providers (committed → paid),
releasing what is left after expiry; pages and API scoped to the enterprise; and eight threads
redeeming one voucher at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from gaoxin.accounts.models import User
from gaoxin.accounts.roles import Department, Role
from gaoxin.core.models import AuditEntry
from gaoxin.policies import services
from gaoxin.policies.facts import facts_of
from gaoxin.policies.measures import SHIPPED
from gaoxin.policies.models import (
    Account,
    LedgerEntry,
    Measure,
    Policy,
    Posting,
    Redemption,
    ServiceProvider,
    Voucher,
)
from gaoxin.policies.services.ledger import balances
from gaoxin.registry.models import Qualification
from gaoxin.registry.tests.factories import EnterpriseFactory, QualificationFactory, make_uscc

K = Qualification.Kind
WAN = 10_000 * 100
FROM, TO = dt.date(2019, 1, 1), dt.date(2019, 12, 31)
DAY = dt.date(2019, 6, 1)
THREADS = 8


def voucher_measure(actor, *, budget_fen: int = 100 * WAN, tag: str = "") -> Measure:
    policy = services.policy_create(
        data={
            "title": f"柳州高新区科技创新券管理办法{tag}",
            "issuer": "柳州高新区管委会",
            "doc_number": "柳高管发〔2019〕5号",
            "effective_from": dt.date(2019, 1, 1),
        },
        acting_user=actor,
    )
    measure = services.measure_add(policy=policy, code="innovation_voucher", acting_user=actor)
    services.budget_set(measure=measure, year=2019, amount_fen=budget_fen, acting_user=actor)
    services.policy_set_status(policy=policy, status=Policy.Status.PUBLISHED, acting_user=actor)
    return measure


def tech_sme(enterprise, recognised_on=dt.date(2019, 3, 1), valid_until=dt.date(2019, 12, 31)):
    return QualificationFactory(
        enterprise=enterprise,
        kind=K.TECH_SME,
        recognised_on=recognised_on,
        valid_until=valid_until,
        certificate_no="",
    )


def provider(n: int = 1, **kw) -> ServiceProvider:
    return services.provider_register(
        name=kw.pop("name", f"柳州检验检测中心{n}"),
        uscc=make_uscc(900_000 + n),
        services="检验检测",
        account_bank="柳州银行高新支行",
        account_name=f"柳州检验检测中心{n}",
        account_no=f"62300000{n:08d}",
        acting_user=kw.pop("acting_user", None),
    )


def issue(measure, enterprise, actor, amount_fen=10 * WAN, **kw) -> Voucher:
    return services.voucher_issue(
        enterprise=enterprise,
        measure=measure,
        year=2019,
        amount_fen=amount_fen,
        valid_from=kw.get("valid_from", FROM),
        valid_to=kw.get("valid_to", TO),
        acting_user=actor,
    )


def redeem(voucher, at, actor, contract_no, amount_fen, day=DAY, key=None):
    return services.voucher_redeem(
        voucher=voucher,
        provider=at,
        contract_no=contract_no,
        service="产品检测",
        amount_fen=amount_fen,
        redeemed_on=day,
        acting_user=actor,
        idempotency_key=key,
    )


def ledger_sums_to_zero(measure) -> bool:
    return (Posting.objects.filter(measure=measure).aggregate(s=Sum("amount_fen"))["s"] or 0) == 0


@pytest.fixture
def zone(db, zone_admin, scitech_staff, enterprise, other_enterprise):
    """A published 创新券 measure with 100万 for 2019; the enterprise is a tech SME in 2019,
    the other a high-tech enterprise recognised in 2017 (still valid in 2019); one provider."""
    measure = voucher_measure(zone_admin)
    tech_sme(enterprise)
    QualificationFactory(
        enterprise=other_enterprise,
        recognised_on=dt.date(2017, 10, 1),
        valid_until=dt.date(2020, 9, 30),
    )
    return {"measure": measure, "provider": provider(acting_user=zone_admin)}


# --- who qualifies --------------------------------------------------------------------------------


def test_a_tech_sme_or_a_valid_high_tech_enterprise_qualifies(zone, enterprise, other_enterprise):
    ours, theirs = facts_of(enterprise, 2019), facts_of(other_enterprise, 2019)
    assert (ours["tech_sme"], ours["hte_valid"]) == (True, False)
    # Recognised in 2017: not a 2019 recognition, but a certificate valid in 2019.
    assert (theirs["tech_sme"], theirs["hte_valid"], theirs["hte_recognised"]) == (
        False,
        True,
        False,
    )
    assert facts_of(enterprise, 2020)["tech_sme"] is False  # registered for 2019 only
    spec = SHIPPED["innovation_voucher"]
    assert not spec.reviewer_sets_amount
    for facts, expected in (
        ({"tech_sme": True, "hte_valid": False}, (True, 10 * WAN)),
        ({"tech_sme": False, "hte_valid": True}, (True, 10 * WAN)),
        ({"tech_sme": False, "hte_valid": False}, (False, 0)),
        ({"tech_sme": None, "hte_valid": None}, (False, 0)),
    ):
        decision = spec.rule.decide(facts, spec.defaults)
        assert (decision.eligible, decision.amount_fen) == expected


# --- issuing --------------------------------------------------------------------------------------


def test_issuing_commits_the_amount_and_numbers_the_voucher(zone, scitech_staff, enterprise):
    measure = zone["measure"]
    voucher = issue(measure, enterprise, scitech_staff)
    assert voucher.number == "CXQ-2019-000001"
    assert (voucher.amount_fen, voucher.balance_fen, voucher.status) == (
        10 * WAN,
        10 * WAN,
        "active",
    )
    b = balances(measure, 2019)
    assert (b[Account.COMMITTED], b[Account.AVAILABLE]) == (10 * WAN, 90 * WAN)
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.COMMIT, voucher=voucher)
    assert entry.measure == measure
    assert AuditEntry.objects.filter(
        model="policies.voucher", object_id=str(voucher.pk), enterprise_id=enterprise.pk
    ).exists()


def test_issuing_beyond_the_budget_is_refused(
    zone_admin, scitech_staff, enterprise, other_enterprise
):
    measure = voucher_measure(zone_admin, budget_fen=15 * WAN)
    tech_sme(enterprise)
    tech_sme(other_enterprise)
    issue(measure, enterprise, scitech_staff)
    with pytest.raises(ValidationError) as refused:
        issue(measure, other_enterprise, scitech_staff)
    assert "超出预算" in refused.value.message_dict["amount_fen"][0]
    assert "50,000.00元" in refused.value.message_dict["amount_fen"][0]  # what is left
    assert Voucher.objects.count() == 1
    assert balances(measure, 2019)[Account.COMMITTED] == 10 * WAN
    # What is left can still be issued.
    issue(measure, other_enterprise, scitech_staff, 5 * WAN)
    assert balances(measure, 2019)[Account.AVAILABLE] == 0


def test_issuing_is_refused_to_whom_the_rule_does_not_grant(
    zone, zone_admin, scitech_staff, enterprise
):
    measure = zone["measure"]
    with pytest.raises(ValidationError, match="科技型中小企业或高新技术企业"):
        issue(measure, EnterpriseFactory(), scitech_staff)
    issue(measure, enterprise, scitech_staff, 6 * WAN)
    with pytest.raises(ValidationError) as over:  # 6万 + 5万 > the 10万 a year the rule grants
        issue(measure, enterprise, scitech_staff, 5 * WAN)
    assert "额度" in over.value.message_dict["amount_fen"][0]
    issue(measure, enterprise, scitech_staff, 4 * WAN)
    assert [v.number for v in Voucher.objects.order_by("number")] == [
        "CXQ-2019-000001",
        "CXQ-2019-000002",
    ]
    with pytest.raises(ValidationError) as bad:
        issue(measure, enterprise, scitech_staff, 0, valid_from=TO, valid_to=FROM)
    assert set(bad.value.message_dict) == {"amount_fen", "valid_to"}
    other = services.measure_add(policy=measure.policy, code="gazelle", acting_user=zone_admin)
    with pytest.raises(ValidationError, match="不是创新券条款"):
        issue(other, enterprise, scitech_staff)
    services.policy_set_status(
        policy=measure.policy, status=Policy.Status.WITHDRAWN, acting_user=zone_admin
    )
    with pytest.raises(ValidationError, match="未发布或已废止"):
        issue(Measure.objects.get(pk=measure.pk), enterprise, scitech_staff)


# --- redeeming ------------------------------------------------------------------------------------


def test_redeeming_within_balance_and_validity_exactly_once(zone, scitech_staff, enterprise):
    voucher = issue(zone["measure"], enterprise, scitech_staff)
    at = zone["provider"]
    first, created = redeem(voucher, at, scitech_staff, "HT-2019-001", 4 * WAN)
    assert created and Voucher.objects.get(pk=voucher.pk).redeemed_fen == 4 * WAN
    again, created = redeem(voucher, at, scitech_staff, "HT-2019-001", 4 * WAN)
    assert (again.pk, created) == (first.pk, False)
    assert Voucher.objects.get(pk=voucher.pk).redeemed_fen == 4 * WAN  # not drawn twice
    with pytest.raises(ValidationError, match="不能改为"):
        redeem(voucher, at, scitech_staff, "HT-2019-001", 5 * WAN)

    with pytest.raises(ValidationError) as beyond:  # 4万 used, 7万 asked of the 6万 left
        redeem(voucher, at, scitech_staff, "HT-2019-002", 7 * WAN)
    assert "余额不足" in beyond.value.message_dict["amount_fen"][0]
    with pytest.raises(ValidationError) as late:
        redeem(voucher, at, scitech_staff, "HT-2019-003", WAN, day=dt.date(2020, 1, 1))
    assert "有效期" in late.value.message_dict["amount_fen"][0]
    with pytest.raises(ValidationError, match="有效期"):
        redeem(voucher, at, scitech_staff, "HT-2019-004", WAN, day=dt.date(2018, 12, 31))
    assert Redemption.objects.count() == 1  # the refused ones left nothing behind

    redeem(voucher, at, scitech_staff, "HT-2019-002", 6 * WAN)  # exactly the balance
    voucher.refresh_from_db()
    assert (voucher.redeemed_fen, voucher.balance_fen) == (10 * WAN, 0)
    with pytest.raises(ValidationError, match="余额不足"):
        redeem(voucher, at, scitech_staff, "HT-2019-005", 1)
    assert (
        AuditEntry.objects.filter(model="policies.redemption", enterprise_id=enterprise.pk).count()
        == 2
    )


def test_a_stopped_provider_cannot_redeem(zone, scitech_staff, enterprise):
    voucher = issue(zone["measure"], enterprise, scitech_staff)
    ServiceProvider.objects.filter(pk=zone["provider"].pk).update(active=False)
    with pytest.raises(ValidationError, match="已停用"):
        redeem(
            voucher, ServiceProvider.objects.get(pk=zone["provider"].pk), scitech_staff, "X", WAN
        )


def test_providers_are_registered_once_with_clear_errors(zone, zone_admin):
    with pytest.raises(ValidationError) as bad:
        services.provider_register(
            name="",
            uscc="123",
            account_bank="",
            account_name="",
            account_no="62-30",
            acting_user=zone_admin,
        )
    assert set(bad.value.message_dict) == {
        "name",
        "uscc",
        "account_bank",
        "account_name",
        "account_no",
    }
    with pytest.raises(ValidationError, match="已登记"):
        provider(1, acting_user=zone_admin)


# --- settling and releasing -----------------------------------------------------------------------


def test_settlement_pays_committed_to_paid_once(
    zone, scitech_staff, payer, enterprise, other_enterprise
):
    measure, at = zone["measure"], zone["provider"]
    elsewhere = provider(2)
    ours = issue(measure, enterprise, scitech_staff)
    theirs = issue(measure, other_enterprise, scitech_staff)
    redeem(ours, at, scitech_staff, "HT-1", 3 * WAN)
    redeem(theirs, at, scitech_staff, "HT-2", 2 * WAN)
    redeem(theirs, elsewhere, scitech_staff, "HT-3", WAN)

    with pytest.raises(ValidationError, match="登记人"):  # who records does not pay
        services.settlement_create(
            provider=at, paid_on=DAY, bank_reference="", acting_user=scitech_staff
        )
    settlement = services.settlement_create(
        provider=at, paid_on=dt.date(2019, 7, 1), bank_reference="B-001", acting_user=payer
    )
    assert settlement.total_fen == 5 * WAN
    assert set(settlement.redemptions.values_list("contract_no", flat=True)) == {"HT-1", "HT-2"}
    assert Redemption.objects.get(contract_no="HT-3").settlement is None  # another provider's
    b = balances(measure, 2019)
    assert (b[Account.PAID], b[Account.COMMITTED], b[Account.AVAILABLE]) == (
        5 * WAN,
        15 * WAN,
        80 * WAN,
    )
    # One payment entry per voucher settled, so the money is attributed to its holder.
    payments = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT)
    settled_vouchers = set(settlement.redemptions.values_list("voucher_id", flat=True))
    assert set(payments.values_list("voucher_id", flat=True)) == settled_vouchers
    assert ledger_sums_to_zero(measure)
    with pytest.raises(ValidationError, match="没有待结算"):
        services.settlement_create(provider=at, paid_on=DAY, bank_reference="", acting_user=payer)
    assert balances(measure, 2019)[Account.PAID] == 5 * WAN
    assert AuditEntry.objects.filter(model="policies.settlement").count() == 1


def test_release_after_expiry_returns_the_rest_to_the_budget_once(zone, scitech_staff, enterprise):
    measure = zone["measure"]
    voucher = issue(measure, enterprise, scitech_staff)
    redeem(voucher, zone["provider"], scitech_staff, "HT-1", 3 * WAN)
    with pytest.raises(ValidationError, match="到期后"):
        services.voucher_release(voucher=voucher, acting_user=scitech_staff, today=TO)
    services.voucher_release(voucher=voucher, acting_user=scitech_staff, today=dt.date(2020, 1, 2))
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.RELEASED
    b = balances(measure, 2019)
    assert (b[Account.COMMITTED], b[Account.AVAILABLE]) == (3 * WAN, 97 * WAN)
    release = LedgerEntry.objects.get(kind=LedgerEntry.Kind.RELEASE)
    assert release.voucher == voucher
    assert ledger_sums_to_zero(measure)
    with pytest.raises(ValidationError, match="已收回"):
        services.voucher_release(
            voucher=voucher, acting_user=scitech_staff, today=dt.date(2020, 1, 3)
        )
    with pytest.raises(ValidationError, match="已收回余额"):  # a late record of an old contract
        redeem(voucher, zone["provider"], scitech_staff, "HT-2", WAN, day=dt.date(2019, 12, 1))
    assert balances(measure, 2019)[Account.AVAILABLE] == 97 * WAN


# --- pages ----------------------------------------------------------------------------------------


def test_staff_issue_redeem_and_settle_through_the_pages(
    zone, zone_admin, scitech_staff, payer, enterprise, client_for, django_assert_max_num_queries
):
    measure = zone["measure"]
    staff = client_for(scitech_staff)
    page = staff.get("/policies/vouchers/issue/")
    assert page.status_code == 200 and "100,000.00" in page.content.decode()  # the rule's amount
    bad = staff.post(
        "/policies/vouchers/issue/",
        {
            "enterprise": "不存在的公司",
            "measure": measure.pk,
            "year": "2019",
            "amount": "十万",
            "valid_from": "2019-01-01",
            "valid_to": "2019/12/31",
        },
    )
    text = bad.content.decode()
    assert "没有找到企业" in text and "不是金额" in text and "日期格式应为" in text
    over = staff.post(
        "/policies/vouchers/issue/",
        {
            "enterprise": enterprise.uscc,
            "measure": measure.pk,
            "year": "2019",
            "amount": "120,000",
            "valid_from": "2019-01-01",
            "valid_to": "2019-12-31",
        },
    )
    assert "额度" in over.content.decode() and not Voucher.objects.exists()
    done = staff.post(
        "/policies/vouchers/issue/",
        {
            "enterprise": enterprise.name,
            "measure": measure.pk,
            "year": "2019",
            "amount": "100,000",
            "valid_from": "2019-01-01",
            "valid_to": "2019-12-31",
        },
    )
    voucher = Voucher.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/policies/vouchers/{voucher.pk}/"
    assert voucher.amount_fen == 10 * WAN

    form = {
        "provider": zone["provider"].pk,
        "contract_no": "HT-2019-001",
        "service": "检验检测",
        "amount": "30,000.50",
        "redeemed_on": "2019-06-01",
    }
    assert staff.post(f"/policies/vouchers/{voucher.pk}/redeem/", form).status_code == 302
    assert staff.post(f"/policies/vouchers/{voucher.pk}/redeem/", form).status_code == 302
    voucher.refresh_from_db()
    assert voucher.redeemed_fen == 3_000_050  # the second post changed nothing
    beyond = staff.post(
        f"/policies/vouchers/{voucher.pk}/redeem/",
        {**form, "contract_no": "HT-2019-002", "amount": "80,000"},
    )
    assert "余额不足" in beyond.content.decode()

    listed = staff.get("/policies/vouchers/", {"q": "华创", "status": "active", "year": "2019"})
    assert voucher.number in listed.content.decode()
    for miss in ({"q": "东城"}, {"status": "released"}, {"year": "2020"}):
        assert voucher.number not in staff.get("/policies/vouchers/", miss).content.decode()
    for _ in range(5):  # the list costs the same whatever its length
        more = EnterpriseFactory()
        tech_sme(more)
        issue(measure, more, zone_admin, WAN)
    with django_assert_max_num_queries(8):
        many = staff.get("/policies/vouchers/")
    assert many.content.decode().count("CXQ-2019-") == 6
    detail = staff.get(f"/policies/vouchers/{voucher.pk}/").content.decode()
    assert "HT-2019-001" in detail and "69,999.50" in detail  # the balance

    assert (
        staff.get(f"/policies/vouchers/providers/{zone['provider'].pk}/settlement/").status_code
        == 404
    )
    cashier = client_for(payer)
    settle_url = f"/policies/vouchers/providers/{zone['provider'].pk}/settlement/"
    page = cashier.get(settle_url).content.decode()
    assert "HT-2019-001" in page and "30,000.50" in page
    assert "日期格式应为" in cashier.post(settle_url, {"paid_on": "7/1"}).content.decode()
    shown = list(Redemption.objects.filter(settlement__isnull=True).values_list("pk", flat=True))
    # The payer settles what the page showed; if a redemption was recorded since, it refuses.
    stale = cashier.post(
        settle_url, {"paid_on": "2019-07-01", "bank_reference": "B1", "redemptions": shown[:-1]}
    )
    assert "已有变化" in stale.content.decode()
    settled = cashier.post(
        settle_url, {"paid_on": "2019-07-01", "bank_reference": "B1", "redemptions": shown}
    )
    assert settled.status_code == 302
    assert balances(measure, 2019)[Account.PAID] == 3_000_050
    assert "没有待结算" in cashier.post(settle_url, {"paid_on": "2019-07-02"}).content.decode()


def test_providers_page_registers_with_errors_next_to_fields(
    zone, scitech_staff, leader, client_for
):
    staff = client_for(scitech_staff)
    listing = staff.get("/policies/vouchers/providers/").content.decode()
    assert zone["provider"].name in listing and "登记服务机构" in listing
    bad = staff.post("/policies/vouchers/providers/new/", {"name": "新机构", "uscc": "X1"})
    text = bad.content.decode()
    assert "统一社会信用代码应为18位" in text and "请填写开户银行" in text
    ok = staff.post(
        "/policies/vouchers/providers/new/",
        {
            "name": "柳州知识产权代理有限公司",
            "uscc": make_uscc(777),
            "account_bank": "工商银行",
            "account_name": "柳州知识产权代理有限公司",
            "account_no": "6222 0000 1111",
        },
    )
    assert ok.status_code == 302
    assert ServiceProvider.objects.get(uscc=make_uscc(777)).account_no == "622200001111"
    reader = client_for(leader)
    assert "登记服务机构" not in reader.get("/policies/vouchers/providers/").content.decode()
    assert reader.post("/policies/vouchers/providers/new/", {"name": "x"}).status_code == 404


def test_an_enterprise_sees_only_its_own_vouchers(
    zone, scitech_staff, enterprise, other_enterprise, ent_user, other_ent_user, client_for
):
    ours = issue(zone["measure"], enterprise, scitech_staff)
    theirs = issue(zone["measure"], other_enterprise, scitech_staff, 8 * WAN)
    redeem(ours, zone["provider"], scitech_staff, "HT-1", 25_000 * 100)
    client = client_for(ent_user)
    mine = client.get("/policies/vouchers/mine/").content.decode()
    assert ours.number in mine and theirs.number not in mine
    assert "75,000.00" in mine  # what is left
    assert client.get(f"/policies/vouchers/{ours.pk}/").status_code == 200
    assert client.get(f"/policies/vouchers/{theirs.pk}/").status_code == 404
    assert client.get("/policies/vouchers/").status_code == 404
    assert client.post(f"/policies/vouchers/{ours.pk}/redeem/", {}).status_code == 404
    other = client_for(other_ent_user)
    assert other.get(f"/policies/vouchers/{ours.pk}/").status_code == 404
    assert ours.number not in other.get("/policies/vouchers/mine/").content.decode()


def test_anonymous_is_sent_to_login_for_every_voucher_page(zone, scitech_staff, enterprise, client):
    voucher = issue(zone["measure"], enterprise, scitech_staff)
    for url in (
        "/policies/vouchers/",
        "/policies/vouchers/mine/",
        f"/policies/vouchers/{voucher.pk}/",
        f"/policies/vouchers/providers/{zone['provider'].pk}/settlement/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.get(f"/api/policies/vouchers/{voucher.pk}")
    assert response.status_code == 401


def test_staff_release_an_expired_voucher_from_its_page(
    zone, scitech_staff, enterprise, ent_user, client_for
):
    voucher = issue(zone["measure"], enterprise, scitech_staff)  # valid to 2019-12-31: expired
    url = f"/policies/vouchers/{voucher.pk}/release/"
    assert client_for(ent_user).post(url).status_code == 404
    assert (
        "收回余额"
        not in client_for(ent_user).get(f"/policies/vouchers/{voucher.pk}/").content.decode()
    )
    staff = client_for(scitech_staff)
    assert url in staff.get(f"/policies/vouchers/{voucher.pk}/").content.decode()
    assert staff.get(url).status_code == 405
    assert staff.post(url).status_code == 302
    assert Voucher.objects.get(pk=voucher.pk).status == Voucher.Status.RELEASED
    assert balances(zone["measure"], 2019)[Account.AVAILABLE] == 100 * WAN
    again = staff.post(url, follow=True).content.decode()
    assert "已收回" in again and url not in again


# --- API ------------------------------------------------------------------------------------------


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_api_scopes_vouchers_to_the_enterprise(
    zone, scitech_staff, leader, enterprise, other_enterprise, ent_user, other_ent_user, client_for
):
    ours = issue(zone["measure"], enterprise, scitech_staff)
    theirs = issue(zone["measure"], other_enterprise, scitech_staff)
    staff = client_for(leader).get("/api/policies/vouchers").json()
    assert {v["number"] for v in staff["items"]} == {ours.number, theirs.number}
    only = client_for(leader).get("/api/policies/vouchers", {"enterprise": "华创"}).json()
    assert [v["number"] for v in only["items"]] == [ours.number]
    listed = client_for(ent_user).get("/api/policies/vouchers").json()
    assert [v["number"] for v in listed["items"]] == [ours.number]
    assert listed["items"][0]["balance_fen"] == 10 * WAN
    one = client_for(ent_user).get(f"/api/policies/vouchers/{ours.pk}")
    assert one.status_code == 200 and one.json()["redemptions"] == []
    assert client_for(ent_user).get(f"/api/policies/vouchers/{theirs.pk}").status_code == 404
    assert client_for(other_ent_user).get(f"/api/policies/vouchers/{ours.pk}").status_code == 404
    assert client_for(ent_user).get("/api/policies/vouchers/providers").status_code == 404
    # Not swallowed by /api/policies/{policy_id}:
    assert client_for(leader).get("/api/policies/vouchers/providers").status_code == 200


def test_api_issues_redeems_idempotently_and_settles(
    zone, zone_admin, scitech_staff, payer, leader, enterprise, client_for
):
    staff = client_for(scitech_staff)
    refused = post(
        client_for(leader),
        "/api/policies/vouchers",
        {"enterprise_id": enterprise.pk, "measure_id": zone["measure"].pk},
    )
    assert refused.status_code == 404
    body = {
        "enterprise_id": enterprise.pk,
        "measure_id": zone["measure"].pk,
        "year": 2019,
        "amount_fen": 10 * WAN,
        "valid_from": "2019-01-01",
        "valid_to": "2019-12-31",
    }
    created = post(staff, "/api/policies/vouchers", body)
    assert created.status_code == 201 and created.json()["number"] == "CXQ-2019-000001"
    over = post(staff, "/api/policies/vouchers", {**body, "amount_fen": WAN})
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount_fen"
    voucher_id = created.json()["id"]

    url = f"/api/policies/vouchers/{voucher_id}/redemptions"
    redemption = {
        "provider_id": zone["provider"].pk,
        "contract_no": "HT-API-1",
        "service": "研发设计",
        "amount_fen": 2 * WAN,
        "redeemed_on": "2019-06-01",
    }
    first = post(staff, url, redemption, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    again = post(staff, url, redemption, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    reused = post(staff, url, {**redemption, "contract_no": "HT-API-2"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "idempotency_key"
    assert Redemption.objects.get().idempotency_key == f"api:{scitech_staff.pk}:k-1"
    assert Voucher.objects.get(pk=voucher_id).redeemed_fen == 2 * WAN
    # Another user's "k-1" is another key.
    theirs = post(
        client_for(zone_admin),
        url,
        {**redemption, "contract_no": "HT-API-4", "amount_fen": WAN},
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    too_long = post(
        staff, url, {**redemption, "contract_no": "HT-5"}, HTTP_IDEMPOTENCY_KEY="k" * 81
    )
    assert too_long.status_code == 422
    assert Voucher.objects.get(pk=voucher_id).redeemed_fen == 3 * WAN
    beyond = post(staff, url, {**redemption, "contract_no": "HT-API-3", "amount_fen": 9 * WAN})
    assert beyond.status_code == 422 and "余额不足" in beyond.json()["errors"][0]["message"]

    settle = f"/api/policies/vouchers/providers/{zone['provider'].pk}/settlements"
    assert post(staff, settle, {"paid_on": "2019-07-01"}).status_code == 404
    paid = post(client_for(payer), settle, {"paid_on": "2019-07-01", "bank_reference": "B-9"})
    assert paid.status_code == 201
    assert paid.json()["total_fen"] == 3 * WAN
    assert paid.json()["redemptions"] == [first.json()["id"], theirs.json()["id"]]
    assert post(client_for(payer), settle, {"paid_on": "2019-07-02"}).status_code == 422
    assert balances(zone["measure"], 2019)[Account.PAID] == 3 * WAN


# --- reliability ----------------------------------------------------------------------------------


def people(tag: str = "") -> dict[str, User]:
    def make(name: str, **kw) -> User:
        return User.objects.create_user(username=f"{name}{tag}", password="pw", **kw)

    return {
        "admin": make("admin", role=Role.ZONE_ADMIN),
        "approver": make("approver", role=Role.DEPT_STAFF, department=Department.SCITECH),
    }


def race(voucher_pk: int, at: ServiceProvider, who: User, contracts: list[str], amount: int):
    """Every thread redeems at once; returns what each got: created, same or the refusal."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def go(i: int) -> None:
        try:
            mine = Voucher.objects.get(pk=voucher_pk)
            barrier.wait(timeout=10)
            _, created = redeem(mine, at, who, contracts[i], amount)
            result = "created" if created else "same"
        except ValidationError as exc:
            result = "refused: " + " ".join(exc.messages)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == THREADS
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_eight_threads_redeeming_different_contracts_never_pass_the_balance():
    who = people()
    measure = voucher_measure(who["admin"])
    enterprise = EnterpriseFactory()
    tech_sme(enterprise)
    at = provider(1, acting_user=who["admin"])
    voucher = issue(measure, enterprise, who["approver"])  # 10万
    outcomes = race(voucher.pk, at, who["approver"], [f"HT-{i}" for i in range(THREADS)], 3 * WAN)
    assert outcomes.count("created") == 3, outcomes  # 3 × 3万 fit in 10万, a fourth does not
    assert all("余额不足" in o for o in outcomes if o != "created"), outcomes
    voucher.refresh_from_db()
    assert voucher.redeemed_fen == 9 * WAN <= voucher.amount_fen
    assert Redemption.objects.filter(voucher=voucher).count() == 3
    assert Redemption.objects.aggregate(s=Sum("amount_fen"))["s"] == voucher.redeemed_fen


@pytest.mark.django_db(transaction=True)
def test_eight_threads_redeeming_the_same_contract_redeem_it_once():
    who = people()
    measure = voucher_measure(who["admin"])
    enterprise = EnterpriseFactory()
    tech_sme(enterprise)
    at = provider(1, acting_user=who["admin"])
    voucher = issue(measure, enterprise, who["approver"])
    outcomes = race(voucher.pk, at, who["approver"], ["HT-SAME"] * THREADS, 3 * WAN)
    assert outcomes.count("created") == 1, outcomes
    assert outcomes.count("same") == THREADS - 1, outcomes
    voucher.refresh_from_db()
    assert voucher.redeemed_fen == 3 * WAN
    assert Redemption.objects.filter(voucher=voucher).count() == 1
