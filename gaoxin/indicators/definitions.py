"""The shipped indicators. Each says, in its definition, which rule it follows and which
enterprises it counts; `engine.compute` returns the value with those enterprises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from gaoxin.indicators.engine import Member, Scope, enterprise_labels, indicator, memo
from gaoxin.registry.models import Enterprise, Qualification
from gaoxin.registry.selectors import enterprises_holding, enterprises_recognised_in
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY, SCI_ANNUAL
from gaoxin.reports.models import YEAR_MEASURES, ReportFact, ReportFactYear

K = Qualification.Kind
# 国家统计局《关于调整规模以上工业企业统计标准的通知》(2011): annual main business revenue
# of 20 million CNY or more.
ABOVE_SCALE_REVENUE = Decimal(20_000_000)
# GB/T 4754-2017 sections B (mining), C (manufacturing), D (utilities) are "industry".
INDUSTRIAL_SECTIONS = ("B", "C", "D")


def _ids(qs) -> list[int]:  # type: ignore[no-untyped-def]
    return list(qs.values_list("pk", flat=True).order_by("pk"))


def totals(
    form_code: str,
    year: int,
    columns: tuple[str, ...],
    *,
    basis: str,
    through_month: int | None = None,
) -> dict[int, dict[str, Decimal]]:
    """Per enterprise, the sum of accepted values for the year (months 1..through_month when
    given), from the typed fact rows on the chosen basis. Missing values count as nothing."""
    key = ("totals", form_code, year, tuple(sorted(columns)), basis, through_month)
    found: dict[int, dict[str, Decimal]] = memo(
        key, lambda: _totals(form_code, year, columns, basis=basis, through_month=through_month)
    )
    return found


def _totals(
    form_code: str,
    year: int,
    columns: tuple[str, ...],
    *,
    basis: str,
    through_month: int | None,
) -> dict[int, dict[str, Decimal]]:
    if through_month is None and set(columns) <= set(YEAR_MEASURES):
        # Whole years of monthly reports: the yearly roll-up already holds the sums.
        yearly: Any = ReportFactYear.objects.filter(
            form_code=form_code, year=year, basis=basis
        ).values_list("enterprise_id", *columns)
        if form_code == INDUSTRY_MONTHLY:
            return {
                row[0]: {c: Decimal(row[i + 1] or 0) for i, c in enumerate(columns)}
                for row in yearly.iterator(chunk_size=20000)
            }
    qs = ReportFact.objects.filter(form_code=form_code, year=year, basis=basis)
    if through_month:
        qs = qs.filter(month__lte=through_month)
    rows: Any = qs.values("enterprise_id").annotate(**{c: Sum(c) for c in columns})
    return {
        row["enterprise_id"]: {c: Decimal(row[c] or 0) for c in columns}
        for row in rows.order_by("enterprise_id")
    }


def annual_revenue(year: int, *, basis: str) -> dict[int, Decimal]:
    """Main business revenue per enterprise for the year, summed over its accepted monthly
    industrial reports, in 元."""
    return {
        pk: v["revenue"]
        for pk, v in totals(INDUSTRY_MONTHLY, year, ("revenue",), basis=basis).items()
    }


def above_scale_ids(year: int, *, basis: str) -> list[int]:
    found: list[int] = memo(("above_scale", year, basis), lambda: _above_scale_ids(year, basis))
    return found


def _above_scale_ids(year: int, basis: str) -> list[int]:
    """Above-scale industrial enterprises of a year: the official list (规上工业企业名录) when
    one is recorded for the year, otherwise industrial enterprises whose reported main business
    revenue for the year reaches 20 million CNY."""
    listed = enterprises_recognised_in(K.ABOVE_SCALE, year)
    if listed.exists():
        return _ids(listed)
    revenue = annual_revenue(year, basis=basis)
    sections = _sections()
    return sorted(
        pk
        for pk, total in revenue.items()
        if total >= ABOVE_SCALE_REVENUE and sections.get(pk) in INDUSTRIAL_SECTIONS
    )


def _sections() -> dict[int, str]:
    """Every enterprise's GB/T 4754 section letter (shared with the breakdowns)."""
    return enterprise_labels("industry")


def holders(kind: str, day: dt.date) -> set[int]:
    """Enterprises holding qualification `kind` on `day` (one query, shared)."""
    found: set[int] = memo(
        ("holders", kind, day), lambda: set(_ids(enterprises_holding(kind, day)))
    )
    return found


def _confirmed_emerging() -> set[int]:
    found: set[int] = memo(
        ("emerging",),
        lambda: set(
            Enterprise.objects.filter(
                sei_category__isnull=False, sei_status=Enterprise.SeiStatus.CONFIRMED
            ).values_list("pk", flat=True)
        ),
    )
    return found


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
    "gazelle_count",
    name=_("瞪羚企业数"),
    name_en="Gazelle enterprises",
    unit=_("家"),
    kind="count",
    definition=_("报告期末瞪羚企业认定仍在有效期内的企业数。"),
)
def gazelle_count(scope: Scope) -> list[Member]:
    return _count(sorted(holders(K.GAZELLE, scope.end)))


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
        "有研发机构的规上工业企业数占规上工业企业数的百分比。有研发机构:年末持有效的研发机构认定"
        "(企业技术中心、工程技术研究中心等),或当年科技活动年报填报设有研发机构。"
    ),
)
def rd_institution_coverage(scope: Scope) -> list[Member]:
    population = above_scale_ids(scope.year, basis=scope.basis)
    with_rd = holders(K.RD_INSTITUTION, dt.date(scope.year, 12, 31)) | set(
        ReportFact.objects.filter(
            form_code=SCI_ANNUAL, year=scope.year, basis=scope.basis, has_rd_institution=True
        ).values_list("enterprise_id", flat=True)
    )
    return [
        Member(pk, numerator=Decimal(1 if pk in with_rd else 0), denominator=Decimal(1))
        for pk in population
    ]


