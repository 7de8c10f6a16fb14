"""From application to payment through the services: pre-filled drafts, review, public notice
over working days, objections, approval against the budget, payment exactly once, failure and
retry, reversal; separation of duties on every step; the ledger balancing throughout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from gaoxin.accounts.models import User
from gaoxin.accounts.roles import Role
from gaoxin.core.models import AuditEntry
from gaoxin.policies import services
from gaoxin.policies.models import (
    Account,
    Application,
    Holiday,
    LedgerEntry,
    Payment,
    Policy,
    Posting,
)
from gaoxin.policies.services.ledger import balances
from gaoxin.policies.tests.test_facts import WAN
from gaoxin.policies.workdays import notice_period

pytestmark = pytest.mark.django_db
S = Application.Status
NOTICE_DAY = dt.date(2019, 9, 27)  # a Friday before the National Day holidays
AFTER_NOTICE = dt.date(2019, 10, 10)


def make_policy(actor, *, budget_wan: int = 100, codes=("loan_interest", "rd_subsidy")):
    policy = services.policy_create(
        data={
            "title": "柳州高新区促进科技创新若干措施",
            "issuer": "柳州高新区管委会",
            "doc_number": "柳高管发〔2019〕1号",
            "effective_from": dt.date(2019, 1, 1),
        },
        acting_user=actor,
    )
    for code in codes:
        measure = services.measure_add(policy=policy, code=code, acting_user=actor)
        services.budget_set(
            measure=measure, year=2019, amount_fen=budget_wan * WAN, acting_user=actor
        )
    services.policy_set_status(policy=policy, status=Policy.Status.PUBLISHED, acting_user=actor)
    return policy


def user_of(enterprise, name):
    return User.objects.create_user(
        username=name, password="pw", role=Role.ENTERPRISE, enterprise=enterprise
    )


def submitted(enterprise, measure, clerk):
    application = services.application_start(
        enterprise=enterprise, measure=measure, year=2019, acting_user=clerk
    )
    services.application_update(
        application=application,
        data={"account_bank": "柳州银行高新支行", "account_no": "6230 0000 1111"},
        acting_user=clerk,
    )
    return services.application_submit(application=application, acting_user=clerk)


def through_notice(application, reviewer, publisher, amount_fen=None):
    services.application_pass(application=application, acting_user=reviewer, amount_fen=amount_fen)
    services.notice_publish(
        policy=application.measure.policy,
        year=application.year,
        applications=[application],
        published_on=NOTICE_DAY,
        today=NOTICE_DAY,
        acting_user=publisher,
    )
    application.refresh_from_db()
    return application


def assert_ledger_balances():
    assert (Posting.objects.aggregate(s=Sum("amount_fen"))["s"] or 0) == 0
    for entry in LedgerEntry.objects.prefetch_related("postings"):
        assert sum(p.amount_fen for p in entry.postings.all()) == 0


@pytest.fixture
def flow(policy_zone, zone_admin, dept_reviewer, scitech_staff, payer):
    policy = make_policy(zone_admin)
    a = policy_zone["A"]
    return {
        "policy": policy,
        "loan": policy.measures.get(code="loan_interest"),
        "rd": policy.measures.get(code="rd_subsidy"),
        "a": a,
        "b": policy_zone["B"],
        "clerk": user_of(a, "a_clerk"),
        "reviewer": dept_reviewer,
        "publisher": scitech_staff,
        "payer": payer,
    }


def test_the_whole_path_from_a_prefilled_draft_to_money_paid(flow):
    clerk, loan = flow["clerk"], flow["loan"]
    draft = services.application_start(
        enterprise=flow["a"], measure=loan, year=2019, acting_user=clerk
    )
    # Pre-filled from the zone's records: 40万 of interest paid in 2019, half of it granted.
    assert draft.status == S.DRAFT
    assert draft.facts == {"in_chain": True, "interest_paid": 40 * WAN}
    assert (draft.eligible, draft.computed_fen) == (True, 20 * WAN)
    assert draft.version == loan.current()
    assert draft.account_name == flow["a"].name

    with pytest.raises(ValidationError) as missing:
        services.application_submit(application=draft, acting_user=clerk)
    assert set(missing.value.message_dict) == {"account_bank", "account_no"}

    services.application_update(
        application=draft,
        data={"account_bank": "柳州银行高新支行", "account_no": "6230 0000 1111"},
        acting_user=clerk,
    )
    contract = SimpleUploadedFile("贷款合同.pdf", b"%PDF-1.4 contract", "application/pdf")
    attachment = services.application_attach(application=draft, upload=contract, acting_user=clerk)
    again = SimpleUploadedFile("贷款合同.pdf", b"%PDF-1.4 contract", "application/pdf")
    assert services.application_attach(application=draft, upload=again, acting_user=clerk) == (
        attachment
    )
    with pytest.raises(ValidationError, match="类型不支持"):
        services.application_attach(
            application=draft,
            upload=SimpleUploadedFile("run.exe", b"MZ"),
            acting_user=clerk,
        )

    application = services.application_submit(application=draft, acting_user=clerk)
    assert (application.status, application.submitted_by, application.account_no) == (
        S.SUBMITTED,
        clerk,
        "623000001111",
    )
    with pytest.raises(ValidationError, match="已提交"):
        services.application_update(
            application=application, data={"statement": "x"}, acting_user=clerk
        )

    application = through_notice(application, flow["reviewer"], flow["publisher"])
    assert application.status == S.NOTICE
    assert application.amount_fen == 20 * WAN
    notice = application.notice
    # Five working days from Friday 27 September 2019: Sunday the 29th was a working day
    # (调休), 1-7 October were holidays.
    assert (notice.starts_on, notice.ends_on) == (NOTICE_DAY, dt.date(2019, 10, 9))

    with pytest.raises(ValidationError, match="2019-10-09"):
        services.application_approve(
            application=application, acting_user=flow["publisher"], today=notice.ends_on
        )
    services.application_approve(
        application=application, acting_user=flow["publisher"], today=AFTER_NOTICE
    )
    application.refresh_from_db()
    assert application.status == S.APPROVED
    assert balances(flow["loan"], 2019) == {
        Account.APPROPRIATION: -100 * WAN,
        Account.AVAILABLE: 80 * WAN,
        Account.COMMITTED: 20 * WAN,
        Account.PAID: 0,
    }

    batch = services.payment_schedule(applications=[application], acting_user=flow["payer"])
    application.refresh_from_db()
    payment = batch.payments.get()
    assert (application.status, payment.amount_fen, payment.account_no) == (
        S.SCHEDULED,
        20 * WAN,
        "623000001111",
    )
    paid, created = services.payment_execute(
        application=application,
        paid_on=dt.date(2019, 10, 15),
        bank_reference="BK001",
        acting_user=flow["payer"],
    )
    assert created and paid.status == Payment.Status.PAID
    assert balances(flow["loan"], 2019)[Account.PAID] == 20 * WAN
    assert balances(flow["loan"], 2019)[Account.COMMITTED] == 0
    application.refresh_from_db()
    assert application.status == S.PAID
    with pytest.raises(ValidationError, match="不能重复支付"):
        services.payment_execute(
            application=application, paid_on=dt.date(2019, 10, 16), acting_user=flow["payer"]
        )
    assert_ledger_balances()
    steps = list(application.events.values_list("to_status", flat=True))
    assert steps == [S.DRAFT, S.SUBMITTED, S.PASSED, S.NOTICE, S.APPROVED, S.SCHEDULED, S.PAID]
    audited = AuditEntry.objects.filter(object_id=str(application.pk), model="policies.application")
    assert audited.count() >= len(steps)


def test_returned_applications_are_corrected_and_resubmitted(flow):
    application = submitted(flow["a"], flow["loan"], flow["clerk"])
    with pytest.raises(ValidationError) as no_reason:
        services.application_return(
            application=application, reason=" ", acting_user=flow["reviewer"]
        )
    assert "reason" in no_reason.value.message_dict
    services.application_return(
        application=application, reason="请补充贷款合同", acting_user=flow["reviewer"]
    )
    application.refresh_from_db()
    assert (application.status, application.reason) == (S.RETURNED, "请补充贷款合同")
    services.application_update(
        application=application, data={"statement": "已补充"}, acting_user=flow["clerk"]
    )
    services.application_submit(application=application, acting_user=flow["clerk"])
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_a_rejected_application_may_be_made_again_but_a_live_one_only_once(flow):
    application = submitted(flow["a"], flow["loan"], flow["clerk"])
    with pytest.raises(ValidationError, match="已有该条款的申请"):
        services.application_start(
            enterprise=flow["a"], measure=flow["loan"], year=2019, acting_user=flow["clerk"]
        )
    services.application_reject(
        application=application, reason="材料不实", acting_user=flow["reviewer"]
    )
    again = services.application_start(
        enterprise=flow["a"], measure=flow["loan"], year=2019, acting_user=flow["clerk"]
    )
    assert again.status == S.DRAFT


def test_an_ineligible_enterprise_cannot_submit(flow):
    clerk_b = user_of(flow["b"], "b_clerk")
    draft = services.application_start(
        enterprise=flow["b"], measure=flow["loan"], year=2019, acting_user=clerk_b
    )
    assert (draft.eligible, draft.computed_fen) == (False, 0)
    services.application_update(
        application=draft,
        data={"account_bank": "柳州银行", "account_no": "1234"},
        acting_user=clerk_b,
    )
    with pytest.raises(ValidationError, match="不符合本条款的条件"):
        services.application_submit(application=draft, acting_user=clerk_b)


def test_applicant_reviewer_and_payer_are_different_people(flow, zone_admin):
    application = submitted(flow["a"], flow["loan"], zone_admin)  # staff acting for the firm
    with pytest.raises(ValidationError, match="申请人不能审核"):
        services.application_pass(application=application, acting_user=zone_admin)
    application = through_notice(application, flow["reviewer"], flow["publisher"])
    with pytest.raises(ValidationError, match="申请人不能批准"):
        services.application_approve(
            application=application, acting_user=zone_admin, today=AFTER_NOTICE
        )
    services.application_approve(
        application=application, acting_user=flow["publisher"], today=AFTER_NOTICE
    )
    application.refresh_from_db()
    for person in (zone_admin, flow["reviewer"]):
        with pytest.raises(ValidationError, match="不能是该申请的申请人、审核人或批准人"):
            services.payment_schedule(applications=[application], acting_user=person)
    services.payment_schedule(applications=[application], acting_user=flow["payer"])
    application.refresh_from_db()
    with pytest.raises(ValidationError, match="不能是该申请的申请人、审核人或批准人"):
        services.payment_execute(
            application=application, paid_on=AFTER_NOTICE, acting_user=flow["reviewer"]
        )


def test_objections_must_be_resolved_and_an_upheld_one_rejects(flow, policy_zone):
    application = through_notice(
        submitted(flow["a"], flow["loan"], flow["clerk"]), flow["reviewer"], flow["publisher"]
    )
    with pytest.raises(ValidationError, match="公示期内"):
        services.objection_record(
            application=application,
            objector="匿名",
            content="x",
            received_on=dt.date(2019, 10, 10),
            acting_user=flow["publisher"],
        )
    objection = services.objection_record(
        application=application,
        objector="张先生 138****0000",
        content="该企业贷款已展期,利息未实际支付",
        received_on=dt.date(2019, 10, 8),
        acting_user=flow["publisher"],
    )
    with pytest.raises(ValidationError, match="未处理的公示异议"):
        services.application_approve(
            application=application, acting_user=flow["publisher"], today=AFTER_NOTICE
        )
    services.objection_resolve(
        objection=objection, upheld=True, resolution="经核实属实", acting_user=flow["publisher"]
    )
    application.refresh_from_db()
    assert application.status == S.REJECTED
    assert "经核实属实" in application.reason
    with pytest.raises(ValidationError, match="已处理"):
        services.objection_resolve(
            objection=objection, upheld=False, resolution="x", acting_user=flow["publisher"]
        )


def test_approving_beyond_the_remaining_budget_is_refused(flow, zone_admin):
    services.budget_set(
        measure=flow["loan"], year=2019, amount_fen=30 * WAN, acting_user=zone_admin
    )
    first = through_notice(
        submitted(flow["a"], flow["loan"], flow["clerk"]), flow["reviewer"], flow["publisher"]
    )
    services.application_approve(
        application=first, acting_user=flow["publisher"], today=AFTER_NOTICE
    )
    # A second claim of 20万 against the 10万 left.
    clerk_b = user_of(flow["b"], "b_clerk")
    second = Application.objects.create(
        enterprise=flow["b"],
        measure=flow["loan"],
        year=2019,
        status=S.PASSED,
        version=flow["loan"].current(),
        eligible=True,
        computed_fen=20 * WAN,
        amount_fen=20 * WAN,
        submitted_by=clerk_b,
        reviewed_by=flow["reviewer"],
    )
    services.notice_publish(
        policy=flow["policy"],
        year=2019,
        applications=[second],
        published_on=NOTICE_DAY,
        today=NOTICE_DAY,
        acting_user=flow["publisher"],
    )
    second.refresh_from_db()
    with pytest.raises(ValidationError, match="剩余可用预算100,000.00元"):
        services.application_approve(
            application=second, acting_user=flow["publisher"], today=AFTER_NOTICE
        )
    second.refresh_from_db()
    assert second.status == S.NOTICE  # nothing half-written
    with pytest.raises(ValidationError, match="不能低于已批准"):
        services.budget_set(
            measure=flow["loan"], year=2019, amount_fen=10 * WAN, acting_user=zone_admin
        )
    assert_ledger_balances()


def test_a_failed_payment_is_retried_and_a_returned_one_reversed(flow):
    application = through_notice(
        submitted(flow["a"], flow["loan"], flow["clerk"]), flow["reviewer"], flow["publisher"]
    )
    services.application_approve(
        application=application, acting_user=flow["publisher"], today=AFTER_NOTICE
    )
    payer = flow["payer"]
    services.payment_schedule(applications=[application], acting_user=payer)
    application.refresh_from_db()
    services.payment_fail(application=application, reason="账户已销户", acting_user=payer)
    application.refresh_from_db()
    assert application.status == S.FAILED
    assert balances(flow["loan"], 2019)[Account.COMMITTED] == 20 * WAN  # still held
    services.payment_schedule(applications=[application], acting_user=payer)
    application.refresh_from_db()
    services.payment_execute(
        application=application, paid_on=dt.date(2019, 11, 1), acting_user=payer
    )
    application.refresh_from_db()
    services.payment_reverse(application=application, reason="银行退票", acting_user=payer)
    application.refresh_from_db()
    assert application.status == S.FAILED
    assert balances(flow["loan"], 2019)[Account.PAID] == 0
    assert list(application.payments.order_by("attempt").values_list("status", flat=True)) == [
        Payment.Status.FAILED,
        Payment.Status.REVERSED,
    ]
    services.payment_schedule(applications=[application], acting_user=payer)
    application.refresh_from_db()
    services.payment_execute(
        application=application, paid_on=dt.date(2019, 11, 20), acting_user=payer
    )
    assert balances(flow["loan"], 2019)[Account.PAID] == 20 * WAN
    assert application.payments.filter(status=Payment.Status.PAID).count() == 1
    assert_ledger_balances()


def test_the_same_idempotency_key_pays_once(flow):
    application = through_notice(
        submitted(flow["a"], flow["loan"], flow["clerk"]), flow["reviewer"], flow["publisher"]
    )
    services.application_approve(
        application=application, acting_user=flow["publisher"], today=AFTER_NOTICE
    )
    services.payment_schedule(applications=[application], acting_user=flow["payer"])
    application.refresh_from_db()
    first, created = services.payment_execute(
        application=application,
        paid_on=AFTER_NOTICE,
        acting_user=flow["payer"],
        idempotency_key="k-1",
    )
    again, created_again = services.payment_execute(
        application=application,
        paid_on=AFTER_NOTICE,
        acting_user=flow["payer"],
        idempotency_key="k-1",
    )
    assert (created, created_again, again) == (True, False, first)
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT).count() == 1


def test_reviewer_sets_the_amount_within_the_published_range(
    policy_zone, zone_admin, dept_reviewer
):
    policy = make_policy(zone_admin, codes=("gazelle",))
    gazelle = policy.measures.get()
    application = Application.objects.create(
        enterprise=policy_zone["A"],
        measure=gazelle,
        year=2019,
        status=S.SUBMITTED,
        version=gazelle.current(),
        eligible=True,
        computed_fen=50 * WAN,
    )
    with pytest.raises(ValidationError, match="请核定金额"):
        services.application_pass(application=application, acting_user=dept_reviewer)
    with pytest.raises(ValidationError, match="100,000.00元到500,000.00元"):
        services.application_pass(
            application=application, acting_user=dept_reviewer, amount_fen=60 * WAN
        )
    services.application_pass(
        application=application, acting_user=dept_reviewer, amount_fen=30 * WAN
    )
    application.refresh_from_db()
    assert application.amount_fen == 30 * WAN


def test_notice_periods_skip_weekends_holidays_and_follow_the_zone_calendar(db):
    # Published on a Saturday: starts Monday, five working days end Friday.
    assert notice_period(dt.date(2019, 3, 2), 5) == (dt.date(2019, 3, 4), dt.date(2019, 3, 8))
    # Spring Festival 2019: 4-10 February off, Saturday 2 and Sunday 3 February worked.
    assert notice_period(dt.date(2019, 2, 1), 3) == (dt.date(2019, 2, 1), dt.date(2019, 2, 3))
    # The zone's own calendar wins: a local holiday on Wednesday 6 March 2019.
    Holiday.objects.create(day=dt.date(2019, 3, 6), is_workday=False, name="区内调休")
    assert notice_period(dt.date(2019, 3, 4), 5) == (dt.date(2019, 3, 4), dt.date(2019, 3, 11))
    # A year the national calendar does not cover yet is refused until the zone enters it.
    with pytest.raises(ValidationError, match="2031年"):
        notice_period(dt.date(2031, 3, 3), 5)
    Holiday.objects.create(day=dt.date(2031, 1, 1), is_workday=False, name="元旦")
    assert notice_period(dt.date(2031, 3, 3), 5) == (dt.date(2031, 3, 3), dt.date(2031, 3, 7))


def test_a_cancelled_approval_returns_its_money_to_the_budget(flow):
    application = through_notice(
        submitted(flow["a"], flow["loan"], flow["clerk"]), flow["reviewer"], flow["publisher"]
    )
    with pytest.raises(ValidationError, match="审核人不能再批准"):
        services.application_approve(
            application=application, acting_user=flow["reviewer"], today=AFTER_NOTICE
        )
    services.application_approve(
        application=application, acting_user=flow["publisher"], today=AFTER_NOTICE
    )
    # The approver may not pay it either.
    with pytest.raises(ValidationError, match="批准人"):
        services.payment_schedule(applications=[application], acting_user=flow["publisher"])
    services.payment_schedule(applications=[application], acting_user=flow["payer"])
    application.refresh_from_db()
    services.payment_fail(application=application, reason="账号有误", acting_user=flow["payer"])
    application.refresh_from_db()
    # After a failed payment the enterprise corrects its account (and nothing else).
    services.application_update(
        application=application,
        data={"account_no": "6230000099998888", "statement": "changed"},
        acting_user=flow["clerk"],
    )
    application.refresh_from_db()
    assert application.account_no == "6230000099998888"
    assert application.statement == ""
    with pytest.raises(ValidationError, match="撤销理由"):
        services.application_cancel(
            application=application, reason="", acting_user=flow["publisher"]
        )
    services.application_cancel(
        application=application, reason="企业已注销", acting_user=flow["publisher"]
    )
    application.refresh_from_db()
    assert application.status == S.CANCELLED
    assert balances(flow["loan"], 2019) == {
        Account.APPROPRIATION: -100 * WAN,
        Account.AVAILABLE: 100 * WAN,
        Account.COMMITTED: 0,
        Account.PAID: 0,
    }
    assert_ledger_balances()
    # A cancelled claim may be made again.
    again = services.application_start(
        enterprise=flow["a"], measure=flow["loan"], year=2019, acting_user=flow["clerk"]
    )
    assert again.status == S.DRAFT


def test_notices_are_not_back_dated_and_objections_end_with_the_approval(flow, zone_admin):
    application = submitted(flow["a"], flow["loan"], flow["clerk"])
    services.application_pass(application=application, acting_user=flow["reviewer"])
    with pytest.raises(ValidationError, match="不能早于今天"):
        services.notice_publish(
            policy=flow["policy"],
            year=2019,
            applications=[application],
            published_on=NOTICE_DAY,
            today=AFTER_NOTICE,
            acting_user=flow["publisher"],
        )
    with pytest.raises(ValidationError, match="1到30个工作日"):
        services.notice_publish(
            policy=flow["policy"],
            year=2019,
            applications=[application],
            published_on=NOTICE_DAY,
            today=NOTICE_DAY,
            working_days=0,
            acting_user=flow["publisher"],
        )
    services.notice_publish(
        policy=flow["policy"],
        year=2019,
        applications=[application],
        published_on=NOTICE_DAY,
        today=NOTICE_DAY,
        acting_user=flow["publisher"],
    )
    application.refresh_from_db()
    objection = services.objection_record(
        application=application,
        objector="李女士",
        content="x",
        received_on=dt.date(2019, 10, 8),
        acting_user=flow["publisher"],
    )
    services.objection_resolve(
        objection=objection, upheld=False, resolution="不成立", acting_user=flow["publisher"]
    )
    services.application_approve(
        application=application, acting_user=flow["publisher"], today=AFTER_NOTICE
    )
    with pytest.raises(ValidationError, match="不在公示期"):
        services.objection_record(
            application=application,
            objector="王先生",
            content="y",
            received_on=dt.date(2019, 10, 9),
            acting_user=flow["publisher"],
        )


def test_a_draft_cannot_be_submitted_once_the_policy_is_withdrawn(flow, zone_admin):
    draft = services.application_start(
        enterprise=flow["a"], measure=flow["loan"], year=2019, acting_user=flow["clerk"]
    )
    services.application_update(
        application=draft,
        data={"account_bank": "柳州银行", "account_no": "6230000011112222"},
        acting_user=flow["clerk"],
    )
    services.policy_set_status(
        policy=flow["policy"], status=Policy.Status.WITHDRAWN, acting_user=zone_admin
    )
    with pytest.raises(ValidationError, match="未发布或已废止"):
        services.application_submit(application=draft, acting_user=flow["clerk"])
    with pytest.raises(ValidationError, match="年度应在"):
        services.application_start(
            enterprise=flow["b"], measure=flow["loan"], year=99999, acting_user=flow["clerk"]
        )
