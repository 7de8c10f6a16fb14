"""Targets set by staff. Indicator values are never stored: they are computed from records."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Target(models.Model):
    code = models.SlugField(_("指标代码"), max_length=40)
    year = models.PositiveSmallIntegerField(_("年份"))
    value = models.DecimalField(_("目标值"), max_digits=20, decimal_places=4)
    note = models.CharField(_("依据"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("指标目标")
        verbose_name_plural = _("指标目标")
        ordering = ["code", "year"]
        constraints = [
            models.UniqueConstraint(fields=["code", "year"], name="indicator_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.year}: {self.value}"
