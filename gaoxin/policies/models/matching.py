"""Proactive matching (免申即享): recorded, reproducible runs and their results."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gaoxin.policies.models.fields import person
from gaoxin.policies.models.policies import Measure, MeasureVersion
from gaoxin.registry.models import Enterprise

# --- proactive matching (免申即享) --------------------------------------------------------------


def snapshot_path(instance: MatchRun, filename: str) -> str:
    return f"policies/match_runs/{instance.year}/{filename}"


class MatchRun(models.Model):
    """One run of the published measures over every enterprise for a year. It keeps the rule
    versions it used and the facts it read (a Parquet file and its hash), so the run can be
    evaluated again and must give the same matches."""

    year = models.PositiveSmallIntegerField(_("年度"))
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("仅此条款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    versions = models.ManyToManyField(MeasureVersion, verbose_name=_("规则版本"), related_name="+")
    enterprises = models.PositiveIntegerField(_("参与匹配企业数"), default=0)
    matches = models.PositiveIntegerField(_("符合条件数"), default=0)
    total_fen = models.BigIntegerField(_("测算总额(分)"), default=0)
    snapshot = models.FileField(_("数据快照"), upload_to=snapshot_path, max_length=300)
    snapshot_sha256 = models.CharField(_("快照SHA-256"), max_length=64)
    started_by = person(_("发起人"))
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    seconds = models.FloatField(_("用时(秒)"), default=0)

    class Meta:
        verbose_name = _("匹配批次")
        verbose_name_plural = _("匹配批次")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.year} #{self.pk}"


class Match(models.Model):
    """An enterprise a run found eligible under a measure, with the computed amount and the
    facts the decision used. Staff confirm it (it becomes an application awaiting the
    enterprise's account) or dismiss it with a reason."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DISMISSED = "dismissed", _("不予推送")

    # Run, measure and version are not indexed on their own: a run writes hundreds of
    # thousands of matches at once, every index costs on that write, and the unique
    # (run, enterprise, measure) index serves the reads by run.
    run = models.ForeignKey(
        MatchRun,
        verbose_name=_("匹配批次"),
        on_delete=models.CASCADE,
        related_name="results",
        db_index=False,
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="matches"
    )
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("政策条款"),
        on_delete=models.PROTECT,
        related_name="matches",
        db_index=False,
    )
    version = models.ForeignKey(
        MeasureVersion,
        verbose_name=_("规则版本"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    amount_fen = models.BigIntegerField(_("测算金额(分)"))
    facts = models.JSONField(_("决定所用数据"), default=dict)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("匹配结果")
        verbose_name_plural = _("匹配结果")
        ordering = ["run", "measure", "enterprise"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "enterprise", "measure"], name="match_once_per_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.measure}"
