"""Policy funds. This first part holds the records the measures read that the registry and the
reports do not: registered loans and the interest actually paid on them (贷款贴息)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gaoxin.registry.models import Enterprise


class Loan(models.Model):
    """A bank loan an enterprise registers with the zone (the basis of 贷款贴息)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="loans"
    )
    bank = models.CharField(_("贷款银行"), max_length=100)
    contract_no = models.CharField(_("合同编号"), max_length=60)
    principal_fen = models.BigIntegerField(_("贷款金额(分)"))
    # Annual rate in basis points (4.35% = 435): an integer, like every amount the rules read.
    annual_rate_bp = models.PositiveIntegerField(_("年利率(基点)"))
    start_on = models.DateField(_("放款日期"))
    end_on = models.DateField(_("到期日期"))
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("贷款")
        verbose_name_plural = _("贷款")
        ordering = ["-start_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "contract_no"], name="loan_contract_unique"),
            models.CheckConstraint(
                condition=Q(principal_fen__gt=0), name="loan_principal_positive"
            ),
            models.CheckConstraint(
                condition=Q(end_on__gt=models.F("start_on")), name="loan_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank} {self.contract_no}"


class InterestPayment(models.Model):
    """Interest actually paid on a loan on a date (from the bank's statement)."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="interest_payments"
    )
    paid_on = models.DateField(_("付息日期"))
    amount_fen = models.BigIntegerField(_("付息金额(分)"))

    class Meta:
        verbose_name = _("付息记录")
        verbose_name_plural = _("付息记录")
        ordering = ["paid_on", "pk"]
        constraints = [
            # One payment per loan and date: re-entering a statement changes nothing.
            models.UniqueConstraint(fields=["loan", "paid_on"], name="interest_payment_unique"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="interest_amount_positive"),
        ]
        indexes = [models.Index(fields=["paid_on", "loan"])]

    def __str__(self) -> str:
        return f"{self.loan} {self.paid_on}"
