"""Statistical reporting: forms defined as data (versioned), periods with due dates, one report
per (enterprise, form, period) moving through an explicit status table, and immutable revisions
written on each acceptance ("as first reported" is revision 1, "as revised" the latest)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gaoxin.registry.models import Enterprise


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("月报")
    ANNUAL = "annual", _("年报")


class Unit(models.TextChoices):
    """Units a field is entered in. Money is stored in 元, whatever the form shows."""

    YUAN = "yuan", _("元")
    KYUAN = "kyuan", _("千元")
    WYUAN = "wyuan", _("万元")
    PERSON = "person", _("人")
    ITEM = "item", _("件")
    PERCENT = "percent", _("%")
    NONE = "none", _("无")


# How many canonical units (元 for money) one entered unit is.
UNIT_FACTOR: dict[str, Decimal] = {
    Unit.YUAN: Decimal(1),
    Unit.KYUAN: Decimal(1000),
    Unit.WYUAN: Decimal(10000),
}


class ReportForm(models.Model):
    """One version of a report form. A new version applies to periods from `effective_from`;
    reports keep the version they were filled in."""

    code = models.SlugField(_("表号"), max_length=40)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    name = models.CharField(_("报表名称"), max_length=120)
    frequency = models.CharField(_("报送频率"), max_length=10, choices=Frequency.choices)
    effective_from = models.DateField(_("启用日期"))
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("报表")
        verbose_name_plural = _("报表")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="report_form_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}(v{self.version})"


class ReportField(models.Model):
    class Kind(models.TextChoices):
        DECIMAL = "decimal", _("数值")
        INTEGER = "integer", _("整数")
        TEXT = "text", _("文字")
        BOOLEAN = "boolean", _("是/否")

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="fields")
    # Stable across versions: indicators read values by key, never by label.
    key = models.SlugField(_("字段代码"), max_length=40)
    name = models.CharField(_("指标名称"), max_length=80)
    unit = models.CharField(_("计量单位"), max_length=10, choices=Unit.choices, default=Unit.NONE)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.DECIMAL)
    required = models.BooleanField(_("必填"), default=True)
    non_negative = models.BooleanField(_("不得为负"), default=True)
    help_text = models.CharField(_("填报说明"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("报表指标")
        verbose_name_plural = _("报表指标")
        ordering = ["form", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="report_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The column header users see and import by, e.g. 工业总产值(当年价格)(万元)."""
        if self.unit in (Unit.NONE, ""):
            return self.name
        return f"{self.name}({Unit(self.unit).label})"

    @property
    def is_number(self) -> bool:
        return self.kind in (self.Kind.DECIMAL, self.Kind.INTEGER)

    @property
    def factor(self) -> Decimal:
        return UNIT_FACTOR.get(self.unit, Decimal(1))


class ReportPeriod(models.Model):
    form_code = models.SlugField(_("表号"), max_length=40)
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份"), null=True, blank=True)
    due_on = models.DateField(_("报送截止日"))

    class Meta:
        verbose_name = _("报告期")
        verbose_name_plural = _("报告期")
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["form_code", "year", "month"],
                condition=Q(month__isnull=False),
                name="report_period_month_unique",
            ),
            models.UniqueConstraint(
                fields=["form_code", "year"],
                condition=Q(month__isnull=True),
                name="report_period_year_unique",
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(month__gte=1, month__lte=12),
                name="report_period_month_range",
            ),
        ]

    def __str__(self) -> str:
        if self.month:
            return f"{self.year}年{self.month}月"
        return f"{self.year}年"

    @property
    def starts_on(self) -> dt.date:
        return dt.date(self.year, self.month or 1, 1)

    def form(self) -> ReportForm:
        """The form version in force for this period."""
        found = (
            ReportForm.objects.filter(code=self.form_code, effective_from__lte=self.starts_on)
            .order_by("-version")
            .first()
        )
        if found is None:
            found = ReportForm.objects.filter(code=self.form_code).order_by("version").first()
        if found is None:
            raise ReportForm.DoesNotExist(self.form_code)
        return found


class ReportStatus(models.TextChoices):
    # "Not submitted" is the absence of a report row: selectors show it for worklists.
    NOT_SUBMITTED = "not_submitted", _("未填报")
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送待审核")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已审核通过")


class Report(models.Model):
    """The working copy of one enterprise's report for one period. `values` hold canonical
    units (元 for money) as text decimals, keyed by field key."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="reports")
    period = models.ForeignKey(ReportPeriod, on_delete=models.PROTECT, related_name="reports")
    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(
        _("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    values = models.JSONField(_("填报数据"), default=dict, blank=True)
    findings = models.JSONField(_("校验结果"), default=list, blank=True)
    explanation = models.TextField(_("情况说明"), blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    # Set when an accepted report is reopened; carried into the next revision.
    correction_reason = models.TextField(_("更正原因"), blank=True)
    revision = models.PositiveSmallIntegerField(_("已通过的修订次数"), default=0)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业报表")
        verbose_name_plural = _("企业报表")
        ordering = ["-period__year", "-period__month", "enterprise__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "period"], name="report_one_per_enterprise_period"
            )
        ]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.period} {self.form.name}"


class ReportRevision(models.Model):
    """What was accepted, frozen: one row per acceptance. Never updated."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveSmallIntegerField(_("修订次数"))
    values = models.JSONField(_("填报数据"), default=dict)
    findings = models.JSONField(_("校验结果"), default=list, blank=True)
    explanation = models.TextField(_("情况说明"), blank=True)
    correction_reason = models.TextField(_("更正原因"), blank=True)
    accepted_at = models.DateTimeField(_("通过时间"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("报表修订")
        verbose_name_plural = _("报表修订")
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.report} #{self.number}"


def shown_values(report: Report) -> dict[str, Any]:
    """The report's stored values in the units its form shows (万元, 千元 …), for forms and
    for re-checking what was saved."""
    fields = {f.key: f for f in report.form.fields.all()}
    out: dict[str, Any] = {}
    for key, value in report.values.items():
        f = fields.get(key)
        if f is not None and f.is_number and value is not None:
            out[key] = Decimal(str(value)) / f.factor
        else:
            out[key] = value
    return out
