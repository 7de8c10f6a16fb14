"""Innovation vouchers (创新券): providers, vouchers, redemptions and settlements."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gaoxin.policies.models.fields import person
from gaoxin.policies.models.policies import Measure
from gaoxin.registry.models import Enterprise


class ServiceProvider(models.Model):
    """A registered provider of technology services where vouchers are redeemed."""

    name = models.CharField(_("服务机构名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    services = models.CharField(_("服务范围"), max_length=200, blank=True)
    account_bank = models.CharField(_("开户银行"), max_length=100)
    account_name = models.CharField(_("账户名称"), max_length=100)
    account_no = models.CharField(_("银行账号"), max_length=40)
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务机构")
        verbose_name_plural = _("服务机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Voucher(models.Model):
    """An innovation voucher issued to an enterprise under a 创新券 measure: its amount is
    committed in the ledger when issued; redemptions draw it down by a conditional UPDATE that
    cannot pass the balance; what is left when it expires can be released back to the budget."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        RELEASED = "released", _("已收回余额")

    number = models.CharField(_("券号"), max_length=30, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="vouchers"
    )
    measure = models.ForeignKey(
        Measure, verbose_name=_("政策条款"), on_delete=models.PROTECT, related_name="vouchers"
    )
    year = models.PositiveSmallIntegerField(_("预算年度"))
    amount_fen = models.BigIntegerField(_("面额(分)"))
    redeemed_fen = models.BigIntegerField(_("已使用(分)"), default=0)
    valid_from = models.DateField(_("有效期自"))
    valid_to = models.DateField(_("有效期至"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    issued_by = person(_("发放人"))
    issued_at = models.DateTimeField(_("发放时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("创新券")
        verbose_name_plural = _("创新券")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="voucher_positive"),
            models.CheckConstraint(
                condition=Q(redeemed_fen__gte=0) & Q(redeemed_fen__lte=models.F("amount_fen")),
                name="voucher_within_balance",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="voucher_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance_fen(self) -> int:
        return self.amount_fen - self.redeemed_fen


class Settlement(models.Model):
    """The zone paying a provider for the redemptions it has not yet been paid for."""

    provider = models.ForeignKey(
        ServiceProvider,
        verbose_name=_("服务机构"),
        on_delete=models.PROTECT,
        related_name="settlements",
    )
    total_fen = models.BigIntegerField(_("结算金额(分)"))
    paid_on = models.DateField(_("支付日期"))
    bank_reference = models.CharField(_("银行流水号"), max_length=60, blank=True)
    created_by = person(_("经办人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务机构结算")
        verbose_name_plural = _("服务机构结算")
        ordering = ["-paid_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.provider} {self.paid_on}"


class Redemption(models.Model):
    """A voucher used against a service contract with a provider; settled later."""

    voucher = models.ForeignKey(
        Voucher, verbose_name=_("创新券"), on_delete=models.PROTECT, related_name="redemptions"
    )
    provider = models.ForeignKey(
        ServiceProvider,
        verbose_name=_("服务机构"),
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    contract_no = models.CharField(_("服务合同编号"), max_length=60)
    service = models.CharField(_("服务内容"), max_length=200)
    amount_fen = models.BigIntegerField(_("抵扣金额(分)"))
    redeemed_on = models.DateField(_("使用日期"))
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("结算"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
    )
    # The client's Idempotency-Key (API): the same key answers with the same redemption.
    idempotency_key = models.CharField(
        _("幂等键"), max_length=100, null=True, blank=True, unique=True
    )
    recorded_by = person(_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("创新券使用")
        verbose_name_plural = _("创新券使用")
        ordering = ["-redeemed_on", "-pk"]
        constraints = [
            # The same contract is redeemed once per voucher: a resent request changes nothing.
            models.UniqueConstraint(
                fields=["voucher", "provider", "contract_no"], name="redemption_once"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="redemption_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher} {self.contract_no}"
