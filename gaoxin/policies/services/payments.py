"""Approval and payment: the approval commits the money in the ledger (refused beyond the
measure's remaining budget); payments go out in batches and are executed exactly once; a
failed payment is scheduled again; a payment the bank returned is reversed, never edited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.policies.models import (
    Account,
    Application,
    ApplicationEvent,
    LedgerEntry,
    Payment,
    PaymentBatch,
)
from gaoxin.policies.services import ledger
from gaoxin.policies.services.applications import S, _move, _not_same_person
from gaoxin.policies.services.ledger import user_or_none


@transaction.atomic
def application_approve(
    *, application: Application, acting_user: Any, today: dt.date | None = None
) -> Application:
    """Approves an application whose notice has ended with every objection resolved, and
    commits its amount in the ledger; refused beyond the measure's remaining budget. The
    application row is locked first, so an objection recorded at the same moment is either
    seen here or refused there. The approver is neither the applicant nor the reviewer."""
    today = today or timezone.localdate()
    given = application
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("notice", "measure", "enterprise")
        .get(pk=given.pk)
    )
    notice = application.notice
    if application.status != S.NOTICE or notice is None:
        raise ValidationError({"status": _("只有公示中的申请可以批准")})
    if not notice.is_over(today):
        raise ValidationError(
            {"status": _("公示期至%(end)s结束,结束后才能批准") % {"end": notice.ends_on}}
        )
    if application.objections.filter(upheld__isnull=True).exists():
        raise ValidationError({"status": _("该申请有未处理的公示异议")})
    _not_same_person(
        acting_user, application.submitted_by_id, message=_("申请人不能批准自己的申请")
    )
    _not_same_person(acting_user, application.reviewed_by_id, message=_("审核人不能再批准同一申请"))
    amount = application.amount_fen or 0
    moved = _move(
        application, S.APPROVED, acting_user=acting_user, approved_by=user_or_none(acting_user)
    )
    ledger.commit(
        measure=application.measure,
        year=application.year,
        amount_fen=amount,
        posted_on=today,
        acting_user=acting_user,
        application=moved,
        memo=_("批准 %(e)s") % {"e": application.enterprise.name},
    )
    given.refresh_from_db()  # the caller's object shows the approval too
    return moved


def _payer_checks(application: Application, acting_user: Any) -> None:
    _not_same_person(
        acting_user,
        application.submitted_by_id,
        application.reviewed_by_id,
        application.approved_by_id,
        message=_("支付经办人不能是该申请的申请人、审核人或批准人"),
    )


@transaction.atomic
def payment_schedule(
    *, applications: Iterable[Application], acting_user: Any, number: str = ""
) -> PaymentBatch:
    """Puts approved (or failed) applications into a new payment batch, each as a new payment
    attempt to the account the enterprise confirmed."""
    chosen = list(applications)
    if not chosen:
        raise ValidationError({"applications": _("请选择要支付的申请")})
    batch = _new_batch(number, acting_user)
    for application in chosen:
        _payer_checks(application, acting_user)
        if application.status not in (S.APPROVED, S.FAILED):
            raise ValidationError(
                {
                    "applications": _("“%(e)s”的申请当前为“%(s)s”,不能支付")
                    % {"e": application.enterprise.name, "s": application.get_status_display()}
                }
            )
        # The status moves first: a second payer scheduling the same application at the same
        # moment waits on this row and is then refused, instead of colliding on the attempt.
        _move(application, S.SCHEDULED, acting_user=acting_user)
        attempt = (application.payments.aggregate(m=Max("attempt"))["m"] or 0) + 1
        Payment.objects.create(
            application=application,
            attempt=attempt,
            batch=batch,
            amount_fen=application.amount_fen or 0,
            account_bank=application.account_bank,
            account_name=application.account_name,
            account_no=application.account_no,
            scheduled_by=user_or_none(acting_user),
        )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=batch,
        changes={"applications": [None, [a.pk for a in chosen]]},
    )
    return batch


def _new_batch(number: str, acting_user: Any) -> PaymentBatch:
    """A batch numbered ZF<date>-<n> (or `number`); two payers creating batches at once get
    consecutive numbers rather than an error."""
    if number:
        try:
            with transaction.atomic():
                return PaymentBatch.objects.create(
                    number=number, created_by=user_or_none(acting_user)
                )
        except IntegrityError as exc:
            raise ValidationError({"number": _("批次号%(n)s已存在") % {"n": number}}) from exc
    prefix = f"ZF{timezone.localdate():%Y%m%d}-"
    count = PaymentBatch.objects.filter(number__startswith=prefix).count()
    for n in range(count + 1, count + 20):
        try:
            with transaction.atomic():
                return PaymentBatch.objects.create(
                    number=f"{prefix}{n:03d}", created_by=user_or_none(acting_user)
                )
        except IntegrityError:
            continue
    raise ValidationError({"number": _("支付批次号已用尽,请稍后重试")})


@transaction.atomic
def payment_execute(
    *,
    application: Application,
    paid_on: dt.date,
    acting_user: Any,
    bank_reference: str = "",
    idempotency_key: str | None = None,
) -> tuple[Payment, bool]:
    """Records that the bank paid a scheduled application, and posts committed → paid.

    Exactly once: the status moves scheduled → paid by a conditional UPDATE that only one
    caller can win (the others wait for its row lock and then find nothing to update), and a
    partial unique index allows one paid attempt per application. The same request sent
    again with the same `idempotency_key` returns (payment, False); without it, a second
    payment is refused."""
    if idempotency_key:
        earlier = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _same_request(earlier, application)
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("支付日期不能晚于今天")})
    _payer_checks(application, acting_user)
    touched = Application.objects.filter(pk=application.pk, status=S.SCHEDULED).update(
        status=S.PAID, paid_by=user_or_none(acting_user), updated_at=timezone.now()
    )
    if touched != 1:
        if idempotency_key:
            earlier = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if earlier is not None:
                return _same_request(earlier, application)
        application.refresh_from_db()
        if application.status == S.PAID:
            raise ValidationError({"status": _("该申请已支付,不能重复支付")})
        raise ValidationError(
            {"status": _("申请当前为“%(s)s”,不能支付") % {"s": application.get_status_display()}}
        )
    payment = application.payments.get(status=Payment.Status.SCHEDULED)
    payment.status = Payment.Status.PAID
    payment.paid_on = paid_on
    payment.bank_reference = bank_reference.strip()
    payment.idempotency_key = idempotency_key or None
    payment.executed_by = user_or_none(acting_user)
    payment.entry = ledger.post(
        kind=LedgerEntry.Kind.PAYMENT,
        measure=application.measure,
        year=application.year,
        lines=[(Account.COMMITTED, -payment.amount_fen), (Account.PAID, payment.amount_fen)],
        posted_on=paid_on,
        acting_user=acting_user,
        application=application,
        memo=_("支付 %(e)s") % {"e": application.enterprise.name},
    )
    payment.save(
        update_fields=[
            "status",
            "paid_on",
            "bank_reference",
            "idempotency_key",
            "executed_by",
            "entry",
        ]
    )
    application.refresh_from_db()
    ApplicationEvent.objects.create(
        application=application,
        from_status=S.SCHEDULED,
        to_status=S.PAID,
        actor=user_or_none(acting_user),
        reason=bank_reference.strip(),
    )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=application,
        changes={
            "status": [S.SCHEDULED, S.PAID],
            "paid_fen": [None, payment.amount_fen],
            "paid_on": [None, paid_on.isoformat()],
        },
        enterprise_id=application.enterprise_id,
    )
    return payment, True


def _same_request(earlier: Payment, application: Application) -> tuple[Payment, bool]:
    if earlier.application_id != application.pk:
        raise ValidationError({"idempotency_key": _("该幂等键已用于另一笔支付")})
    return earlier, False


@transaction.atomic
def payment_fail(*, application: Application, reason: str, acting_user: Any) -> Application:
    """Records that the bank did not pay a scheduled application (wrong account, closed
    account …); no money moved, the commitment stays, and it can be scheduled again."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写失败原因")})
    _payer_checks(application, acting_user)
    if application.status != S.SCHEDULED:
        # A paid application's money came back through a reversal, which also undoes the
        # ledger; "failed" here means the bank never paid.
        raise ValidationError(
            {"status": _("只有待支付的申请可以登记支付失败;已支付的如被退回请冲正")}
        )
    moved = _move(application, S.FAILED, acting_user=acting_user, note=reason.strip())
    Payment.objects.filter(application=application, status=Payment.Status.SCHEDULED).update(
        status=Payment.Status.FAILED, failure_reason=reason.strip()[:200]
    )
    return moved


