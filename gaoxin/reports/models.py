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


def default_due_on(year: int, month: int | None) -> dt.date:
    """When a period is due unless staff say otherwise: the 10th of the following month for a
    monthly report, 31 March of the following year for an annual one."""
    if month:
        return dt.date(year + month // 12, month % 12 + 1, 10)
    return dt.date(year + 1, 3, 31)


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
            return _("%(year)d年%(month)d月") % {"year": self.year, "month": self.month}
        return _("%(year)d年") % {"year": self.year}

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


class Basis(models.TextChoices):
    FIRST = "first", _("首次报送")
    REVISED = "revised", _("修订后")


# The measures indicators read, one column each in ReportFact: the shipped forms' field keys.
FACT_MONEY = (
    "gross_output",
    "gross_output_ytd",
    "revenue",
    "main_revenue",
    "profit",
    "tax",
    "export_value",
    "new_product_output",
    "rd_spend",
    "hightech_revenue",
    "tech_income",
    "exports",
)
FACT_COUNTS = ("employees", "rd_personnel", "patents_applied", "patents_granted")
FACT_FLAGS = ("has_rd_institution",)


def _money(label: Any) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(label, max_digits=20, decimal_places=2, null=True, blank=True)


class ReportFact(models.Model):
    """Accepted values as typed columns, for aggregation: one row per (report, basis). "first"
    is revision 1, "revised" the latest; both are written when a report is accepted, so the
    indicator engine never parses JSON. Derived from ReportRevision, which stays the record."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="facts")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="+")
    form_code = models.SlugField(max_length=40)
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    basis = models.CharField(max_length=8, choices=Basis.choices)
    revision = models.PositiveSmallIntegerField()
    gross_output = _money(_("工业总产值"))
    gross_output_ytd = _money(_("工业总产值本年累计"))
    revenue = _money(_("营业收入"))
    main_revenue = _money(_("主营业务收入"))
    profit = _money(_("利润总额"))
    tax = _money(_("应交税金"))
    export_value = _money(_("出口交货值"))
    new_product_output = _money(_("新产品产值"))
    rd_spend = _money(_("研发经费内部支出"))
    hightech_revenue = _money(_("高新技术产品(服务)收入"))
    tech_income = _money(_("技术收入"))
    exports = _money(_("出口总额"))
    employees = models.IntegerField(_("从业人员"), null=True, blank=True)
    rd_personnel = models.IntegerField(_("研发人员"), null=True, blank=True)
    patents_applied = models.IntegerField(_("专利申请数"), null=True, blank=True)
    patents_granted = models.IntegerField(_("专利授权数"), null=True, blank=True)
    has_rd_institution = models.BooleanField(_("设有研发机构"), null=True, blank=True)

    class Meta:
        verbose_name = _("报表数据(汇总用)")
        verbose_name_plural = _("报表数据(汇总用)")
        constraints = [
            models.UniqueConstraint(fields=["report", "basis"], name="report_fact_unique")
        ]
        # Covering the yearly per-enterprise sums the engine takes (five times faster on SQLite
        # than reading the rows; docs/benchmarks.md).
        indexes = [
            models.Index(
                fields=[
                    "form_code",
                    "basis",
                    "year",
                    "enterprise",
                    "month",
                    "gross_output",
                    "revenue",
                ],
                name="report_fact_year_totals",
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.basis}"


def fact_values(values: dict[str, Any]) -> dict[str, Any]:
    """A revision's JSON values as ReportFact column values."""
    out: dict[str, Any] = {}
    for key in FACT_MONEY:
        raw = values.get(key)
        out[key] = Decimal(str(raw)).quantize(Decimal("0.01")) if raw is not None else None
    for key in FACT_COUNTS:
        raw = values.get(key)
        out[key] = int(Decimal(str(raw))) if raw is not None else None
    for key in FACT_FLAGS:
        raw = values.get(key)
        out[key] = bool(raw) if raw is not None else None
    return out


class ReportFactYear(models.Model):
    """Yearly sums of the monthly facts per enterprise and basis, for the indicators that work
    on whole years (200k rows a year instead of 2.4M). Derived: `rollups.refresh` rewrites the
    rows of a year from ReportFact whenever facts are written."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="+")
    form_code = models.SlugField(max_length=40)
    year = models.PositiveSmallIntegerField()
    basis = models.CharField(max_length=8, choices=Basis.choices)
    months = models.PositiveSmallIntegerField()
    gross_output = models.DecimalField(max_digits=22, decimal_places=2, null=True)
    revenue = models.DecimalField(max_digits=22, decimal_places=2, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["form_code", "basis", "year", "enterprise"], name="report_fact_year_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.form_code} {self.year} {self.basis}"


YEAR_MEASURES = ("gross_output", "revenue")  # the columns ReportFactYear sums
