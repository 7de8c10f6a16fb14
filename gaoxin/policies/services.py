"""Writes for policy funds. Each service validates, writes in one transaction and leaves an
audit row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.policies.models import InterestPayment, Loan
from gaoxin.registry.models import Enterprise

LOAN_FIELDS = (
    "bank",
    "contract_no",
    "principal_fen",
    "annual_rate_bp",
    "start_on",
    "end_on",
    "notes",
)


@transaction.atomic
def loan_register(
    *,
    enterprise: Enterprise,
    bank: str,
    contract_no: str,
    principal_fen: int,
    annual_rate_bp: int,
    start_on: dt.date,
    end_on: dt.date,
    notes: str = "",
    acting_user: Any,
) -> Loan:
    """Registers a loan once per bank and contract number; refuses a non-positive amount, a
    rate outside 0-36% and an end before the start, naming the field."""
    errors: dict[str, str] = {}
    if not bank.strip():
        errors["bank"] = _("请填写贷款银行")
    if not contract_no.strip():
        errors["contract_no"] = _("请填写合同编号")
    if principal_fen <= 0:
        errors["principal_fen"] = _("贷款金额应大于0")
    if not 0 < annual_rate_bp <= 3600:
        errors["annual_rate_bp"] = _("年利率应在0%到36%之间")
    if end_on <= start_on:
        errors["end_on"] = _("到期日期应晚于放款日期")
    if errors:
        raise ValidationError(errors)
    loan = Loan(
        enterprise=enterprise,
        bank=bank.strip(),
        contract_no=contract_no.strip(),
        principal_fen=principal_fen,
        annual_rate_bp=annual_rate_bp,
        start_on=start_on,
        end_on=end_on,
        notes=notes.strip(),
    )
    try:
        with transaction.atomic():
            loan.save()
    except IntegrityError as exc:
        raise ValidationError({"contract_no": _("该银行的这份贷款合同已登记")}) from exc
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=loan,
        changes=audit.diff({}, audit.snapshot(loan, LOAN_FIELDS)),
        enterprise_id=enterprise.pk,
    )
    return loan


@transaction.atomic
def interest_payment_record(
    *, loan: Loan, paid_on: dt.date, amount_fen: int, acting_user: Any
) -> tuple[InterestPayment, bool]:
    """Records the interest paid on a loan on a date. The same payment entered again changes
    nothing and returns (payment, False); a different amount for the same date is refused."""
    if amount_fen <= 0:
        raise ValidationError({"amount_fen": _("付息金额应大于0")})
    if not loan.start_on <= paid_on <= loan.end_on + dt.timedelta(days=31):
        raise ValidationError({"paid_on": _("付息日期不在贷款期限内")})
    existing = InterestPayment.objects.filter(loan=loan, paid_on=paid_on).first()
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise ValidationError(
                {"amount_fen": _("该笔贷款在这一天已有不同金额的付息记录,请核对")}
            )
        return existing, False
    payment = InterestPayment.objects.create(loan=loan, paid_on=paid_on, amount_fen=amount_fen)
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=payment,
        changes={"paid_on": [None, paid_on.isoformat()], "amount_fen": [None, amount_fen]},
        enterprise_id=loan.enterprise_id,
    )
    return payment, True