WAN = Decimal(10_000)
BILLION = Decimal(1_000_000_000)
HALF_BILLION = Decimal(500_000_000)


def _output(scope: Scope, year: int | None = None) -> dict[int, Decimal]:
    """Gross output at current prices per enterprise for the year, or for January to the
    scope's month (year to date), in 元."""
    found = totals(
        INDUSTRY_MONTHLY,
        year or scope.year,
        ("gross_output",),
        basis=scope.basis,
        through_month=scope.month,
    )
    return {pk: v["gross_output"] for pk, v in found.items()}


@indicator(
    "above_scale_output",
    name=_("规上工业总产值"),
    name_en="Gross output of above-scale industry",
    unit=_("万元"),
    kind="sum",
    definition=_(
        "规模以上工业企业工业总产值(当年价格)之和,取已审核通过的月报;按月计算时为1月至当月累计。"
    ),
)
def above_scale_output(scope: Scope) -> list[Member]:
    output = _output(scope)
    return [
        Member(pk, numerator=output.get(pk, Decimal(0)) / WAN)
        for pk in above_scale_ids(scope.year, basis=scope.basis)
    ]


@indicator(
    "above_scale_output_growth",
    name=_("规上工业总产值增速"),
    name_en="Growth of above-scale gross output",
    unit="%",
    kind="growth",
    definition=_(
        "同口径增速:本期规上工业企业本期总产值与这些企业上年同期总产值相比的增长百分比"
        "(上年同期无数据的企业不计入)。"
    ),
)
def above_scale_output_growth(scope: Scope) -> list[Member]:
    now, before = _output(scope), _output(scope, scope.year - 1)
    return [
        Member(pk, numerator=now.get(pk, Decimal(0)) / WAN, denominator=before[pk] / WAN)
        for pk in above_scale_ids(scope.year, basis=scope.basis)
        if before.get(pk)
    ]


def _crossed(scope: Scope, threshold: Decimal) -> list[Member]:
    now, before = (
        _output(Scope(scope.year, basis=scope.basis)),
        _output(Scope(scope.year - 1, basis=scope.basis)),
    )
    sections = _sections()
    industrial = {pk for pk in now if sections.get(pk) in INDUSTRIAL_SECTIONS}
    return [
        Member(pk, numerator=value / WAN, note=str(before.get(pk, Decimal(0)) / WAN))
        for pk, value in sorted(now.items())
        if pk in industrial and value >= threshold and before.get(pk, Decimal(0)) < threshold
    ]


@indicator(
    "new_1b_count",
    name=_("新增产值超10亿元工业企业数"),
    name_en="Industrial enterprises newly above 1 billion CNY of output",
    unit=_("家"),
    kind="count",
    definition=_("当年工业总产值达到10亿元、上年未达到的工业企业数。"),
)
def new_1b_count(scope: Scope) -> list[Member]:
    return _crossed(scope, BILLION)


@indicator(
    "new_500m_count",
    name=_("新增产值超5亿元工业企业数"),
    name_en="Industrial enterprises newly above 500 million CNY of output",
    unit=_("家"),
    kind="count",
    definition=_("当年工业总产值达到5亿元、上年未达到的工业企业数(同年跨过10亿元的也计入)。"),
)
def new_500m_count(scope: Scope) -> list[Member]:
    return _crossed(scope, HALF_BILLION)


@indicator(
    "sei_output_share",
    name=_("战略性新兴产业工业产值占规上工业产值比重"),
    name_en="Strategic emerging industries' share of above-scale output",
    unit="%",
    kind="ratio",
    definition=_(
        "规上工业企业中,战略性新兴产业类别经审核确认的企业的工业总产值,"
        "占全部规上工业企业工业总产值的百分比(《战略性新兴产业分类(2018)》)。"
    ),
)
def sei_output_share(scope: Scope) -> list[Member]:
    output = _output(scope)
    population = above_scale_ids(scope.year, basis=scope.basis)
    emerging = _confirmed_emerging()
    return [
        Member(
            pk,
            numerator=(output.get(pk, Decimal(0)) if pk in emerging else Decimal(0)) / WAN,
            denominator=output.get(pk, Decimal(0)) / WAN,
        )
        for pk in population
    ]


@indicator(
    "hte_rd_intensity",
    name=_("规上制造业高企研发经费内部支出占主营业务收入比重"),
    name_en="R&D intensity of above-scale manufacturing high-tech enterprises",
    unit="%",
    kind="ratio",
    definition=_(
        "年末持有效高新技术企业证书的规上制造业(GB/T 4754 门类C)企业,年报研发经费内部支出之和"
        "占其主营业务收入之和的百分比。"
    ),
)
def hte_rd_intensity(scope: Scope) -> list[Member]:
    population = above_scale_ids(scope.year, basis=scope.basis)
    sections = _sections()
    certified = holders(K.HIGH_TECH, dt.date(scope.year, 12, 31))
    hte = [pk for pk in population if sections.get(pk) == "C" and pk in certified]
    annual = totals(SCI_ANNUAL, scope.year, ("rd_spend", "main_revenue"), basis=scope.basis)
    return [
        Member(
            pk, numerator=annual[pk]["rd_spend"] / WAN, denominator=annual[pk]["main_revenue"] / WAN
        )
        for pk in hte
        if pk in annual and annual[pk]["main_revenue"]
    ]
