"""The shipped indicators. Each says, in its definition, which rule it follows and which
enterprises it counts; `engine.compute` returns the value with those enterprises.

Formulas work on polars frames keyed by `enterprise_id`: populations are one-column frames,
reported totals are integer fen (so sums are exact), and each formula returns its members with
`members_frame`. Inputs are read once per data version through `memo`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from django.db.models import (
    BigIntegerField,
    DecimalField,
    ExpressionWrapper,
    F,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.utils.translation import gettext_lazy as _

from gaoxin.indicators.engine import (
    Scope,
    Source,
    enterprise_attributes,
    indicator,
    members_frame,
    memo,
    query_frame,
)
from gaoxin.registry.models import Qualification
from gaoxin.registry.selectors import (
    qualifications_valid_on,
    recognitions_before,
    recognitions_in,
)
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY, SCI_ANNUAL
from gaoxin.reports.models import YEAR_MEASURES, ReportFact, ReportFactYear

K = Qualification.Kind
FEN = 100  # report money is stored in 元 with two decimals; formulas add integer fen
WAN = Decimal(10_000)
FEN_PER_WAN = 10_000 * FEN
# 国家统计局《关于调整规模以上工业企业统计标准的通知》(2011): annual main business revenue
# of 20 million CNY or more.
ABOVE_SCALE_REVENUE = 20_000_000 * FEN
BILLION = 1_000_000_000 * FEN
HALF_BILLION = 500_000_000 * FEN
# GB/T 4754-2017 sections B (mining), C (manufacturing), D (utilities) are "industry".
INDUSTRIAL_SECTIONS = ("B", "C", "D")
ID = {"enterprise_id": pl.Int64}


Among = tuple[Any, ...]  # a population key: ("above_scale", year, basis), ("holders", kind, day)…


def population_query(among: Among) -> QuerySet[Any]:
    """A population as a subquery of enterprise ids, so that the values read for it are only
    its members' (50k above-scale enterprises, not all 200k)."""
    name, *args = among
    if name == "above_scale":
        return above_scale_query(*args)
    if name == "holders":
        return qualifications_valid_on(*args).values("enterprise_id")
    if name == "output_at_least":  # industrial enterprises with a year's output >= threshold
        year, basis, threshold = args
        return ReportFactYear.objects.filter(
            form_code=INDUSTRY_MONTHLY,
            year=year,
            basis=basis,
            gross_output__gte=Decimal(threshold) / FEN,
            enterprise__industry__section__in=INDUSTRIAL_SECTIONS,
        ).values("enterprise_id")
    raise ValueError(name)


def fen_expr(value: Any) -> Cast:
    """A money value in 元 (two decimals) as integer fen, computed in the database."""
    zero = Value(Decimal(0), output_field=DecimalField())
    hundred = Value(Decimal(FEN), output_field=DecimalField())
    return Cast(
        Round(ExpressionWrapper(Coalesce(value, zero) * hundred, output_field=DecimalField())),
        BigIntegerField(),
    )


def totals(
    form_code: str,
    year: int,
    columns: tuple[str, ...],
    *,
    basis: str,
    through_month: int | None = None,
    among: Among | None = None,
) -> pl.DataFrame:
    """Per enterprise (of the population `among`, or all), the sum of accepted money values for
    the year (months 1..through_month when given) in integer fen, from the typed fact rows on
    the chosen basis; whole years of the monthly form come from the yearly roll-up. Missing
    values count as nothing. Columns: enterprise_id and the requested ones."""
    key = ("totals", form_code, year, tuple(columns), basis, through_month, among)
    found: pl.DataFrame = memo(
        key,
        lambda: _totals(form_code, year, columns, basis, through_month, among),
    )
    return found


