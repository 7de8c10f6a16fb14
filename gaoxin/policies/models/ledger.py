"""The double-entry ledger in fen, and payments of approved applications."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gaoxin.policies.models.applications import Application
from gaoxin.policies.models.fields import person
from gaoxin.policies.models.policies import Measure

# --- the ledger -----------------------------------------------------------------------------------


class Account(models.TextChoices):
    """The ledger's accounts, each kept per measure and year. Money flows appropriation →
    available (a budget) → committed (an approval, an issued voucher) → paid."""

    APPROPRIATION = "appropriation", _("财政拨款")
    AVAILABLE = "available", _("可用预算")
    COMMITTED = "committed", _("已批准未支付")
    PAID = "paid", _("已支付")


class LedgerEntry(models.Model):
    """One balanced transaction of postings. Entries are never edited or deleted: a correction
    is a reversal entry that negates the postings of the one it reverses."""

    class Kind(models.TextChoices):
        BUDGET = "budget", _("预算下达")
        COMMIT = "commit", _("批准")
        PAYMENT = "payment", _("支付")
        RELEASE = "release", _("释放")
        REVERSAL = "reversal", _("冲正")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    measure = models.ForeignKey(
        Measure, verbose_name=_("政策条款"), on_delete=models.PROTECT, related_name="entries"
    )
    year = models.PositiveSmallIntegerField(_("预算年度"))
    posted_on = models.DateField(_("记账日期"))
    application = models.ForeignKey(
        Application,
        verbose_name=_("资金申请"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    voucher = models.ForeignKey(
        "Voucher",
        verbose_name=_("创新券"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正的分录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    created_by = person(_("记账人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["posted_on", "pk"]
        indexes = [models.Index(fields=["kind", "posted_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.posted_on}"


class Posting(models.Model):
    """An amount in fen on one account of one measure and year; an entry's postings sum to 0."""

    entry = models.ForeignKey(
        LedgerEntry, verbose_name=_("分录"), on_delete=models.PROTECT, related_name="postings"
    )
    account = models.CharField(_("科目"), max_length=14, choices=Account.choices)
    measure = models.ForeignKey(
        Measure, verbose_name=_("政策条款"), on_delete=models.PROTECT, related_name="postings"
    )
    year = models.PositiveSmallIntegerField(_("预算年度"))
    amount_fen = models.BigIntegerField(_("金额(分)"))

    class Meta:
        verbose_name = _("过账")
        verbose_name_plural = _("过账")
        ordering = ["entry", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_fen=0), name="posting_not_zero"),
        ]
        indexes = [models.Index(fields=["measure", "year", "account"])]

    def __str__(self) -> str:
        return f"{self.account} {self.amount_fen}"


class PaymentBatch(models.Model):
    """Payments scheduled together and sent to the bank as one file (支付批次)."""

    number = models.CharField(_("批次号"), max_length=30, unique=True)
    created_by = person(_("制单人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("支付批次")
        verbose_name_plural = _("支付批次")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    """One attempt to pay an approved application. At most one attempt per application is
    ever `paid` (a partial unique index), and it reaches `paid` by a conditional UPDATE, so a
    pay action sent twice, concurrently or after a failure pays once."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待支付")
        PAID = "paid", _("已支付")
        FAILED = "failed", _("支付失败")
        REVERSED = "reversed", _("已冲正")

    application = models.ForeignKey(
        Application, verbose_name=_("资金申请"), on_delete=models.PROTECT, related_name="payments"
    )
    attempt = models.PositiveSmallIntegerField(_("第几次支付"))
    batch = models.ForeignKey(
        PaymentBatch,
        verbose_name=_("支付批次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    amount_fen = models.BigIntegerField(_("金额(分)"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    account_bank = models.CharField(_("开户银行"), max_length=100)
    account_name = models.CharField(_("账户名称"), max_length=100)
    account_no = models.CharField(_("银行账号"), max_length=40)
    paid_on = models.DateField(_("支付日期"), null=True, blank=True)
    bank_reference = models.CharField(_("银行流水号"), max_length=60, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    idempotency_key = models.CharField(
        _("幂等键"), max_length=100, null=True, blank=True, unique=True
    )
    entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("支付分录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
    )
    scheduled_by = person(_("制单人"))
    executed_by = person(_("支付经办人"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "attempt"], name="payment_attempt_unique"
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="paid"),
                name="payment_paid_once",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} #{self.attempt}"
