"""Applications and their workflow: public notices (公示) with objections, working days."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gaoxin.policies.models.fields import person
from gaoxin.policies.models.policies import Measure, MeasureVersion, Policy
from gaoxin.registry.models import Enterprise

# --- working days for public notices (公示) -----------------------------------------------------


class Holiday(models.Model):
    """A day whose working status the zone sets: a public holiday on a weekday, or a weekend
    made a working day (调休). Overrides the national calendar Gaoxin ships (ADR 0008)."""

    day = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"), default=False)
    name = models.CharField(_("名称"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class Notice(models.Model):
    """A public notice (公示) of the applications a policy's reviewers passed for a year. It
    runs `working_days` working days from its first working day; objections may be recorded
    until it ends, and approval waits for its end and for every objection to be resolved."""

    policy = models.ForeignKey(
        Policy, verbose_name=_("政策"), on_delete=models.PROTECT, related_name="notices"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("公示标题"), max_length=200)
    published_on = models.DateField(_("发布日期"))
    working_days = models.PositiveSmallIntegerField(_("公示期(工作日)"), default=5)
    starts_on = models.DateField(_("公示开始"))
    ends_on = models.DateField(_("公示截止"))
    contact = models.CharField(_("异议受理联系方式"), max_length=200, blank=True)
    published_by = person(_("发布人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-published_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(working_days__gte=1), name="notice_at_least_one_day"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="notice_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_over(self, today: dt.date) -> bool:
        return today > self.ends_on


# --- applications ---------------------------------------------------------------------------------


class Application(models.Model):
    """An enterprise's claim under a measure for a year: applied for by the enterprise, or
    proposed by a matching run (免申即享) and confirmed by it. It records the rule version and
    the facts its amount was computed from; the decision never changes when the rule does."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        RETURNED = "returned", _("已退回")
        REJECTED = "rejected", _("不予支持")
        PASSED = "passed", _("已通过审核")
        NOTICE = "notice", _("公示中")
        APPROVED = "approved", _("已批准")
        SCHEDULED = "scheduled", _("待支付")
        PAID = "paid", _("已支付")
        FAILED = "failed", _("支付失败")
        CANCELLED = "cancelled", _("已撤销")

    class Source(models.TextChoices):
        APPLIED = "applied", _("企业申报")
        MATCHED = "matched", _("免申即享")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="applications"
    )
    measure = models.ForeignKey(
        Measure, verbose_name=_("政策条款"), on_delete=models.PROTECT, related_name="applications"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    source = models.CharField(
        _("来源"), max_length=10, choices=Source.choices, default=Source.APPLIED
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    version = models.ForeignKey(
        MeasureVersion, verbose_name=_("规则版本"), on_delete=models.PROTECT, related_name="+"
    )
    facts = models.JSONField(_("决定所用数据"), default=dict)
    eligible = models.BooleanField(_("规则判定符合"), default=False)
    computed_fen = models.BigIntegerField(_("规则测算金额(分)"), default=0)
    amount_fen = models.BigIntegerField(_("核定金额(分)"), null=True, blank=True)
    statement = models.TextField(_("申请说明"), blank=True)
    account_bank = models.CharField(_("开户银行"), max_length=100, blank=True)
    account_name = models.CharField(_("账户名称"), max_length=100, blank=True)
    account_no = models.CharField(_("银行账号"), max_length=40, blank=True)
    match = models.OneToOneField(
        "Match",
        verbose_name=_("匹配结果"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="application",
    )
    notice = models.ForeignKey(
        Notice,
        verbose_name=_("公示"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    reason = models.TextField(_("最近一次退回或不予支持的理由"), blank=True)
    submitted_by = person(_("申请人"), blank=True)
    reviewed_by = person(_("审核人"), blank=True)
    approved_by = person(_("批准人"), blank=True)
    paid_by = person(_("支付经办人"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("资金申请")
        verbose_name_plural = _("资金申请")
        ordering = ["-year", "-pk"]
        constraints = [
            # One live claim per enterprise, measure and year: a rejected or cancelled one may
            # be applied for again, nothing else may exist twice (the first guard against
            # paying twice).
            models.UniqueConstraint(
                fields=["enterprise", "measure", "year"],
                condition=~Q(status__in=["rejected", "cancelled"]),
                name="application_once_per_year",
            ),
            models.CheckConstraint(
                condition=Q(amount_fen__isnull=True) | Q(amount_fen__gte=0),
                name="application_amount_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["measure", "year", "status"])]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.measure} · {self.year}"


class ApplicationEvent(models.Model):
    """One step of an application's workflow, with who took it and why: the history the
    enterprise and the reviewers read (the audit log keeps the same for auditors)."""

    application = models.ForeignKey(
        Application, verbose_name=_("资金申请"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("原状态"), max_length=10, blank=True)
    to_status = models.CharField(_("新状态"), max_length=10)
    actor = person(_("操作人"))
    reason = models.TextField(_("说明"), blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申请流转记录")
        verbose_name_plural = _("申请流转记录")
        ordering = ["application", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_status} → {self.to_status}"

    @property
    def to_label(self) -> str:
        return str(Application.Status(self.to_status).label)


def attachment_path(instance: ApplicationAttachment, filename: str) -> str:
    return f"policies/applications/{instance.application_id}/{instance.sha256[:16]}-{filename}"


class ApplicationAttachment(models.Model):
    """A file an enterprise attaches to its application (contracts, certificates, invoices)."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("资金申请"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = person(_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申请附件")
        verbose_name_plural = _("申请附件")
        ordering = ["application", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "sha256"], name="attachment_once_per_application"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Objection(models.Model):
    """An objection (异议) to an application raised during its public notice, and how it was
    resolved: upheld (the application is not supported) or dismissed."""

    notice = models.ForeignKey(
        Notice, verbose_name=_("公示"), on_delete=models.PROTECT, related_name="objections"
    )
    application = models.ForeignKey(
        Application, verbose_name=_("资金申请"), on_delete=models.PROTECT, related_name="objections"
    )
    objector = models.CharField(_("异议人及联系方式"), max_length=200)
    content = models.TextField(_("异议内容"))
    received_on = models.DateField(_("受理日期"))
    recorded_by = person(_("登记人"))
    upheld = models.BooleanField(_("异议成立"), null=True, blank=True)
    resolution = models.TextField(_("处理意见"), blank=True)
    resolved_by = person(_("处理人"), blank=True)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["notice", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.objector}"

    @property
    def resolved(self) -> bool:
        return self.upheld is not None