def _totals(
    form_code: str,
    year: int,
    columns: tuple[str, ...],
    basis: str,
    through_month: int | None,
    among: Among | None,
) -> pl.DataFrame:
    schema = ID | {c: pl.Int64 for c in columns}
    whole_year = through_month is None and form_code == INDUSTRY_MONTHLY
    if whole_year and set(columns) <= set(YEAR_MEASURES):
        qs: Any = ReportFactYear.objects.filter(form_code=form_code, year=year, basis=basis)
        if among is not None:
            qs = qs.filter(enterprise_id__in=population_query(among))
        qs = qs.annotate(**{f"fen_{c}": fen_expr(F(c)) for c in columns})
    else:
        qs = ReportFact.objects.filter(form_code=form_code, year=year, basis=basis)
        if through_month:
            qs = qs.filter(month__lte=through_month)
        if among is not None:
            qs = qs.filter(enterprise_id__in=population_query(among))
        if form_code == INDUSTRY_MONTHLY:
            qs = qs.values("enterprise_id").annotate(
                **{f"fen_{c}": fen_expr(Sum(c)) for c in columns}
            )
        else:  # an annual form: one fact row per enterprise, year and basis; nothing to add up
            qs = qs.annotate(**{f"fen_{c}": fen_expr(F(c)) for c in columns})
    return query_frame(qs.values_list("enterprise_id", *(f"fen_{c}" for c in columns)), schema)


def above_scale_query(year: int, basis: str) -> QuerySet[Any]:
    """Above-scale industrial enterprises of a year, as a subquery of enterprise ids: the
    official list (规上工业企业名录) when one is recorded for the year, otherwise industrial
    enterprises (GB/T 4754 sections B, C, D) whose reported main business revenue for the year
    reaches 20 million CNY."""
    listed = recognitions_in(K.ABOVE_SCALE, year)
    if memo(("above_scale_listed", year), listed.exists):
        return listed.values("enterprise_id")
    return ReportFactYear.objects.filter(
        form_code=INDUSTRY_MONTHLY,
        year=year,
        basis=basis,
        revenue__gte=Decimal(ABOVE_SCALE_REVENUE) / FEN,
        enterprise__industry__section__in=INDUSTRIAL_SECTIONS,
    ).values("enterprise_id")


def above_scale(year: int, *, basis: str) -> pl.DataFrame:
    """Above-scale industrial enterprises of a year (one-column frame, shared)."""
    found: pl.DataFrame = memo(
        ("above_scale", year, basis),
        lambda: query_frame(
            above_scale_query(year, basis).values_list("enterprise_id").distinct(), ID
        ).sort("enterprise_id"),
    )
    return found


def above_scale_ids(year: int, *, basis: str) -> list[int]:
    return above_scale(year, basis=basis)["enterprise_id"].to_list()


def holders(kind: str, day: dt.date) -> pl.DataFrame:
    """Enterprises holding qualification `kind` on `day` (one query, shared)."""
    found: pl.DataFrame = memo(
        ("holders", kind, day),
        lambda: query_frame(
            qualifications_valid_on(kind, day).values_list("enterprise_id").distinct(), ID
        ),
    )
    return found


def recognised(kind: str, year: int, *, first_time: bool = False) -> pl.DataFrame:
    """Enterprises recognised for `kind` during `year` (`first_time`: never before)."""
    found = query_frame(recognitions_in(kind, year).values_list("enterprise_id").distinct(), ID)
    if first_time:
        earlier = query_frame(
            recognitions_before(kind, year).values_list("enterprise_id").distinct(), ID
        )
        found = found.join(earlier, on="enterprise_id", how="anti")
    return found


def _in(frame: pl.DataFrame) -> pl.Expr:
    """1 for members found in `frame`, else 0."""
    return pl.col("enterprise_id").is_in(frame["enterprise_id"].implode()).cast(pl.Int64)


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
    sources=(Source(INDUSTRY_MONTHLY, ("revenue",)),),
)
def above_scale_count(scope: Scope) -> pl.DataFrame:
    return members_frame(above_scale(scope.year, basis=scope.basis))


@indicator(
    "new_above_scale_count",
    name=_("新上规工业企业数"),
    name_en="Industrial enterprises newly above scale",
    unit=_("家"),
    kind="count",
    definition=_("当年为规模以上工业企业、上年不是的企业数;规上口径同“规上工业企业数”。"),
    sources=(Source(INDUSTRY_MONTHLY, ("revenue",), years_back=1),),
)
def new_above_scale_count(scope: Scope) -> pl.DataFrame:
    now = above_scale(scope.year, basis=scope.basis)
    before = above_scale(scope.year - 1, basis=scope.basis)
    return members_frame(now.join(before, on="enterprise_id", how="anti"))


