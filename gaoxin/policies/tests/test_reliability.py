"""The guarantees money depends on, under concurrency and arbitrary sequences of actions:
eight threads paying the same application pay it once; a property-based state machine over
approve / schedule / pay / fail / retry / reverse / cancel keeps the ledger balanced,
paid ≤ approved ≤ budget, and never pays an application twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gaoxin.accounts.models import User
from gaoxin.accounts.roles import Department, Role
from gaoxin.policies import services
from gaoxin.policies.models import (
    Account,
    Application,
    LedgerEntry,
    Notice,
    Payment,
    Policy,
    Posting,
)
from gaoxin.policies.services.ledger import balances
from gaoxin.registry.tests.factories import EnterpriseFactory

S = Application.Status
WAN = 10_000 * 100
DAY = dt.date(2019, 10, 10)
THREADS = 8


def people(tag: str = "") -> dict[str, User]:
    def make(name: str, **kw) -> User:
        return User.objects.create_user(username=f"{name}{tag}", password="pw", **kw)

    return {
        "admin": make("admin", role=Role.ZONE_ADMIN),
        "reviewer": make("reviewer", role=Role.REVIEWER),
        "approver": make("approver", role=Role.DEPT_STAFF, department=Department.SCITECH),
        "payer": make("payer", role=Role.DEPT_STAFF, department=Department.FINANCE),
    }


def measure_with_budget(admin: User, budget_fen: int, tag: str = ""):
    policy = services.policy_create(
        data={
            "title": f"测试政策{tag}",
            "issuer": "管委会",
            "effective_from": dt.date(2019, 1, 1),
        },
        acting_user=admin,
    )
    measure = services.measure_add(policy=policy, code="gazelle", acting_user=admin)
    services.budget_set(measure=measure, year=2019, amount_fen=budget_fen, acting_user=admin)
    services.policy_set_status(policy=policy, status=Policy.Status.PUBLISHED, acting_user=admin)
    return measure


def in_notice(measure, enterprise, amount_fen: int, who: dict[str, User]) -> Application:
    """An application that has passed review and whose notice ended on 9 October 2019: the
    starting point of the money steps (the steps before are tested in test_workflow)."""
    application = Application.objects.create(
        enterprise=enterprise,
        measure=measure,
        year=2019,
        status=S.PASSED,
        version=measure.current(),
        eligible=True,
        computed_fen=amount_fen,
        amount_fen=amount_fen,
        reviewed_by=who["reviewer"],
        account_bank="柳州银行",
        account_name=enterprise.name,
        account_no="6230000011112222",
    )
    notice = Notice.objects.create(
        policy=measure.policy,
        year=2019,
        title="公示",
        published_on=dt.date(2019, 9, 27),
        starts_on=dt.date(2019, 9, 27),
        ends_on=dt.date(2019, 10, 9),
    )
    Application.objects.filter(pk=application.pk).update(status=S.NOTICE, notice=notice)
    application.refresh_from_db()
    return application


@pytest.mark.django_db(transaction=True)
def test_eight_threads_paying_the_same_application_pay_once():
    who = people()
    measure = measure_with_budget(who["admin"], 100 * WAN)
    application = in_notice(measure, EnterpriseFactory(), 30 * WAN, who)
    services.application_approve(application=application, acting_user=who["approver"], today=DAY)
    services.payment_schedule(applications=[application], acting_user=who["payer"])
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def pay(i: int) -> None:
        try:
            mine = Application.objects.get(pk=application.pk)
            barrier.wait(timeout=10)
            _, created = services.payment_execute(
                application=mine, paid_on=DAY, acting_user=who["payer"], bank_reference=f"T{i}"
            )
            result = "paid" if created else "same"
        except ValidationError as exc:
            result = "refused: " + " ".join(exc.messages)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == THREADS
    assert outcomes.count("paid") == 1, outcomes
    assert all("不能重复支付" in o for o in outcomes if o != "paid"), outcomes
    assert Payment.objects.filter(application=application, status=Payment.Status.PAID).count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT).count() == 1
    assert balances(measure, 2019)[Account.PAID] == 30 * WAN


@pytest.mark.django_db(transaction=True)
def test_eight_threads_approving_against_the_last_of_a_budget_commit_it_once():
    who = people()
    measure = measure_with_budget(who["admin"], 50 * WAN)
    applications = [in_notice(measure, EnterpriseFactory(), 30 * WAN, who) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    approved: list[int] = []
    lock = threading.Lock()

    def approve(application: Application) -> None:
        try:
            barrier.wait(timeout=10)
            services.application_approve(
                application=application, acting_user=who["approver"], today=DAY
            )
            with lock:
                approved.append(application.pk)
        except ValidationError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(a,)) for a in applications]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(approved) == 1  # 30万 fits in 50万 once
    assert balances(measure, 2019)[Account.COMMITTED] == 30 * WAN
    assert balances(measure, 2019)[Account.AVAILABLE] == 20 * WAN


class MoneyMachine(RuleBasedStateMachine):
    """Random sequences of the money steps over a few applications of one measure."""

    runs = 0

    def __init__(self) -> None:
        super().__init__()
        MoneyMachine.runs += 1
        tag = f"-{MoneyMachine.runs}"
        self.who = people(tag)
        self.budget = 100 * WAN
        self.measure = measure_with_budget(self.who["admin"], self.budget, tag)
        self.applications = [
            in_notice(self.measure, EnterpriseFactory(), amount * WAN, self.who)
            for amount in (10, 30, 45, 50)
        ]

    def _fresh(self, i: int) -> Application:
        return Application.objects.get(pk=self.applications[i].pk)

    @rule(i=st.integers(0, 3))
    def approve(self, i: int) -> None:
        app = self._fresh(i)
        left = balances(self.measure, 2019)[Account.AVAILABLE]
        try:
            services.application_approve(
                application=app, acting_user=self.who["approver"], today=DAY
            )
        except ValidationError:
            assert app.status != S.NOTICE or (app.amount_fen or 0) > left
        else:
            assert (app.amount_fen or 0) <= left

    @rule(i=st.integers(0, 3))
    def schedule(self, i: int) -> None:
        app = self._fresh(i)
        try:
            services.payment_schedule(applications=[app], acting_user=self.who["payer"])
        except ValidationError:
            assert app.status not in (S.APPROVED, S.FAILED)

    @rule(i=st.integers(0, 3), twice=st.booleans())
    def pay(self, i: int, twice: bool) -> None:
        for _ in range(2 if twice else 1):
            app = self._fresh(i)
            try:
                services.payment_execute(
                    application=app, paid_on=DAY, acting_user=self.who["payer"]
                )
            except ValidationError:
                assert app.status != S.SCHEDULED

    @rule(i=st.integers(0, 3))
    def fail(self, i: int) -> None:
        app = self._fresh(i)
        try:
            services.payment_fail(application=app, reason="退票", acting_user=self.who["payer"])
        except ValidationError:
            assert app.status != S.SCHEDULED

    @rule(i=st.integers(0, 3))
    def reverse(self, i: int) -> None:
        app = self._fresh(i)
        try:
            services.payment_reverse(application=app, reason="冲正", acting_user=self.who["payer"])
        except ValidationError:
            assert app.status != S.PAID

    @rule(i=st.integers(0, 3))
    def cancel(self, i: int) -> None:
        app = self._fresh(i)
        try:
            services.application_cancel(
                application=app, reason="撤销", acting_user=self.who["approver"]
            )
        except ValidationError:
            assert app.status not in (S.APPROVED, S.FAILED)

    @invariant()
    def ledger_holds(self) -> None:
        postings = Posting.objects.filter(measure=self.measure)
        assert (postings.aggregate(s=Sum("amount_fen"))["s"] or 0) == 0
        b = balances(self.measure, 2019)
        paid, committed, available = b[Account.PAID], b[Account.COMMITTED], b[Account.AVAILABLE]
        approved = paid + committed
        assert 0 <= paid <= approved <= self.budget
        assert available == self.budget - approved
        statuses = {a.pk: a for a in Application.objects.filter(measure=self.measure)}
        expected_paid = 0
        expected_approved = 0
        for app in statuses.values():
            n_paid = app.payments.filter(status=Payment.Status.PAID).count()
            assert n_paid == (1 if app.status == S.PAID else 0)
            if app.status == S.PAID:
                expected_paid += app.amount_fen or 0
            if app.status in (S.APPROVED, S.SCHEDULED, S.PAID, S.FAILED):
                expected_approved += app.amount_fen or 0
        assert paid == expected_paid
        assert approved == expected_approved


@pytest.mark.django_db
def test_money_state_machine_keeps_the_ledger_honest():
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None),
    )