@transaction.atomic
def payment_reverse(
    *, application: Application, reason: str, acting_user: Any, posted_on: dt.date | None = None
) -> Application:
    """Reverses a recorded payment (the money came back): a reversal entry negates the
    payment's postings, the payment is marked reversed and the application can be paid again."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写冲正原因")})
    _payer_checks(application, acting_user)
    payment = application.payments.filter(status=Payment.Status.PAID).first()
    if payment is None or payment.entry is None:
        raise ValidationError({"status": _("该申请没有可冲正的支付")})
    moved = _move(application, S.FAILED, acting_user=acting_user, note=reason.strip())
    touched = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PAID).update(
        status=Payment.Status.REVERSED, failure_reason=reason.strip()[:200]
    )
    if touched != 1:
        raise ValidationError({"status": _("该支付已冲正")})
    ledger.entry_reverse(
        entry=payment.entry,
        memo=reason.strip(),
        posted_on=posted_on or timezone.localdate(),
        acting_user=acting_user,
    )
    return moved


@transaction.atomic
def application_cancel(
    *, application: Application, reason: str, acting_user: Any, today: dt.date | None = None
) -> Application:
    """Cancels an approved application that will not be paid (the enterprise closed, the
    approval was wrong, an objection was upheld too late): the committed amount goes back to
    the measure's available budget (a release entry) and the application is cancelled. Not
    after it was paid: a paid application is reversed first."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写撤销理由")})
    if application.status not in (S.APPROVED, S.FAILED):
        raise ValidationError(
            {
                "status": _("只有已批准或支付失败的申请可以撤销,当前为“%(s)s”")
                % {"s": application.get_status_display()}
            }
        )
    moved = _move(
        application,
        S.CANCELLED,
        acting_user=acting_user,
        note=reason.strip(),
        reason=reason.strip(),
    )
    Payment.objects.filter(application=application, status=Payment.Status.SCHEDULED).update(
        status=Payment.Status.FAILED, failure_reason=reason.strip()[:200]
    )
    amount = application.amount_fen or 0
    if amount:
        ledger.post(
            kind=LedgerEntry.Kind.RELEASE,
            measure=application.measure,
            year=application.year,
            lines=[(Account.COMMITTED, -amount), (Account.AVAILABLE, amount)],
            posted_on=today or timezone.localdate(),
            acting_user=acting_user,
            application=moved,
            memo=_("撤销 %(e)s:%(r)s") % {"e": application.enterprise.name, "r": reason.strip()},
        )
    return moved