@indicator(
    "hte_count",
    name=_("高新技术企业数"),
    name_en="High-tech enterprises",
    unit=_("家"),
    kind="count",
    definition=_("报告期末持有有效高新技术企业证书的企业数(证书有效期三年)。"),
)
def hte_count(scope: Scope) -> pl.DataFrame:
    return members_frame(holders(K.HIGH_TECH, scope.end))


@indicator(
    "gazelle_count",
    name=_("瞪羚企业数"),
    name_en="Gazelle enterprises",
    unit=_("家"),
    kind="count",
    definition=_("报告期末瞪羚企业认定仍在有效期内的企业数。"),
)
def gazelle_count(scope: Scope) -> pl.DataFrame:
    return members_frame(holders(K.GAZELLE, scope.end))


@indicator(
    "gazelle_new_count",
    name=_("新认定瞪羚企业数"),
    name_en="Enterprises newly recognised as gazelles",
    unit=_("家"),
    kind="count",
    definition=_("当年首次获认定为瞪羚企业的企业数(此前从未获认定)。"),
)
def gazelle_new_count(scope: Scope) -> pl.DataFrame:
    return members_frame(recognised(K.GAZELLE, scope.year, first_time=True))


@indicator(
    "smart_factory_count",
    name=_("广西智能工厂示范企业数"),
    name_en="Guangxi smart-factory demonstration enterprises",
    unit=_("家"),
    kind="count",
    definition=_("当年获认定为广西智能工厂示范企业的企业数。"),
)
def smart_factory_count(scope: Scope) -> pl.DataFrame:
    return members_frame(recognised(K.SMART_FACTORY, scope.year))


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
    sources=(Source(SCI_ANNUAL, ("has_rd_institution",)),),
)
def rd_institution_coverage(scope: Scope) -> pl.DataFrame:
    population = above_scale(scope.year, basis=scope.basis)
    reported = query_frame(
        ReportFact.objects.filter(
            form_code=SCI_ANNUAL,
            year=scope.year,
            basis=scope.basis,
            has_rd_institution=True,
        ).values_list("enterprise_id"),
        ID,
    )
    with_rd = pl.concat([holders(K.RD_INSTITUTION, dt.date(scope.year, 12, 31)), reported])
    return members_frame(population, numerator=_in(with_rd), denominator=1)


def _output(scope: Scope, year: int | None = None, *, among: Among | None = None) -> pl.DataFrame:
    """Gross output at current prices (enterprise_id, gross_output in fen) for the year, or for
    January to the scope's month (year to date), of the enterprises in `among` (default: the
    scope's above-scale enterprises)."""
    return totals(
        INDUSTRY_MONTHLY,
        year or scope.year,
        ("gross_output",),
        basis=scope.basis,
        through_month=scope.month,
        among=among or ("above_scale", scope.year, scope.basis),
    )


@indicator(
    "above_scale_output",
    name=_("规上工业总产值"),
    name_en="Gross output of above-scale industry",
    unit=_("万元"),
    kind="sum",
    definition=_(
        "规模以上工业企业工业总产值(当年价格)之和,取已审核通过的月报;按月计算时为1月至当月累计。"
    ),
    scale=FEN_PER_WAN,
    sources=(Source(INDUSTRY_MONTHLY, ("gross_output",)),),
)
def above_scale_output(scope: Scope) -> pl.DataFrame:
    with_output = above_scale(scope.year, basis=scope.basis).join(
        _output(scope), on="enterprise_id", how="left"
    )
    return members_frame(with_output, numerator=pl.col("gross_output").fill_null(0))


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
    scale=FEN_PER_WAN,
    sources=(Source(INDUSTRY_MONTHLY, ("gross_output",), years_back=1),),
)
def above_scale_output_growth(scope: Scope) -> pl.DataFrame:
    before = _output(scope, scope.year - 1).rename({"gross_output": "before"})
    both = (
        above_scale(scope.year, basis=scope.basis)
        .join(_output(scope), on="enterprise_id", how="left")
        .join(before.filter(pl.col("before") != 0), on="enterprise_id", how="inner")
    )
    return members_frame(
        both, numerator=pl.col("gross_output").fill_null(0), denominator=pl.col("before")
    )


