"""Policies, their measures (rules in numbered versions) and budgets, and the loan records
the loan-interest measure reads."""

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


class Policy(models.Model):
    """A support policy document (政策文件) with its measures; drafted, then published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已废止")

    title = models.CharField(_("政策名称"), max_length=200)
    issuer = models.CharField(_("发文机关"), max_length=100)
    doc_number = models.CharField(_("文号"), max_length=60, blank=True)
    effective_from = models.DateField(_("施行日期"))
    effective_to = models.DateField(_("截止日期"), null=True, blank=True)
    full_text = models.TextField(_("政策全文"), blank=True)
    # The signed document as issued (PDF, Word or an image scan), beside or instead of the text.
    document = models.FileField(
        _("政策文件"), upload_to="policies/documents/%Y/", max_length=300, blank=True
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("政策")
        verbose_name_plural = _("政策")
        ordering = ["-effective_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="policy_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Measure(models.Model):
    """A measure (条款) of a policy: one of the shipped rules (`measures.SHIPPED`) with this
    policy's parameters, a cap per enterprise and year, and yearly budgets. Its rule and
    parameters live in numbered versions; a decision records the version it used."""

    policy = models.ForeignKey(
        Policy, verbose_name=_("政策"), on_delete=models.CASCADE, related_name="measures"
    )
    code = models.SlugField(_("条款类型"), max_length=40)
    name = models.CharField(_("条款名称"), max_length=100)
    cap_fen = models.BigIntegerField(_("单家企业年度上限(分)"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("政策条款")
        verbose_name_plural = _("政策条款")
        ordering = ["policy", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="measure_code_unique"),
            models.CheckConstraint(
                condition=Q(cap_fen__isnull=True) | Q(cap_fen__gt=0), name="measure_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def current(self) -> MeasureVersion:
        """The latest version. Reads the prefetched versions when the caller prefetched them
        (pages and the what-if list many measures), else one query."""
        return max(self.versions.all(), key=lambda v: v.number)


class MeasureVersion(models.Model):
    """A measure's rule (canonical JSON) and parameters as they were from `created_at`; never
    changed once written."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("政策条款"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("版本"))
    rule = models.TextField(_("规则"))
    params = models.JSONField(_("参数"))
    version = models.CharField(_("版本标识"), max_length=16)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("条款版本")
        verbose_name_plural = _("条款版本")
        ordering = ["measure", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "number"], name="measure_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure} v{self.number}"


class MeasureBudget(models.Model):
    """The money set aside for a measure in a year."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("政策条款"), on_delete=models.CASCADE, related_name="budgets"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    amount_fen = models.BigIntegerField(_("预算金额(分)"))

    class Meta:
        verbose_name = _("条款预算")
        verbose_name_plural = _("条款预算")
        ordering = ["measure", "year"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "year"], name="measure_budget_unique"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="budget_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.year}"
