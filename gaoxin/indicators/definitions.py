"""The shipped indicators. Each says, in its definition, which rule it follows and which
enterprises it counts; `engine.compute` returns the value with those enterprises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gaoxin.indicators.engine import FIRST, Member, Scope, indicator
from gaoxin.registry.models import Enterprise, Qualification
from gaoxin.registry.selectors import enterprises_holding, enterprises_recognised_in
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY
from gaoxin.reports.models import ReportRevision

K = Qualification.Kind
# 国家统计局《关于调整规模以上工业企业统计标准的通知》(2011): annual main business revenue
# of 20 million CNY or more.
ABOVE_SCALE_REVENUE = Decimal(20_000_000)
# GB/T 4754-2017 sections B (mining), C (manufacturing), D (utilities) are "industry".
INDUSTRIAL_SECTIONS = ("B", "C", "D")


def _ids(qs) -> list[int]:  # type: ignore[no-untyped-def]
    return list(qs.values_list("pk", flat=True).order_by("pk"))


def annual_revenue(year: int, *, basis: str) -> dict[int, Decimal]:
    """Main business revenue per enterprise for the year, summed over its accepted monthly
    industrial reports (the latest revision, or the first when `basis` is FIRST), in 元."""
    rows = ReportRevision.objects.filter(
        report__period__form_code=INDUSTRY_MONTHLY, report__period__year=year
    ).values_list("report_id", "report__enterprise_id", "number", "values")
    chosen: dict[int, tuple[int, int, dict[str, str]]] = {}
    for report_id, enterprise_id, number, values in rows:
        held = chosen.get(report_id)
        better = held is None or (number < held[1] if basis == FIRST else number > held[1])
        if better:
            chosen[report_id] = (enterprise_id, number, values)
    totals: dict[int, Decimal] = {}
    for enterprise_id, _number, values in chosen.values():
        revenue = values.get("revenue")
        if revenue is not None:
            totals[enterprise_id] = totals.get(enterprise_id, Decimal(0)) + Decimal(str(revenue))
    return totals


def above_scale_ids(year: int, *, basis: str) -> list[int]:
    """Above-scale industrial enterprises of a year: the official list (规上工业企业名录) when
    one is recorded for the year, otherwise industrial enterprises whose reported main business
    revenue for the year reaches 20 million CNY."""
    listed = enterprises_recognised_in(K.ABOVE_SCALE, year)
    if listed.exists():
        return _ids(listed)
    revenue = annual_revenue(year, basis=basis)
    qualifying = [pk for pk, total in revenue.items() if total >= ABOVE_SCALE_REVENUE]
    industrial = Q(industry__section__in=INDUSTRIAL_SECTIONS)
    return _ids(Enterprise.objects.filter(industrial, pk__in=qualifying))


def _count(ids: list[int]) -> list[Member]:
    return [Member(pk) for pk in ids]


@indicator(
    "above_scale_count",
    name=_("规上工业企业数"),
    name_en="Above-scale industrial enterprises",
    unit=_("家"),
    kind="count",
    definition=_(
        "年度规模以上工业企业数:有当年规上工业企业名录时按名录;否则为当年主营业务收入"
        "2000万元及以上的工业企业(国家统计局2011年规上工业统计标准)。"
    ),
)
def above_scale_count(scope: Scope) -> list[Member]:
    return _count(above_scale_ids(scope.year, basis=scope.basis))


@indicator(
    "new_above_scale_count",
    name=_("新上规工业企业数"),
    name_en="Industrial enterprises newly above scale",
    unit=_("家"),
    kind="count",
    definition=_("当年为规模以上工业企业、上年不是的企业数;规上口径同“规上工业企业数”。"),
)
def new_above_scale_count(scope: Scope) -> list[Member]:
    now = set(above_scale_ids(scope.year, basis=scope.basis))
    before = set(above_scale_ids(scope.year - 1, basis=scope.basis))
    return _count(sorted(now - before))


@indicator(
    "hte_count",
    name=_("高新技术企业数"),
    name_en="High-tech enterprises",
    unit=_("家"),
    kind="count",
    definition=_("报告期末持有有效高新技术企业证书的企业数(证书有效期三年)。"),
)
def hte_count(scope: Scope) -> list[Member]:
    return _count(_ids(enterprises_holding(K.HIGH_TECH, scope.end)))


@indicator(
    "gazelle_new_count",
    name=_("新认定瞪羚企业数"),
    name_en="Enterprises newly recognised as gazelles",
    unit=_("家"),
    kind="count",
    definition=_("当年首次获认定为瞪羚企业的企业数(此前从未获认定)。"),
)
def gazelle_new_count(scope: Scope) -> list[Member]:
    return _count(_ids(enterprises_recognised_in(K.GAZELLE, scope.year, first_time=True)))


@indicator(
    "smart_factory_count",
    name=_("广西智能工厂示范企业数"),
    name_en="Guangxi smart-factory demonstration enterprises",
    unit=_("家"),
    kind="count",
    definition=_("当年获认定为广西智能工厂示范企业的企业数。"),
)
def smart_factory_count(scope: Scope) -> list[Member]:
    return _count(_ids(enterprises_recognised_in(K.SMART_FACTORY, scope.year)))


@indicator(
    "rd_institution_coverage",
    name=_("规上企业研发机构覆盖率"),
    name_en="Share of above-scale enterprises with an R&D institution",
    unit="%",
    kind="ratio",
    definition=_(
        "年末有有效研发机构认定(企业技术中心、工程技术研究中心等)的规上工业企业数"
        "占规上工业企业数的百分比。"
    ),
)
def rd_institution_coverage(scope: Scope) -> list[Member]:
    population = above_scale_ids(scope.year, basis=scope.basis)
    end = dt.date(scope.year, 12, 31)
    base = Enterprise.objects.filter(pk__in=population)
    with_rd = set(_ids(enterprises_holding(K.RD_INSTITUTION, end, base=base)))
    return [
        Member(pk, numerator=Decimal(1 if pk in with_rd else 0), denominator=Decimal(1))
        for pk in population
    ]