def _crossed(scope: Scope, threshold: int) -> pl.DataFrame:
    whole = Scope(scope.year, basis=scope.basis)
    # One read serves both thresholds: the industrial enterprises at 500 million or more.
    reached = ("output_at_least", scope.year, scope.basis, min(threshold, HALF_BILLION))
    now = _output(whole, among=reached)
    before = _output(whole, scope.year - 1, among=reached).rename({"gross_output": "before"})
    crossed = (
        now.join(before, on="enterprise_id", how="left")
        .with_columns(pl.col("before").fill_null(0))
        .filter((pl.col("gross_output") >= threshold) & (pl.col("before") < threshold))
    )
    # The note is last year's output in 万元 (a handful of rows).
    notes = [str(Decimal(b) / FEN_PER_WAN) for b in crossed["before"]]
    return members_frame(
        crossed, numerator=pl.col("gross_output"), note=pl.Series(notes, dtype=pl.Utf8)
    )


@indicator(
    "new_1b_count",
    name=_("新增产值超10亿元工业企业数"),
    name_en="Industrial enterprises newly above 1 billion CNY of output",
    unit=_("家"),
    kind="count",
    definition=_("当年工业总产值达到10亿元、上年未达到的工业企业数。"),
    scale=FEN_PER_WAN,
    sources=(Source(INDUSTRY_MONTHLY, ("gross_output",), years_back=1),),
)
def new_1b_count(scope: Scope) -> pl.DataFrame:
    return _crossed(scope, BILLION)


@indicator(
    "new_500m_count",
    name=_("新增产值超5亿元工业企业数"),
    name_en="Industrial enterprises newly above 500 million CNY of output",
    unit=_("家"),
    kind="count",
    definition=_("当年工业总产值达到5亿元、上年未达到的工业企业数(同年跨过10亿元的也计入)。"),
    scale=FEN_PER_WAN,
    sources=(Source(INDUSTRY_MONTHLY, ("gross_output",), years_back=1),),
)
def new_500m_count(scope: Scope) -> pl.DataFrame:
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
    scale=FEN_PER_WAN,
    sources=(Source(INDUSTRY_MONTHLY, ("gross_output",)),),
)
def sei_output_share(scope: Scope) -> pl.DataFrame:
    with_output = above_scale(scope.year, basis=scope.basis).join(
        _output(scope), on="enterprise_id", how="left"
    )
    emerging = enterprise_attributes(with_output["enterprise_id"]).filter("sei_confirmed")
    output = pl.col("gross_output").fill_null(0)
    return members_frame(with_output, numerator=output * _in(emerging), denominator=output)


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
    scale=FEN_PER_WAN,
    sources=(Source(SCI_ANNUAL, ("rd_spend", "main_revenue")),),
)
def hte_rd_intensity(scope: Scope) -> pl.DataFrame:
    population = above_scale(scope.year, basis=scope.basis)
    manufacturing = enterprise_attributes(population["enterprise_id"]).filter(
        pl.col("industry") == "C"
    )
    year_end = dt.date(scope.year, 12, 31)
    annual = totals(
        SCI_ANNUAL,
        scope.year,
        ("rd_spend", "main_revenue"),
        basis=scope.basis,
        among=("holders", K.HIGH_TECH, year_end),
    )
    hte = (
        population.join(manufacturing, on="enterprise_id", how="semi")
        .join(holders(K.HIGH_TECH, year_end), on="enterprise_id", how="semi")
        .join(annual.filter(pl.col("main_revenue") != 0), on="enterprise_id", how="inner")
    )
    return members_frame(hte, numerator=pl.col("rd_spend"), denominator=pl.col("main_revenue"))
