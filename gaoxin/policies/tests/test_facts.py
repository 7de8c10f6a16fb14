"""From the records to the facts the measures read, to decisions: a hand-built zone, checked
fact by fact, and the one-enterprise path giving the same facts as the whole-zone frame."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from gaoxin.core.models import AuditEntry
from gaoxin.indicators.tests.test_indicators import accept
from gaoxin.policies import services
from gaoxin.policies.facts import SCHEMA, enterprise_facts, facts_of
from gaoxin.policies.measures import SHIPPED
from gaoxin.registry.models import IndustryCategory, Qualification
from gaoxin.registry.tests.factories import QualificationFactory

K = Qualification.Kind
WAN = 10_000 * 100


def science(rd_wan: int, revenue_wan: int) -> dict:
    return {
        "revenue": str(revenue_wan * 10),  # the form is in 千元
        "main_revenue": str(revenue_wan * 10),
        "rd_spend": str(rd_wan * 10),
        "rd_personnel": "30",
        "has_rd_institution": "是",
        "patents_applied": "3",
        "patents_granted": "1",
        "employees": "300",
    }


@pytest.fixture
def policy_zone(zone, dept_reviewer):
    """On top of the indicator tests' zone (A, B above scale in 2018 and 2019, C new in 2019,
    D dropped out, E never; A and C in the auto-parts chain):
    - E a software firm (not industrial);
    - high-tech: E recognised for the first time in 2019, A again in 2019 (first in 2016);
    - science reports: B's R&D went from 200万 to 300万 on revenue of 1亿 (exactly 3%);
      A reported only in 2019;
    - A pays 40万 of interest in 2019 on a registered loan, and some in 2018."""
    a, b, e = zone["A"], zone["B"], zone["E"]
    e.industry = IndustryCategory.objects.get(code="6511")
    e.save(update_fields=["industry"])
    hte = {"kind": K.HIGH_TECH, "certificate_no": ""}
    QualificationFactory(
        enterprise=e, recognised_on=dt.date(2019, 10, 1), valid_until=dt.date(2022, 9, 30), **hte
    )
    QualificationFactory(
        enterprise=a, recognised_on=dt.date(2016, 10, 1), valid_until=dt.date(2019, 9, 30), **hte
    )
    QualificationFactory(
        enterprise=a, recognised_on=dt.date(2019, 10, 1), valid_until=dt.date(2022, 9, 30), **hte
    )
    accept(b, 2018, None, science(200, 10_000), dept_reviewer)
    accept(b, 2019, None, science(300, 10_000), dept_reviewer)
    accept(a, 2019, None, science(100, 50_000), dept_reviewer)
    loan = services.loan_register(
        enterprise=a,
        bank="柳州银行",
        contract_no="LZ-2019-001",
        principal_fen=1_000 * WAN,
        annual_rate_bp=435,
        start_on=dt.date(2018, 6, 1),
        end_on=dt.date(2021, 5, 31),
        acting_user=dept_reviewer,
    )
    services.interest_payment_record(
        loan=loan, paid_on=dt.date(2018, 12, 20), amount_fen=20 * WAN, acting_user=dept_reviewer
    )
    for day in (dt.date(2019, 6, 20), dt.date(2019, 12, 20)):
        services.interest_payment_record(
            loan=loan, paid_on=day, amount_fen=20 * WAN, acting_user=dept_reviewer
        )
    return zone


def test_facts_of_a_hand_built_zone(policy_zone):
    z = policy_zone
    frame = enterprise_facts(2019)
    assert frame.schema == SCHEMA
    rows = {r["enterprise_id"]: r for r in frame.to_dicts()}
    a, b, c, d, e = (rows[z[x].pk] for x in "ABCDE")
    assert [r["is_industrial"] for r in (a, b, c, d, e)] == [True, True, True, True, False]
    assert [r["above_scale"] for r in (a, b, c, d, e)] == [True, True, True, False, False]
    assert [r["above_scale_last_year"] for r in (a, b, c, d, e)] == [True, True, False, True, False]
    assert (a["in_chain"], b["in_chain"]) == (True, False)
    assert (a["hte_recognised"], a["hte_first_time"]) == (True, False)
    assert (e["hte_recognised"], e["hte_first_time"]) == (True, True)
    assert b["hte_recognised"] is False  # B's certificate dates from 2018
    assert (b["rd_spend"], b["rd_spend_last_year"], b["revenue"]) == (
        300 * WAN,
        200 * WAN,
        10_000 * WAN,
    )
    assert (a["rd_spend"], a["rd_spend_last_year"]) == (100 * WAN, None)  # not reported in 2018
    assert (a["interest_paid"], b["interest_paid"]) == (40 * WAN, None)  # 2019's payments only


def test_one_enterprise_gets_the_facts_the_whole_zone_frame_has(policy_zone):
    frame = {r["enterprise_id"]: r for r in enterprise_facts(2019).to_dicts()}
    for enterprise in policy_zone.values():
        assert facts_of(enterprise, 2019) == frame[enterprise.pk]


def test_records_to_decisions(policy_zone):
    """What the shipped measures decide for the zone, both ways."""
    z = policy_zone
    frame = enterprise_facts(2019)
    expected = {
        "new_above_scale": {z["C"].pk: 10 * WAN},
        "rd_subsidy": {z["B"].pk: 10 * WAN},  # exactly 3%; 10% of the 100万 increase
        "loan_interest": {z["A"].pk: 20 * WAN},  # half of 40万
        "hte_recognition": {z["A"].pk: 10 * WAN, z["E"].pk: 20 * WAN},
    }
    for code, amounts in expected.items():
        spec = SHIPPED[code]
        decided = spec.rule.decide_all(frame, spec.defaults).filter("eligible")
        assert dict(decided.select("enterprise_id", "amount_fen").iter_rows()) == amounts, code
        for pk, fen in amounts.items():
            one = spec.rule.decide(frame.filter(enterprise_id=pk).to_dicts()[0], spec.defaults)
            assert (one.eligible, one.amount_fen) == (True, fen)


def test_loans_and_interest_are_recorded_once_with_clear_errors(policy_zone, dept_reviewer):
    a = policy_zone["A"]
    with pytest.raises(ValidationError) as refused:
        services.loan_register(
            enterprise=a,
            bank="柳州银行",
            contract_no="LZ-2019-001",
            principal_fen=WAN,
            annual_rate_bp=435,
            start_on=dt.date(2019, 1, 1),
            end_on=dt.date(2020, 1, 1),
            acting_user=dept_reviewer,
        )
    assert "已登记" in str(refused.value.message_dict["contract_no"])
    with pytest.raises(ValidationError) as bad:
        services.loan_register(
            enterprise=a,
            bank="",
            contract_no="X",
            principal_fen=0,
            annual_rate_bp=5000,
            start_on=dt.date(2019, 1, 1),
            end_on=dt.date(2019, 1, 1),
            acting_user=dept_reviewer,
        )
    assert set(bad.value.message_dict) == {"bank", "principal_fen", "annual_rate_bp", "end_on"}
    loan = a.loans.get()
    again, created = services.interest_payment_record(
        loan=loan, paid_on=dt.date(2019, 6, 20), amount_fen=20 * WAN, acting_user=dept_reviewer
    )
    assert created is False and loan.interest_payments.count() == 3  # re-entered: nothing new
    with pytest.raises(ValidationError, match="不同金额"):
        services.interest_payment_record(
            loan=loan, paid_on=dt.date(2019, 6, 20), amount_fen=WAN, acting_user=dept_reviewer
        )
    assert AuditEntry.objects.filter(model="policies.interestpayment").count() == 3
    assert AuditEntry.objects.filter(model="policies.loan", enterprise_id=a.pk).count() == 1
