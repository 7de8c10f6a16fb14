"""The enterprise registry: enterprises, their classification, and qualifications over time."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IndustryCategory(models.Model):
    """GB/T 4754-2017 国民经济行业分类 (shipped data, see registry/data/README.md)."""

    class Level(models.IntegerChoices):
        SECTION = 1, _("门类")
        DIVISION = 2, _("大类")
        GROUP = 3, _("中类")
        CLASS = 4, _("小类")

    code = models.CharField(_("代码"), max_length=5, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    section = models.CharField(_("门类"), max_length=1, db_index=True)

    class Meta:
        verbose_name = _("国民经济行业")
        verbose_name_plural = _("国民经济行业分类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_industrial(self) -> bool:
        """Industry in the statistical sense: B mining, C manufacturing, D utilities."""
        return self.section in {"B", "C", "D"}


class EmergingCategory(models.Model):
    """战略性新兴产业分类(2018) first-level categories."""

    code = models.CharField(_("代码"), max_length=4, unique=True)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        verbose_name = _("战略性新兴产业类别")
        verbose_name_plural = _("战略性新兴产业类别")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class IndustryChain(models.Model):
    """A zone industry chain (e.g. Liuzhou's "3+3+1"); configurable by staff."""

    class Group(models.TextChoices):
        PILLAR = "pillar", _("传统优势产业")
        EMERGING = "emerging", _("战略性新兴产业")
        SERVICE = "service", _("现代服务业")

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    group = models.CharField(_("板块"), max_length=10, choices=Group.choices)
    description = models.TextField(_("说明"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("产业链")
        verbose_name_plural = _("产业链")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    """A management grid (网格); the party app adds leaders, boundaries and visits."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    street = models.CharField(_("街道/片区"), max_length=60)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["street", "code"]

    def __str__(self) -> str:
        return self.name


class Enterprise(models.Model):
    class Status(models.TextChoices):
        OPERATING = "operating", _("存续")
        MOVED_OUT = "moved_out", _("迁出")
        SUSPENDED = "suspended", _("停业")
        DEREGISTERED = "deregistered", _("注销")
        REVOKED = "revoked", _("吊销")

    class Size(models.TextChoices):
        LARGE = "large", _("大型")
        MEDIUM = "medium", _("中型")
        SMALL = "small", _("小型")
        MICRO = "micro", _("微型")

    class ChainPosition(models.TextChoices):
        LEADER = "leader", _("链主企业")
        UPSTREAM = "upstream", _("上游")
        MIDSTREAM = "midstream", _("中游")
        DOWNSTREAM = "downstream", _("下游")
        SUPPORT = "support", _("配套服务")

    class SeiStatus(models.TextChoices):
        NONE = "", _("未申报")
        DECLARED = "declared", _("企业申报待审核")
        CONFIRMED = "confirmed", _("已审核确认")
        REJECTED = "rejected", _("审核未通过")

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    # Not indexed: searched with icontains and sorted in the list page, neither of which a
    # random-order text index earns back (each costs an import of 200k rows ~0.6-1.2 s; a
    # sort of the whole registry takes milliseconds at a zone's scale). docs/benchmarks.md.
    name = models.CharField(_("企业名称"), max_length=120)
    former_names = models.CharField(_("曾用名"), max_length=500, blank=True)
    # Searched with icontains only, which a B-tree index cannot serve: no index, faster imports.
    name_initials = models.CharField(_("拼音首字母"), max_length=200, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    registered_capital = models.DecimalField(
        _("注册资本(万元)"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=60, blank=True)
    address = models.CharField(_("注册地址"), max_length=200, blank=True)
    industry = models.ForeignKey(
        IndustryCategory, verbose_name=_("行业"), null=True, blank=True, on_delete=models.PROTECT
    )
    sei_category = models.ForeignKey(
        EmergingCategory,
        verbose_name=_("战略性新兴产业类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,  # 9 values: a filter on one reads a ninth of the table either way
    )
    sei_status = models.CharField(
        _("战新类别审核状态"), max_length=10, choices=SeiStatus.choices, blank=True, default=""
    )
    chain = models.ForeignKey(
        IndustryChain,
        verbose_name=_("产业链"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,  # a handful of chains: same reasoning as sei_category
    )
    chain_position = models.CharField(
        _("链上位置"), max_length=12, choices=ChainPosition.choices, blank=True, default=""
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("所在网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,  # tens of grids: same reasoning as sei_category
    )
    status = models.CharField(
        _("企业状态"), max_length=12, choices=Status.choices, default=Status.OPERATING
    )
    size = models.CharField(_("企业规模"), max_length=8, choices=Size.choices, blank=True)
    is_non_public = models.BooleanField(_("非公有制企业"), default=True)
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    description = models.TextField(_("企业简介"), blank=True)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def former_name_list(self) -> list[str]:
        return [n for n in self.former_names.split(";") if n]


class Qualification(models.Model):
    """A recognition an enterprise holds for a period (高企, 科技型中小企业, 规上 …)."""

    class Kind(models.TextChoices):
        HIGH_TECH = "high_tech", _("高新技术企业")
        TECH_SME = "tech_sme", _("科技型中小企业")
        GAZELLE = "gazelle", _("瞪羚企业")
        SRDI = "srdi", _("专精特新企业")
        ABOVE_SCALE = "above_scale", _("规模以上工业企业")
        SMART_FACTORY = "smart_factory", _("广西智能工厂示范企业")
        RD_INSTITUTION = "rd_institution", _("研发机构")
        INNOVATION_TEAM = "innovation_team", _("高层次创新团队")

    class Level(models.TextChoices):
        NONE = "", _("—")
        NATIONAL = "national", _("国家级")
        PROVINCIAL = "provincial", _("自治区级")
        MUNICIPAL = "municipal", _("市级")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="qualifications"
    )
    kind = models.CharField(_("资质类型"), max_length=16, choices=Kind.choices, db_index=True)
    level = models.CharField(
        _("级别"), max_length=10, choices=Level.choices, blank=True, default=""
    )
    # For R&D institutions: 企业技术中心, 工程技术研究中心, 重点实验室 …
    subtype = models.CharField(_("机构类型"), max_length=40, blank=True, default="")
    certificate_no = models.CharField(_("证书编号"), max_length=60, blank=True, default="")
    recognised_on = models.DateField(_("认定日期"))
    valid_until = models.DateField(_("有效期至"))
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("资质")
        verbose_name_plural = _("资质")
        ordering = ["-recognised_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "kind", "subtype", "recognised_on"],
                name="qualification_unique_per_recognition",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("recognised_on")),
                name="qualification_valid_after_recognised",
            ),
        ]
        indexes = [models.Index(fields=["kind", "recognised_on", "valid_until"])]

    def __str__(self) -> str:
        label = self.get_kind_display()
        if self.subtype:
            label = f"{label}·{self.subtype}"
        return f"{label} {self.recognised_on:%Y-%m-%d}"

    def is_valid_on(self, day: dt.date) -> bool:
        return self.recognised_on <= day <= self.valid_until
